"""Reads for ordering windows and member requests; every read takes the viewer (house rule 2).

A window, its requests and its plan are visible to the members of the cooperative that runs it, nobody else
(404 for everyone else, whatever the id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q, Sum
from django.utils.translation import gettext

from catalogue.models import OfferRegion, PriceTier, SupplierOffer
from marketplace.core.errors import NotFound
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from orders.group_models import MemberRequest, OrderingWindow, RequestChange, WindowProduct
from orders.services.group_plan import Need, OfferInput, Plan, plan_exact, plan_single_supplier
from orders.services.group_rounding import RoundedLine, rounded_line
from orders.services.group_windows import pack_unit


def _coop(viewer: User, organisation_id, capability: Capability = Capability.VIEW) -> Organisation:
    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=capability)
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise NotFound(gettext("No such cooperative."))
    return organisation


def window_list(*, viewer: User, organisation_id) -> list[OrderingWindow]:
    organisation = _coop(viewer, organisation_id)
    return list(
        OrderingWindow.objects.filter(organisation=organisation).annotate(
            request_count=Count("requests", filter=Q(requests__quantity__gt=0)),
            member_count=Count("requests__farmer", filter=Q(requests__quantity__gt=0), distinct=True),
        )
    )


def window_get(*, viewer: User, window_id) -> OrderingWindow:
    try:
        window_id = int(window_id)
    except (TypeError, ValueError):
        raise NotFound(gettext("No such ordering window.")) from None
    window = OrderingWindow.objects.select_related("organisation").filter(pk=window_id).first()
    if window is None or not viewer.is_authenticated:
        raise NotFound(gettext("No such ordering window."))
    _coop(viewer, window.organisation_id)
    return window


def request_list(*, viewer: User, window_id) -> list[MemberRequest]:
    window = window_get(viewer=viewer, window_id=window_id)
    return list(
        MemberRequest.objects.filter(window=window)
        .select_related("farmer", "product__packaging")
        .order_by("product__name", "created_at", "id")
    )


def request_changes(*, viewer: User, window_id) -> list[RequestChange]:
    window = window_get(viewer=viewer, window_id=window_id)
    return list(
        RequestChange.objects.filter(request__window=window)
        .select_related("request__farmer", "request__product", "recorded_by")
        .order_by("-recorded_at", "-id")
    )


@dataclass
class WindowLine:
    product: object
    window_product: WindowProduct
    unit: int
    quantity: int
    tolerance: int
    members: int
    offer: SupplierOffer | None  # the manager's choice or the plan's
    rounded: RoundedLine


def _offers(window: OrderingWindow, product_ids: list[int]) -> list[SupplierOffer]:
    """Active offers of these products, valid today, in the window's currency, that deliver to the cooperative."""
    coop = window.organisation
    today = date.today()
    # "Trans Nzoia, Kitale" is in an offer's region "Trans Nzoia"
    main_region = (coop.region or "").split(",")[0].strip()
    regions = OfferRegion.objects.filter(country=coop.country).filter(
        Q(region="") | Q(region__iexact=coop.region) | Q(region__iexact=main_region)
    )
    return list(
        SupplierOffer.objects.filter(
            product_id__in=product_ids, status=SupplierOffer.Status.ACTIVE, currency=window.currency,
            valid_from__lte=today, valid_until__gte=today, pk__in=regions.values("offer_id"),
        )
        .select_related("organisation", "product")
        .prefetch_related(Prefetch("tiers", queryset=PriceTier.objects.order_by("min_packs")))
        .order_by("pk")
    )  # fmt: skip


def _offer_input(offer: SupplierOffer) -> OfferInput:
    caps = [c for c in (offer.stock_packs, offer.max_order_packs) if c is not None]
    return OfferInput(offer.pk, offer.product_id, offer.organisation_id,
                      tuple((t.min_packs, t.unit_price_amount) for t in offer.tiers.all()),
                      min(caps) if caps else None)  # fmt: skip


@dataclass
class WindowPlan:
    lines: list[WindowLine]
    plan: Plan
    single: Plan
    offers: dict[int, SupplierOffer]
    offers_by_product: dict[int, list[SupplierOffer]]

    @property
    def saving(self) -> int | None:
        if len(self.single.lines) != len(self.plan.lines):
            return None
        return self.single.cost - self.plan.cost


def window_plan(*, viewer: User, window_id) -> WindowPlan:
    """The window's lines (group totals rounded against the chosen offer), the exact plan and the best
    single-supplier plan. The manager's per-line override wins over the plan."""
    return plan_for_window(window_get(viewer=viewer, window_id=window_id))


def plan_for_window(window: OrderingWindow) -> WindowPlan:
    """The plan of a window the caller may already see (services and the system)."""
    products = list(WindowProduct.objects.filter(window=window).select_related("product__packaging"))
    totals = {
        row["product_id"]: row
        for row in MemberRequest.objects.filter(window=window)
        .values("product_id")
        .annotate(q=Sum("quantity"), t=Sum("tolerance"), n=Count("id", filter=Q(quantity__gt=0)))
    }
    offers = _offers(window, [p.product_id for p in products])
    by_id = {o.pk: o for o in offers}
    by_product: dict[int, list[SupplierOffer]] = {}
    for offer in offers:
        by_product.setdefault(offer.product_id, []).append(offer)
    needs = []
    for wp in products:
        row = totals.get(wp.product_id, {})
        needs.append(Need(wp.product_id, row.get("q") or 0, row.get("t") or 0, pack_unit(wp.product)))
    inputs = [_offer_input(o) for o in offers]
    overridden = {wp.product_id: wp.chosen_offer_id for wp in products if wp.chosen_offer_id in by_id}
    free_needs = [n for n in needs if n.product_id not in overridden]
    plan = plan_exact(free_needs, inputs, {}) if free_needs else Plan(method="exact")
    fixed = plan_exact([n for n in needs if n.product_id in overridden],
                       [i for i in inputs if overridden.get(i.product_id) == i.offer_id], {})  # fmt: skip
    plan.lines.update(fixed.lines)
    plan.unserved = [n.product_id for n in needs if n.product_id not in plan.lines]
    single = plan_single_supplier(needs, inputs, {})
    lines = []
    for wp, need in zip(products, needs, strict=True):
        chosen = plan.lines.get(wp.product_id)
        offer = by_id.get(chosen.offer_id) if chosen else None
        tiers = [(t.min_packs, t.unit_price_amount) for t in offer.tiers.all()] if offer else []
        lines.append(WindowLine(wp.product, wp, need.unit, need.quantity, need.tolerance,
                                totals.get(wp.product_id, {}).get("n") or 0, offer,
                                rounded_line(need.quantity, need.tolerance, need.unit, tiers)))  # fmt: skip
    return WindowPlan(lines, plan, single, by_id, by_product)


def product_choices(*, viewer: User) -> list:
    """Input products a window may collect (every supplier's and the reference products are public)."""
    from catalogue.models import InputProduct

    return list(InputProduct.objects.select_related("packaging").order_by("kind", "name"))


def window_products(*, viewer: User, window_id) -> list:
    window = window_get(viewer=viewer, window_id=window_id)
    return [wp.product for wp in WindowProduct.objects.filter(window=window).select_related("product__packaging")]


# --- Group orders ----------------------------------------------------------------------------------


def _group_orders_visible(viewer: User):
    from orders.group_models import GroupOrder

    if not viewer.is_authenticated:
        return GroupOrder.objects.none()
    organisation_ids = list(viewer.memberships.values_list("organisation_id", flat=True))
    return GroupOrder.objects.filter(
        Q(buyer_id__in=organisation_ids) | (Q(supplier_id__in=organisation_ids) & ~Q(status="draft"))
    )


def group_order_list(*, viewer: User, organisation_id=None, window_id=None, side: str = "") -> list:
    """Group orders the viewer's organisations buy (cooperative) or were sent (supplier; drafts are not sent)."""
    queryset = _group_orders_visible(viewer).select_related("buyer", "supplier", "window", "order")
    if organisation_id is not None:
        queryset = queryset.filter(Q(buyer_id=organisation_id) | Q(supplier_id=organisation_id))
    if side == "selling":
        queryset = queryset.filter(supplier__memberships__user=viewer)
    elif side == "buying":
        queryset = queryset.filter(buyer__memberships__user=viewer)
    if window_id is not None:
        queryset = queryset.filter(window_id=window_id)
    return list(queryset.annotate(line_count=Count("lines")).order_by("-created_at", "-id"))


def group_order_get(*, viewer: User, group_order_id):
    from orders.group_models import GroupOrderLine, GroupOrderRound

    try:
        group_order_id = int(group_order_id)
    except (TypeError, ValueError):
        raise NotFound(gettext("No such group order.")) from None
    group_order = (
        _group_orders_visible(viewer)
        .select_related("buyer", "supplier", "window", "order")
        .prefetch_related(
            Prefetch("lines", queryset=GroupOrderLine.objects.select_related("product__packaging", "offer")),
            Prefetch("negotiation", queryset=GroupOrderRound.objects.select_related("proposed_by")),
        )
        .filter(pk=group_order_id)
        .first()
    )
    if group_order is None:
        raise NotFound(gettext("No such group order."))
    return group_order


def group_order_sides(*, viewer: User, group_order) -> dict[str, str]:
    """The viewer's role on each side of a group order: {"cooperative": role, "supplier": role}."""
    rows = viewer.memberships.filter(organisation_id__in=[group_order.buyer_id, group_order.supplier_id])
    return {("cooperative" if org == group_order.buyer_id else "supplier"): role
            for org, role in rows.values_list("organisation_id", "role")}  # fmt: skip


def group_order_moves(*, viewer: User, group_order) -> list[str]:
    """The moves the viewer may make on the group order now."""
    from marketplace.organisations.roles import ROLE_RANK
    from orders.services.group_orders import GROUP_ORDER_TABLE, WHO

    sides = group_order_sides(viewer=viewer, group_order=group_order)
    moves = []
    for to in GROUP_ORDER_TABLE.next_of(group_order.status):
        who = WHO.get((group_order.status, to))
        if who and who[0] in sides and ROLE_RANK[sides[who[0]]] >= ROLE_RANK[who[1]]:
            moves.append(to)
    return moves


def allocation_list(*, viewer: User, group_order_id) -> list:
    """The allocations of a group order the viewer's cooperative buys (suppliers do not see members)."""
    from orders.group_models import MemberAllocation

    group_order = group_order_get(viewer=viewer, group_order_id=group_order_id)
    if "cooperative" not in group_order_sides(viewer=viewer, group_order=group_order):
        raise NotFound(gettext("No such group order."))
    return list(
        MemberAllocation.objects.filter(group_order=group_order)
        .select_related("farmer", "line__product__packaging", "request")
        .order_by("line_id", "farmer__member_number")
    )
