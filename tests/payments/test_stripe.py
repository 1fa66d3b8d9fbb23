"""The real stripe client against localstripe (extended with Connect), with signed webhooks hitting our webhook
view: pay → fund → dispatch → receipt → release → the members' payout batch → the levy's transfer; refunds, a
refund made at Stripe, chargebacks and a transfer reversal (an input supplier's order, transferred at release);
reconcile_payments against Stripe's records."""

import pytest
from django.test import Client

from orders.models import Order
from orders.services import order_transition
from payments.models import Account, ChargeDispute, LedgerTransaction, Payment, PayoutAccount, Refund, Transfer
from payments.selectors import account_balance, ledger_problems
from payments.services.payments import payment_start, payout_onboarding_start, transfer_reverse
from payments.services.reconcile import reconcile_differences
from tests.orders.factories import TONNE, advance, place
from tests.payments import stripe_fake
from tests.payments.conftest import batch_of, complete_input_order, input_order, move, pay_members

pytestmark = pytest.mark.django_db


def _onboard(world, base: str, client: Client, side=None) -> PayoutAccount:
    side = side or world.seller
    url = payout_onboarding_start(
        actor=side.manager, organisation_id=side.organisation.pk,
        return_url="http://testserver/payments/money/", refresh_url="http://testserver/payments/money/",
    )  # fmt: skip
    account = PayoutAccount.objects.get(organisation=side.organisation)
    assert url.endswith(account.reference) and account.provider == "stripe" and not account.payouts_enabled
    stripe_fake.call(base, "POST", f"/_config/accounts/{account.reference}/complete")
    for event in stripe_fake.events(base, "account.updated", account.reference):
        assert stripe_fake.deliver(client, event).status_code == 200
    return account


def _pay(world, base: str, client: Client, order: Order) -> Payment:
    payment = payment_start(actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount, currency="XOF")
    assert payment.provider == "stripe" and payment.reference.startswith("pi_") and payment.client_secret
    # What Stripe.js does in the buyer's browser: confirm the PaymentIntent with a card.
    stripe_fake.call(base, "POST", f"/v1/payment_intents/{payment.reference}", {"payment_method": "pm_card_visa"})
    stripe_fake.call(base, "POST", f"/v1/payment_intents/{payment.reference}/confirm")
    (succeeded,) = stripe_fake.events(base, "payment_intent.succeeded", payment.reference)
    assert stripe_fake.deliver(client, succeeded).status_code == 200
    payment.refresh_from_db()
    return payment


def test_the_whole_escrow_flow_runs_against_stripe(world, stripe_mode, run_commits, settings):
    settings.PLATFORM_FEE_BP = 300
    settings.PAYOUT_DEFAULT_LEVY_BP = 200
    base, client = stripe_mode, Client()
    with run_commits():
        account = _onboard(world, base, client)
    account.refresh_from_db()
    assert account.payouts_enabled
    order = advance(world, place(world, 2 * TONNE), "accepted")
    with run_commits():
        payment = _pay(world, base, client, order)
    order.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.charge_reference.startswith("ch_")
    assert order.status == "paid" and order.payment_reference == payment.reference
    intent = stripe_fake.call(base, "GET", f"/v1/payment_intents/{payment.reference}")
    assert (intent["amount"], intent["currency"], intent["transfer_group"]) == (3_000_000, "xof", order.number)
    assert intent["metadata"]["order_id"] == str(order.pk)
    assert Account.objects.get(kind="order_escrow", order_id=order.pk).balance == 3_000_000

    with run_commits():
        move(world, order, "completed")  # dispatch, receipt, completion → release → a payout batch proposed
    # A cooperative's order: nothing is transferred at release; the members are paid through the batch first.
    assert not Transfer.objects.exists()
    assert Account.objects.get(kind="organisation_payable", organisation=world.seller.organisation).balance == 2_910_000
    batch = batch_of(order)
    assert (batch.status, batch.proceeds_amount, batch.levy_amount) == ("proposed", 2_910_000, 58_200)
    with run_commits():
        batch = pay_members(world, batch)  # members paid their net; the levy is transferred through Stripe
    batch.refresh_from_db()
    assert batch.status == "executed" and all(line.paid_at for line in batch.lines.all())
    assert all(
        Account.objects.get(kind="member_payable", farmer_id=line.farmer_id).balance == 0 for line in batch.lines.all()
    )
    transfer = Transfer.objects.get(order=order)
    assert transfer.status == "paid" and transfer.reference.startswith("tr_") and transfer.amount == 58_200
    remote = stripe_fake.call(base, "GET", f"/v1/transfers/{transfer.reference}")
    assert remote["amount"] == 58_200 and remote["destination"] == account.reference
    assert remote["source_transaction"] == payment.charge_reference and remote["transfer_group"] == order.number
    # Stripe's transfer.created arrives after we recorded the transfer: it changes nothing.
    with run_commits():
        (created,) = stripe_fake.events(base, "transfer.created", transfer.reference)
        assert stripe_fake.deliver(client, created).status_code == 200
    assert LedgerTransaction.objects.filter(kind="transfer").count() == 1
    assert account_balance(Account.objects.get(kind="platform_fees", currency="XOF")) == 90_000
    assert Account.objects.get(kind="organisation_payable", organisation=world.seller.organisation).balance == 0
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_cancellation_refunds_through_stripe_and_a_refund_made_at_stripe_is_booked(world, stripe_mode, run_commits):
    base, client = stripe_mode, Client()
    first = advance(world, place(world), "accepted")
    second = advance(world, place(world), "accepted")
    with run_commits():
        paid_first = _pay(world, base, client, first)
        paid_second = _pay(world, base, client, second)
        move(world, first, "cancelled")
    paid_first.refresh_from_db()
    paid_second.refresh_from_db()
    refund = Refund.objects.get(order=first)
    assert refund.status == "succeeded" and refund.reference.startswith("re_")
    charge = stripe_fake.call(base, "GET", f"/v1/charges/{paid_first.charge_reference}")
    assert charge["amount_refunded"] == 3_000_000
    # localstripe sends no charge.refunded: we build it as Stripe would. Our own refund is already booked.
    with run_commits():
        assert stripe_fake.deliver(client, stripe_fake.event_of("charge.refunded", charge)).status_code == 200
    assert Refund.objects.filter(order=first).count() == 1
    # Someone refunds part of the second payment in Stripe's dashboard: the ledger follows.
    stripe_fake.call(base, "POST", "/v1/refunds", {"payment_intent": paid_second.reference, "amount": 400_000})
    charge = stripe_fake.call(base, "GET", f"/v1/charges/{paid_second.charge_reference}")
    with run_commits():
        assert stripe_fake.deliver(client, stripe_fake.event_of("charge.refunded", charge)).status_code == 200
    booked = Refund.objects.get(order=second)
    assert (booked.amount, booked.reason, booked.status) == (400_000, "provider", "succeeded")
    assert Account.objects.get(kind="order_escrow", order_id=second.pk).balance == 2_600_000
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_chargeback_freezes_then_a_lost_one_is_booked_and_a_transfer_reversed(world, stripe_mode, run_commits):
    """On an input supplier's order, whose net is transferred at release."""
    base, client = stripe_mode, Client()
    with run_commits():
        _onboard(world, base, client, world.supplier)
    order = input_order(world)
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="accepted")
    with run_commits():
        payment = _pay(world, base, client, order)
    payment.refresh_from_db()
    with run_commits():
        dispute = stripe_fake.call(base, "POST", "/_config/disputes", {"charge": payment.charge_reference})
        (opened,) = stripe_fake.events(base, "charge.dispute.created", dispute["id"])
        assert stripe_fake.deliver(client, opened).status_code == 200
        complete_input_order(world, order)
    assert ChargeDispute.objects.get().status == "open"
    assert not LedgerTransaction.objects.filter(kind="release").exists()
    with run_commits():
        stripe_fake.call(base, "POST", f"/_config/disputes/{dispute['id']}/close", {"status": "won"})
        (closed,) = stripe_fake.events(base, "charge.dispute.closed", dispute["id"])
        assert stripe_fake.deliver(client, closed).status_code == 200
    transfer = Transfer.objects.get(order=order)
    assert (transfer.status, transfer.organisation_id) == ("paid", world.supplier.organisation.pk)
    # The operator takes part of the transfer back.
    with run_commits():
        transfer_reverse(actor=world.operator.manager, transfer_id=transfer.pk, amount=100_000, reason="Lost bags")
        (reversed_event,) = stripe_fake.events(base, "transfer.reversed", transfer.reference)
        assert stripe_fake.deliver(client, reversed_event).status_code == 200
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 100_000
    assert stripe_fake.call(base, "GET", f"/v1/transfers/{transfer.reference}")["amount_reversed"] == 100_000
    assert LedgerTransaction.objects.filter(kind="transfer_reversal").count() == 1
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_lost_chargeback_before_release_empties_the_escrow(world, stripe_mode, run_commits):
    base, client = stripe_mode, Client()
    order = advance(world, place(world), "accepted")
    with run_commits():
        payment = _pay(world, base, client, order)
    payment.refresh_from_db()
    with run_commits():
        dispute = stripe_fake.call(base, "POST", "/_config/disputes", {"charge": payment.charge_reference})
        stripe_fake.call(base, "POST", f"/_config/disputes/{dispute['id']}/close", {"status": "lost"})
        for kind in ("charge.dispute.created", "charge.dispute.closed"):
            (event,) = stripe_fake.events(base, kind, dispute["id"])
            assert stripe_fake.deliver(client, event).status_code == 200
    assert ChargeDispute.objects.get().status == "lost"
    assert Account.objects.get(kind="order_escrow", order_id=order.pk).balance == 0
    assert ledger_problems() == []


def test_a_failed_payment_is_recorded_and_funds_nothing(world, stripe_mode, run_commits):
    base, client = stripe_mode, Client()
    order = advance(world, place(world), "accepted")
    payment = payment_start(actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount, currency="XOF")
    intent = stripe_fake.call(base, "GET", f"/v1/payment_intents/{payment.reference}")
    intent["last_payment_error"] = {"message": "Your card was declined."}
    with run_commits():
        stripe_fake.deliver(client, stripe_fake.event_of("payment_intent.payment_failed", intent))
    payment.refresh_from_db()
    assert payment.status == "failed" and "declined" in payment.failure_message
    assert not LedgerTransaction.objects.exists() and Order.objects.get(pk=order.pk).status == "accepted"
