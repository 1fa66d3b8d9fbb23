"""Public reads: reference data, listing search and supplier offer search, and offer prices.

Listings and offers are public, but only while they are live: active, still valid, and published by a verified
organisation. Members of the publishing organisation also see their own listings and offers in any status.
Searches run a constant number of queries whatever the page size (count, page, and one prefetch each for
certifications or tiers and regions).
"""

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Exists, F, FloatField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import (
    Certification,
    Commodity,
    Grade,
    InputProduct,
    Listing,
    OfferRegion,
    Packaging,
    PriceTier,
    PriceUnit,
    SupplierOffer,
)
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = 111.2
MAX_RADIUS_KM = 5000

LISTING_ORDERINGS = {
    "newest": ["-created_at", "-id"],
    "price": ["currency", "price_per_tonne_minor", "id"],
    "-price": ["currency", "-price_per_tonne_minor", "id"],
    "quantity": ["-quantity_available_grams", "id"],
    "available_from": ["available_from", "id"],
    "distance": ["distance_km", "id"],
}
OFFER_ORDERINGS = {
    "price": ["currency", "unit_price_at_quantity", "id"],
    "lead_time": ["lead_time_days", "id"],
    "newest": ["-created_at", "-id"],
}


# --- Reference data ---------------------------------------------------------------------


def commodity_list(*, viewer: User | None = None, include_inactive: bool = False) -> QuerySet[Commodity]:
    queryset = Commodity.objects.prefetch_related(Prefetch("grades", queryset=Grade.objects.order_by("rank")))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("name")


def grade_list(*, viewer: User | None = None, commodity_id: int | None = None) -> QuerySet[Grade]:
    queryset = Grade.objects.select_related("commodity").filter(commodity__is_active=True)
    if commodity_id is not None:
        queryset = queryset.filter(commodity_id=commodity_id)
    return queryset.order_by("commodity__name", "rank")


def packaging_list(*, viewer: User | None = None, mass_only: bool = False) -> QuerySet[Packaging]:
    queryset = Packaging.objects.all()
    if mass_only:
        queryset = queryset.filter(net_mass_grams__isnull=False)
    return queryset.order_by("name")


def input_product_list(
    *, viewer: User | None = None, kind: str = "", crop: str = "", organisation_id: int | None = None
) -> QuerySet[InputProduct]:
    """Reference products and those suppliers have described: all public."""
    queryset = InputProduct.objects.select_related("packaging", "crop", "organisation")
    if kind:
        queryset = queryset.filter(kind=kind)
    if crop:
        queryset = queryset.filter(crop__code=crop)
    if organisation_id is not None:
        queryset = queryset.filter(Q(organisation_id=organisation_id) | Q(organisation__isnull=True))
    return queryset.order_by("kind", "name", "id")


def input_product_list_for_organisation(*, viewer: User, organisation_id: int) -> QuerySet[InputProduct]:
    """A supplier's own products and the reference products, for its members."""
    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    return input_product_list(viewer=viewer, organisation_id=organisation_id)


# --- Distance ---------------------------------------------------------------------------


def haversine_km(latitude: float, longitude: float) -> Cast:
    """SQL for the great-circle distance from (latitude, longitude) to a row's coordinates, in km."""
    row_lat = Cast(F("latitude"), FloatField())
    row_lon = Cast(F("longitude"), FloatField())
    lat = Value(float(latitude), output_field=FloatField())
    lon = Value(float(longitude), output_field=FloatField())
    half_chord = Power(Sin((Radians(row_lat) - Radians(lat)) / 2), 2) + Cos(Radians(lat)) * Cos(
        Radians(row_lat)
    ) * Power(Sin((Radians(row_lon) - Radians(lon)) / 2), 2)
    return Cast(2 * EARTH_RADIUS_KM * ASin(Sqrt(Least(Value(1.0), half_chord))), FloatField())


def bounding_box(latitude: float, longitude: float, radius_km: float) -> Q:
    """A box around the circle, for the coordinates index; the exact distance filter follows it."""
    delta_lat = radius_km / KM_PER_DEGREE_LATITUDE
    box = Q(
        latitude__gte=Decimal(str(round(latitude - delta_lat, 6))),
        latitude__lte=Decimal(str(round(latitude + delta_lat, 6))),
    )
    cos_lat = math.cos(math.radians(min(89.0, abs(latitude) + delta_lat)))
    delta_lon = radius_km / (KM_PER_DEGREE_LATITUDE * cos_lat) if cos_lat > 0 else 360
    if longitude - delta_lon > -180 and longitude + delta_lon < 180:
        box &= Q(
            longitude__gte=Decimal(str(round(longitude - delta_lon, 6))),
            longitude__lte=Decimal(str(round(longitude + delta_lon, 6))),
        )
    return box


# --- Listings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_km: float


def _live_listings(today: date) -> QuerySet[Listing]:
    return Listing.objects.filter(
        status=Listing.Status.ACTIVE,
        valid_until__gte=today,
        quantity_available_grams__gt=0,
        organisation__verification_status=Organisation.Verification.VERIFIED,
    )


def _listing_page_queryset(queryset: QuerySet[Listing], today: date) -> QuerySet[Listing]:
    return queryset.select_related("organisation", "commodity", "grade", "lot", "pickup_location").prefetch_related(
        Prefetch("certifications", queryset=Certification.objects.order_by("scheme", "id"))
    )


def _resolve_grade(commodity: str, min_grade: str) -> tuple[Commodity | None, Grade | None]:
    if min_grade and not commodity:
        raise ValidationFailed(
            "A minimum grade belongs to a commodity: give the commodity too.", fields={"commodity": "Required."}
        )
    if not commodity:
        return None, None
    found = Commodity.objects.filter(code=commodity, is_active=True).first()
    if found is None:
        raise ValidationFailed(
            gettext("No commodity has the code %(commodity)s; the list is at /api/v1/commodities/.")
            % {"commodity": repr(commodity)},
            fields={"commodity": "Unknown commodity code."},
        )
    if not min_grade:
        return found, None
    grade = Grade.objects.filter(commodity=found, code=min_grade).first()
    if grade is None:
        codes = ", ".join(Grade.objects.filter(commodity=found).order_by("rank").values_list("code", flat=True))
        raise ValidationFailed(
            gettext("%(name)s has no grade %(min_grade)s; its grades are: %(codes)s.")
            % {"name": found.name, "min_grade": repr(min_grade), "codes": codes},
            fields={"min_grade": gettext("One of: %(codes)s.") % {"codes": codes}},
        )
    return found, grade


def listing_search(
    *,
    viewer: User | None = None,
    commodity: str = "",
    min_grade: str = "",
    country: str = "",
    region: str = "",
    near: Near | None = None,
    min_quantity_grams: int | None = None,
    max_price: Money | None = None,
    price_unit: str = PriceUnit.PER_KILOGRAM,
    certification: str = "",
    available_on: date | None = None,
    organisation_id: int | None = None,
    ordering: str = "",
) -> QuerySet[Listing]:
    """Live listings matching every filter given. `max_price` is compared in its own currency (listings in
    other currencies are left out) per `price_unit`; `near` keeps listings within `radius_km` of a point."""
    today = timezone.localdate()
    found_commodity, grade = _resolve_grade(commodity, min_grade)
    queryset = _live_listings(today)
    if found_commodity is not None:
        queryset = queryset.filter(commodity=found_commodity)
    if grade is not None:
        queryset = queryset.filter(grade_rank__lte=grade.rank)
    if country:
        queryset = queryset.filter(country=country.upper())
    if region:
        queryset = queryset.filter(region__iexact=region.strip())
    if min_quantity_grams is not None:
        queryset = queryset.filter(quantity_available_grams__gte=min_quantity_grams)
    if max_price is not None:
        per_tonne = max_price.amount * (1000 if price_unit == PriceUnit.PER_KILOGRAM else 1)
        queryset = queryset.filter(currency=max_price.currency, price_per_tonne_minor__lte=per_tonne)
    if certification:
        day = available_on or today
        queryset = queryset.filter(
            Exists(
                Listing.certifications.through.objects.filter(
                    listing_id=OuterRef("pk"),
                    certification__scheme=certification,
                    certification__valid_from__lte=day,
                    certification__valid_until__gte=day,
                )
            )
        )
    if available_on is not None:
        queryset = queryset.filter(available_from__lte=available_on, valid_until__gte=available_on)
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    if near is not None:
        queryset = queryset.filter(bounding_box(near.latitude, near.longitude, near.radius_km))
        queryset = queryset.annotate(distance_km=haversine_km(near.latitude, near.longitude)).filter(
            distance_km__lte=near.radius_km
        )
    if ordering not in LISTING_ORDERINGS or (ordering == "distance" and near is None):
        ordering = "distance" if near is not None and not ordering else "newest"
    return _listing_page_queryset(queryset, today).order_by(*LISTING_ORDERINGS[ordering])


def listing_get(*, viewer: User | None, listing_id: int) -> Listing:
    """A live listing, for anyone; the publishing organisation's members also see it when it is not live."""
    today = timezone.localdate()
    listing = _listing_page_queryset(Listing.objects.filter(pk=listing_id), today).first()
    if listing is None:
        raise NotFound("No such listing.")
    if _live_listings(today).filter(pk=listing_id).exists():
        return listing
    if viewer is not None and viewer.is_authenticated:
        try:
            organisation_for(viewer=viewer, organisation_id=listing.organisation_id, capability=Capability.VIEW)
            return listing
        except NotFound:
            pass
    raise NotFound("No such listing.")


def listing_list_for_organisation(*, viewer: User, organisation_id: int, status: str = "") -> QuerySet[Listing]:
    """An organisation's own listings in every status, for its members."""
    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    queryset = Listing.objects.filter(organisation_id=organisation_id)
    if status:
        queryset = queryset.filter(status=status)
    return _listing_page_queryset(queryset, timezone.localdate()).order_by("-created_at", "-id")


# --- Supplier offers --------------------------------------------------------------------


def _live_offers(today: date) -> QuerySet[SupplierOffer]:
    return SupplierOffer.objects.filter(
        status=SupplierOffer.Status.ACTIVE,
        valid_until__gte=today,
        organisation__verification_status=Organisation.Verification.VERIFIED,
    )


def _offer_page_queryset(queryset: QuerySet[SupplierOffer]) -> QuerySet[SupplierOffer]:
    return queryset.select_related(
        "organisation", "product", "product__packaging", "product__crop", "product__organisation"
    ).prefetch_related(
        Prefetch("tiers", queryset=PriceTier.objects.order_by("min_packs")),
        Prefetch("regions", queryset=OfferRegion.objects.order_by("country", "region")),
    )


def offer_search(
    *,
    viewer: User | None = None,
    product_id: int | None = None,
    kind: str = "",
    crop: str = "",
    country: str = "",
    region: str = "",
    quantity_packs: int | None = None,
    currency: str = "",
    organisation_id: int | None = None,
    ordering: str = "price",
) -> QuerySet[SupplierOffer]:
    """Live offers matching every filter. With a quantity, only offers that can supply it (stock, tiers and
    maximum order), sorted by their price per pack at that quantity."""
    queryset = _live_offers(timezone.localdate())
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    if kind:
        queryset = queryset.filter(product__kind=kind)
    if crop:
        queryset = queryset.filter(product__crop__code=crop)
    if currency:
        queryset = queryset.filter(currency=currency.upper())
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    if country:
        covered = OfferRegion.objects.filter(offer=OuterRef("pk"), country=country.upper())
        if region:
            covered = covered.filter(Q(region="") | Q(region__iexact=region.strip()))
        queryset = queryset.filter(Exists(covered))
    elif region:
        queryset = queryset.filter(Exists(OfferRegion.objects.filter(offer=OuterRef("pk"), region__iexact=region)))
    tiers = PriceTier.objects.filter(offer=OuterRef("pk"))
    if quantity_packs is not None:
        queryset = queryset.filter(stock_packs__gte=quantity_packs).filter(
            Q(max_order_packs__isnull=True) | Q(max_order_packs__gte=quantity_packs)
        )
        tiers = tiers.filter(min_packs__lte=quantity_packs).order_by("-min_packs")
    else:
        tiers = tiers.order_by("min_packs")
    queryset = queryset.annotate(unit_price_at_quantity=Subquery(tiers.values("unit_price_amount")[:1])).filter(
        unit_price_at_quantity__isnull=False
    )
    return _offer_page_queryset(queryset).order_by(*OFFER_ORDERINGS.get(ordering, OFFER_ORDERINGS["price"]))


def offer_get(*, viewer: User | None, offer_id: int) -> SupplierOffer:
    offer = _offer_page_queryset(SupplierOffer.objects.filter(pk=offer_id)).first()
    if offer is None:
        raise NotFound("No such offer.")
    if _live_offers(timezone.localdate()).filter(pk=offer_id).exists():
        return offer
    if viewer is not None and viewer.is_authenticated:
        try:
            organisation_for(viewer=viewer, organisation_id=offer.organisation_id, capability=Capability.VIEW)
            return offer
        except NotFound:
            pass
    raise NotFound("No such offer.")


def offer_list_for_organisation(*, viewer: User, organisation_id: int, status: str = "") -> QuerySet[SupplierOffer]:
    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    queryset = SupplierOffer.objects.filter(organisation_id=organisation_id)
    if status:
        queryset = queryset.filter(status=status)
    return _offer_page_queryset(queryset).order_by("-created_at", "-id")


@dataclass(frozen=True)
class Quote:
    packs: int
    unit_price: Money
    total: Money
    tier_min_packs: int


def price_for_quantity(
    tiers: list[PriceTier], packs: int, *, currency: str, max_order_packs: int | None = None
) -> Quote:
    """The total price of `packs`: every pack at the price of the tier the quantity falls in (all-units
    volume pricing). `tiers` are the offer's breakpoints, in any order."""
    ordered = sorted(tiers, key=lambda t: t.min_packs)
    if not ordered:
        raise ValidationFailed("This offer has no price tiers.")
    if not isinstance(packs, int) or packs < ordered[0].min_packs:
        raise ValidationFailed(
            gettext("The minimum order is %(min_packs)s packs.") % {"min_packs": ordered[0].min_packs},
            fields={"packs": gettext("At least %(min_packs)s.") % {"min_packs": ordered[0].min_packs}},
        )
    if max_order_packs is not None and packs > max_order_packs:
        raise ValidationFailed(
            gettext("The maximum order is %(max_order_packs)s packs.") % {"max_order_packs": max_order_packs},
            fields={"packs": gettext("At most %(max_order_packs)s.") % {"max_order_packs": max_order_packs}},
        )
    tier = [t for t in ordered if t.min_packs <= packs][-1]
    unit = Money(tier.unit_price_amount, currency)
    return Quote(
        packs=packs, unit_price=unit, total=Money(unit.amount * packs, currency), tier_min_packs=tier.min_packs
    )


def offer_quote(*, viewer: User | None, offer_id: int, packs: int) -> Quote:
    offer = offer_get(viewer=viewer, offer_id=offer_id)
    return price_for_quantity(
        list(offer.tiers.all()), packs, currency=offer.currency, max_order_packs=offer.max_order_packs
    )
