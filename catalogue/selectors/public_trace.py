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
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape

from catalogue.due_diligence import lot_package, trace_origins
from catalogue.models import Certification, CooperativeTraceSettings, Location, Lot
from catalogue.tracing import location_identifier, lot_identifier
from marketplace.core.errors import NotFound
from marketplace.organisations.models import MemberFarmer
from traceability import identifiers
from traceability.lineage import lineage_read
from traceability.models import EventType, LotRole
from traceability.selectors import trace_events


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
    eudr_ready: bool | None = None  # None: a commodity the EUDR does not cover


def _centre(geometry) -> tuple[float | None, float | None]:
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    try:
        point = shape(geometry).centroid
    except Exception:
        return None, None
    return round(point.y, 4), round(point.x, 4)


def _code(uri: str) -> str:
    return identifiers.lot_code_of(uri) or uri.rsplit("/", 1)[-1]


def _steps(events, places: dict[str, str], delivered: set[str], summary: dict) -> list[PublicStep]:
    """The public steps: one line for all member deliveries (from the lineage's aggregate, `summary`), then every
    other event. `events` are the trace's events without the deliveries' own receiving events; `delivered` the
    contributing delivery URIs."""
    steps: list[PublicStep] = []
    if summary.get("deliveries"):
        first = datetime.date.fromisoformat(summary["first"]) if summary.get("first") else None
        last = datetime.date.fromisoformat(summary["last"]) if summary.get("last") else None
        groups = summary.get("groups", [])
        names = sorted({places.get(g["place"], "") for g in groups} - {""})
        steps.append(
            PublicStep(
                kind="delivered",
                title=_("%(deliveries)d member deliveries from %(members)d members")
                % {"deliveries": summary["deliveries"], "members": len({g["farmer"] for g in groups if g["farmer"]})},
                started=first,
                ended=last if last != first else None,
                place=", ".join(names),
                grams=summary.get("grams") or None,
            )
        )
    received_pks = set(summary.get("origin_event_pks", []))
    for event in events:
        when = timezone.localtime(event.event_time).date()
        place = places.get(event.biz_location or event.read_point, "")
        rows = list(event.lots.all())
        if event.event_type == EventType.TRANSFORMATION:
            inputs = [r for r in rows if r.role == LotRole.INPUT]
            outputs = [r for r in rows if r.role == LotRole.OUTPUT]
            from_deliveries = all(r.lot_uri in delivered for r in inputs)
            made = ", ".join(f"{_code(r.lot_uri)}" for r in outputs)
            if from_deliveries:
                kind, title = "bulked", _("Deliveries bulked into lot %(lots)s") % {"lots": made}
            elif len(inputs) == 1 and len(outputs) > 1:
                kind = "split"
                title = _("Lot %(lot)s split into %(lots)s") % {"lot": _code(inputs[0].lot_uri), "lots": made}
            elif len(inputs) > 1:
                kind = "merged"
                title = _("Lots %(lots)s merged into %(lot)s") % {
                    "lots": ", ".join(_code(r.lot_uri) for r in inputs),
                    "lot": made,
                }
            else:
                kind, title = (
                    "transformed",
                    _("Lot %(lot)s became %(lots)s")
                    % {
                        "lot": _code(inputs[0].lot_uri) if inputs else "",
                        "lots": made,
                    },
                )
            grams = sum(r.grams or 0 for r in outputs) or None
            steps.append(PublicStep(kind=kind, title=title, started=when, place=place, grams=grams))
            continue
        if event.pk in received_pks:
            continue
        grams = sum(r.grams or 0 for r in rows) or None
        codes = ", ".join(_code(r.lot_uri) for r in rows)
        if event.event_type == EventType.TRANSACTION:
            cancelled = event.action == "DELETE"
            steps.append(
                PublicStep(
                    kind="sale_cancelled" if cancelled else "sold",
                    title=(_("Sale of lot %(lots)s cancelled") if cancelled else _("Lot %(lots)s sold to a buyer"))
                    % {"lots": codes},
                    started=when,
                    grams=grams,
                )
            )
        elif event.biz_step == "storing":
            steps.append(PublicStep(kind="stored", title=_("Lot %(lots)s stored") % {"lots": codes}, started=when,
                                    place=place, grams=grams))  # fmt: skip
        elif event.biz_step == "inspecting":
            verdict = _("conformant") if event.disposition == "conformant" else _("not conformant")
            steps.append(PublicStep(kind="inspected", title=_("Lot %(lots)s inspected: %(verdict)s")
                                    % {"lots": codes, "verdict": verdict}, started=when, place=place))  # fmt: skip
        elif event.biz_step == "shipping":
            steps.append(PublicStep(kind="dispatched", title=_("Lot %(lots)s dispatched") % {"lots": codes},
                                    started=when, grams=grams))  # fmt: skip
        elif event.biz_step == "receiving":
            steps.append(PublicStep(kind="received", title=_("Lot %(lots)s received") % {"lots": codes},
                                    started=when, grams=grams))  # fmt: skip
    return steps


def lot_public_trace(*, public_id: uuid.UUID | str) -> PublicTrace:
    """The public journey of a lot, by its public id (an unknown id raises NotFound)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound("No such lot.") from None
    lot = Lot.objects.select_related("organisation", "commodity", "grade").filter(public_id=key).first()
    if lot is None:
        raise NotFound("No such lot.")
    cooperative = lot.organisation
    trace, summary = lineage_read(identifier=lot_identifier(lot, cooperative), organisation_id=cooperative.pk)
    origins = trace_origins(trace, cooperative, summary)
    # The deliveries' own receiving events are summed up in one step from the aggregate; only the other events
    # (bulking, splits, storage, inspections, sales) are loaded.
    skipped = set(summary.get("origin_event_pks", []))
    others = [pk for pk in trace.event_pks if pk not in skipped]
    events = trace_events(replace(trace, event_pks=others), summary=True)
    locations = {
        location_identifier(loc, cooperative): loc for loc in Location.objects.filter(organisation=cooperative)
    }
    places = {uri: loc.name for uri, loc in locations.items()}
    places.setdefault(identifiers.location_uri(cooperative), cooperative.name)
    delivered = {
        origin.uri
        for origin in trace.origins
        if (parsed := identifiers.delivery_reference_of(origin.uri)) is not None and parsed[0] == cooperative.pk
    }
    public = PublicTrace(
        lot=lot,
        cooperative_name=cooperative.name,
        country=str(cooperative.country),
        region=cooperative.region,
        harvest_start=origins.first_day,
        harvest_end=origins.last_day,
        members=len(origins.farmer_ids),
        steps=_steps(events, places, delivered, summary),
    )
    plots_by_id = {plot.pk: plot for plot in origins.plots}
    regions: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"members": set(), "plots": set(), "hectares": Decimal(0)}
    )
    for group in origins.groups:
        location = locations.get(group["place"])
        # A delivery without a collection point is received at the cooperative itself: no region is named.
        region = (location.region or cooperative.region) if location is not None else ""
        plot = plots_by_id.get(identifiers.plot_id_of(group["plot"]) or 0)
        country = str(plot.country) if plot is not None else str(cooperative.country)
        entry = regions[(region, country)]
        entry["members"].add(group["farmer"])
        if plot is not None and plot.pk not in entry["plots"]:
            entry["plots"].add(plot.pk)
            entry["hectares"] += plot.area_hectares
    public.regions = [
        PublicRegion(region=region, country=country, members=len(e["members"]), plots=len(e["plots"]),
                     hectares=e["hectares"])
        for (region, country), e in sorted(regions.items())
    ]  # fmt: skip
    settings = CooperativeTraceSettings.objects.filter(organisation=cooperative).first()
    if settings is not None and settings.show_producers:
        farmers = MemberFarmer.objects.filter(pk__in=origins.farmer_ids, organisation=cooperative).only("pk", "name")
        by_farmer: dict[int, PublicProducer] = {}
        for farmer in sorted(farmers, key=lambda f: (f.name, f.pk)):
            by_farmer[farmer.pk] = PublicProducer(name=farmer.name, plots=[])
        for plot in origins.plots:
            producer = by_farmer.get(plot.farmer_id)
            if producer is not None:
                latitude, longitude = _centre(plot.geometry) if plot.geometry else (None, None)
                producer.plots.append(PublicPlot(plot.name, plot.area_hectares, latitude, longitude))
        public.producers = list(by_farmer.values())
    today = timezone.localdate()
    public.certifications = list(
        Certification.objects.filter(organisation=cooperative, valid_from__lte=today, valid_until__gte=today)
    )
    if lot.commodity.eudr_relevant:
        public.eudr_ready = lot_package(lot, trace=trace, origins=origins).ready
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
