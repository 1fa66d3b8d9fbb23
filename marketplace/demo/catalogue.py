"""Demo catalogue: for each demo cooperative, its places and certificates, members' deliveries (one corrected by a
reversal, one downgraded for moisture), lots with member shares (bulked, split, moved and merged) and listings; for
each demo input supplier, products and offers with volume price tiers.

The services record every step in the event store, so each lot has its journey. Deliveries of cocoa and coffee
name a plot with a polygon, so those lots are EUDR-ready (the Nawa cocoa split part, moved to San-Pédro, and the
Nyamasheke coffee split part, moved to the Rusizi dry mill, show the full journey); one more Nawa lot takes a
delivery from a plot without geometry and is the demo's lot that is not ready.

Everything goes through `catalogue.services`, acting as the demo accounts of `marketplace.demo.organisations`.
The plan is fixed (or drawn from seeded random generators), so every run plans the same data; `seed` creates only
what is missing. Deliveries carry a client reference derived from the plan, so recording one again finds the
first; lots, listings and offers are looked up by what makes them unique in the plan.
"""

from __future__ import annotations

import datetime
import importlib
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from catalogue import services
from catalogue.models import (
    Certification,
    Commodity,
    Delivery,
    Grade,
    InputProduct,
    Listing,
    Location,
    Lot,
    LotIntake,
    OrganisationCode,
    Packaging,
    SupplierOffer,
)
from catalogue.services import RegionInput, TierInput
from marketplace.core.money import Money
from marketplace.demo.organisations import account, organisation
from marketplace.organisations.models import MemberFarmer

NAMESPACE = uuid.UUID("8d6f3a52-5f0e-4c3e-9a51-6d2c2f6b7c10")
SEASON_START = datetime.date(2025, 10, 6)  # the main crop; fixed so that every run plans the same deliveries


@dataclass(frozen=True)
class PlaceSpec:
    code: str
    name: str
    collection: bool
    warehouse: bool
    latitude: str
    longitude: str


@dataclass(frozen=True)
class CooperativeSpec:
    key: str
    prefix: str
    commodity: str
    packaging: str | None  # bag type members deliver in; None: weighed loose
    bag_range: tuple[int, int]
    loose_kg: tuple[int, int]
    moisture: tuple[str, str]  # range of measured moisture, %
    grade_weights: dict[str, int]
    downgrade: tuple[str, str, str]  # declared grade, moisture, grade recorded
    deliveries: int
    places: list[PlaceSpec]
    certifications: list[tuple[str, str, str]]  # scheme, number, certifying body
    price_per_kg: int  # in the cooperative's currency (major units)
    store_at: str = ""  # a warehouse the first split part is moved to, so its journey shows a storing step
    unmapped_lot: bool = False  # also bulk a lot with a plot that has no geometry: the demo's not EUDR-ready lot


COOPERATIVES = [
    CooperativeSpec(
        key="cocoa-nawa", prefix="NAWA", commodity="cocoa-beans", packaging="jute-bag-62-5kg", bag_range=(2, 8),
        loose_kg=(0, 0), moisture=("6.4", "7.5"), grade_weights={"grade-1": 8, "grade-2": 3},
        downgrade=("grade-1", "7.9", "grade-2"), deliveries=26,
        places=[
            PlaceSpec("okrouyo-cp", "Okrouyo collection point", True, False, "5.742310", "-6.650820"),
            PlaceSpec("liliyo-cp", "Liliyo collection point", True, False, "5.883410", "-6.735220"),
            PlaceSpec("soubre-wh", "Soubré warehouse", True, True, "5.781240", "-6.601330"),
            PlaceSpec("sanpedro-wh", "San-Pédro port warehouse", False, True, "4.748510", "-6.636310"),
        ],
        certifications=[("fairtrade", "FLO-ID 38421", "FLOCERT"),
                        ("rainforest_alliance", "RA-CI-2024-0917", "Control Union")],
        price_per_kg=1500, store_at="sanpedro-wh", unmapped_lot=True,
    ),
    CooperativeSpec(
        key="coffee-nyamasheke", prefix="KAWA", commodity="coffee-arabica-cherry", packaging=None, bag_range=(0, 0),
        loose_kg=(35, 260), moisture=("55", "65"), grade_weights={"ripe": 9, "mixed": 2},
        downgrade=("ripe", "62", "mixed"), deliveries=24,
        places=[
            PlaceSpec("kanjongo-ws", "Kanjongo washing station", True, True, "-2.353310", "29.112840"),
            PlaceSpec("macuba-cp", "Macuba cherry point", True, False, "-2.319870", "29.160210"),
            PlaceSpec("rusizi-mill", "Rusizi dry mill", False, True, "-2.484610", "28.907430"),
        ],
        certifications=[("fairtrade", "FLO-ID 27104", "FLOCERT"), ("organic", "RW-BIO-140-2025", "Ecocert")],
        price_per_kg=410, store_at="rusizi-mill",
    ),
    CooperativeSpec(
        key="maize-transnzoia", prefix="TNZM", commodity="maize-white", packaging="pp-bag-90kg", bag_range=(3, 20),
        loose_kg=(0, 0), moisture=("12.0", "12.9"), grade_weights={"grade-1": 6, "grade-2": 4},
        downgrade=("grade-1", "13.3", "grade-2"), deliveries=22,
        places=[
            PlaceSpec("kiminini-cp", "Kiminini buying centre", True, False, "0.894120", "34.925870"),
            PlaceSpec("kitale-store", "Kitale store", True, True, "1.019830", "35.001240"),
        ],
        certifications=[],
        price_per_kg=38,
    ),
]  # fmt: skip


@dataclass(frozen=True)
class ProductSpec:
    name: str
    kind: str
    packaging: str
    crop: str = ""
    variety: str = ""
    npk: tuple[int, int, int] | None = None
    active_ingredient: str = ""


@dataclass(frozen=True)
class OfferSpec:
    product: ProductSpec
    tiers: list[tuple[int, int | None, str]]  # from, to (None: and more), price per pack in major units
    regions: list[tuple[str, str]]
    stock: int
    lead_time_days: int


SUPPLIERS = {
    "kitale-inputs": [
        OfferSpec(ProductSpec("DAP 18-46-0", "fertiliser", "pp-bag-50kg", npk=(18, 46, 0)),
                  [(1, 99, "3900"), (100, 499, "3750"), (500, None, "3600")],
                  [("KE", "Trans Nzoia"), ("KE", "Bungoma"), ("KE", "Uasin Gishu")], 2400, 3),
        OfferSpec(ProductSpec("CAN 26-0-0 top dressing", "fertiliser", "pp-bag-50kg", npk=(26, 0, 0)),
                  [(1, 49, "3300"), (50, 299, "3150"), (300, None, "2990")], [("KE", "Trans Nzoia")], 1800, 3),
        OfferSpec(ProductSpec("Hybrid maize H614D", "seed", "seed-bag-10kg", crop="maize-white", variety="H614D"),
                  [(1, 19, "2650"), (20, 99, "2550"), (100, None, "2450")], [("KE", "")], 900, 5),
        OfferSpec(ProductSpec("Glyphosate 360 SL", "crop_protection", "bottle-1l",
                              active_ingredient="glyphosate 360 g/l"),
                  [(1, 23, "780"), (24, None, "720")], [("KE", "Trans Nzoia"), ("KE", "Bungoma")], 600, 2),
        OfferSpec(ProductSpec("Knapsack sprayer 16 l", "tool", "piece"),
                  [(1, 9, "3200"), (10, None, "2950")], [("KE", "")], 120, 7),
    ],
    "soubre-intrants": [
        OfferSpec(ProductSpec("NPK 0-23-19 cacao", "fertiliser", "pp-bag-50kg", npk=(0, 23, 19)),
                  [(1, 99, "17500"), (100, 399, "16800"), (400, None, "16000")], [("CI", "Nawa"), ("CI", "San-Pédro")],
                  3000, 4),
        OfferSpec(ProductSpec("Hydroxyde de cuivre 50 WP", "crop_protection", "seed-pack-2kg",
                              active_ingredient="copper hydroxide 500 g/kg"),
                  [(1, 49, "9800"), (50, None, "9200")], [("CI", "Nawa")], 800, 2),
        OfferSpec(ProductSpec("Machette 22 pouces", "tool", "piece"),
                  [(1, 49, "2500"), (50, None, "2200")], [("CI", "")], 1500, 1),
    ],
}  # fmt: skip


class _Counter:
    def __init__(self) -> None:
        self.created: dict[str, int] = {}

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def summary(self) -> str:
        if not self.created:
            return "nothing new (already seeded)"
        return ", ".join(f"{n} {what}" for what, n in self.created.items())


def _reference_data() -> None:
    """Commodities, grades and packaging come from the catalogue's data migration; put them back if a flushed test
    database lost them (the loader is idempotent)."""
    if not Commodity.objects.filter(code="cocoa-beans").exists() or not Packaging.objects.filter(code="piece"):
        from django.apps import apps

        importlib.import_module("catalogue.migrations.0003_reference_data").load(apps, None)


# --- Cooperatives -------------------------------------------------------------------------


def _places(spec: CooperativeSpec, coop, manager, counter: _Counter) -> dict[str, Location]:
    if not OrganisationCode.objects.filter(organisation=coop).exists():
        services.organisation_code_set(actor=manager, organisation_id=coop.pk, prefix=spec.prefix)
    places = {place.code: place for place in Location.objects.filter(organisation=coop)}
    for place in spec.places:
        if place.code not in places:
            places[place.code] = services.location_create(
                actor=manager, organisation_id=coop.pk, code=place.code, name=place.name,
                is_collection_point=place.collection, is_warehouse=place.warehouse, region=coop.region,
                latitude=Decimal(place.latitude), longitude=Decimal(place.longitude),
            )  # fmt: skip
            counter.add("locations")
    numbers = set(Certification.objects.filter(organisation=coop).values_list("certificate_number", flat=True))
    for scheme, number, body in spec.certifications:
        if number not in numbers:
            services.certification_create(
                actor=manager, organisation_id=coop.pk, scheme=scheme, certificate_number=number,
                certifying_body=body, valid_from=datetime.date(2025, 3, 1), valid_until=datetime.date(2028, 2, 28),
            )  # fmt: skip
            counter.add("certifications")
    return places


def _farmers(coop) -> list[MemberFarmer]:
    return list(
        MemberFarmer.objects.filter(organisation=coop, status=MemberFarmer.Status.ACTIVE)
        .order_by("member_number")
        .prefetch_related("plots")
    )


def _mapped_plots(farmer: MemberFarmer) -> list:
    """The member's plots that carry a geometry, by name: deliveries of EUDR commodities name one of these."""
    return sorted((plot for plot in farmer.plots.all() if plot.geometry), key=lambda plot: plot.name)


def _warehouse(spec: CooperativeSpec, places: dict[str, Location]) -> Location:
    """The cooperative's main warehouse: the first one its plan lists."""
    return places[next(place.code for place in spec.places if place.warehouse)]


def _deliveries(spec: CooperativeSpec, coop, clerk, places, counter: _Counter) -> list[Delivery]:
    """The planned deliveries, recorded once: each carries a client reference derived from the plan."""
    rng = random.Random(f"coopmarket-demo-catalogue:{spec.key}")  # noqa: S311 (demo data, not security)
    commodity = Commodity.objects.get(code=spec.commodity)
    grades = {grade.code: grade for grade in Grade.objects.filter(commodity=commodity)}
    packaging = Packaging.objects.get(code=spec.packaging) if spec.packaging else None
    farmers = _farmers(coop)
    if commodity.eudr_relevant:  # members whose plots are all unmapped deliver only to the demo's unmapped lot
        farmers = [farmer for farmer in farmers if _mapped_plots(farmer)]
    collection_points = [p for code, p in sorted(places.items()) if p.is_collection_point and code in
                         {place.code for place in spec.places}]  # fmt: skip
    low, high = Decimal(spec.moisture[0]), Decimal(spec.moisture[1])
    recorded = []
    for number in range(spec.deliveries):
        farmer = farmers[(number * 7) % len(farmers)]
        plots = _mapped_plots(farmer) or sorted(farmer.plots.all(), key=lambda plot: plot.name)
        grade_code = rng.choices(list(spec.grade_weights), weights=list(spec.grade_weights.values()))[0]
        moisture = (low + (high - low) * Decimal(rng.randint(0, 10)) / 10).quantize(Decimal("0.1"))
        downgrade = None
        if number == 5:  # one delivery was too wet for its grade and is recorded lower
            grade_code, moisture, downgrade = spec.downgrade[0], Decimal(spec.downgrade[1]), spec.downgrade[2]
        bags = rng.randint(*spec.bag_range) if packaging else 0
        net_grams = None if packaging else rng.randint(*spec.loose_kg) * 1000
        delivery = services.delivery_record(
            actor=clerk, organisation_id=coop.pk, collection_point_id=collection_points[number % 2].pk,
            farmer_id=farmer.pk, plot_id=plots[0].pk if plots else None, commodity_id=commodity.pk,
            grade_id=grades[grade_code].pk, moisture_pct=moisture, net_grams=net_grams, bag_count=bags,
            packaging_id=packaging.pk if packaging else None,
            downgrade_to_grade_id=grades[downgrade].pk if downgrade else None,
            delivered_on=SEASON_START + datetime.timedelta(days=number * 2 + rng.randint(0, 1)),
            client_reference=uuid.uuid5(NAMESPACE, f"{spec.key}:delivery:{number}"),
        )  # fmt: skip
        if not delivery.replayed:
            counter.add("deliveries")
        recorded.append(delivery)
    mistaken = recorded[3]  # the clerk picked the wrong member: reversed, and recorded again for the right one
    if not Delivery.objects.filter(reverses=mistaken).exists() and not LotIntake.objects.filter(delivery=mistaken):
        services.delivery_reverse(actor=clerk, delivery_id=mistaken.pk, reason="Recorded under the wrong member.")
        counter.add("reversals")
    right = farmers[(3 * 7 + 1) % len(farmers)]
    plots = _mapped_plots(right) or sorted(right.plots.all(), key=lambda plot: plot.name)
    correction = services.delivery_record(
        actor=clerk, organisation_id=coop.pk, collection_point_id=mistaken.collection_point_id, farmer_id=right.pk,
        plot_id=plots[0].pk if plots else None, commodity_id=commodity.pk, grade_id=mistaken.grade_id,
        moisture_pct=mistaken.moisture_pct, net_grams=mistaken.net_grams, gross_grams=mistaken.gross_grams,
        bag_count=mistaken.bag_count, packaging_id=mistaken.packaging_id, delivered_on=mistaken.delivered_on,
        client_reference=uuid.uuid5(NAMESPACE, f"{spec.key}:delivery:correction"),
    )  # fmt: skip
    if not correction.replayed:
        counter.add("deliveries")
    return [d for d in recorded if d.pk != mistaken.pk] + [correction]


def _lots(spec: CooperativeSpec, coop, manager, places, deliveries, counter: _Counter) -> list[Lot]:
    """Bulk by grade, three or four deliveries a lot; then split the first lot of the main grade and merge two
    others, so that the demo shows lineage. Returns the open lots."""
    warehouse = _warehouse(spec, places)
    by_grade: dict[int, list[Delivery]] = {}
    for delivery in deliveries:
        by_grade.setdefault(delivery.grade_id, []).append(delivery)
    made: list[Lot] = []
    for group in by_grade.values():
        for start in range(0, len(group), 4):
            chunk = group[start : start + 4]
            intake = LotIntake.objects.filter(delivery=chunk[0]).select_related("lot").first()
            if intake is not None:
                made.append(intake.lot)
                continue
            made.append(services.lot_bulk(
                actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in chunk],
                storage_location_id=warehouse.pk,
            ))  # fmt: skip
            counter.add("lots")
    main = [lot for lot in made if lot.grade_id == deliveries[0].grade_id]
    if len(main) >= 1:
        first = Lot.objects.get(pk=main[0].pk)
        if first.status == Lot.Status.OPEN and first.quantity_grams >= 2000:
            parts = services.lot_split(actor=manager, lot_id=first.pk, parts_grams=[first.quantity_grams // 3])
            counter.add("splits")
            if spec.store_at:  # the first part goes on to another warehouse: its journey shows a storing step
                services.lot_move(actor=manager, lot_id=parts[0].pk, storage_location_id=places[spec.store_at].pk)
                counter.add("moves")
    if len(main) >= 3:
        pair = list(Lot.objects.filter(pk__in=[main[1].pk, main[2].pk], status=Lot.Status.OPEN))
        if len(pair) == 2:
            services.lot_merge(actor=manager, lot_ids=[lot.pk for lot in pair])
            counter.add("merges")
    return list(Lot.objects.filter(organisation=coop, status=Lot.Status.OPEN).order_by("-quantity_grams", "pk"))


def _unmapped_lot(spec: CooperativeSpec, coop, clerk, manager, places, counter: _Counter) -> None:
    """A lot that is not EUDR-ready: a member whose plot has no geometry delivers into it, beside one whose plot
    has a polygon. Its lot page and due-diligence package say which plot lacks what."""
    farmers = _farmers(coop)
    unmapped = next(
        ((f, p) for f in farmers for p in sorted(f.plots.all(), key=lambda plot: plot.name) if not p.geometry), None
    )
    mapped = next((f for f in farmers if _mapped_plots(f) and (unmapped is None or f.pk != unmapped[0].pk)), None)
    if unmapped is None or mapped is None:
        return
    commodity = Commodity.objects.get(code=spec.commodity)
    grade = Grade.objects.get(commodity=commodity, code=next(iter(spec.grade_weights)))
    packaging = Packaging.objects.get(code=spec.packaging) if spec.packaging else None
    point = next(places[place.code] for place in spec.places if place.collection)
    deliveries = []
    for index, (farmer, plot) in enumerate([unmapped, (mapped, _mapped_plots(mapped)[0])]):
        delivery = services.delivery_record(
            actor=clerk, organisation_id=coop.pk, collection_point_id=point.pk, farmer_id=farmer.pk,
            plot_id=plot.pk, commodity_id=commodity.pk, grade_id=grade.pk, moisture_pct=Decimal(spec.moisture[0]),
            bag_count=3 if packaging else 0, packaging_id=packaging.pk if packaging else None,
            net_grams=None if packaging else 120_000,
            delivered_on=SEASON_START + datetime.timedelta(days=spec.deliveries * 2 + 4 + index),
            client_reference=uuid.uuid5(NAMESPACE, f"{spec.key}:delivery:unmapped:{index}"),
        )  # fmt: skip
        if not delivery.replayed:
            counter.add("deliveries")
        deliveries.append(delivery)
    if LotIntake.objects.filter(delivery=deliveries[0]).exists():
        return
    services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                      storage_location_id=_warehouse(spec, places).pk)  # fmt: skip
    counter.add("lots")


def _listings(spec: CooperativeSpec, coop, manager, places, lots, counter: _Counter) -> None:
    warehouse = _warehouse(spec, places)
    if Listing.objects.filter(organisation=coop, description__startswith="Demo:").exists():
        return
    today = timezone.localdate()
    valid = Certification.objects.filter(organisation=coop, valid_from__lte=today, valid_until__gte=today)
    certificates = list(valid.values_list("pk", flat=True))
    for index, lot in enumerate(lots[:2]):
        lot = Lot.objects.select_related("commodity", "grade").get(pk=lot.pk)
        per_tonne = index == 1
        price = spec.price_per_kg * (1000 if per_tonne else 1) - (0 if lot.grade.rank == 1 else spec.price_per_kg // 10)
        services.listing_create(
            actor=manager, lot_id=lot.pk,
            title=f"{lot.commodity.name}, {lot.grade.name} — {lot.quantity_grams / 1_000_000:.1f} t",
            description=f"Demo: lot {lot.code}, member deliveries of the {SEASON_START.year} main crop.",
            price=Money.from_decimal(Decimal(price), coop.currency), price_unit="TNE" if per_tonne else "KGM",
            quantity_grams=lot.quantity_grams, min_order_grams=min(lot.quantity_grams, 100_000),
            delivery_terms="ex_warehouse" if index == 0 else "delivered",
            pickup_location_id=warehouse.pk if index == 0 else None,
            delivery_country=coop.country.code, delivery_region=coop.region,
            available_from=today, valid_until=today + datetime.timedelta(days=90),
            certification_ids=certificates,
        )  # fmt: skip
        counter.add("listings")


# --- Input suppliers ----------------------------------------------------------------------


def _offers(key: str, offers: list[OfferSpec], counter: _Counter) -> None:
    supplier = organisation(key)
    manager = account(f"manager@{key}.demo")
    for offer in offers:
        spec = offer.product
        product = InputProduct.objects.filter(organisation=supplier, name=spec.name).first()
        if product is None:
            crop = Commodity.objects.get(code=spec.crop) if spec.crop else None
            product = services.input_product_create(
                actor=manager, organisation_id=supplier.pk, kind=spec.kind, name=spec.name,
                packaging_id=Packaging.objects.get(code=spec.packaging).pk, crop_id=crop.pk if crop else None,
                variety=spec.variety, npk=spec.npk, active_ingredient=spec.active_ingredient,
            )  # fmt: skip
            counter.add("input products")
        if SupplierOffer.objects.filter(organisation=supplier, product=product).exists():
            continue
        today = timezone.localdate()
        services.supplier_offer_create(
            actor=manager, organisation_id=supplier.pk, product_id=product.pk, currency=supplier.currency,
            stock_packs=offer.stock,
            tiers=[TierInput(low, Money.from_decimal(Decimal(price), supplier.currency), high)
                   for low, high, price in offer.tiers],
            regions=[RegionInput(country, region) for country, region in offer.regions],
            lead_time_days=offer.lead_time_days, valid_from=today, valid_until=today + datetime.timedelta(days=120),
            notes="Prices per pack, delivered to your collection point.",
        )  # fmt: skip
        counter.add("offers")


@transaction.atomic
def seed(*, stdout: TextIO) -> None:
    _reference_data()
    counter = _Counter()
    for spec in COOPERATIVES:
        coop = organisation(spec.key)
        manager, clerk = account(f"manager@{spec.key}.demo"), account(f"clerk@{spec.key}.demo")
        places = _places(spec, coop, manager, counter)
        deliveries = _deliveries(spec, coop, clerk, places, counter)
        lots = _lots(spec, coop, manager, places, deliveries, counter)
        _listings(spec, coop, manager, places, lots, counter)
        if spec.unmapped_lot:
            _unmapped_lot(spec, coop, clerk, manager, places, counter)
    for key, offers in SUPPLIERS.items():
        _offers(key, offers, counter)
    stdout.write(f"catalogue: {counter.summary()}\n")
