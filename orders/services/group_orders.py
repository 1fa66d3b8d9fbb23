"""Group input orders: one per supplier from a closed window's plan, negotiated, paid, dispatched, received
(house rules 1, 3, 4 and 8).

A group order's status changes only in `group_order_transition`, through the shared transition helper and the table
below; who may make each move is checked here (the cooperative's managers, the supplier's managers, the supplier's
clerks for dispatch, or the system). When the terms are agreed an `Order` of kind `group_inputs` is created and
accepted: its payment, dispatch, receipt (short deliveries settle at what arrived) and completion go through
`orders.services.order_transition` like any order, so the payments app holds the cooperative's money in that order's
escrow and releases it to the supplier on receipt, adjusted for what was short. The move to paid is made by the
system when that order is paid (`group_order_follow_order`, subscribed to order events).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.core.transitions import TransitionTable, transition_locked
from marketplace.organisations.models import User
from marketplace.organisations.roles import ROLE_RANK, Capability, Role
from orders.group_models import GroupOrder, GroupOrderLine, GroupOrderRound, MemberRequest, OrderingWindow
from orders.group_selectors import plan_for_window
from orders.models import Order, OrderEvent, OrderLine
from orders.services._common import fail, whole_number
from orders.services.group_windows import WINDOW_TABLE, _window_for, notify_members

G = GroupOrder.Status
W = OrderingWindow.Status
MAX_ROUNDS = 3
COOP, SUPPLIER, SYSTEM = "cooperative", "supplier", "system"

GROUP_ORDER_TABLE = TransitionTable(
    "group_order",
    {
        G.DRAFT: {G.SUBMITTED, G.CANCELLED},
        G.SUBMITTED: {G.ACCEPTED, G.COUNTERED, G.DECLINED, G.EXPIRED, G.CANCELLED},
        # countered -> submitted: the cooperative answers with its own terms (another round)
        G.COUNTERED: {G.ACCEPTED, G.SUBMITTED, G.EXPIRED, G.CANCELLED},
        G.ACCEPTED: {G.PAID, G.CANCELLED},
        G.PAID: {G.DISPATCHED},
        G.DISPATCHED: {G.RECEIVED},
        G.RECEIVED: {G.DISTRIBUTED},
        G.DISTRIBUTED: {G.COMPLETED},
    },
)
# (from, to) -> (side, minimum role); anything else in the table is the system's alone.
WHO: dict[tuple[str, str], tuple[str, str]] = {
    (G.DRAFT, G.SUBMITTED): (COOP, Role.MANAGER),
    (G.DRAFT, G.CANCELLED): (COOP, Role.MANAGER),
    (G.SUBMITTED, G.ACCEPTED): (SUPPLIER, Role.MANAGER),
    (G.SUBMITTED, G.COUNTERED): (SUPPLIER, Role.MANAGER),
    (G.SUBMITTED, G.DECLINED): (SUPPLIER, Role.MANAGER),
    (G.SUBMITTED, G.CANCELLED): (COOP, Role.MANAGER),
    (G.COUNTERED, G.ACCEPTED): (COOP, Role.MANAGER),
    (G.COUNTERED, G.SUBMITTED): (COOP, Role.MANAGER),
    (G.COUNTERED, G.CANCELLED): (COOP, Role.MANAGER),
    (G.ACCEPTED, G.CANCELLED): (COOP, Role.MANAGER),
    (G.PAID, G.DISPATCHED): (SUPPLIER, Role.CLERK),
    (G.DISPATCHED, G.RECEIVED): (COOP, Role.MANAGER),
    (G.RECEIVED, G.DISTRIBUTED): (COOP, Role.CLERK),
    (G.DISTRIBUTED, G.COMPLETED): (COOP, Role.MANAGER),
}
REASON_REQUIRED = frozenset({G.DECLINED, G.CANCELLED})


def response_hours() -> int:
    return getattr(settings, "GROUP_ORDER_RESPONSE_HOURS", 72)


def _sides(actor: User | None, group_order: GroupOrder) -> dict[str, str]:
    if actor is None:
        return {SYSTEM: ""}
    if not actor.is_authenticated:
        return {}
    rows = actor.memberships.filter(organisation_id__in=[group_order.buyer_id, group_order.supplier_id])
    sides = {}
    for organisation_id, role in rows.values_list("organisation_id", "role"):
        sides[COOP if organisation_id == group_order.buyer_id else SUPPLIER] = role
    return sides


def _label(status: str) -> str:
    """A group order status as users read it, in the current language."""
    return G(status).label.lower()


def _authorise(actor: User | None, group_order: GroupOrder, to_status: str) -> str:
    sides = _sides(actor, group_order)
    if not sides:
        raise NotFound(gettext("No such group order."))
    if not GROUP_ORDER_TABLE.allows(group_order.status, to_status):
        allowed = ", ".join(_label(s) for s in GROUP_ORDER_TABLE.next_of(group_order.status)) or gettext(
            "none (it is final)"
        )
        raise InvalidTransition(
            gettext(
                "Group order %(reference)s is %(status)s; it cannot become %(to_status)s. It can become: %(allowed)s."
            )
            % {
                "reference": group_order.reference,
                "status": _label(group_order.status),
                "to_status": _label(to_status),
                "allowed": allowed,
            },
            fields={"status": gettext("Allowed next: %(allowed)s.") % {"allowed": allowed}},
        )
    side, min_role = WHO.get((group_order.status, to_status), (SYSTEM, ""))
    if side == SYSTEM:
        if SYSTEM in sides:
            return SYSTEM
        raise PermissionDenied(
            gettext("Only the system moves a group order from %(status)s to %(to_status)s.")
            % {"status": _label(group_order.status), "to_status": _label(to_status)}
        )
    role = sides.get(side)
    if role is None or ROLE_RANK[role] < ROLE_RANK[min_role]:
        raise PermissionDenied(
            _who_may_move(side, min_role)
            % {
                "reference": group_order.reference,
                "status": G(group_order.status).label,
                "to_status": G(to_status).label,
            }
        )
    return side


def _who_may_move(side: str, min_role: str) -> str:
    """The refusal naming who may make a move: one whole sentence per side and minimum role (manager and above, or
    clerk and above), so each language words it in full."""
    if side == COOP and min_role == Role.MANAGER:
        return gettext(
            'Only the cooperative\'s managers and admins may move group order %(reference)s from "%(status)s" to '
            '"%(to_status)s".'
        )
    if side == COOP:
        return gettext(
            'Only the cooperative\'s clerks, managers and admins may move group order %(reference)s from "%(status)s" '
            'to "%(to_status)s".'
        )
    if min_role == Role.MANAGER:
        return gettext(
            'Only the supplier\'s managers and admins may move group order %(reference)s from "%(status)s" to '
            '"%(to_status)s".'
        )
    return gettext(
        'Only the supplier\'s clerks, managers and admins may move group order %(reference)s from "%(status)s" to '
        '"%(to_status)s".'
    )


def _lock(group_order_id) -> GroupOrder:
    try:
        group_order_id = int(group_order_id)
    except (TypeError, ValueError):
        raise NotFound(gettext("No such group order.")) from None
    group_order = GroupOrder.objects.select_for_update().filter(pk=group_order_id).first()
    if group_order is None:
        raise NotFound(gettext("No such group order."))
    return group_order


# --- From the plan to draft orders --------------------------------------------------------------


@transaction.atomic
def window_place_orders(*, actor: User, window_id) -> list[GroupOrder]:
    """Turn a closed window's plan into one draft group order per supplier and mark the window ordered.

    If a line that members asked for cannot be bought (no offer's minimum order quantity is met, even with the
    tolerance), nothing is ordered: the window is extended or cancelled as chosen when it was opened, nothing is
    posted to the ledger, and every member with a request gets an SMS saying so. Returns the orders created
    (empty in that case)."""
    window = _window_for(actor, window_id, Capability.DECIDE)
    locked = OrderingWindow.objects.select_for_update().get(pk=window.pk)
    if locked.status != W.CLOSED:
        message = gettext("Window %(name)s is %(status)s; orders are placed once it is closed.") % {
            "name": locked.name,
            "status": W(locked.status).label.lower(),
        }
        raise Conflict(message, code="window_not_closed")
    result = plan_for_window(locked)
    asked = [line for line in result.lines if line.quantity > 0]
    if not asked:
        raise Conflict(gettext("No member asked for anything in this window; cancel it instead."), code="nothing_asked")
    if _minimum_not_met(locked, result, actor):
        return []
    by_supplier: dict[int, list] = defaultdict(list)
    for line in asked:
        by_supplier[line.offer.organisation_id].append(line)
    orders = []
    for supplier_id, lines in sorted(by_supplier.items()):
        total = sum(line.rounded.total for line in lines)
        group_order = GroupOrder.objects.create(
            window=locked, buyer_id=locked.organisation_id, supplier_id=supplier_id, currency=locked.currency,
            total_amount=total, created_by=actor,
        )  # fmt: skip
        GroupOrderLine.objects.bulk_create([
            GroupOrderLine(group_order=group_order, product=line.product, offer=line.offer, packs=line.rounded.packs,
                           unit_price_amount=line.rounded.unit_price, line_total_amount=line.rounded.total)
            for line in lines
        ])  # fmt: skip
        audit_record(actor=actor, action="group_order.draft", subject=group_order,
                     organisation_id=locked.organisation_id, to_status=G.DRAFT,
                     data={"window": locked.pk, "supplier": supplier_id, "total": total})  # fmt: skip
        orders.append(group_order)
    transition_locked(obj=locked, table=WINDOW_TABLE, to_status=W.ORDERED, actor=actor,
                      organisation_id=locked.organisation_id,
                      data={"group_orders": [o.pk for o in orders]})  # fmt: skip
    return orders


def _minimum_not_met(locked: OrderingWindow, result, actor: User | None) -> bool:
    """If a line members asked for reaches no offer's minimum order quantity (even with the tolerance), extend
    or cancel the locked, closed window as chosen when it was opened, and tell the members. Nothing is posted."""
    short = [line for line in result.lines if line.quantity > 0 and (line.offer is None or not line.rounded.packs)]
    if not short:
        return False
    names = ", ".join(line.product.name for line in short)
    to_status = W.OPEN if locked.moq_action == OrderingWindow.MoqAction.EXTEND else W.CANCELLED
    transition_locked(obj=locked, table=WINDOW_TABLE, to_status=to_status, actor=actor,
                      reason=f"supplier minimum not met: {names}", organisation_id=locked.organisation_id,
                      data={"minimum_not_met": [line.product.pk for line in short]},
                      apply=_extend if to_status == W.OPEN else None)  # fmt: skip
    notify_members(locked, "extended" if to_status == W.OPEN else "cancelled", names)
    return True


@transaction.atomic
def window_check_minimums(*, window_id: int) -> bool:
    """The system, right after closing a window: apply the minimum rule now (True if extended or cancelled)."""
    locked = OrderingWindow.objects.select_for_update().filter(pk=window_id, status=W.CLOSED).first()
    if locked is None:
        return False
    return _minimum_not_met(locked, plan_for_window(locked), None)


def _extend(window: OrderingWindow) -> dict:
    window.closes_at = max(window.closes_at, timezone.now()) + timedelta(days=window.extend_days)
    return {"extended_to": window.closes_at.isoformat()}


# --- Moves ---------------------------------------------------------------------------------------


def _terms(group_order: GroupOrder, given: Any, *, allow_price: bool) -> dict[int, tuple[int, int]]:
    """{line id: (packs, unit price)} from {line id: {"packs": n, "unit_price": p}}; lines not given keep theirs."""
    lines = {line.pk: line for line in group_order.lines.all()}
    if not isinstance(given, dict) or not given:
        fail({"lines": gettext("Give the changed lines: {line id: {packs, unit_price}}.")})
    errors: dict[str, str] = {}
    terms = {pk: (line.packs, line.unit_price_amount) for pk, line in lines.items()}
    for key, value in given.items():
        try:
            line_id = int(key)
        except (TypeError, ValueError):
            line_id = -1
        field = f"lines.{key}"
        if line_id not in lines or not isinstance(value, dict):
            errors[field] = gettext("No such line in this group order.")
            continue
        packs = whole_number(value.get("packs", lines[line_id].packs), f"{field}.packs", errors)
        price = whole_number(value.get("unit_price", lines[line_id].unit_price_amount), f"{field}.unit_price", errors)
        if packs is not None and packs <= 0:
            errors[f"{field}.packs"] = gettext("At least 1 pack.")
        if price is not None and price <= 0:
            errors[f"{field}.unit_price"] = gettext("The price per pack must be above 0.")
        if not allow_price and price is not None and price != lines[line_id].unit_price_amount:
            errors[f"{field}.unit_price"] = gettext("Only the supplier changes prices.")
        if packs and price:
            terms[line_id] = (packs, price)
    fail(errors)
    if all(terms[pk] == (line.packs, line.unit_price_amount) for pk, line in lines.items()):
        fail({"lines": gettext("These are the current terms; change a quantity or a price.")})
    return terms


def _apply_terms(group_order: GroupOrder, terms: dict[int, tuple[int, int]]) -> int:
    total = 0
    for line in group_order.lines.all():
        packs, price = terms[line.pk]
        line.packs, line.unit_price_amount, line.line_total_amount = packs, price, packs * price
        line.save(update_fields=["packs", "unit_price_amount", "line_total_amount"])
        total += packs * price
    group_order.total_amount = total
    return total


def _round(group_order: GroupOrder, side: str, actor: User, note: str) -> GroupOrderRound:
    terms = {str(line.pk): {"packs": line.packs, "unit_price": line.unit_price_amount}
             for line in group_order.lines.all()}  # fmt: skip
    return GroupOrderRound.objects.create(group_order=group_order, side=side, terms=terms,
                                          total_amount=group_order.total_amount, note=note,
                                          expires_at=group_order.respond_by, proposed_by=actor)  # fmt: skip


def _escrow_order(group_order: GroupOrder, placed_by: User, accepted_by: User) -> Order:
    """The order the cooperative pays into escrow: created with the agreed lines, stock taken, then accepted by the
    supplier (whose acceptance, or counter-offer, the agreed terms are)."""
    from catalogue.services import supplier_offer_take_stock
    from orders.services.notifications import queue_notifications
    from orders.services.transitions import order_transition

    now = timezone.now()
    order = Order.objects.create(
        kind=Order.Kind.GROUP_INPUTS,  # the number comes back from the INSERT (a database default)
        buyer_id=group_order.buyer_id, seller_id=group_order.supplier_id, placed_by=placed_by,
        currency=group_order.currency, total_amount=group_order.total_amount,
        accept_by=now + timedelta(hours=settings.ORDER_ACCEPTANCE_HOURS),
    )  # fmt: skip
    lines = list(group_order.lines.select_related("product").order_by("pk"))
    OrderLine.objects.bulk_create([
        OrderLine(order=order, position=n, offer_id=line.offer_id, description=line.product.name[:200],
                  quantity=line.packs, quantity_unit=OrderLine.QuantityUnit.PACK,
                  unit_price_amount=line.unit_price_amount, price_unit=OrderLine.PriceUnit.PER_PACK,
                  line_total_amount=line.line_total_amount)
        for n, line in enumerate(lines, start=1)
    ])  # fmt: skip
    event = OrderEvent.objects.create(order=order, from_status="", to_status=Order.Status.PLACED, actor=placed_by,
                                      side=OrderEvent.Side.BUYER, role=Role.MANAGER,
                                      details={"group_order": group_order.reference})  # fmt: skip
    audit_record(actor=placed_by, action="order.placed", subject=order, organisation_id=order.buyer_id,
                 to_status=Order.Status.PLACED,
                 data={"number": order.number, "group_order": group_order.reference})  # fmt: skip
    queue_notifications(order=order, event=event)
    for line in sorted(lines, key=lambda line: line.offer_id):
        supplier_offer_take_stock(offer_id=line.offer_id, packs=line.packs, actor=accepted_by, reference=order.number)
    return order_transition(actor=accepted_by, order_id=order.pk, to_status=Order.Status.ACCEPTED,
                            reason=f"group order {group_order.reference}")  # fmt: skip


@transaction.atomic
def group_order_transition(*, actor: User | None, group_order_id, to_status: str, reason: str = "",
                           **details: Any) -> GroupOrder:  # fmt: skip
    """Move a group order. `details` by move: countered / submitted after a counter (lines: {line id: {packs,
    unit_price}}); dispatched (document_number, dispatched_on, vehicle, driver); received (lines: {line id: packs
    received}, received_on, inspection_notes). `actor` None is the system (payments, expiry)."""
    from orders.services.transitions import order_transition

    if to_status not in G.values:
        fail(
            {
                "status": gettext("%(to_status)s is not a group order status; choose one of: %(choices)s.")
                % {"to_status": repr(to_status), "choices": ", ".join(G.values)}
            }
        )
    group_order = _lock(group_order_id)
    side = _authorise(actor, group_order, to_status)
    reason = (reason or "").strip()
    if to_status in REASON_REQUIRED and not reason:
        fail({"reason": gettext("Say why the group order is %(to_status)s.") % {"to_status": _label(to_status)}})
    from_status = group_order.status
    now = timezone.now()
    recorded: dict[str, Any] = {"side": side}

    answering = to_status in (G.ACCEPTED, G.COUNTERED, G.SUBMITTED, G.DECLINED)
    if (
        from_status in (G.SUBMITTED, G.COUNTERED)
        and answering
        and group_order.respond_by
        and now >= group_order.respond_by
    ):
        raise Conflict(
            gettext("The offer expired at %(respond_by)s UTC.")
            % {"respond_by": format(group_order.respond_by, "%Y-%m-%d %H:%M")},
            code="expired",
        )
    if to_status == G.EXPIRED and (group_order.respond_by is None or now < group_order.respond_by):
        raise Conflict(gettext("Group order %(reference)s has not expired yet.") % {"reference": group_order.reference})

    if to_status == G.SUBMITTED and from_status == G.DRAFT:
        from orders.services.guards import guard_check

        guard_check(action="group_order.submit", obj=group_order, actor=actor)
    if to_status == G.SUBMITTED:
        if from_status == G.COUNTERED:
            terms = _terms(group_order, details.pop("lines", None), allow_price=False)
            _apply_terms(group_order, terms)
        group_order.respond_by = now + timedelta(hours=response_hours())
        _round(group_order, GroupOrderRound.Side.COOPERATIVE, actor, reason)
    elif to_status == G.COUNTERED:
        if group_order.rounds >= MAX_ROUNDS:
            raise Conflict(
                gettext("%(max_rounds)s counter-offers were made already; accept or decline.")
                % {"max_rounds": MAX_ROUNDS},
                code="rounds",
            )
        terms = _terms(group_order, details.pop("lines", None), allow_price=True)
        _apply_terms(group_order, terms)
        group_order.rounds += 1
        group_order.respond_by = now + timedelta(hours=response_hours())
        _round(group_order, GroupOrderRound.Side.SUPPLIER, actor, reason)
        recorded["round"] = group_order.rounds
    elif to_status == G.ACCEPTED:
        if from_status == G.COUNTERED:
            counter = group_order.negotiation.filter(side=GroupOrderRound.Side.SUPPLIER).order_by("-pk").first()
            accepted_by = counter.proposed_by
        else:
            accepted_by = actor
        group_order.order = _escrow_order(group_order, group_order.created_by, accepted_by)
        group_order.respond_by = None
        recorded["order"] = group_order.order.number
    elif to_status == G.CANCELLED and group_order.order_id:
        order_transition(actor=actor, order_id=group_order.order_id, to_status=Order.Status.CANCELLED, reason=reason)
    elif to_status == G.PAID:
        recorded["order"] = group_order.order.number if group_order.order_id else ""
    elif to_status == G.DISPATCHED:
        from orders.services.group_trace import shipping_recorded

        order_transition(actor=actor, order_id=group_order.order_id, to_status=Order.Status.DISPATCHED,
                         document_number=details.pop("document_number", ""),
                         dispatched_on=details.pop("dispatched_on", None), vehicle=details.pop("vehicle", ""),
                         driver=details.pop("driver", ""))  # fmt: skip
        sent = {line.offer_id: line.quantity_dispatched or 0 for line in group_order.order.lines.all()}
        dispatched = {line.pk: sent.get(line.offer_id, 0) for line in group_order.lines.all()}
        shipping_recorded(actor=actor, group_order=group_order, dispatched=dispatched)
    elif to_status == G.RECEIVED:
        recorded.update(_receive(actor, group_order, details))
    elif to_status == G.DISTRIBUTED:
        recorded.update(_distribute(group_order))
    elif to_status == G.COMPLETED:
        waiting = group_order.allocations.filter(handed_over_at__isnull=True).count()
        if waiting:
            raise Conflict(
                gettext("%(waiting)s members have not collected their inputs yet.") % {"waiting": waiting},
                code="not_handed_over",
            )
    if details:
        raise ValidationFailed(
            gettext("These details do not apply to moving a group order to %(to_status)s: %(details)s.")
            % {"to_status": _label(to_status), "details": ", ".join(sorted(details))},
            fields=dict.fromkeys(details, gettext("Not used for this move.")),
        )

    def apply(obj: GroupOrder) -> dict:
        obj.status_changed_at = now
        return {}

    transition_locked(obj=group_order, table=GROUP_ORDER_TABLE, to_status=to_status, actor=actor, reason=reason,
                      organisation_id=group_order.supplier_id if side == SUPPLIER else group_order.buyer_id,
                      data={"reference": group_order.reference, "total": group_order.total_amount, **recorded},
                      apply=apply)  # fmt: skip
    return group_order


def _receive(actor: User, group_order: GroupOrder, details: dict) -> dict:
    """What arrived, per line in packs (short allowed): the escrow order is delivered with those quantities (its
    amount due is what arrived at the agreed price) and completed, which releases the escrow to the supplier."""
    from orders.services.transitions import order_transition

    given = details.pop("lines", None)
    lines = list(group_order.lines.order_by("pk"))
    order_lines = {line.offer_id: line for line in group_order.order.lines.all()}
    errors: dict[str, str] = {}
    if not isinstance(given, dict):
        fail({"lines": gettext("Give the packs received for every line: {line id: packs}.")})
    received = {}
    for line in lines:
        field = f"lines.{line.pk}"
        value = given.get(str(line.pk), given.get(line.pk))
        if value is None:
            errors[field] = gettext("Give the packs of %(product)s received.") % {"product": line.product.name}
            continue
        packs = whole_number(value, field, errors)
        if packs is None:
            continue
        dispatched = order_lines[line.offer_id].quantity_dispatched or 0
        if not 0 <= packs <= dispatched:
            errors[field] = ngettext(
                "Between 0 and the %(dispatched)s pack dispatched.",
                "Between 0 and the %(dispatched)s packs dispatched.",
                dispatched,
            ) % {"dispatched": dispatched}
        else:
            received[line.pk] = packs
    fail(errors)
    order_transition(actor=actor, order_id=group_order.order_id, to_status=Order.Status.DELIVERED,
                     received_on=details.pop("received_on", None),
                     inspection_notes=details.pop("inspection_notes", ""),
                     lines={str(order_lines[line.offer_id].pk): received[line.pk] for line in lines})  # fmt: skip
    order_transition(actor=actor, order_id=group_order.order_id, to_status=Order.Status.COMPLETED,
                     reason="received by the cooperative")  # fmt: skip
    for line in lines:
        line.packs_received = received[line.pk]
        line.save(update_fields=["packs_received"])
    from orders.services.group_trace import receiving_recorded

    receiving_recorded(actor=actor, group_order=group_order)
    return {"received": {str(pk): packs for pk, packs in received.items()}}


def group_order_follow_order(*, order_event_id: int) -> str:
    """An order event of the escrow order: when it is paid, the group order is paid (idempotent)."""
    event = OrderEvent.objects.filter(pk=order_event_id).values("order_id", "to_status").first()
    if event is None or event["to_status"] != Order.Status.PAID:
        return "nothing_to_do"
    group_order = GroupOrder.objects.filter(order_id=event["order_id"]).first()
    if group_order is None:
        return "not_a_group_order"
    if group_order.status != G.ACCEPTED:
        return "already"
    group_order_transition(actor=None, group_order_id=group_order.pk, to_status=G.PAID, reason="paid into escrow")
    return "paid"


def group_orders_expire_due(*, now=None) -> int:
    now = now or timezone.now()
    due = GroupOrder.objects.filter(status__in=[G.SUBMITTED, G.COUNTERED], respond_by__lte=now)
    count = 0
    for pk in due.values_list("pk", flat=True):
        group_order_transition(actor=None, group_order_id=pk, to_status=G.EXPIRED, reason="no answer in time")
        count += 1
    return count


def members_with_requests(window_id: int):
    from marketplace.organisations.models import MemberFarmer

    farmer_ids = MemberRequest.objects.filter(window_id=window_id, quantity__gt=0).values("farmer_id")
    return MemberFarmer.objects.filter(pk__in=farmer_ids).exclude(phone="")


# --- Distribution to members ----------------------------------------------------------------------


def _distribute(group_order: GroupOrder) -> dict:
    """Allocate each line's packs received to the window's requests for that product by the window's rule, and
    share the line's cost of what arrived among them (largest remainder)."""
    from orders.group_models import MemberAllocation, RequestChange
    from orders.services.group_allocation import Change, allocate, ask_from_changes, largest_remainder
    from orders.services.group_windows import pack_unit

    window = group_order.window
    created = 0
    for line in group_order.lines.select_related("product__packaging").order_by("pk"):
        requests = list(MemberRequest.objects.filter(window=window, product=line.product).order_by("created_at", "pk"))
        changes = defaultdict(list)
        for change in RequestChange.objects.filter(request__in=requests).order_by("recorded_at", "pk"):
            changes[change.request_id].append(Change(change.recorded_at, change.quantity_delta, change.tolerance_delta))
        asks = [ask_from_changes(r.pk, changes[r.pk]) for r in requests]
        received = (line.packs_received or 0) * pack_unit(line.product)
        result = allocate(received, asks, window.allocation_rule)
        cost = (line.packs_received or 0) * line.unit_price_amount
        quantities = [result.shares[r.pk] for r in requests]
        amounts = largest_remainder(cost, quantities) if sum(quantities) else [0] * len(requests)
        MemberAllocation.objects.bulk_create([
            MemberAllocation(group_order=group_order, line=line, request=r, farmer_id=r.farmer_id, quantity=q,
                             amount=a, on_credit=window.on_credit)
            for r, q, a in zip(requests, quantities, amounts, strict=True) if q > 0
        ])  # fmt: skip
        created += sum(1 for q in quantities if q > 0)
    return {"allocations": created}


@transaction.atomic
def allocation_hand_over(*, actor: User, allocation_id) -> Any:
    """A clerk records that a member collected their inputs: a receipt SMS, an EPCIS event naming the member, and
    (when the window is on credit) the member's input credit posted to the ledger by the payments app."""
    from marketplace.core import outbox
    from marketplace.organisations.roles import role_can
    from orders.group_models import MemberAllocation
    from orders.group_tasks import group_handover_receipt

    try:
        allocation_id = int(allocation_id)
    except (TypeError, ValueError):
        raise NotFound(gettext("No such allocation.")) from None
    allocation = (
        MemberAllocation.objects.select_for_update(of=("self",))
        .select_related("group_order", "farmer", "line__product__packaging")
        .filter(pk=allocation_id)
        .first()
    )
    if allocation is None:
        raise NotFound(gettext("No such allocation."))
    group_order = allocation.group_order
    role = actor.memberships.filter(organisation_id=group_order.buyer_id).values_list("role", flat=True).first()
    if role is None:
        raise NotFound(gettext("No such allocation."))
    if not role_can(role, Capability.RECORD):
        raise PermissionDenied(gettext("Only the cooperative's clerks and managers record a hand-over."))
    if group_order.status != G.DISTRIBUTED:
        raise Conflict(
            gettext("Group order %(reference)s is %(status)s; hand-overs are recorded once it is distributed.")
            % {"reference": group_order.reference, "status": _label(group_order.status)}
        )
    if allocation.handed_over_at is not None:
        message = gettext("%(name)s already collected this (%(receipt_number)s).") % {
            "name": allocation.farmer.name,
            "receipt_number": allocation.receipt_number,
        }
        raise Conflict(message, code="already_handed_over")
    allocation.handed_over_at = timezone.now()
    allocation.handed_over_by = actor
    allocation.save(update_fields=["handed_over_at", "handed_over_by"])
    _trace_hand_over(actor, allocation)
    audit_record(actor=actor, action="member_allocation.handed_over", subject=allocation,
                 organisation_id=group_order.buyer_id,
                 data={"farmer": allocation.farmer_id, "quantity": allocation.quantity, "amount": allocation.amount,
                       "on_credit": allocation.on_credit})  # fmt: skip
    outbox.enqueue(group_handover_receipt, args=[allocation.pk], key=f"handover-receipt:{allocation.pk}")
    if allocation.on_credit and allocation.amount:
        from django.utils.module_loading import import_string

        for path in getattr(settings, "INPUT_CREDIT_SUBSCRIBERS", []):
            outbox.enqueue(import_string(path), args=[allocation.pk], key=f"input-credit:{allocation.pk}:{path}")
    return allocation


def _trace_hand_over(actor: User, allocation) -> None:
    from orders.services.group_trace import hand_over_recorded

    hand_over_recorded(actor=actor, allocation=allocation)
