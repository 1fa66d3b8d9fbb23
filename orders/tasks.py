"""Side effects of orders, scheduled on commit, and the periodic jobs. Tasks take ids, call services and are
safe to run twice.

Beat schedule (settings.CELERY_BEAT_SCHEDULE):
    orders.tasks.expire_unaccepted_orders              e.g. every 15 minutes
    orders.tasks.complete_orders_past_dispute_window   e.g. every 15 minutes
"""

from celery import shared_task


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def send_order_notifications(self, event_id: int) -> int:
    """Email and SMS both sides about one order event; a second run sends nothing."""
    from orders.services import notifications_send_for_event

    return notifications_send_for_event(event_id=event_id)


@shared_task
def expire_unaccepted_orders() -> int:
    """Orders the seller did not accept within ORDER_ACCEPTANCE_HOURS expire; their stock is released."""
    from orders.services import orders_expire_due

    return orders_expire_due()


@shared_task
def complete_orders_past_dispute_window() -> int:
    """Delivered orders whose dispute window has passed without a dispute are completed."""
    from orders.services import orders_complete_due

    return orders_complete_due()


from orders.group_tasks import (  # noqa: E402, F401
    group_handover_receipt,
    group_order_follow_order,
    group_orders_expire_due,
    group_window_notify,
    group_windows_close_due,
)
