"""Side effects of payouts and the jobs that follow releases. Tasks take ids, call services and are safe to run
twice.

- payments.payouts.tasks.payout_propose_for_order(order_id): after an order's escrow is released, propose a
  payout batch for it (nothing happens if it is not released yet or already in a batch).
- payments.payouts.tasks.payouts_propose_released(): the sweep for beat, proposing a batch per cooperative for
  every release no batch covers yet.
- payments.payouts.tasks.payout_batch_send(batch_id): pay an executing batch's members through the payout provider.
- payments.payouts.tasks.payouts_settle_executing(): beat, settling payments still without an outcome long after
  they were sent, by asking the provider by our references.
- payments.payouts.tasks.payout_sms_send(line_id): the statement SMS of an executed payout, sent once.
"""

from celery import shared_task


@shared_task
def payout_propose_for_order(order_id: int) -> int | None:
    from payments.payouts.services import payout_batch_propose_for_order

    batch = payout_batch_propose_for_order(order_id=order_id)
    return batch.pk if batch is not None else None


@shared_task
def payouts_propose_released() -> int:
    """Propose one batch per cooperative with released orders that no batch covers; returns how many."""
    from marketplace.core.errors import Conflict, ValidationFailed
    from payments.models import LedgerTransaction
    from payments.payouts.models import PayoutBatchOrder
    from payments.payouts.services import payout_batch_propose

    seller_ids = (
        LedgerTransaction.objects.filter(kind="release", order__isnull=False, reversed_by__isnull=True)
        .exclude(order_id__in=PayoutBatchOrder.objects.filter(active=True).values("order_id"))
        .values_list("order__seller_id", flat=True)
        .distinct()
    )
    proposed = 0
    for seller_id in sorted(set(seller_ids)):
        try:
            payout_batch_propose(actor=None, organisation_id=seller_id)
            proposed += 1
        except (ValidationFailed, Conflict):
            continue
    return proposed


# Pauses (seconds) before asking the payout provider again when it gave no definite answer.
SEND_RETRY_COUNTDOWNS = (30, 120, 600, 1800, 3600)


@shared_task(bind=True, max_retries=len(SEND_RETRY_COUNTDOWNS))
def payout_batch_send(self, batch_id: int) -> str:
    """Pay an executing batch's members (the provider is called with no lock held). With no definite answer the
    call is retried with the same references (the provider's idempotency keys); after the last retry the
    operator is told and the batch stays "executing" until they settle it with the provider."""
    from payments.payouts.services import payout_batch_send as send
    from payments.services.alerts import operator_alert

    outcome = send(batch_id=batch_id)
    if outcome != "unknown" or self.request.is_eager:
        return outcome
    if self.request.retries < len(SEND_RETRY_COUNTDOWNS):
        raise self.retry(countdown=SEND_RETRY_COUNTDOWNS[self.request.retries])
    operator_alert(
        kind="payout_unknown",
        message=f"The payout provider gave no definite answer for payout batch {batch_id} after "
        f"{len(SEND_RETRY_COUNTDOWNS) + 1} calls; it is settled with the provider by our references (beat "
        "payouts_settle_executing).",
    )
    return outcome


@shared_task
def payouts_settle_executing(minutes: int | None = None) -> dict[str, int]:
    """Beat: batches (executing, or executed with retried payments) whose payments are still without an outcome
    PAYOUT_SETTLE_AFTER_MINUTES after they were sent are settled by asking the provider by our references."""
    from django.conf import settings

    from payments.payouts.services import payout_batch_settle, payouts_settle_due

    due = payouts_settle_due(minutes=settings.PAYOUT_SETTLE_AFTER_MINUTES if minutes is None else minutes)
    outcomes: dict[str, int] = {}
    for batch_id in due:
        outcome = payout_batch_settle(batch_id=batch_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def payout_sms_send(self, line_id: int) -> str | None:
    from payments.payouts.services import payout_sms_send as send

    record = send(line_id=line_id)
    return record.outcome if record is not None else None
