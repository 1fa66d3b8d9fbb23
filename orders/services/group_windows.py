"""Ordering windows and member farmers' input requests (house rules 1, 3 and 8).

A window's status changes only in `window_transition`, through the shared transition helper and the table
below. A request is changed only by `request_change`, which records a timestamped `RequestChange` and updates the
request's totals in the same transaction:

- the window row is read under FOR SHARE, so closing the window (which locks it FOR UPDATE) waits for the
  changes in flight and every later change sees it closed (409);
- the window's product row is locked FOR UPDATE, so changes of one product are serialised: nothing is lost
  when many clerks record at once, and the box-fill check sees the true group total.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import InputProduct, SupplierOffer
from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.transitions import TransitionTable, transition
from marketplace.organisations.models import MemberFarmer, Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from orders.group_models import MemberRequest, OrderingWindow, RequestChange, WindowProduct
from orders.services._common import fail
from orders.services.group_rounding import packs_for

W = OrderingWindow.Status

WINDOW_TABLE = TransitionTable(
    "ordering_window",
    {
        W.DRAFT: {W.OPEN, W.CANCELLED},
        W.OPEN: {W.CLOSED, W.CANCELLED},
        # closed -> open: extended (a supplier minimum was not met, or the manager reopens it)
        W.CLOSED: {W.OPEN, W.ORDERED, W.CANCELLED},
        W.ORDERED: {W.COMPLETED},
    },
)
REASON_REQUIRED = frozenset({W.CANCELLED})


def pack_unit(product: InputProduct) -> int:
    """One pack's content in the product's base unit (grams, millilitres or pieces)."""
    packaging = product.packaging
    return packaging.net_mass_grams or packaging.net_volume_ml or packaging.unit_count or 1


def _coop(actor: User, organisation_id: int, capability: Capability) -> Organisation:
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=capability)
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise NotFound(gettext("No such cooperative."))
    return organisation


PHONE_CHANNELS = frozenset({RequestChange.Channel.SMS, RequestChange.Channel.USSD})


def _window_of_member(window_id, farmer_id) -> OrderingWindow:
    """The window, if it is one of the member farmer's cooperative (a foreign window is simply not found)."""
    organisation_id = MemberFarmer.objects.filter(pk=farmer_id).values_list("organisation_id", flat=True).first()
    window = OrderingWindow.objects.filter(pk=window_id, organisation_id=organisation_id).first()
    if organisation_id is None or window is None:
        raise NotFound(gettext("No such ordering window."))
    return window


def _window_for(actor: User, window_id, capability: Capability) -> OrderingWindow:
    try:
        window_id = int(window_id)
    except (TypeError, ValueError):
        raise NotFound(gettext("No such ordering window.")) from None
    window = OrderingWindow.objects.filter(pk=window_id).first()
    if window is None:
        raise NotFound(gettext("No such ordering window."))
    _coop(actor, window.organisation_id, capability)
    return window


@transaction.atomic
def window_create(
    *,
    actor: User,
    organisation_id: int,
    name: str,
    opens_at: datetime,
    closes_at: datetime,
    product_ids: list[int],
    box_fill_at: datetime | None = None,
    allocation_rule: str = OrderingWindow.Allocation.FIRST_COME,
    on_credit: bool = False,
    moq_action: str = OrderingWindow.MoqAction.EXTEND,
    extend_days: int = 7,
) -> OrderingWindow:
    organisation = _coop(actor, organisation_id, Capability.DECIDE)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = gettext("Give the window a name, e.g. the season.")
    if opens_at is None or closes_at is None:
        errors["closes_at" if opens_at else "opens_at"] = gettext("Give the opening and closing times.")
    elif closes_at <= opens_at:
        errors["closes_at"] = gettext("The window must close after it opens.")
    if box_fill_at and opens_at and closes_at and not (opens_at <= box_fill_at <= closes_at):
        errors["box_fill_at"] = gettext("The box-fill time must be between opening and closing.")
    if allocation_rule not in OrderingWindow.Allocation.values:
        errors["allocation_rule"] = gettext("Choose one of: %(choices)s.") % {
            "choices": ", ".join(OrderingWindow.Allocation.values)
        }
    if moq_action not in OrderingWindow.MoqAction.values:
        errors["moq_action"] = gettext("Choose one of: %(choices)s.") % {
            "choices": ", ".join(OrderingWindow.MoqAction.values)
        }
    if not isinstance(extend_days, int) or not 1 <= extend_days <= 90:
        errors["extend_days"] = gettext("Extend by 1 to 90 days.")
    ids = sorted({int(p) for p in product_ids or []})
    products = list(InputProduct.objects.filter(pk__in=ids))
    if not ids:
        errors["products"] = gettext("Choose at least one input product.")
    elif len(products) != len(ids):
        missing = sorted(set(ids) - {p.pk for p in products})
        errors["products"] = gettext("No such input product: %(missing)s.") % {"missing": ", ".join(map(str, missing))}
    fail(errors)
    window = OrderingWindow.objects.create(
        organisation=organisation, name=name, currency=organisation.currency, opens_at=opens_at,
        closes_at=closes_at, box_fill_at=box_fill_at, allocation_rule=allocation_rule, on_credit=on_credit,
        moq_action=moq_action, extend_days=extend_days, created_by=actor,
    )  # fmt: skip
    WindowProduct.objects.bulk_create([WindowProduct(window=window, product=p) for p in products])
    from marketplace.core.services import audit_record

    audit_record(actor=actor, action="ordering_window.created", subject=window, organisation_id=organisation.pk,
                 to_status=window.status, data={"products": ids, "name": name})  # fmt: skip
    return window


def window_transition(*, actor: User | None, window_id, to_status: str, reason: str = "") -> OrderingWindow:
    """Move a window. `actor` None is the system (the beat task closing windows that are due)."""
    if to_status not in W.values:
        fail(
            {
                "status": gettext("%(to_status)s is not a window status; choose one of: %(choices)s.")
                % {"to_status": repr(to_status), "choices": ", ".join(W.values)}
            }
        )
    window = (
        _window_for(actor, window_id, Capability.DECIDE)
        if actor is not None
        else OrderingWindow.objects.filter(pk=window_id).first()
    )
    if window is None:
        raise NotFound(gettext("No such ordering window."))
    reason = (reason or "").strip()
    if to_status in REASON_REQUIRED and not reason:
        fail({"reason": gettext("Say why the window is cancelled.")})

    def apply(locked: OrderingWindow) -> dict:
        now = timezone.now()
        if to_status == W.OPEN and locked.status == W.CLOSED:
            locked.closes_at = max(locked.closes_at, now) + timedelta(days=locked.extend_days)
            if locked.box_fill_at is not None and locked.box_fill_at > locked.closes_at:
                locked.box_fill_at = locked.closes_at
            return {"extended_to": locked.closes_at.isoformat()}
        if to_status == W.OPEN and locked.opens_at > now:
            locked.opens_at = now
        if to_status == W.CLOSED and locked.closes_at > now:
            locked.closes_at = now
            if locked.box_fill_at is not None and locked.box_fill_at > now:
                locked.box_fill_at = now
        return {}

    with transaction.atomic():
        moved = transition(model=OrderingWindow, pk=window.pk, table=WINDOW_TABLE, to_status=to_status, actor=actor,
                           reason=reason, organisation_id=window.organisation_id, data={"name": window.name},
                           apply=apply)  # fmt: skip
        if to_status == W.OPEN:
            notify_members(moved, "opened")
    return moved


def notify_members(window: OrderingWindow, what: str, products: str = "") -> None:
    """SMS the members (on commit): opened, closing, extended, cancelled."""
    from marketplace.core import outbox
    from orders.group_tasks import group_window_notify

    key = f"window-notify:{window.pk}:closing" if what == "closing" else None
    outbox.enqueue(group_window_notify, args=[window.pk, what, products], key=key)


def windows_remind_due(*, now: datetime | None = None) -> int:
    """Two days before an open window closes, remind the members (once per window)."""
    now = now or timezone.now()
    count = 0
    due = OrderingWindow.objects.filter(status=W.OPEN, reminded_at__isnull=True,
                                        closes_at__lte=now + timedelta(days=2), closes_at__gt=now)  # fmt: skip
    for window_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            if OrderingWindow.objects.filter(pk=window_id, reminded_at__isnull=True).update(reminded_at=now):
                notify_members(OrderingWindow.objects.get(pk=window_id), "closing")
                count += 1
    return count


def _whole(value, field: str, errors: dict[str, str]) -> int:
    if isinstance(value, bool):
        errors[field] = gettext("%(value)s is not a whole number.") % {"value": repr(value)}
        return 0
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        errors[field] = gettext("%(value)s is not a whole number.") % {"value": repr(value)}
        return 0


@transaction.atomic
def request_change(
    *,
    actor: User | None,
    window_id,
    product_id,
    quantity_delta: int = 0,
    tolerance_delta: int = 0,
    farmer_id: int | None = None,
    member_number: str = "",
    channel: str = RequestChange.Channel.CLERK,
) -> MemberRequest:
    """Add (> 0) or remove (< 0) quantity and tolerance of a member's request, in the product's base unit.

    `actor` None is the member on their own phone (the farmers' channel identified them by number): then `farmer_id`
    and a phone channel (SMS or USSD) are required, and the window must be one of the member's cooperative."""
    if actor is None:
        if channel not in PHONE_CHANNELS or not farmer_id:
            raise PermissionDenied(gettext("Only a member on their own phone records a request without a user."))
        window = _window_of_member(window_id, farmer_id)
    else:
        window = _window_for(actor, window_id, Capability.RECORD)
    errors: dict[str, str] = {}
    q_delta = _whole(quantity_delta, "quantity_delta", errors)
    t_delta = _whole(tolerance_delta, "tolerance_delta", errors)
    if not errors and q_delta == 0 and t_delta == 0:
        errors["quantity_delta"] = gettext("Give a quantity or a tolerance to add (positive) or remove (negative).")
    if channel not in RequestChange.Channel.values:
        errors["channel"] = gettext("Choose one of: %(choices)s.") % {
            "choices": ", ".join(RequestChange.Channel.values)
        }
    farmers = MemberFarmer.objects.filter(organisation_id=window.organisation_id)
    if farmer_id:
        farmer = farmers.filter(pk=farmer_id).first() if str(farmer_id).isdigit() else None
    else:
        farmer = farmers.filter(member_number=(member_number or "").strip()).first()
    if farmer is None:
        errors["member_number" if not farmer_id else "farmer"] = gettext(
            "No member of this cooperative has that number."
        )
    elif farmer.status != MemberFarmer.Status.ACTIVE:
        errors["member_number"] = gettext("Member %(member_number)s is not active.") % {
            "member_number": farmer.member_number
        }
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        product_id = 0
    line = (
        WindowProduct.objects.select_related("product__packaging")
        .filter(window_id=window.pk, product_id=product_id)
        .first()
    )
    if line is None:
        errors["product"] = gettext("This window does not collect that product.")
    fail(errors)

    # Closing takes FOR UPDATE on the window: this share lock makes it wait for us, and us see it closed.
    share = "SELECT * FROM orders_orderingwindow WHERE id = %s FOR SHARE"
    locked = next(iter(OrderingWindow.objects.raw(share, [window.pk])))
    now = timezone.now()
    if not locked.accepts_requests(now):
        if locked.status == W.OPEN and now < locked.opens_at:
            message = gettext("Window %(name)s opens at %(opens_at)s; no requests before.") % {
                "name": locked.name,
                "opens_at": format(locked.opens_at, "%Y-%m-%d %H:%M"),
            }
            raise Conflict(message, code="window_not_open")
        raise Conflict(
            gettext("Window %(name)s is closed (it closed at %(closes_at)s); no more requests can be recorded.")
            % {"name": locked.name, "closes_at": format(locked.closes_at, "%Y-%m-%d %H:%M")},
            code="window_closed",
        )
    WindowProduct.objects.select_for_update().filter(pk=line.pk).get()
    MemberRequest.objects.bulk_create(
        [MemberRequest(window_id=window.pk, farmer=farmer, product_id=product_id, created_at=now, updated_at=now)],
        ignore_conflicts=True,
    )
    request = MemberRequest.objects.select_for_update().get(window_id=window.pk, farmer=farmer, product_id=product_id)
    new_q, new_t = request.quantity + q_delta, request.tolerance + t_delta
    if new_q < 0:
        errors["quantity_delta"] = gettext("The member asked for %(quantity)s; no more than that can be removed.") % {
            "quantity": request.quantity
        }
    if new_t < 0:
        errors["tolerance_delta"] = gettext(
            "The member's tolerance is %(tolerance)s; no more than that can be removed."
        ) % {"tolerance": request.tolerance}
    fail(errors)
    if locked.box_filling(now) and (q_delta < 0 or t_delta < 0):
        totals = MemberRequest.objects.filter(window_id=window.pk, product_id=product_id).aggregate(
            q=Sum("quantity"), t=Sum("tolerance")
        )
        unit = pack_unit(line.product)
        before = packs_for(totals["q"] or 0, totals["t"] or 0, unit)
        after = packs_for((totals["q"] or 0) + q_delta, (totals["t"] or 0) + t_delta, unit)
        if after < before:
            raise Conflict(
                gettext(
                    "Box-fill started at %(box_fill_at)s: this change would leave "
                    "%(after)s filled packs instead of %(before)s. Only changes that keep "
                    "every filled pack are allowed now."
                )
                % {"box_fill_at": format(locked.box_fill_at, "%Y-%m-%d %H:%M"), "after": after, "before": before},
                code="box_fill",
            )
    request.quantity, request.tolerance, request.updated_at = new_q, new_t, now
    request.save(update_fields=["quantity", "tolerance", "updated_at"])
    RequestChange.objects.create(request=request, quantity_delta=q_delta, tolerance_delta=t_delta, channel=channel,
                                 recorded_by=actor, recorded_at=now)  # fmt: skip
    return request


@transaction.atomic
def window_offer_choose(*, actor: User, window_id, product_id, offer_id: int | None) -> WindowProduct:
    """The manager's override of the plan for one line (None: back to the plan's choice)."""
    window = _window_for(actor, window_id, Capability.DECIDE)
    if window.status not in (W.DRAFT, W.OPEN, W.CLOSED):
        raise Conflict(gettext("The group orders are placed; the plan can no longer change."), code="window_ordered")
    line = WindowProduct.objects.select_for_update().filter(window_id=window.pk, product_id=product_id).first()
    if line is None:
        raise NotFound(gettext("This window does not collect that product."))
    if offer_id:
        offer = SupplierOffer.objects.filter(
            pk=offer_id, product_id=line.product_id, status=SupplierOffer.Status.ACTIVE, currency=window.currency
        ).first()
        if offer is None:
            raise ValidationFailed(
                gettext("Choose an active offer of this product in the window's currency."),
                fields={"offer": gettext("No such offer for this product.")},
            )
    line.chosen_offer_id = offer_id or None
    line.save(update_fields=["chosen_offer"])
    from marketplace.core.services import audit_record

    audit_record(actor=actor, action="ordering_window.offer_chosen", subject=window,
                 organisation_id=window.organisation_id,
                 data={"product": line.product_id, "offer": line.chosen_offer_id})  # fmt: skip
    return line


def windows_close_due(*, now: datetime | None = None) -> int:
    """Close every open window whose closing time has passed (the beat task); returns how many."""
    now = now or timezone.now()
    closed = 0
    from orders.services.group_orders import window_check_minimums

    for window_id in OrderingWindow.objects.filter(status=W.OPEN, closes_at__lte=now).values_list("pk", flat=True):
        window_transition(actor=None, window_id=window_id, to_status=W.CLOSED, reason="closing time")
        window_check_minimums(window_id=window_id)
        closed += 1
    return closed
