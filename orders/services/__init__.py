"""Writes for orders (house rule 1). An order's status changes only in `order_transition`."""

from orders.services.notifications import notification_send, notifications_send_for_event
from orders.services.periodic import orders_complete_due, orders_expire_due
from orders.services.placement import LineInput, purchase_place
from orders.services.transitions import (
    REASON_REQUIRED,
    TERMINAL,
    TRANSITIONS,
    Rule,
    allowed_moves,
    moves_for,
    order_mark_paid,
    order_transition,
)

__all__ = [
    "REASON_REQUIRED",
    "TERMINAL",
    "TRANSITIONS",
    "LineInput",
    "Rule",
    "allowed_moves",
    "moves_for",
    "notification_send",
    "notifications_send_for_event",
    "order_mark_paid",
    "order_transition",
    "orders_complete_due",
    "orders_expire_due",
    "purchase_place",
]
