"""A payout batch left "executing" after the task's retries is settled with the provider by our references (beat):
what the provider paid is recorded paid, what it has no payment for fails with its posting reversed, and the batch
becomes executed. Failed payments are retried (platform operator or the cooperative's managers) as new payments
with their own references, once per request."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from payments.models import Account, LedgerTransaction
from payments.payouts import services
from payments.payouts.models import PayoutBatch, PayoutLine
from payments.payouts.provider import OfflinePayoutProvider, PayoutRefused, PayoutResult, PayoutUnavailable
from payments.payouts.tasks import payouts_settle_executing
from payments.selectors import ledger_problems
from tests.payouts.test_execution import _approved

pytestmark = pytest.mark.django_db

FOUND: set[str] = set()  # references the provider says it paid
PAID: list[list[str]] = []  # references of each pay() call


class SilentProvider(OfflinePayoutProvider):
    def pay(self, instructions):
        raise PayoutUnavailable("Timed out.")


class FindingProvider(OfflinePayoutProvider):
    """Paid only the references in FOUND; pays what it is asked to now."""

    def find(self, instructions):
        return [PayoutResult(i.line_id, f"MM-{i.reference}") for i in instructions if i.reference in FOUND]

    def pay(self, instructions):
        PAID.append([i.reference for i in instructions])
        return [PayoutResult(i.line_id, f"MM-{i.reference}") for i in instructions]


class UnreachableProvider(OfflinePayoutProvider):
    def find(self, instructions):
        raise PayoutUnavailable("Connection refused.")


class RefusingProvider(FindingProvider):
    def pay(self, instructions):
        raise PayoutRefused("The number is not registered.")


def _provider(settings, name: str) -> None:
    settings.PAYOUT_PROVIDER = f"tests.payouts.test_settle.{name}"


def _payable(line: PayoutLine) -> int:
    return Account.objects.get(kind="member_payable", farmer_id=line.farmer_id, currency=line.batch.currency).balance


@pytest.fixture
def stuck(world, settings, django_capture_on_commit_callbacks):
    """A batch whose provider never answered: still executing, its payments sent 4 hours ago; the provider has in
    fact paid the first of them."""
    FOUND.clear()
    PAID.clear()
    batch = _approved(world)
    _provider(settings, "SilentProvider")
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    batch.refresh_from_db()
    lines = list(batch.lines.filter(net_amount__gt=0).order_by("pk"))
    assert batch.status == "executing" and len(lines) >= 2
    PayoutLine.objects.filter(batch=batch).update(sent_at=timezone.now() - timedelta(hours=4))
    FOUND.add(lines[0].reference)
    _provider(settings, "FindingProvider")
    return batch, lines


def test_a_stuck_batch_is_settled_by_our_references_and_its_unpaid_lines_fail(
    world, settings, stuck, django_capture_on_commit_callbacks
):
    batch, lines = stuck
    assert payouts_settle_executing(minutes=300) == {}  # sent 4 hours ago: not due yet at 5 hours
    with django_capture_on_commit_callbacks(execute=True):
        assert payouts_settle_executing(minutes=180) == {"executed": 1}
    batch.refresh_from_db()
    assert batch.status == "executed" and "payment(s) failed" in batch.error
    paid, *failed = [PayoutLine.objects.get(pk=line.pk) for line in lines]
    assert [line.status for line in (paid, *failed)] == ["paid"] + ["failed"] * len(failed)
    assert paid.paid_at and paid.provider_reference == f"MM-{paid.reference}" and _payable(paid) == 0
    for line in failed:
        assert line.failed_at and line.paid_at is None and line.payout_transaction is None
        assert _payable(line) == line.net_amount  # the member is owed it again
    assert LedgerTransaction.objects.filter(kind="reversal:payout").count() == len(failed)
    assert AuditEvent.objects.filter(action="payout_line.failed").count() == len(failed)
    assert AuditEvent.objects.filter(action="payout_batch.executed", subject_id=str(batch.pk)).exists()
    assert payouts_settle_executing(minutes=180) == {}  # settled once
    assert services.payout_batch_send(batch_id=batch.pk) == "nothing_to_do"
    assert ledger_problems() == []


def test_a_batch_whose_provider_cannot_be_asked_stays_executing(world, settings, stuck):
    batch, _lines = stuck
    _provider(settings, "UnreachableProvider")
    assert payouts_settle_executing(minutes=180) == {"unknown": 1}
    batch.refresh_from_db()
    assert batch.status == "executing" and "could not ask" in batch.error
    assert not LedgerTransaction.objects.filter(kind="reversal:payout").exists()


def _settled(stuck, django_capture_on_commit_callbacks):
    batch, lines = stuck
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_settle(batch_id=batch.pk)
    return batch, lines[1:]


def _retry_url(batch) -> str:
    return f"/api/v1/payout-batches/{batch.pk}/retry-failed/"


def test_the_operator_retries_the_failed_payments_once_per_request(
    world, stuck, as_user, django_capture_on_commit_callbacks
):
    batch, failed = _settled(stuck, django_capture_on_commit_callbacks)
    operator = as_user(world.operator.manager)
    body = {"reason": "Phone numbers corrected"}
    with django_capture_on_commit_callbacks(execute=True):
        first = operator.post(_retry_url(batch), body, format="json", headers={"Idempotency-Key": "retry-1"})
        again = operator.post(_retry_url(batch), body, format="json", headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert [[f"{line.reference}-R1" for line in failed]] == PAID  # new references: new payments at the provider
    for line in failed:
        line.refresh_from_db()
        assert line.paid_at and line.retries == 1 and line.failed_at is None and _payable(line) == 0
        assert line.status == "paid" and line.payout_transaction.idempotency_key == f"payout:{line.pk}:retry:1"
    retried = AuditEvent.objects.filter(action="payout_line.sent", from_status="failed", actor=world.operator.manager)
    assert retried.count() == len(failed) and {e.reason for e in retried} == {"Phone numbers corrected"}
    other = operator.post(_retry_url(batch), body, format="json", headers={"Idempotency-Key": "retry-2"})
    assert other.status_code == 409 and "no failed payment" in other.json()["error"]["message"]
    assert ledger_problems() == []


def test_a_retried_payment_refused_again_fails_again_and_the_member_is_owed(
    world, settings, stuck, django_capture_on_commit_callbacks
):
    batch, failed = _settled(stuck, django_capture_on_commit_callbacks)
    _provider(settings, "RefusingProvider")
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_lines_retry(actor=world.seller.manager, batch_id=batch.pk, reason="Try again")
    for line in failed:
        line.refresh_from_db()
        assert line.failed_at and "not registered" in line.error and _payable(line) == line.net_amount
    batch.refresh_from_db()
    assert batch.status == "executed"
    assert LedgerTransaction.objects.filter(kind="reversal:payout").count() == 2 * len(failed)
    assert ledger_problems() == []


def test_retrying_is_refused_without_failed_payments_bad_input_and_for_other_people(
    world, stuck, as_user, django_capture_on_commit_callbacks
):
    batch, failed = stuck
    with pytest.raises(Conflict):  # still executing: nothing has failed yet
        services.payout_lines_retry(actor=world.operator.manager, batch_id=batch.pk, reason="x")
    batch, failed = _settled(stuck, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationFailed):
        services.payout_lines_retry(actor=world.operator.manager, batch_id=batch.pk, reason=" ")
    with pytest.raises(PermissionDenied):
        services.payout_lines_retry(actor=world.seller.clerk, batch_id=batch.pk, reason="x")
    for person in (world.buyer.manager, world.supplier.manager):
        with pytest.raises(NotFound):
            services.payout_lines_retry(actor=person, batch_id=batch.pk, reason="x")
        answer = as_user(person).post(
            _retry_url(batch), {"reason": "x"}, format="json", headers={"Idempotency-Key": "k"}
        )
        assert answer.status_code == 404
    operator = as_user(world.operator.manager)
    assert operator.post(_retry_url(batch), {"reason": "x"}, format="json").status_code == 400  # no key
    missing = operator.post(
        "/api/v1/payout-batches/999999/retry-failed/", {"reason": "x"}, format="json", headers={"Idempotency-Key": "m"}
    )
    assert missing.status_code == 404
    for line in failed:
        line.refresh_from_db()
        assert line.failed_at and line.retries == 0


def test_the_cooperative_manager_retries_from_the_batch_page(world, stuck, django_capture_on_commit_callbacks):
    batch, failed = _settled(stuck, django_capture_on_commit_callbacks)
    page, action = f"/payouts/{batch.pk}/", f"/payouts/{batch.pk}/retry-failed/"
    manager = Client()
    manager.force_login(world.seller.manager)
    shown = manager.get(page)
    assert shown.status_code == 200 and b'id="retry-failed"' in shown.content
    assert shown.content.count(b'data-line-state="failed"') == len(failed)
    assert manager.post(action, {"reason": ""}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert manager.post(action, {"reason": "Numbers fixed"}).status_code == 302
    shown = manager.get(page)
    assert b'id="retry-failed"' not in shown.content and b'data-line-state="failed"' not in shown.content
    clerk = Client()
    clerk.force_login(world.seller.clerk)
    assert clerk.post(action, {"reason": "x"}).status_code == 403
    assert PayoutBatch.objects.get(pk=batch.pk).status == "executed"
