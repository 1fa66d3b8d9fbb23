"""The operator re-sends a transfer the provider refused, against localstripe: a new send with its own key
(`transfer:<id>:resend:<n>`), posted again after the refusal's reversal, made once at Stripe however often it is
asked; only from failed; other people get 404."""

import pytest
from django.test import Client

from marketplace.core.errors import Conflict, NotFound, ValidationFailed
from marketplace.core.models import AuditEvent, IdempotentRequest
from orders.services import order_transition
from payments.models import Account, LedgerTransaction, Transfer
from payments.selectors import ledger_problems
from payments.services import payments as services
from payments.services.reconcile import reconcile_differences
from tests.payments import stripe_fake
from tests.payments.conftest import complete_input_order, input_order
from tests.payments.test_stripe import _onboard, _pay

pytestmark = pytest.mark.django_db


def _refused_transfer(world, base, faults, run_commits) -> Transfer:
    client = Client()
    with run_commits():
        _onboard(world, base, client, world.supplier)
    order = input_order(world)
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="accepted")
    with run_commits():
        _pay(world, base, client, order)
    faults("/v1/transfers", "error400")  # once: the next call goes through
    with run_commits():
        complete_input_order(world, order)
    transfer = Transfer.objects.select_related("order").get(order=order)
    assert transfer.status == "failed" and transfer.resends == 0
    return transfer


def _at_stripe(base: str, transfer: Transfer) -> list[dict]:
    return stripe_fake.call(base, "GET", f"/v1/transfers?transfer_group={transfer.order.number}")["data"]


def _payable(world) -> int:
    return Account.objects.get(kind="organisation_payable", organisation=world.supplier.organisation).balance


def _url(transfer: Transfer) -> str:
    return f"/api/v1/payments/transfers/{transfer.pk}/resend/"


def test_a_refused_transfer_re_sent_once_is_paid_once_and_the_ledger_is_right(
    world, stripe_mode, faults, run_commits, as_user
):
    transfer = _refused_transfer(world, stripe_mode, faults, run_commits)
    assert _payable(world) == transfer.amount and _at_stripe(stripe_mode, transfer) == []
    operator = as_user(world.operator.manager)
    with run_commits():
        answer = operator.post(
            _url(transfer), {"reason": "Payout account fixed"}, format="json", headers={"Idempotency-Key": "rs-1"}
        )
    assert answer.status_code == 202 and answer.json()["resends"] == 1
    transfer.refresh_from_db()
    assert transfer.status == "paid" and transfer.resends == 1 and transfer.error == ""
    (remote,) = _at_stripe(stripe_mode, transfer)
    assert remote["id"] == transfer.reference and remote["amount"] == transfer.amount
    assert remote["metadata"]["send"] == "1" and remote["metadata"]["transfer_id"] == str(transfer.pk)
    # Posted, reversed on the refusal, posted again under the new send's key: sent once in all.
    keys = set(LedgerTransaction.objects.filter(kind="transfer").values_list("idempotency_key", flat=True))
    assert keys == {f"transfer:{transfer.pk}", f"transfer:{transfer.pk}:resend:1"}
    assert LedgerTransaction.objects.filter(kind="reversal:transfer").count() == 1
    assert _payable(world) == 0
    (event,) = AuditEvent.objects.filter(
        subject_type="payments.transfer", subject_id=str(transfer.pk), action="transfer.pending"
    )
    assert (event.from_status, event.actor_id, event.reason) == (
        "failed",
        world.operator.manager.pk,
        "Payout account fixed",
    )
    assert ledger_problems() == [] and reconcile_differences() == []
    # Reconciliation by our ids finds the current send.
    assert stripe_mode and services.transfer_submit(transfer_id=transfer.pk) == "nothing_to_do"


def test_the_same_resend_posted_twice_re_sends_once_and_answers_the_same(
    world, stripe_mode, faults, run_commits, as_user
):
    transfer = _refused_transfer(world, stripe_mode, faults, run_commits)
    operator = as_user(world.operator.manager)
    body = {"reason": "Payout account fixed"}
    with run_commits():
        first = operator.post(_url(transfer), body, format="json", headers={"Idempotency-Key": "rs-2"})
        again = operator.post(_url(transfer), body, format="json", headers={"Idempotency-Key": "rs-2"})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    # Another key is another request: the transfer is no longer failed, so nothing more is sent.
    other = operator.post(_url(transfer), body, format="json", headers={"Idempotency-Key": "rs-3"})
    assert other.status_code == 409 and "only a transfer the provider refused" in other.json()["error"]["message"]
    transfer.refresh_from_db()
    assert transfer.resends == 1 and transfer.status == "paid" and len(_at_stripe(stripe_mode, transfer)) == 1
    assert LedgerTransaction.objects.filter(kind="transfer").count() == 2 and _payable(world) == 0


def test_a_resend_refused_again_fails_again_and_can_be_re_sent_with_the_next_key(
    world, stripe_mode, faults, run_commits
):
    transfer = _refused_transfer(world, stripe_mode, faults, run_commits)
    faults("/v1/transfers", "error400")
    with run_commits():
        services.transfer_resend(actor=world.operator.manager, transfer_id=transfer.pk, reason="Try again")
    transfer.refresh_from_db()
    assert transfer.status == "failed" and transfer.resends == 1 and _payable(world) == transfer.amount
    assert LedgerTransaction.objects.filter(kind="reversal:transfer").count() == 2
    with run_commits():
        services.transfer_resend(actor=world.operator.manager, transfer_id=transfer.pk, reason="Fixed for real")
    transfer.refresh_from_db()
    assert transfer.status == "paid" and transfer.resends == 2 and _payable(world) == 0
    assert _at_stripe(stripe_mode, transfer)[0]["metadata"]["send"] == "2"
    assert ledger_problems() == [] and reconcile_differences() == []


@pytest.mark.parametrize("status", ["pending", "unknown", "paid", "reversed"])
def test_only_a_failed_transfer_can_be_re_sent(world, stripe_mode, faults, run_commits, status):
    transfer = _refused_transfer(world, stripe_mode, faults, run_commits)
    Transfer.objects.filter(pk=transfer.pk).update(status=status)
    with pytest.raises(Conflict):
        services.transfer_resend(actor=world.operator.manager, transfer_id=transfer.pk, reason="Fixed")
    transfer.refresh_from_db()
    assert transfer.status == status and transfer.resends == 0


def test_people_other_than_the_operator_get_404_and_bad_input_a_400(world, stripe_mode, faults, run_commits, as_user):
    transfer = _refused_transfer(world, stripe_mode, faults, run_commits)
    for person in (world.supplier.manager, world.buyer.manager, world.seller.manager):
        answer = as_user(person).post(
            _url(transfer), {"reason": "x"}, format="json", headers={"Idempotency-Key": "k-1"}
        )
        assert answer.status_code == 404
        with pytest.raises(NotFound):
            services.transfer_resend(actor=person, transfer_id=transfer.pk, reason="x")
    operator = as_user(world.operator.manager)
    assert operator.post(_url(transfer), {"reason": "x"}, format="json").status_code == 400  # no key
    empty = operator.post(_url(transfer), {"reason": " "}, format="json", headers={"Idempotency-Key": "k-2"})
    assert empty.status_code == 400 and "reason" in empty.json()["error"]["fields"]
    with pytest.raises(ValidationFailed):
        services.transfer_resend(actor=world.operator.manager, transfer_id=transfer.pk, reason="   ")
    missing = operator.post(
        "/api/v1/payments/transfers/999999/resend/", {"reason": "x"}, format="json", headers={"Idempotency-Key": "k-3"}
    )
    assert missing.status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == "failed" and transfer.resends == 0 and not IdempotentRequest.objects.exists()


def test_the_operator_re_sends_from_the_order_page(world, stripe_mode, faults, run_commits):
    transfer = _refused_transfer(world, stripe_mode, faults, run_commits)
    page = f"/payments/orders/{transfer.order.number}/"
    action = f"/payments/orders/{transfer.order.number}/resend-transfer/"
    seller = Client()
    seller.force_login(world.supplier.manager)
    assert b'id="resend-transfer"' not in seller.get(page).content
    assert seller.post(action, {"transfer": transfer.pk, "reason": "x"}).status_code == 404
    operator = Client()
    operator.force_login(world.operator.manager)
    shown = operator.get(page)
    assert shown.status_code == 200 and b'id="resend-transfer"' in shown.content
    assert operator.post(action, {"transfer": transfer.pk, "reason": ""}).status_code == 400
    with run_commits():
        done = operator.post(action, {"transfer": transfer.pk, "reason": "Account fixed"})
    assert done.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "paid" and transfer.resends == 1
    assert b'id="resend-transfer"' not in operator.get(page).content
    assert operator.post(action, {"transfer": transfer.pk, "reason": "Again"}).status_code == 409
