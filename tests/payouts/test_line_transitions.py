"""A payout line's status moves only through `payout_line_transition`, checked against its table (every pair below,
against a table written out here) and audited; the moves of a batch's execution leave one audit record each."""

import pytest

from marketplace.core.errors import InvalidTransition
from marketplace.core.models import AuditEvent
from payments.payouts.models import PayoutLine
from payments.payouts.services.lines import PAYOUT_LINE_TABLE, payout_line_transition
from tests.payouts.test_execution import _approved

LINE_TABLE = {
    ("proposed", "sent"),  # posted and sent to the provider
    ("sent", "paid"),
    ("sent", "failed"),  # the provider has no payment under our reference: the posting reversed
    ("sent", "proposed"),  # the provider refused the whole batch: the posting reversed, the batch approved again
    ("failed", "sent"),  # retried under a new reference
}
STATUSES = ["proposed", "sent", "paid", "failed"]


def test_the_status_list_is_the_one_the_tests_know():
    assert sorted(PayoutLine.Status.values) == sorted(STATUSES) == sorted(PAYOUT_LINE_TABLE.statuses())


@pytest.mark.parametrize("to_status", STATUSES)
@pytest.mark.parametrize("from_status", STATUSES)
def test_the_line_transition_table(from_status, to_status):
    assert PAYOUT_LINE_TABLE.allows(from_status, to_status) == ((from_status, to_status) in LINE_TABLE)


@pytest.mark.django_db
@pytest.mark.parametrize("to_status", STATUSES)
@pytest.mark.parametrize("from_status", STATUSES)
def test_the_service_moves_a_line_only_as_the_table_says_and_audits_it(world, from_status, to_status):
    batch = _approved(world)
    line = batch.lines.filter(net_amount__gt=0).first()
    PayoutLine.objects.filter(pk=line.pk).update(status=from_status)
    locked = PayoutLine.objects.select_for_update().get(pk=line.pk)
    audited = AuditEvent.objects.filter(action=f"payout_line.{to_status}", subject_id=str(line.pk))
    if (from_status, to_status) not in LINE_TABLE:
        with pytest.raises(InvalidTransition):
            payout_line_transition(actor=world.seller.manager, line=locked, to_status=to_status,
                                   organisation_id=batch.organisation_id)  # fmt: skip
        assert PayoutLine.objects.get(pk=line.pk).status == from_status and not audited.exists()
        return
    payout_line_transition(actor=world.seller.manager, line=locked, to_status=to_status,
                           organisation_id=batch.organisation_id, reason="checked")  # fmt: skip
    assert PayoutLine.objects.get(pk=line.pk).status == to_status
    event = audited.get()
    assert (event.from_status, event.to_status, event.reason) == (from_status, to_status, "checked")
    assert event.actor == world.seller.manager and event.organisation_id == batch.organisation_id
    assert event.data == {"reference": line.reference, "net": line.net_amount}


@pytest.mark.django_db
def test_executing_a_batch_moves_each_line_it_pays_twice_with_an_audit_record_each(
    world, django_capture_on_commit_callbacks
):
    from payments.payouts import services

    batch = _approved(world)
    paying = list(batch.lines.filter(net_amount__gt=0).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    assert set(PayoutLine.objects.filter(pk__in=paying).values_list("status", flat=True)) == {"paid"}
    moves = AuditEvent.objects.filter(subject_type="payouts.payoutline", subject_id__in=[str(pk) for pk in paying])
    assert sorted(set(moves.values_list("from_status", "to_status"))) == [("proposed", "sent"), ("sent", "paid")]
    assert moves.count() == 2 * len(paying)
    assert not PayoutLine.objects.filter(batch=batch, net_amount=0).exclude(status="proposed").exists()
