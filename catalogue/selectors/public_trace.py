"""The public trace page of a lot: what anyone holding a bag (or its QR code) may know about its journey.

This is the one read that needs no viewer: it is reached by the lot's random `public_id` (an unknown id is "not
found") and returns only what a cooperative publishes: the cooperative, its region, the harvest period, the
steps recorded in the event store (places and dates, never the buyer), its valid certifications, and where the
produce was grown as regions (country and the collection point's region, with counts of members, plots and
hectares). Members' names and their plots appear only when the cooperative has opted in
(`CooperativeTraceSettings.show_producers`); plot outlines never do.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from catalogue.models import Certification, Commodity, CooperativeTraceSettings, Location, Lot
from catalogue.tracing import location_identifier, lot_identifier
from marketplace.core.errors import NotFound
from marketplace.organisations.models import MemberFarmer
from traceability import identifiers
from traceability.lineage import lineage_digest_read


@dataclass
class PublicStep:
    kind: str  # delivered, bulked, split, merged, stored, inspected, sold, sale_cancelled, dispatched, received
    title: str
    started: datetime.date
    ended: datetime.date | None = None
    place: str = ""
    grams: int | None = None
    detail: str = ""


@dataclass
class PublicRegion:
    region: str
    country: str
    members: int
    plots: int
    hectares: Decimal


@dataclass
class PublicPlot:
    name: str
    hectares: Decimal
    latitude: float | None
    longitude: float | None


@dataclass
class PublicProducer:
    name: str
    plots: list[PublicPlot]


@dataclass
class PublicTrace:
    lot: Lot
    cooperative_name: str
    country: str
    region: str
    harvest_start: datetime.date | None
    harvest_end: datetime.date | None
    members: int
    steps: list[PublicStep] = field(default_factory=list)
    regions: list[PublicRegion] = field(default_factory=list)
    producers: list[PublicProducer] | None = None  # only when the cooperative opted in
    certifications: list[Certification] = field(default_factory=list)
    more_producers: int = 0  # producers not listed (the page names the first hundred by delivered grams)
    eudr_ready: bool | None = None  # None: a commodity the EUDR does not cover


def _title(step: dict) -> str:
    lots = ", ".join(step.get("lots", []))
    kind = step["kind"]
    if kind == "bulked":
        return _("Deliveries bulked into lot %(lots)s") % {"lots": lots}
    if kind == "split":
        return _("Lot %(lot)s split into %(lots)s") % {"lot": ", ".join(step["inputs"]), "lots": lots}
    if kind == "merged":
        return _("Lots %(lots)s merged into %(lot)s") % {"lots": ", ".join(step["inputs"]), "lot": lots}
    if kind == "transformed":
        return _("Lot %(lot)s became %(lots)s") % {"lot": ", ".join(step["inputs"]), "lots": lots}
    if kind == "sale_cancelled":
        return _("Sale of lot %(lots)s cancelled") % {"lots": lots}
    if kind == "sold":
        return _("Lot %(lots)s sold to a buyer") % {"lots": lots}
    if kind == "stored":
        return _("Lot %(lots)s stored") % {"lots": lots}
    if kind == "inspected":
        verdict = _("conformant") if step.get("conformant") else _("not conformant")
        return _("Lot %(lots)s inspected: %(verdict)s") % {"lots": lots, "verdict": verdict}
    if kind == "dispatched":
        return _("Lot %(lots)s dispatched") % {"lots": lots}
    return _("Lot %(lots)s received") % {"lots": lots}


def _day(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _steps(events: dict, places: dict[str, str]) -> list[PublicStep]:
    """The public steps: one line for all member deliveries, then every other event, as the lineage's digest lists
    them (`traceability.digest`)."""
    steps: list[PublicStep] = []
    if events.get("deliveries"):
        first, last = _day(events.get("first")), _day(events.get("last"))
        steps.append(
            PublicStep(
                kind="delivered",
                title=_("%(deliveries)d member deliveries from %(members)d members")
                % {"deliveries": events["deliveries"], "members": events["members"]},
                started=first,
                ended=last if last != first else None,
                place=", ".join(sorted({places.get(place, "") for place in events["places"]} - {""})),
                grams=events.get("grams") or None,
            )
        )
    for step in events["steps"]:
        steps.append(PublicStep(kind=step["kind"], title=_title(step), started=_day(step["day"]),
                                place=places.get(step["place"], ""), grams=step["grams"]))  # fmt: skip
    return steps


def _regions(plot_part: dict, locations: dict[str, Location], cooperative) -> list[PublicRegion]:
    """Regions from the digest's entries per collection point and country, merged by the collection points' region
    (a delivery without a collection point is received at the cooperative itself: no region is named)."""
    regions: dict[tuple[str, str], dict] = defaultdict(lambda: {"members": set(), "plots": {}})
    for entry in plot_part["regions"]:
        location = locations.get(entry["place"])
        region = (location.region or cooperative.region) if location is not None else ""
        merged = regions[(region, entry["country"] or str(cooperative.country))]
        merged["members"].update(entry["farmers"])
        merged["plots"].update(entry["plots"])
    return [
        PublicRegion(region=region, country=country, members=len(e["members"]), plots=len(e["plots"]),
                     hectares=sum((Decimal(value) for value in e["plots"].values()), Decimal(0)))
        for (region, country), e in sorted(regions.items())
    ]  # fmt: skip


def _producers(plot_part: dict, cooperative) -> tuple[list[PublicProducer], int]:
    """The producers who delivered the most (the digest keeps the first hundred), by name, and how many others."""
    top = plot_part["producers"]["top"]
    names = dict(
        MemberFarmer.objects.filter(pk__in=[farmer for farmer, _plots in top], organisation=cooperative).values_list(
            "pk", "name"
        )
    )
    listed = sorted(
        (names[farmer], farmer, [PublicPlot(name, Decimal(hectares), latitude, longitude)
                                 for name, hectares, latitude, longitude in plots])
        for farmer, plots in top
        if farmer in names
    )  # fmt: skip
    return [PublicProducer(name=name, plots=plots) for name, _farmer, plots in listed], (
        plot_part["producers"]["count"] - len(top)
    )


def lot_public_trace(*, public_id: uuid.UUID | str) -> PublicTrace:
    """The public journey of a lot, by its public id (an unknown id raises NotFound). It reads the lot's lineage
    digest (`traceability.lineage.lineage_digest_read`: steps, totals, regions, producers and the EUDR verdict,
    kept current by the event services and checked against the cooperative's plots in the same query), so its
    query count does not grow with the lot's deliveries or plots."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound("No such lot.") from None
    lot = Lot.objects.select_related("organisation", "commodity", "grade").filter(public_id=key).first()
    if lot is None:
        raise NotFound("No such lot.")
    cooperative = lot.organisation
    digest = lineage_digest_read(identifier=lot_identifier(lot, cooperative), organisation_id=cooperative.pk)
    events, plot_part = digest["events"], digest["plots"]
    locations = {
        location_identifier(loc, cooperative): loc for loc in Location.objects.filter(organisation=cooperative)
    }
    places = {uri: loc.name for uri, loc in locations.items()}
    places.setdefault(identifiers.location_uri(cooperative), cooperative.name)
    public = PublicTrace(
        lot=lot,
        cooperative_name=cooperative.name,
        country=str(cooperative.country),
        region=cooperative.region,
        harvest_start=_day(events.get("first")),
        harvest_end=_day(events.get("last")),
        members=events["members"],
        steps=_steps(events, places),
        regions=_regions(plot_part, locations, cooperative),
    )
    settings = CooperativeTraceSettings.objects.filter(organisation=cooperative).first()
    if settings is not None and settings.show_producers:
        public.producers, public.more_producers = _producers(plot_part, cooperative)
    today = timezone.localdate()
    public.certifications = list(
        Certification.objects.filter(organisation=cooperative, valid_from__lte=today, valid_until__gte=today)
    )
    if lot.commodity.eudr_relevant:
        cattle = lot.commodity.eudr_commodity == Commodity.Eudr.CATTLE
        public.eudr_ready = plot_part["verdict"]["cattle" if cattle else "ordinary"]["ready"]
    return public


def public_trace_cache_key(*, public_id: uuid.UUID | str) -> str | None:
    """The cache key of a lot's public trace: its id, its cooperative's chain head (a new event of the cooperative
    moves it, so the page is rebuilt), whether the cooperative names its members, and the day (certificates run
    by day). None for an unknown lot. One query."""
    from django.db.models import OuterRef, Subquery

    from traceability.models import ChainHead

    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    row = (
        Lot.objects.filter(public_id=key)
        .annotate(
            head=Subquery(ChainHead.objects.filter(organisation=OuterRef("organisation")).values("last_sequence")[:1]),
            show=Subquery(
                CooperativeTraceSettings.objects.filter(organisation=OuterRef("organisation")).values("show_producers")[
                    :1
                ]
            ),
        )
        .values_list("organisation_id", "head", "show")
        .first()
    )
    if row is None:
        return None
    organisation_id, head, show = row
    return f"public-trace:v1:{key}:{organisation_id}:{head or 0}:{int(bool(show))}:{timezone.localdate().isoformat()}"


def lot_public_trace_cached(*, public_id: uuid.UUID | str) -> PublicTrace:
    """`lot_public_trace` through the cache (settings.PUBLIC_TRACE_CACHE_SECONDS, 10 minutes by default, bounds
    how long a change that records no event, such as a new certificate, takes to show): a QR scan costs one
    query instead of two recursive traces while the cooperative records nothing new."""
    from django.conf import settings
    from django.core.cache import cache

    key = public_trace_cache_key(public_id=public_id)
    if key is None:
        raise NotFound("No such lot.")
    public = cache.get(key)
    if public is None:
        public = lot_public_trace(public_id=public_id)
        cache.set(key, public, getattr(settings, "PUBLIC_TRACE_CACHE_SECONDS", 600))
    return public
