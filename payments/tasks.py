"""Celery tasks of payments. Each takes ids, is idempotent, and calls one service (house rule 4)."""

from celery import shared_task

from orders.models import Order, OrderEvent
from payments.services import escrow, events, payments


@shared_task(name="payments.tasks.order_event_received")
def order_event_received(event_id: int) -> str:
    """Follow an order's move: completed or resolved → settle the escrow; cancelled after payment → refund."""
    event = OrderEvent.objects.filter(pk=event_id).values("order_id", "from_status", "to_status").first()
    if event is None:
        return "missing"
    if event["to_status"] in (Order.Status.COMPLETED, Order.Status.RESOLVED):
        return escrow.escrow_settle(actor=None, order_id=event["order_id"])
    if event["to_status"] == Order.Status.CANCELLED and event["from_status"] == Order.Status.PAID:
        return escrow.escrow_refund_cancelled(actor=None, order_id=event["order_id"])
    return "nothing_to_do"


@shared_task(name="payments.tasks.provider_event_process")
def provider_event_process(event_pk: int) -> str:
    return events.provider_event_process(event_pk=event_pk)


# A provider call with no definite answer is retried with the same idempotency key after these pauses
# (seconds), then reconciled against the provider.
RETRY_COUNTDOWNS = (30, 120, 600, 1800, 3600)


def _retry_or_reconcile(task, outcome: str, reconcile) -> str:
    if outcome != "unknown":
        return outcome
    if task.request.is_eager:
        return outcome  # no worker to retry later: the beat sweep (payments_settle_unknown) takes it over
    if task.request.retries < len(RETRY_COUNTDOWNS):
        raise task.retry(countdown=RETRY_COUNTDOWNS[task.request.retries], max_retries=len(RETRY_COUNTDOWNS))
    return reconcile()


@shared_task(bind=True, name="payments.tasks.refund_submit", max_retries=len(RETRY_COUNTDOWNS))
def refund_submit(self, refund_id: int) -> str:
    outcome = payments.refund_submit(refund_id=refund_id)
    return _retry_or_reconcile(self, outcome, lambda: payments.refund_reconcile(refund_id=refund_id))


@shared_task(bind=True, name="payments.tasks.transfer_submit", max_retries=len(RETRY_COUNTDOWNS))
def transfer_submit(self, transfer_id: int) -> str:
    outcome = payments.transfer_submit(transfer_id=transfer_id)
    return _retry_or_reconcile(self, outcome, lambda: payments.transfer_reconcile(transfer_id=transfer_id))


@shared_task(name="payments.tasks.payments_settle_unknown")
def payments_settle_unknown(minutes: int = 120) -> dict[str, int]:
    """Beat: refunds and transfers still without a definite outcome long after their last call are settled by
    asking the provider (reconciliation by our ids)."""
    refunds, transfers = payments.unsettled_after(minutes=minutes)
    for refund_id in refunds:
        payments.refund_reconcile(refund_id=refund_id)
    for transfer_id in transfers:
        payments.transfer_reconcile(transfer_id=transfer_id)
    return {"refunds": len(refunds), "transfers": len(transfers)}


@shared_task(name="payments.tasks.transfers_submit_waiting")
def transfers_submit_waiting(organisation_id: int) -> int:
    return payments.transfers_submit_waiting(organisation_id=organisation_id)


@shared_task(name="payments.tasks.escrow_follow_up")
def escrow_follow_up(order_id: int) -> str:
    return escrow.escrow_follow_up(order_id=order_id)


@shared_task(name="payments.tasks.ledger_verify")
def ledger_verify(full: bool = False) -> int:
    """Nightly: check the ledger's invariants over what changed since the last run (everything when `full`, or
    once a week), store the result for the ledger page, and alert the operator once per run if any fails."""
    from marketplace.core.selectors import full_rescan_due
    from payments.services.alerts import operator_alert
    from payments.services.checks import CHECK_NAME, ledger_check_run

    problems = ledger_check_run(full=full or full_rescan_due(CHECK_NAME))
    if problems:
        shown = "\n".join(problems[:50])
        more = f"\n… and {len(problems) - 50} more." if len(problems) > 50 else ""
        operator_alert(
            kind="ledger_check", message=f"The ledger check found {len(problems)} problem(s):\n{shown}{more}"
        )
    return len(problems)


from payments.input_credit import input_credit_post_task  # noqa: E402, F401  (registers the task)
