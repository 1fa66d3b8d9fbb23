"""The periodic jobs behind the beat tasks: each order moves in its own transaction through order_transition."""

from django.conf import settings
from django.utils import timezone

from marketplace.core.errors import Conflict
from orders.models import Order
from orders.services.transitions import order_transition

BATCH = 500


def orders_expire_due() -> int:
    """Expire the placed orders whose acceptance deadline has passed; returns how many expired."""
    due = Order.objects.filter(status=Order.Status.PLACED, accept_by__lte=timezone.now()).order_by("accept_by")
    count = 0
    for order_id in list(due.values_list("pk", flat=True)[:BATCH]):
        try:
            order_transition(
                actor=None,
                order_id=order_id,
                to_status=Order.Status.EXPIRED,
                reason=f"Not accepted within {settings.ORDER_ACCEPTANCE_HOURS} hours.",
            )
            count += 1
        except Conflict:  # accepted, rejected or cancelled in the meantime
            continue
    return count


def orders_complete_due() -> int:
    """Complete the delivered orders whose dispute window has passed; returns how many completed."""
    due = Order.objects.filter(status=Order.Status.DELIVERED, dispute_until__lte=timezone.now()).order_by(
        "dispute_until"
    )
    count = 0
    for order_id in list(due.values_list("pk", flat=True)[:BATCH]):
        try:
            order_transition(
                actor=None,
                order_id=order_id,
                to_status=Order.Status.COMPLETED,
                reason=f"No dispute within {settings.ORDER_DISPUTE_WINDOW_HOURS} hours of receipt.",
            )
            count += 1
        except Conflict:  # disputed or completed in the meantime
            continue
    return count
