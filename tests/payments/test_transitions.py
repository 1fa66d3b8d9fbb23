"""The status tables of payments, refunds, transfers and chargebacks, each checked over every pair of statuses
against a table written out here (not read from the code), and each move audited."""

import itertools

import pytest

from marketplace.core.errors import InvalidTransition
from marketplace.core.models import AuditEvent
from payments.models import ChargeDispute, Payment, Refund, Transfer
from payments.services import transitions as t
from tests.payments.conftest import paid_order

PAYMENT = {("pending", "succeeded"), ("pending", "failed"), ("failed", "succeeded")}
REFUND = {
    ("pending", "unknown"),
    ("pending", "succeeded"),
    ("pending", "failed"),
    ("unknown", "pending"),
    ("unknown", "succeeded"),
    ("unknown", "failed"),
    ("succeeded", "failed"),
}
TRANSFER = {
    ("pending", "unknown"),
    ("pending", "paid"),
    ("unknown", "paid"),
    ("unknown", "failed"),
    ("paid", "reversed"),
    ("failed", "pending"),
}
CHARGE_DISPUTE = {("open", "won"), ("open", "lost")}

CASES = [
    (t.PAYMENT_TABLE, Payment, PAYMENT),
    (t.REFUND_TABLE, Refund, REFUND),
    (t.TRANSFER_TABLE, Transfer, TRANSFER),
    (t.CHARGE_DISPUTE_TABLE, ChargeDispute, CHARGE_DISPUTE),
]
PAIRS = [
    pytest.param(table, allowed, a, b, id=f"{table.name}:{a}->{b}")
    for table, model, allowed in CASES
    for a, b in itertools.product(model.Status.values, repeat=2)
]


@pytest.mark.parametrize(("table", "allowed", "from_status", "to_status"), PAIRS)
def test_every_pair_against_the_table_written_here(table, allowed, from_status, to_status):
    assert table.allows(from_status, to_status) == ((from_status, to_status) in allowed)


@pytest.mark.parametrize(("table", "model", "allowed"), CASES, ids=[c[0].name for c in CASES])
def test_the_tables_know_every_status_of_their_model(table, model, allowed):
    assert table.statuses() == set(model.Status.values)


@pytest.mark.django_db
def test_a_refund_moves_only_through_its_table_and_each_move_is_audited(world):
    order = paid_order(world)
    payment = Payment.objects.get(order=order)
    refund = Refund.objects.create(
        key="t", payment=payment, order=order, amount=1, currency="XOF", reason=Refund.Reason.OPERATOR
    )
    t.refund_transition(refund_id=refund.pk, to_status="unknown", reason="timeout")
    event = AuditEvent.objects.filter(subject_type="payments.refund", subject_id=str(refund.pk)).get()
    assert (event.action, event.from_status, event.to_status, event.reason) == (
        "refund.unknown",
        "pending",
        "unknown",
        "timeout",
    )
    t.refund_transition(refund_id=refund.pk, to_status="succeeded")
    with pytest.raises(InvalidTransition):
        t.refund_transition(refund_id=refund.pk, to_status="pending")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert AuditEvent.objects.filter(subject_type="payments.refund", subject_id=str(refund.pk)).count() == 2
