"""Reads for matching; every selector takes the viewer (house rule 2).

A buyer sees its own requests and the proposals made to it. A cooperative sees the open requests that its own
listings could serve and the proposals that name its listings, with only its own parts: never another
cooperative's ask."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from catalogue.models import Listing
from marketplace.core.errors import NotFound
from marketplace.matching import engine
from marketplace.matching.models import BuyerRequest, Proposal, ProposalPart
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import _organisation_ids_with, organisation_for


def open_request_markets() -> list[tuple[int, str]]:
    """(commodity id, currency) of every open request: what the nightly re-match walks (system use)."""
    return sorted(
        set(BuyerRequest.objects.filter(status=BuyerRequest.Status.OPEN).values_list("commodity_id", "currency"))
    )


def markets_with_listing_changes(*, since) -> list[tuple[int, str]]:
    """(commodity id, currency) of the open requests whose commodity has a listing created, changed, reserved or
    withdrawn since `since` (system use: catalogue does not publish listing events, so matching looks)."""
    changed = set(Listing.objects.filter(updated_at__gte=since).values_list("commodity_id", "currency").distinct())
    return [market for market in open_request_markets() if market in changed]


def buyer_request_list(*, viewer: User, status: str | None = None) -> QuerySet[BuyerRequest]:
    ids = _organisation_ids_with(viewer, Capability.VIEW)
    qs = BuyerRequest.objects.filter(buyer_id__in=ids).select_related("buyer", "commodity", "min_grade")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def buyer_request_get(*, viewer: User, request_id) -> BuyerRequest:
    request = buyer_request_list(viewer=viewer).filter(pk=_int(request_id)).first()
    if request is None:
        raise NotFound("No such request.")
    return request


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("Not found.") from None


def proposal_list(*, viewer: User, request_id=None) -> QuerySet[Proposal]:
    """Proposals to the viewer's buying organisations (every part), and proposals naming the viewer's listings
    (only the viewer's own parts are prefetched as `visible_parts`)."""
    ids = _organisation_ids_with(viewer, Capability.VIEW)
    qs = (
        Proposal.objects.filter(Q(buyer_id__in=ids) | Q(parts__seller_id__in=ids))
        .distinct()
        .select_related("request__commodity", "request__buyer", "buyer", "consignment__purchase")
        .prefetch_related(
            Prefetch(
                "parts",
                queryset=ProposalPart.objects.select_related("listing", "seller").order_by("pk"),
                to_attr="all_parts",
            )
        )
        .order_by("-created_at", "-id")
    )
    if request_id is not None:
        qs = qs.filter(request_id=_int(request_id))
    return qs


def visible_parts(*, viewer: User, proposal: Proposal, ids: set[int] | None = None) -> list[ProposalPart]:
    """The parts of a proposal the viewer may see: all for the buyer, its own for a cooperative (`ids`: the
    viewer's organisations, when the caller already has them)."""
    ids = set(_organisation_ids_with(viewer, Capability.VIEW)) if ids is None else ids
    parts = getattr(proposal, "all_parts", None)
    if parts is None:
        parts = list(proposal.parts.select_related("listing", "seller").order_by("pk"))
    if proposal.buyer_id in ids:
        return parts
    return [p for p in parts if p.seller_id in ids]


def proposal_get(*, viewer: User, proposal_id) -> Proposal:
    proposal = proposal_list(viewer=viewer).filter(pk=_int(proposal_id)).first()
    if proposal is None:
        raise NotFound("No such proposal.")
    return proposal


def requests_served_by(*, viewer: User, organisation_id) -> list[tuple[BuyerRequest, list[int]]]:
    """The open requests that at least one of the cooperative's live listings fits (same rules as the engine),
    with the ids of those listings."""
    cooperative = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    if cooperative.kind != Organisation.Kind.COOPERATIVE:
        return []
    from marketplace.matching.services import _listing_point, transport_rate

    today = timezone.localdate()
    listings = list(
        Listing.objects.filter(
            organisation=cooperative, status=Listing.Status.ACTIVE, valid_until__gte=today,
            quantity_available_grams__gt=0,
        ).select_related("pickup_location").prefetch_related("certifications")
    )  # fmt: skip
    if not listings:
        return []
    requests = list(
        BuyerRequest.objects.filter(
            status=BuyerRequest.Status.OPEN,
            commodity_id__in={x.commodity_id for x in listings},
            currency__in={x.currency for x in listings},
            window_end__gte=today,
        )
        .select_related("buyer", "commodity", "min_grade")
        .order_by("window_end", "pk")
    )
    out = []
    for request in requests:
        lots = []
        for listing in listings:
            point = _listing_point(listing)
            if point is None or listing.commodity_id != request.commodity_id or listing.currency != request.currency:
                continue
            certs = frozenset(c.scheme for c in listing.certifications.all() if c.valid_from <= today <= c.valid_until)
            lots.append(engine.Lot(id=listing.pk, commodity="c", grade=-listing.grade_rank,
                                   kg=max(1, listing.quantity_available_grams // 1000),
                                   ask_minor_per_tonne=listing.price_per_tonne_minor, lat=point[0], lon=point[1],
                                   certifications=certs, eudr_ready=True))  # fmt: skip
        if not lots:
            continue
        req = engine.Request(
            id=request.pk, commodity="c", min_grade=-request.min_grade.rank if request.min_grade else -(2**31),
            kg=1, max_price_minor_per_tonne=request.max_price_per_tonne_minor, lat=float(request.delivery_latitude),
            lon=float(request.delivery_longitude), max_distance_km=float(request.max_distance_km),
            certifications=frozenset(request.certifications),
        )  # fmt: skip
        instance = engine.Instance(transport_rate(request.currency), lots, [req])
        pairs = engine.feasible_pairs(engine._Arrays(instance))
        fits = sorted({lots[int(i)].id for i in pairs.lot})
        if fits:
            out.append((request, fits))
    return out
