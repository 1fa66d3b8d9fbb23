"""The one place where an order's status changes (house rule 3).

`order_transition` locks the order, checks the transition table below (which side, and which minimum role on
that side, may make each move), applies the move's effects (stock, dispatch, receipt, dispute, ...), saves the
status, writes an `OrderEvent` and an audit record, and queues the notifications, sent on commit. A database
trigger refuses any other change of `Order.status` (migration 0002).
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from marketplace.core import outbox
from marketplace.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.organisations.models import User
from marketplace.organisations.roles import ROLE_RANK, Role
from orders.models import Order, OrderEvent
from orders.services import effects
from orders.services._common import BUYER, OPERATOR, SELLER, SYSTEM, Acting, actor_sides, fail
from orders.services.guards import guard_check
from orders.services.notifications import queue_notifications

S = Order.Status


@dataclass(frozen=True)
class Rule:
    """`side` may make the move with at least `min_role` there (the system has no role)."""

    side: str
    min_role: str = ""

    def allows(self, acting: Acting) -> bool:
        if acting.side != self.side:
            return False
        return self.side == SYSTEM or ROLE_RANK[acting.role] >= ROLE_RANK[self.min_role]

    def __str__(self) -> str:
        """Who may make the move, in the current language (a whole phrase per side and minimum role)."""
        if self.side == SYSTEM:
            return gettext("the system")
        phrases = {
            (BUYER, Role.CLERK): gettext("the buyer's clerks and above"),
            (BUYER, Role.MANAGER): gettext("the buyer's managers and above"),
            (SELLER, Role.CLERK): gettext("the seller's clerks and above"),
            (SELLER, Role.MANAGER): gettext("the seller's managers and above"),
            (OPERATOR, Role.CLERK): gettext("the operator's clerks and above"),
            (OPERATOR, Role.MANAGER): gettext("the operator's managers and above"),
        }
        return phrases[(self.side, self.min_role)]


def _label(status: str) -> str:
    """An order status as users read it, in the current language ("paid", "payé", "imelipwa")."""
    return S(status).label.lower()


# (from, to) -> who may make the move. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], tuple[Rule, ...]] = {
    (S.PLACED, S.ACCEPTED): (Rule(SELLER, Role.MANAGER),),
    (S.PLACED, S.REJECTED): (Rule(SELLER, Role.MANAGER),),
    (S.PLACED, S.CANCELLED): (Rule(BUYER, Role.MANAGER),),
    (S.PLACED, S.EXPIRED): (Rule(SYSTEM),),
    # Paid: the payments app (the system), or until it lands an operator marking a payment received.
    (S.ACCEPTED, S.PAID): (Rule(OPERATOR, Role.MANAGER), Rule(SYSTEM)),
    # Before payment either side may cancel; after it only the seller (cannot deliver) or the operator.
    (S.ACCEPTED, S.CANCELLED): (Rule(BUYER, Role.MANAGER), Rule(SELLER, Role.MANAGER)),
    (S.PAID, S.CANCELLED): (Rule(SELLER, Role.MANAGER), Rule(OPERATOR, Role.MANAGER)),
    (S.PAID, S.DISPATCHED): (Rule(SELLER, Role.CLERK),),
    (S.DISPATCHED, S.DELIVERED): (Rule(BUYER, Role.CLERK),),
    (S.DELIVERED, S.DISPUTED): (Rule(BUYER, Role.MANAGER),),
    # Completed: by the beat task once the dispute window has passed, or earlier by the buyer waiving it.
    (S.DELIVERED, S.COMPLETED): (Rule(BUYER, Role.MANAGER), Rule(SYSTEM)),
    (S.DISPUTED, S.RESOLVED): (Rule(OPERATOR, Role.MANAGER),),
}
REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED, S.DISPUTED, S.RESOLVED})
TERMINAL = frozenset({S.REJECTED, S.EXPIRED, S.CANCELLED, S.RESOLVED, S.COMPLETED})


def allowed_moves(from_status: str) -> list[str]:
    return [to for (source, to) in TRANSITIONS if source == from_status]


def moves_for(order: Order, sides: dict[str, Acting]) -> list[str]:
    """The moves these sides may make on the order now (for pages and the API)."""
    return [
        to
        for (source, to), rules in TRANSITIONS.items()
        if source == order.status and any(rule.allows(acting) for rule in rules for acting in sides.values())
    ]


def _lock(order_id: int | str) -> Order:
    try:
        order_id = int(order_id)
    except (TypeError, ValueError):
        raise NotFound(gettext("No such order.")) from None
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound(gettext("No such order."))
    return order


def _allow_status_change(order: Order) -> None:
    """Tell the trigger that this transaction may move this order (transaction-local setting)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('coopmarket.order_transition', %s, true)", [str(order.pk)])


def _authorise(order: Order, actor: User | None, to_status: str) -> Acting:
    sides = actor_sides(actor, buyer_id=order.buyer_id, seller_id=order.seller_id)
    if not sides:
        raise NotFound(gettext("No such order."))
    rules = TRANSITIONS.get((order.status, to_status))
    if rules is None:
        moves = ", ".join(_label(move) for move in allowed_moves(order.status)) or gettext("none (it is final)")
        raise InvalidTransition(
            gettext(
                "Order %(number)s is %(status)s; it cannot become %(to_status)s. From "
                "%(status2)s it can become: %(moves)s."
            )
            % {
                "number": order.number,
                "status": _label(order.status),
                "to_status": _label(to_status),
                "status2": _label(order.status),
                "moves": moves,
            },
            fields={"status": gettext("Allowed next: %(moves)s.") % {"moves": moves}},
        )
    for rule in rules:
        for acting in sides.values():
            if rule.allows(acting):
                return acting
    who = str(rules[0])
    for rule in rules[1:]:
        who = gettext("%(first)s or %(second)s") % {"first": who, "second": rule}
    raise PermissionDenied(
        gettext("Only %(who)s may move order %(number)s from %(status)s to %(to_status)s.")
        % {"who": who, "number": order.number, "status": _label(order.status), "to_status": _label(to_status)}
    )


@transaction.atomic
def order_transition(*, actor: User | None, order_id: int, to_status: str, reason: str = "", **details: Any) -> Order:
    """Move an order to `to_status`. `actor` None is the system (beat tasks, payments).

    `details` depend on the move: accepted (grade_prices), paid (payment_reference), dispatched (dispatched_on,
    document_number, vehicle, driver, quantities), delivered (received_on, lines, inspection_notes), disputed
    (evidence), resolved (decision, refund_amount).
    """
    if to_status not in S.values:
        fail(
            {
                "status": gettext("%(to_status)s is not an order status; choose one of: %(choices)s.")
                % {"to_status": repr(to_status), "choices": ", ".join(S.values)}
            }
        )
    order = _lock(order_id)
    acting = _authorise(order, actor, to_status)
    reason = (reason or "").strip()
    if to_status in REASON_REQUIRED and not reason:
        fail({"reason": gettext("Say why the order is %(to_status)s.") % {"to_status": _label(to_status)}})
    from_status = order.status
    if to_status == S.ACCEPTED:
        guard_check(action="order.accept", obj=order, actor=actor)
    effect = effects.EFFECTS.get(to_status)
    recorded = effect(order=order, actor=actor, acting=acting, from_status=from_status, reason=reason, details=details)
    if details:
        raise ValidationFailed(
            gettext("These details do not apply to moving an order to %(to_status)s: %(details)s.")
            % {"to_status": _label(to_status), "details": ", ".join(sorted(details))},
            fields=dict.fromkeys(details, gettext("Not used for this move.")),
        )
    _allow_status_change(order)
    order.status = to_status
    order.status_changed_at = timezone.now()
    order.save()
    event = OrderEvent.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        side=acting.side,
        role=acting.role,
        reason=reason,
        details=recorded or {},
    )
    audit_record(
        actor=actor,
        action=f"order.{to_status}",
        subject=order,
        organisation_id=acting.organisation_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data={"number": order.number, "side": acting.side, "role": acting.role, **(recorded or {})},
    )
    queue_notifications(order=order, event=event)
    _publish_on_commit(event)
    return order


def _publish_on_commit(event: OrderEvent) -> None:
    """Put the tasks that follow order events in higher layers (settings.ORDER_EVENT_SUBSCRIBERS) in the outbox.

    Orders never imports payments: the project's settings name the tasks by dotted path, imported here; each takes
    the event id and must be idempotent.
    """
    for path in settings.ORDER_EVENT_SUBSCRIBERS:
        outbox.enqueue(import_string(path), args=[event.pk], key=f"order-event:{event.pk}:{path}")


def order_mark_paid(*, actor: User | None, order_id: int, payment_reference: str) -> Order:
    """The payments app (actor None or its acting user) or an operator records that the buyer paid into escrow.
    Repeating the call with the same payment reference returns the order unchanged."""
    payment_reference = (payment_reference or "").strip()
    with transaction.atomic():
        current = Order.objects.filter(pk=order_id).values("status", "payment_reference").first()
        if (
            current
            and payment_reference
            and current["status"] != S.ACCEPTED
            and current["payment_reference"] == payment_reference
        ):
            order = _lock(order_id)
            if actor is not None and not actor_sides(actor, buyer_id=order.buyer_id, seller_id=order.seller_id):
                raise NotFound(gettext("No such order."))
            return order
        return order_transition(
            actor=actor,
            order_id=order_id,
            to_status=S.PAID,
            reason=f"payment {payment_reference}" if payment_reference else "",
            payment_reference=payment_reference,
        )
