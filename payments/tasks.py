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


@shared_task(name="payments.tasks.refund_submit")
def refund_submit(refund_id: int) -> str:
    return payments.refund_submit(refund_id=refund_id)


@shared_task(name="payments.tasks.transfer_submit")
def transfer_submit(transfer_id: int) -> str:
    return payments.transfer_submit(transfer_id=transfer_id)


@shared_task(name="payments.tasks.transfers_submit_waiting")
def transfers_submit_waiting(organisation_id: int) -> int:
    return payments.transfers_submit_waiting(organisation_id=organisation_id)


@shared_task(name="payments.tasks.escrow_follow_up")
def escrow_follow_up(order_id: int) -> str:
    return escrow.escrow_follow_up(order_id=order_id)


@shared_task(name="payments.tasks.ledger_verify")
def ledger_verify() -> int:
    """Nightly: check the ledger's invariants and alert the operator once per run if any fails."""
    from payments.selectors import ledger_problems
    from payments.services.alerts import operator_alert

    problems = ledger_problems()
    if problems:
        shown = "\n".join(problems[:50])
        more = f"\n… and {len(problems) - 50} more." if len(problems) > 50 else ""
        operator_alert(
            kind="ledger_check", message=f"The ledger check found {len(problems)} problem(s):\n{shown}{more}"
        )
    return len(problems)


from payments.input_credit import input_credit_post_task  # noqa: E402, F401  (registers the task)
