"""Executing a payout batch: the members' payouts are posted first, the payout provider is called with no database
transaction open (so no lock is held), and its answer is recorded afterwards. A refusal puts the batch back to
approved with the postings reversed; no definite answer leaves it executing until a retry pays it, once."""

import pytest
from django.db import connection

from payments.models import LedgerTransaction
from payments.payouts import services
from payments.payouts.models import PayoutBatch
from payments.payouts.provider import OfflinePayoutProvider, PayoutRefused, PayoutUnavailable
from payments.selectors import ledger_problems
from tests.orders.factories import make_world
from tests.payouts.factories import released_order

CALLS: list[dict] = []


class RecordingProvider(OfflinePayoutProvider):
    """The offline payout provider, noting whether a transaction was open when it was called."""

    def pay(self, instructions):
        CALLS.append({"in_transaction": connection.in_atomic_block, "references": [i.reference for i in instructions]})
        return super().pay(instructions)


class RefusingProvider(OfflinePayoutProvider):
    def pay(self, instructions):
        raise PayoutRefused("The account is blocked.")


class SilentProvider(OfflinePayoutProvider):
    def pay(self, instructions):
        raise PayoutUnavailable("Timed out.")


def _approved(world) -> PayoutBatch:
    released_order(world)
    # With commits running (transaction=True), the release's task has already proposed the batch.
    batch = PayoutBatch.objects.filter(organisation=world.seller.organisation, status="proposed").first()
    if batch is None:
        organisation_id = world.seller.organisation.pk
        batch = services.payout_batch_propose(actor=world.seller.manager, organisation_id=organisation_id)
    return services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)


def _member_payables(batch) -> int:
    from payments.models import Account

    farmers = batch.lines.values("farmer_id")
    return sum(Account.objects.filter(kind="member_payable", farmer_id__in=farmers).values_list("balance", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_provider_is_called_with_no_transaction_open(settings):
    settings.OFFLINE_PAYMENTS = True
    settings.PAYOUT_PROVIDER = "tests.payouts.test_execution.RecordingProvider"
    world = make_world()
    batch = _approved(world)
    CALLS.clear()
    services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)  # the task runs on commit (eager)
    batch.refresh_from_db()
    assert batch.status == "executed"
    references = [line.reference for line in batch.lines.filter(net_amount__gt=0).order_by("pk")]
    assert [{"in_transaction": False, "references": references}] == CALLS
    assert ledger_problems() == []


@pytest.mark.django_db
def test_a_refusal_reverses_the_payouts_and_the_batch_can_be_executed_again(
    world, settings, django_capture_on_commit_callbacks
):
    batch = _approved(world)
    owed = _member_payables(batch)
    settings.PAYOUT_PROVIDER = "tests.payouts.test_execution.RefusingProvider"
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "approved" and "blocked" in batch.error
    assert set(batch.lines.values_list("status", flat=True)) == {"proposed"}  # back with the batch, unsent
    assert _member_payables(batch) == owed  # the members are owed their money again
    assert (
        LedgerTransaction.objects.filter(kind="reversal:payout").count() == batch.lines.filter(net_amount__gt=0).count()
    )
    settings.PAYOUT_PROVIDER = "payments.payouts.provider.OfflinePayoutProvider"
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "executed" and batch.attempts == 2 and _member_payables(batch) == 0
    assert set(batch.lines.filter(net_amount__gt=0).values_list("status", flat=True)) == {"paid"}
    line = batch.lines.filter(net_amount__gt=0).first()
    assert line.payout_transaction.idempotency_key == f"payout:{line.pk}:2"
    assert ledger_problems() == []


@pytest.mark.django_db
def test_no_answer_leaves_the_batch_executing_until_a_retry_pays_it_once(
    world, settings, django_capture_on_commit_callbacks
):
    batch = _approved(world)
    settings.PAYOUT_PROVIDER = "tests.payouts.test_execution.SilentProvider"
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "executing" and batch.error == "Timed out."
    assert set(batch.lines.filter(net_amount__gt=0).values_list("status", flat=True)) == {"sent"}
    assert _member_payables(batch) == 0  # posted as sent: nothing can pay it twice
    posted = LedgerTransaction.objects.filter(kind="payout").count()
    settings.PAYOUT_PROVIDER = "payments.payouts.provider.OfflinePayoutProvider"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payout_batch_send(batch_id=batch.pk) == "executed"  # the task's retry
    assert services.payout_batch_send(batch_id=batch.pk) == "nothing_to_do"
    batch.refresh_from_db()
    assert batch.status == "executed" and LedgerTransaction.objects.filter(kind="payout").count() == posted
    assert ledger_problems() == []
