"""The EUDR due-diligence package of a lot or an order of a commodity the EU Deforestation Regulation covers.

The contributing deliveries and plots come from the event store (the precomputed backward trace of the lot or order
within the selling cooperative's events, its lineage, whose digest lists the contributing plots' ids); the
commodity, its HS code and the delivery dates come from the catalogue. The package holds what a due-diligence
statement asks for:

* the commodity, its EUDR category and HS code, and the net mass in kilograms;
* the countries of production and the production period (the first and last delivery day);
* the geolocation of every contributing plot as the GeoJSON FeatureCollection the EU information system takes
  (properties ProducerName, ProducerCountry, ProductionPlace, Area; `traceability.eudr`).

A lot is EUDR-ready only when every contributing plot has a geometry that passes the Commission's rules; otherwise
the package says what is missing (which plot, which rule) and carries no GeoJSON, so no incomplete file leaves here.
Reads only: the viewer checks are in `catalogue.selectors.due_diligence`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from catalogue.models import Commodity, Delivery, Lot
from catalogue.tracing import lot_identifier
from marketplace.organisations.models import Organisation, Plot
from marketplace.organisations.spatial import plot_overlaps
from traceability import identifiers
from traceability.epcis import kilograms
from traceability.eudr import due_diligence_feature_collection, plot_cutoff_check, plot_geometry_checks
from traceability.lineage import lineage_digest_read
from traceability.selectors import Sale

PACKAGE_VERSION = 1


@dataclass(frozen=True)
class Missing:
    """Why a package is not ready: a rule code, a message that says what to fix, and the plot or delivery."""

    rule: str
    message: str
    plot_id: int | None = None
    plot_name: str = ""
    farmer: str = ""  # the member number
    delivery: str = ""  # the receipt number

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "message": self.message,
            "plot": self.plot_id,
            "plot_name": self.plot_name,
            "farmer": self.farmer,
            "delivery": self.delivery,
        }


@dataclass
class CommodityMass:
    commodity: Commodity
    grams: int


@dataclass
class Package:
    kind: str  # "lot" or "order"
    reference: str  # the lot code or the order number
    identifier: str  # the lot URI or the order URI
    cooperative: Organisation
    commodities: list[CommodityMass]
    net_grams: int
    countries: list[str]
    production_start: datetime.date | None
    production_end: datetime.date | None
    plots: list[Plot]
    missing: list[Missing] = field(default_factory=list)
    geojson: dict | None = None

    @property
    def ready(self) -> bool:
        return not self.missing and self.geojson is not None

    @property
    def covered(self) -> bool:
        return any(item.commodity.eudr_relevant for item in self.commodities)

    @property
    def filename(self) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in self.reference)
        return f"eudr-{self.kind}-{safe}.json"

    def as_json(self) -> dict:
        return {
            "package_version": PACKAGE_VERSION,
            "subject": {"type": self.kind, "reference": self.reference, "identifier": self.identifier},
            "cooperative": {
                "name": self.cooperative.name,
                "country": str(self.cooperative.country),
                "identifier": identifiers.organisation_uri(self.cooperative),
            },
            "commodities": [
                {
                    "code": item.commodity.code,
                    "name": item.commodity.name,
                    "eudr_commodity": item.commodity.eudr_commodity,
                    "hs_code": item.commodity.hs_code,
                    "net_mass_kg": kilograms(item.grams),
                }
                for item in self.commodities
            ],
            "net_mass_kg": kilograms(self.net_grams),
            "countries_of_production": self.countries,
            "production_period": {
                "start": self.production_start.isoformat() if self.production_start else None,
                "end": self.production_end.isoformat() if self.production_end else None,
            },
            "plot_count": len(self.plots),
            "eudr_ready": self.ready,
            "missing": [item.as_dict() for item in self.missing],
            "geolocation": self.geojson,
        }


@dataclass
class Origins:
    """The contributing deliveries, plots and the deliveries that name no plot of a lot or an order, as its
    lineage's digest lists them (`traceability.digest`: the events part, with the contributing plots' ids). No
    delivery object is built and the genealogy is not walked: a lot of 2,000 deliveries reads its 400 plots."""

    events: dict
    plots: list[Plot]
    missing: list[Missing]

    @property
    def first_day(self) -> datetime.date | None:
        day = self.events.get("first")
        return datetime.date.fromisoformat(day) if day else None

    @property
    def last_day(self) -> datetime.date | None:
        day = self.events.get("last")
        return datetime.date.fromisoformat(day) if day else None


def digest_origins(events: dict, cooperative: Organisation) -> Origins:
    """The contributing plots (loaded, with their geometry) and the origins that name no plot, from the events part
    of a lineage digest (`traceability.lineage.lineage_digest_read`). Two queries at most."""
    missing: list[Missing] = []
    references = {}
    for uri in events["unplotted_origins"]:
        parsed = identifiers.delivery_reference_of(uri)
        if parsed is not None and parsed[0] == cooperative.pk:
            references[uri] = parsed[1]
    deliveries = {}
    if references:  # only the deliveries that name no plot (normally none): no query otherwise
        deliveries = {
            d.receipt_number: d
            for d in Delivery.objects.filter(organisation=cooperative, receipt_number__in=references.values())
            .select_related("farmer")
            .only("pk", "receipt_number", "farmer__member_number")
        }
    for uri in events["unplotted_origins"]:
        delivery = deliveries.get(references.get(uri, ""))
        missing.append(
            Missing(
                rule="PLOT_MISSING",
                message=_("Delivery %(receipt)s names no plot: record which plot the produce was grown on.")
                % {"receipt": delivery.receipt_number if delivery else uri},
                farmer=delivery.farmer.member_number if delivery else "",
                delivery=delivery.receipt_number if delivery else "",
            )
        )
    plots = list(
        Plot.objects.filter(pk__in=events["plot_ids"], organisation=cooperative)
        .select_related("farmer")
        .order_by("farmer__member_number", "name", "pk")
    )
    return Origins(events=events, plots=plots, missing=missing)


def _overlaps(cooperative: Organisation, plots: list[Plot]) -> list[Missing]:
    """A contributing plot that overlaps another member's plot of the cooperative (`organisations.spatial`)."""
    found = plot_overlaps(organisation_id=cooperative.pk, plot_ids=[plot.pk for plot in plots])
    if not found:
        return []
    by_id = {plot.pk: plot for plot in plots}
    others = Plot.objects.select_related("farmer").in_bulk({o.other_plot_id for o in found} - set(by_id))
    others.update(by_id)
    missing = []
    for overlap in found:
        plot, other = by_id[overlap.plot_id], others[overlap.other_plot_id]
        names = {"plot": plot.name, "other": other.name, "number": other.farmer.member_number}
        if overlap.kind == "area":
            message = _(
                "Plot %(plot)s overlaps plot %(other)s of member %(number)s (%(percent)s %% of the smaller plot): "
                "two members cannot farm the same land; correct the boundaries."
            ) % {**names, "percent": round(overlap.share * 100)}
        else:
            message = (
                _(
                    "Plot %(plot)s and plot %(other)s of member %(number)s are given at the same place: correct the "
                    "location of one of them."
                )
                % names
            )
        missing.append(
            Missing(
                rule="PLOT_OVERLAP",
                message=message,
                plot_id=plot.pk,
                plot_name=plot.name,
                farmer=plot.farmer.member_number,
            )
        )
    return missing


def _build(
    *,
    kind: str,
    reference: str,
    identifier: str,
    cooperative: Organisation,
    commodities: list[CommodityMass],
    origins: Origins,
) -> Package:
    plots, missing = origins.plots, list(origins.missing)
    if not origins.events["found"] or not origins.events["origins"]:
        missing.insert(
            0,
            Missing(
                rule="TRACE_MISSING",
                message=_("No member delivery is recorded for this %(kind)s, so its plots are unknown.")
                % {"kind": _("lot") if kind == "lot" else _("order")},
            ),
        )
    elif not origins.events["complete"]:
        missing.insert(
            0,
            Missing(
                rule="TRACE_INCOMPLETE",
                message=_("A quantity is missing on the way back to the deliveries; the contributing plots may be "
                          "incomplete."),
            ),
        )  # fmt: skip
    cattle = any(item.commodity.eudr_commodity == Commodity.Eudr.CATTLE for item in commodities)
    checks = plot_geometry_checks(plots, cattle=cattle)
    for plot in plots:
        for issue in [*checks[plot.pk], *plot_cutoff_check(plot)]:
            missing.append(
                Missing(
                    rule=issue.rule,
                    message=issue.message,
                    plot_id=plot.pk,
                    plot_name=plot.name,
                    farmer=plot.farmer.member_number,
                )
            )
    missing += _overlaps(cooperative, plots)
    countries = sorted({str(plot.country) for plot in plots}) or [str(cooperative.country)]
    package = Package(
        kind=kind,
        reference=reference,
        identifier=identifier,
        cooperative=cooperative,
        commodities=commodities,
        net_grams=sum(item.grams for item in commodities),
        countries=countries,
        production_start=origins.first_day,
        production_end=origins.last_day,
        plots=plots,
        missing=missing,
    )
    if not missing and plots:
        package.geojson = due_diligence_feature_collection(plots, cattle=cattle, checked=True)
    return package


def lot_package(lot: Lot) -> Package:
    """The package of a lot: the whole lot, traced back within its cooperative's events (the plots its lineage's
    digest lists; their geometry is loaded and checked here, since the package carries it)."""
    organisation = lot.organisation
    uri = lot_identifier(lot, organisation)
    digest = lineage_digest_read(identifier=uri, organisation_id=organisation.pk)
    return _build(
        kind="lot",
        reference=lot.code,
        identifier=uri,
        cooperative=organisation,
        commodities=[CommodityMass(lot.commodity, lot.quantity_grams)],
        origins=digest_origins(digest["events"], organisation),
    )


def order_package(sale: Sale) -> Package:
    """The package of an order: the lots its sale names, with the grams sold of each, traced back."""
    cooperative = Organisation.objects.get(pk=sale.seller_id)
    codes = {uri: identifiers.lot_code_of(uri) for uri in sale.lots}
    lots = {lot.code: lot for lot in Lot.objects.filter(organisation=cooperative, code__in=codes.values())}
    masses: dict[int, CommodityMass] = {}
    for uri, grams in sorted(sale.lots.items()):
        lot = lots.get(codes[uri])
        if lot is None:
            continue
        entry = masses.setdefault(lot.commodity_id, CommodityMass(lot.commodity, 0))
        entry.grams += grams
    digest = lineage_digest_read(
        identifier=f"{identifiers.ORDER_PREFIX}{sale.order_number}", organisation_id=cooperative.pk
    )
    return _build(
        kind="order",
        reference=sale.order_number,
        identifier=identifiers.order_uri(sale.order_number),
        cooperative=cooperative,
        commodities=sorted(masses.values(), key=lambda item: item.commodity.code),
        origins=digest_origins(digest["events"], cooperative),
    )
