"""Money that cannot be lost, against localstripe (the real stripe client; faults injected by the fake server, not
by mocking our code): a refund whose call times out after Stripe made it is neither doubled nor lost, and is
settled by a retry or by reconciliation; a transfer answered with a 500 is retried once; a definite refusal fails
the record and gives the money back."""

import pytest
from django.test import Client

from orders.services import order_transition
from payments.models import Account, LedgerTransaction, Refund, Transfer
from payments.selectors import ledger_problems
from payments.services import payments as services
from payments.services.escrow import escrow_refund
from payments.services.reconcile import reconcile_differences
from tests.orders.factories import advance, place
from tests.payments import stripe_fake
from tests.payments.conftest import complete_input_order, input_order
from tests.payments.test_stripe import _onboard, _pay

pytestmark = pytest.mark.django_db


def _stripe_refunds(base: str, payment) -> list[dict]:
    return stripe_fake.call(base, "GET", f"/v1/refunds?payment_intent={payment.reference}&limit=100")["data"]


def _held(order) -> int:
    return Account.objects.get(kind="order_escrow", order_id=order.pk).balance


def _paid_order(world, base, client, run_commits):
    order = advance(world, place(world), "accepted")
    with run_commits():
        payment = _pay(world, base, client, order)
    payment.refresh_from_db()
    return order, payment


def test_a_refund_whose_call_times_out_is_unknown_then_a_retry_settles_it_once(world, faults, run_commits):
    base, client = stripe_fake_base(world), Client()
    order, payment = _paid_order(world, base, client, run_commits)
    faults("/v1/refunds", "stall")  # Stripe makes the refund, but its answer comes after our timeout
    with run_commits():
        (refund,) = escrow_refund(
            actor=world.operator.manager, order_id=order.pk, amount=1_000_000, reason="Goodwill", request_key="t-1"
        )
    refund.refresh_from_db()
    # Not failed (Stripe did refund), not reversed: unknown, and the money stays booked as sent.
    assert (refund.status, refund.attempts, refund.reference) == ("unknown", 1, "")
    assert _held(order) == 2_000_000
    assert not LedgerTransaction.objects.filter(kind="reversal:refund").exists()
    assert len(_stripe_refunds(base, payment)) == 1
    # The task's retry sends the same idempotency key: Stripe answers with the refund it made, and makes no other.
    assert services.refund_submit(refund_id=refund.pk) == "succeeded"
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.reference.startswith("re_") and refund.attempts == 2
    (remote,) = _stripe_refunds(base, payment)
    assert remote["id"] == refund.reference and remote["amount"] == 1_000_000
    assert stripe_fake.call(base, "GET", f"/v1/charges/{payment.charge_reference}")["amount_refunded"] == 1_000_000
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_refund_left_unknown_is_settled_by_reconciliation(world, faults, run_commits):
    base, client = stripe_fake_base(world), Client()
    order, payment = _paid_order(world, base, client, run_commits)
    faults("/v1/refunds", "stall")
    with run_commits():
        (refund,) = escrow_refund(
            actor=world.operator.manager, order_id=order.pk, amount=500_000, reason="Short weight", request_key="t-2"
        )
    refund.refresh_from_db()
    assert refund.status == "unknown"
    # After the retries, reconciliation asks Stripe for the refund by our id (its metadata).
    assert services.refund_reconcile(refund_id=refund.pk) == "succeeded"
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.reference == _stripe_refunds(base, payment)[0]["id"]
    assert refund.attempts == 1 and len(_stripe_refunds(base, payment)) == 1
    assert services.refund_reconcile(refund_id=refund.pk) == "nothing_to_do"
    assert _held(order) == 2_500_000
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_refund_the_provider_never_received_fails_on_reconciliation_and_the_money_is_back(world, faults, run_commits):
    base, client = stripe_fake_base(world), Client()
    order, payment = _paid_order(world, base, client, run_commits)
    faults("/v1/refunds", "error500")  # nothing done at Stripe
    with run_commits():
        (refund,) = escrow_refund(
            actor=world.operator.manager, order_id=order.pk, amount=700_000, reason="Goodwill", request_key="t-3"
        )
    refund.refresh_from_db()
    assert refund.status == "unknown" and _held(order) == 2_300_000
    assert services.refund_reconcile(refund_id=refund.pk) == "failed"
    refund.refresh_from_db()
    assert refund.status == "failed" and _held(order) == 3_000_000
    assert _stripe_refunds(base, payment) == []
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_definite_refusal_fails_the_refund_and_reverses_its_posting(world, faults, run_commits):
    base, client = stripe_fake_base(world), Client()
    order, payment = _paid_order(world, base, client, run_commits)
    faults("/v1/refunds", "error400")  # an invalid request: nothing was done
    with run_commits():
        (refund,) = escrow_refund(
            actor=world.operator.manager, order_id=order.pk, amount=100_000, reason="Goodwill", request_key="t-4"
        )
    refund.refresh_from_db()
    assert refund.status == "failed" and refund.error
    assert _held(order) == 3_000_000
    assert LedgerTransaction.objects.filter(kind="reversal:refund").count() == 1
    assert _stripe_refunds(base, payment) == []
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_transfer_answered_with_a_500_is_retried_and_made_once(world, faults, run_commits):
    base, client = stripe_fake_base(world), Client()
    with run_commits():
        account = _onboard(world, base, client, world.supplier)
    order = input_order(world)
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="accepted")
    with run_commits():
        _pay(world, base, client, order)
    faults("/v1/transfers", "error500")
    with run_commits():
        complete_input_order(world, order)  # release → transfer → the provider answers 500
    transfer = Transfer.objects.get(order=order)
    payable = Account.objects.get(kind="organisation_payable", organisation=world.supplier.organisation)
    # Posted as sent before the call, so it cannot be sent twice; the outcome is unknown.
    assert transfer.status == "unknown" and transfer.attempts == 1 and transfer.error
    assert payable.balance == 0
    listed = stripe_fake.call(base, "GET", f"/v1/transfers?transfer_group={order.number}")["data"]
    assert listed == []
    assert services.transfer_submit(transfer_id=transfer.pk) == "paid"  # the task's retry
    transfer.refresh_from_db()
    assert transfer.status == "paid" and transfer.attempts == 2 and transfer.destination == account.reference
    (remote,) = stripe_fake.call(base, "GET", f"/v1/transfers?transfer_group={order.number}")["data"]
    assert remote["id"] == transfer.reference and remote["amount"] == transfer.amount
    assert LedgerTransaction.objects.filter(kind="transfer").count() == 1
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_transfer_whose_answer_is_lost_is_found_by_reconciliation(world, faults, run_commits):
    base, client = stripe_fake_base(world), Client()
    with run_commits():
        _onboard(world, base, client, world.supplier)
    order = input_order(world)
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="accepted")
    with run_commits():
        _pay(world, base, client, order)
    faults("/v1/transfers", "stall")
    with run_commits():
        complete_input_order(world, order)
    transfer = Transfer.objects.get(order=order)
    assert transfer.status == "unknown"
    assert services.transfer_reconcile(transfer_id=transfer.pk) == "paid"
    transfer.refresh_from_db()
    (remote,) = stripe_fake.call(base, "GET", f"/v1/transfers?transfer_group={order.number}")["data"]
    assert transfer.status == "paid" and transfer.reference == remote["id"]
    assert ledger_problems() == [] and reconcile_differences() == []


def test_refunds_not_yet_settled_are_reconciled_by_the_sweep(world, faults, run_commits):
    from datetime import timedelta

    from django.utils import timezone

    from payments.tasks import payments_settle_unknown

    base, client = stripe_fake_base(world), Client()
    order, _payment = _paid_order(world, base, client, run_commits)
    faults("/v1/refunds", "stall")
    with run_commits():
        (refund,) = escrow_refund(
            actor=world.operator.manager, order_id=order.pk, amount=10_000, reason="Goodwill", request_key="t-5"
        )
    assert payments_settle_unknown(minutes=60) == {"refunds": 0, "transfers": 0}  # too recent: left to retries
    Refund.objects.filter(pk=refund.pk).update(last_attempt_at=timezone.now() - timedelta(hours=3))
    assert payments_settle_unknown(minutes=60) == {"refunds": 1, "transfers": 0}
    refund.refresh_from_db()
    assert refund.status == "succeeded"


def stripe_fake_base(world) -> str:
    from django.conf import settings

    return settings.STRIPE_API_BASE


def test_reconciliation_pages_through_the_providers_lists_by_date(world, stripe_mode, run_commits, monkeypatch):
    """Three payments are reconciled with a few list calls (by `created`), not one call per payment; a refund
    made at Stripe and not booked is found."""
    import stripe as stripe_module

    base, client = stripe_mode, Client()
    paid = [_paid_order(world, base, client, run_commits)[1] for _ in range(3)]
    calls: list[tuple[str, str]] = []
    original = stripe_module.RequestsClient.request

    def counting(self, method, url, headers, post_data=None):
        calls.append((method, url.split("?")[0].removeprefix(base)))
        return original(self, method, url, headers, post_data)

    monkeypatch.setattr(stripe_module.RequestsClient, "request", counting)
    assert reconcile_differences() == []
    assert all(method == "get" for method, _path in calls)
    assert sorted({path for _method, path in calls}) == ["/v1/charges", "/v1/payment_intents"]
    assert len(calls) == 2
    stripe_fake.call(base, "POST", "/v1/refunds", {"payment_intent": paid[1].reference, "amount": 5_000})
    assert reconcile_differences()[:1] == [
        f"payment {paid[1].pk} ({paid[1].reference}): we refunded 0, stripe says 5000"
    ]


def test_a_refused_transfer_fails_and_the_money_is_owed_to_the_seller_again(world, faults, run_commits):
    base, client = stripe_fake_base(world), Client()
    with run_commits():
        _onboard(world, base, client, world.supplier)
    order = input_order(world)
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="accepted")
    with run_commits():
        _pay(world, base, client, order)
    faults("/v1/transfers", "error400")
    with run_commits():
        complete_input_order(world, order)
    transfer = Transfer.objects.get(order=order)
    payable = Account.objects.get(kind="organisation_payable", organisation=world.supplier.organisation)
    assert transfer.status == "failed" and "refused" in transfer.error
    assert payable.balance == transfer.amount  # the posting was reversed
    assert LedgerTransaction.objects.filter(kind="reversal:transfer").count() == 1
    assert services.transfer_submit(transfer_id=transfer.pk) == "nothing_to_do"
    assert ledger_problems() == [] and reconcile_differences() == []
