"""Reads of an organisation's own records: locations, certifications, deliveries, lots and member shares.

Every selector takes the viewer and checks, through organisations.selectors.organisation_for, that the viewer
belongs to the organisation; an outsider gets NotFound, never a hint that the record exists.
"""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext

from catalogue.models import (
    Certification,
    CooperativeTraceSettings,
    Delivery,
    Listing,
    Location,
    Lot,
    LotContribution,
    LotIntake,
    LotLineage,
    OrganisationCode,
)
from marketplace.core.errors import NotFound
from marketplace.organisations.models import MemberFarmer, Organisation, Plot, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import member_farmer_list, organisation_for, plot_list


def _organisation(viewer: User, organisation_id, capability: Capability = Capability.VIEW) -> Organisation:
    return organisation_for(viewer=viewer, organisation_id=organisation_id, capability=capability)


def _visible(viewer: User, organisation_id: int, missing: str) -> None:
    try:
        _organisation(viewer, organisation_id)
    except NotFound:
        raise NotFound(missing) from None


def organisation_prefix_get(*, viewer: User, organisation_id: int) -> str:
    _organisation(viewer, organisation_id)
    return (
        OrganisationCode.objects.filter(organisation_id=organisation_id).values_list("prefix", flat=True).first() or ""
    )


def location_list(
    *, viewer: User, organisation_id: int, purpose: str = "", active_only: bool = False
) -> QuerySet[Location]:
    """purpose: '' for all, 'collection' for collection points, 'storage' for warehouses."""
    _organisation(viewer, organisation_id)
    queryset = Location.objects.filter(organisation_id=organisation_id)
    if purpose == "collection":
        queryset = queryset.filter(is_collection_point=True)
    elif purpose == "storage":
        queryset = queryset.filter(is_warehouse=True)
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("name", "id")


def certification_list(*, viewer: User, organisation_id: int, valid_on=None) -> QuerySet[Certification]:
    _organisation(viewer, organisation_id)
    queryset = Certification.objects.filter(organisation_id=organisation_id)
    if valid_on is not None:
        queryset = queryset.filter(valid_from__lte=valid_on, valid_until__gte=valid_on)
    return queryset.order_by("scheme", "-valid_until", "id")


def farmer_by_member_number(*, viewer: User, organisation_id: int, member_number: str) -> MemberFarmer:
    """The cooperative's member with this number (as on their member card), case-insensitively."""
    _organisation(viewer, organisation_id)
    farmer = (
        member_farmer_list(viewer=viewer, organisation_id=organisation_id)
        .filter(member_number__iexact=member_number.strip())
        .first()
    )
    if farmer is None:
        raise NotFound(
            gettext("Your cooperative has no member number %(member_number)s.")
            % {"member_number": member_number.strip()}
        )
    return farmer


def farmer_plots(*, viewer: User, farmer_id: int) -> QuerySet[Plot]:
    return plot_list(viewer=viewer, farmer_id=farmer_id).order_by("name", "id")


# --- Deliveries -------------------------------------------------------------------------


def _delivery_queryset() -> QuerySet[Delivery]:
    return Delivery.objects.select_related(
        "farmer", "plot", "commodity", "grade", "downgraded_from", "packaging", "collection_point", "recorded_by",
        "reverses",
    ).annotate(
        is_reversed=Exists(Delivery.objects.filter(reverses=OuterRef("pk"))),
        bulked_lot_code=LotIntake.objects.filter(delivery=OuterRef("pk")).values("lot__code")[:1],
    )  # fmt: skip


def delivery_list(
    *,
    viewer: User,
    organisation_id: int,
    farmer_id: int | None = None,
    commodity_id: int | None = None,
    grade_id: int | None = None,
    collection_point_id: int | None = None,
    kind: str = "",
    bulkable: bool = False,
    delivered_from=None,
    delivered_to=None,
    search: str = "",
) -> QuerySet[Delivery]:
    """The organisation's deliveries and reversals, newest first. `bulkable` keeps only deliveries that can
    still go into a lot (not a reversal, not reversed, not bulked)."""
    _organisation(viewer, organisation_id)
    queryset = _delivery_queryset().filter(organisation_id=organisation_id)
    if farmer_id is not None:
        queryset = queryset.filter(farmer_id=farmer_id)
    if commodity_id is not None:
        queryset = queryset.filter(commodity_id=commodity_id)
    if grade_id is not None:
        queryset = queryset.filter(grade_id=grade_id)
    if collection_point_id is not None:
        queryset = queryset.filter(collection_point_id=collection_point_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    if delivered_from is not None:
        queryset = queryset.filter(delivered_on__gte=delivered_from)
    if delivered_to is not None:
        queryset = queryset.filter(delivered_on__lte=delivered_to)
    if search:
        queryset = queryset.filter(
            Q(receipt_number__icontains=search) | Q(farmer__name__icontains=search)
            | Q(farmer__member_number__icontains=search)
        )  # fmt: skip
    if bulkable:
        queryset = queryset.filter(kind=Delivery.Kind.DELIVERY, is_reversed=False, bulked_lot_code__isnull=True)
    return queryset.order_by("-delivered_on", "-id")


def delivery_get(*, viewer: User, delivery_id: int) -> Delivery:
    delivery = _delivery_queryset().select_related("organisation").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No such delivery.")
    _visible(viewer, delivery.organisation_id, "No such delivery.")
    return delivery


# --- Lots -------------------------------------------------------------------------------


def _lot_queryset() -> QuerySet[Lot]:
    return Lot.objects.select_related("commodity", "grade", "storage_location", "organisation").annotate(
        member_count=LotContribution.objects.filter(lot=OuterRef("pk"))
        .values("lot")
        .annotate(n=Count("farmer", distinct=True))
        .values("n")[:1],
    )


def lot_list(
    *,
    viewer: User,
    organisation_id: int,
    status: str = "",
    commodity_id: int | None = None,
    grade_id: int | None = None,
    include_closed: bool = True,
) -> QuerySet[Lot]:
    """The organisation's lots, newest first, whatever their status: only its members see unlisted lots."""
    _organisation(viewer, organisation_id)
    queryset = _lot_queryset().filter(organisation_id=organisation_id)
    if status:
        queryset = queryset.filter(status=status)
    elif not include_closed:
        queryset = queryset.exclude(status=Lot.Status.CLOSED)
    if commodity_id is not None:
        queryset = queryset.filter(commodity_id=commodity_id)
    if grade_id is not None:
        queryset = queryset.filter(grade_id=grade_id)
    return queryset.order_by("-created_at", "-id")


def lot_get(*, viewer: User, lot_id: int) -> Lot:
    """A lot with its member shares, lineage and listings prefetched (members of its organisation only)."""
    lot = (
        _lot_queryset()
        .prefetch_related(
            Prefetch(
                "contributions",
                queryset=LotContribution.objects.select_related("farmer", "delivery").order_by(
                    "farmer__member_number", "delivery_id"
                ),
            ),
            Prefetch("parent_links", queryset=LotLineage.objects.select_related("parent").order_by("parent_id")),
            Prefetch("children_links", queryset=LotLineage.objects.select_related("child").order_by("child_id")),
            Prefetch("listings", queryset=Listing.objects.order_by("-created_at")),
        )
        .filter(pk=lot_id)
        .first()
    )
    if lot is None:
        raise NotFound("No such lot.")
    _visible(viewer, lot.organisation_id, "No such lot.")
    return lot


def lot_member_shares(*, viewer: User, lot_id: int) -> list[dict]:
    """Each member's total share of a lot: farmer, grams, and the deliveries it came from."""
    lot = Lot.objects.filter(pk=lot_id).only("organisation_id").first()
    if lot is None:
        raise NotFound("No such lot.")
    _visible(viewer, lot.organisation_id, "No such lot.")
    shares: dict[int, dict] = {}
    for contribution in (
        LotContribution.objects.filter(lot_id=lot_id)
        .select_related("farmer", "delivery")
        .order_by("farmer__member_number", "delivery_id")
    ):
        entry = shares.setdefault(contribution.farmer_id, {"farmer": contribution.farmer, "grams": 0, "deliveries": []})
        entry["grams"] += contribution.grams
        entry["deliveries"].append((contribution.delivery, contribution.grams))
    return list(shares.values())


def member_stock_totals(*, viewer: User, organisation_id: int) -> dict[int, int]:
    """Grams each member has in the organisation's lots that are not closed (farmer id -> grams)."""
    _organisation(viewer, organisation_id)
    rows = (
        LotContribution.objects.filter(lot__organisation_id=organisation_id)
        .exclude(lot__status=Lot.Status.CLOSED)
        .values("farmer_id")
        .annotate(total=Sum("grams"))
    )
    return {row["farmer_id"]: row["total"] for row in rows}


def trace_settings_get(*, viewer: User, organisation_id: int) -> bool:
    """Whether the organisation's public trace pages name its members and show their plots (off by default)."""
    _organisation(viewer, organisation_id)
    return bool(
        CooperativeTraceSettings.objects.filter(organisation_id=organisation_id)
        .values_list("show_producers", flat=True)
        .first()
    )
