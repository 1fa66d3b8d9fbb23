"""Demo matching: open requests from Amstel Origins (cocoa in XOF, coffee in RWF) and Mavuno Millers (maize in
KES), matched against the cooperatives' live listings so that each has a live proposal; and one cocoa request
filled from two cooperatives' lots (Nawa's and a second cocoa cooperative's, Méagui, seeded here), accepted by
everyone, so that its orders show as one consignment. Idempotent: a request is found by its delivery place and
buyer, and a re-match keeps the proposals it would make again."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TextIO

from django.db.models import Sum
from django.utils import timezone

from catalogue import services as catalogue
from catalogue.models import Commodity, Grade, Listing, Location
from marketplace.core.money import Money
from marketplace.demo.organisations import (
    AccountSpec,
    OrganisationSpec,
    _Counter,
    _seed_lead,
    _seed_operator,
    _seed_organisation,
    account,
    organisation,
)
from marketplace.matching import services
from marketplace.matching.models import BuyerRequest, Proposal, ProposalPart
from marketplace.organisations import services as organisations
from marketplace.organisations.models import MemberFarmer, Organisation
from marketplace.organisations.roles import Role

TONNE = 1_000_000

# buyer key, manager e-mail, commodity, currency, delivery place, latitude, longitude, max distance (km), markup
PLAN = [
    ("amstel-origins", "manager@amstel-origins.demo", "cocoa-beans", "XOF", "San-Pédro port", "4.748510",
     "-6.636310", 300, Decimal("1.12")),
    ("amstel-origins", "manager@amstel-origins.demo", "coffee-arabica-cherry", "RWF", "Rusizi dry mill",
     "-2.484610", "28.907430", 120, Decimal("1.15")),
    ("mavuno-millers", "manager@mavuno-millers.demo", "maize-white", "KES", "Mavuno mill, Nairobi", "-1.308410",
     "36.848770", 450, Decimal("1.30")),
]  # fmt: skip


MEAGUI = OrganisationSpec(
    key="cocoa-meagui", kind=Organisation.Kind.COOPERATIVE, legal_name="Coopérative Agricole de Méagui",
    display_name="Méagui Cacao", country="CI", region="Nawa, Méagui", address="BP 45 Méagui", latitude="5.404100",
    longitude="-6.558200", registration_number="CI-MEA-2015-C-0211", currency="XOF", preferred_language="fr",
    email="contact@cocoa-meagui.demo", phone="+2252734700101",
)  # fmt: skip
MEAGUI_ADMIN = AccountSpec("admin@cocoa-meagui.demo", "Awa Koné", "cocoa-meagui", Role.ADMIN, "fr", True)
FILLED_PLACE = "Abidjan port (filled from two cooperatives)"


def _meagui_listing() -> Listing:
    """Méagui's 12 t grade I cocoa listing at its Méagui warehouse, made through the services."""
    counter = _Counter()
    _, operator_admin = _seed_operator(counter)
    coop = _seed_organisation(MEAGUI, operator_admin=operator_admin, counter=counter)
    admin = _seed_lead(MEAGUI_ADMIN, organisation=coop, operator_admin=operator_admin, counter=counter)
    existing = Listing.objects.filter(organisation=coop).first()
    if existing is not None:
        return existing
    cocoa = Commodity.objects.get(code="cocoa-beans")
    grade = Grade.objects.get(commodity=cocoa, code="grade-1")
    warehouse = Location.objects.filter(organisation=coop, code="meagui-wh").first() or catalogue.location_create(
        actor=admin, organisation_id=coop.pk, code="meagui-wh", name="Méagui warehouse", is_collection_point=True,
        is_warehouse=True, region=coop.region, latitude=Decimal("5.404100"), longitude=Decimal("-6.558200"),
    )  # fmt: skip
    deliveries = []
    for n, grams in enumerate((4_500_000, 4_000_000, 3_500_000), start=1):
        farmer = MemberFarmer.objects.filter(organisation=coop, member_number=f"MEA-{n:04d}").first()
        if farmer is None:
            farmer = organisations.member_farmer_create(
                actor=admin, organisation_id=coop.pk, member_number=f"MEA-{n:04d}",
                name=["Yao Kouassi", "Adjoua N'Guessan", "Seydou Traoré"][n - 1],
            )  # fmt: skip
        plot = farmer.plots.first() or organisations.plot_create(
            actor=admin, farmer_id=farmer.pk, name="Parcelle 1", area_hectares=Decimal("2.5")
        )
        deliveries.append(
            catalogue.delivery_record(
                actor=admin, organisation_id=coop.pk, collection_point_id=warehouse.pk, farmer_id=farmer.pk,
                plot_id=plot.pk, commodity_id=cocoa.pk, grade_id=grade.pk, moisture_pct=Decimal("7.1"),
                net_grams=grams,
            )
        )  # fmt: skip
    lot = catalogue.lot_bulk(actor=admin, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                             storage_location_id=warehouse.pk)  # fmt: skip
    today = timezone.localdate()
    return catalogue.listing_create(
        actor=admin, lot_id=lot.pk, title="Cocoa Grade I, Méagui — 12 t", price=Money(1_480, "XOF"),
        price_unit="KGM", quantity_grams=lot.quantity_grams, min_order_grams=100_000, delivery_terms="ex_warehouse",
        pickup_location_id=warehouse.pk, available_from=today, valid_until=today + datetime.timedelta(days=90),
    )  # fmt: skip


def _filled_from_two(stdout: TextIO) -> None:
    """A 20 t cocoa request for Abidjan from Amstel Origins, proposed from Nawa's and Méagui's lots, accepted by
    both cooperatives and the buyer: one consignment of two orders."""
    buyer = organisation("amstel-origins")
    cocoa = Commodity.objects.get(code="cocoa-beans")
    if BuyerRequest.objects.filter(buyer=buyer, delivery_place=FILLED_PLACE).exists():
        return
    meagui = _meagui_listing()
    nawa = Listing.objects.filter(organisation=organisation("cocoa-nawa"), commodity=cocoa,
                                  status=Listing.Status.ACTIVE, pickup_location__isnull=False)  # fmt: skip
    nawa_grams = max((x.quantity_available_grams for x in nawa), default=0)
    quantity = min(20 * TONNE, (meagui.quantity_available_grams + nawa_grams) // TONNE * TONNE)
    if nawa_grams < TONNE or quantity <= meagui.quantity_available_grams:
        return
    today = timezone.localdate()
    manager = account("manager@amstel-origins.demo")
    request = services.buyer_request_create(
        actor=manager, buyer_id=buyer.pk,
        data=services.RequestInput(
            commodity_id=cocoa.pk, quantity_grams=quantity, min_truckload_grams=quantity,
            max_price_per_tonne_minor=1_800_000, currency="XOF", delivery_place=FILLED_PLACE,
            delivery_latitude=Decimal("5.316"), delivery_longitude=Decimal("-4.033"), window_start=today,
            window_end=today + datetime.timedelta(days=30), max_distance_km=400,
        ),
    )  # fmt: skip
    services.matching_rematch(commodity_id=cocoa.pk, currency="XOF")
    proposal = Proposal.objects.filter(request=request, status=Proposal.Status.OPEN).first()
    if proposal is None or proposal.parts.values("seller").distinct().count() < 2:
        stdout.write("matching: the two-cooperative request got no two-cooperative proposal\n")
        return
    for part in proposal.parts.select_related("seller"):
        seller_admin = account("admin@cocoa-meagui.demo" if part.seller.pk != nawa[0].organisation_id
                               else "manager@cocoa-nawa.demo")  # fmt: skip
        services.proposal_part_accept(actor=seller_admin, part_id=part.pk)
    services.proposal_accept(actor=manager, proposal_id=proposal.pk)


def seed(*, stdout: TextIO) -> None:
    _filled_from_two(stdout)
    today = timezone.localdate()
    made = []
    for buyer_key, email, code, currency, place, lat, lon, distance, markup in PLAN:
        commodity = Commodity.objects.filter(code=code).first()
        if commodity is None:
            continue
        buyer = organisation(buyer_key)
        if BuyerRequest.objects.filter(buyer=buyer, commodity=commodity, delivery_place=place).exists():
            continue
        listings = Listing.objects.filter(commodity=commodity, currency=currency, status=Listing.Status.ACTIVE)
        available = listings.aggregate(g=Sum("quantity_available_grams"))["g"] or 0
        if available < TONNE:
            continue
        highest = max(x.price_per_tonne_minor for x in listings)
        quantity = min(20 * TONNE, available // TONNE * TONNE)
        request = services.buyer_request_create(
            actor=account(email),
            buyer_id=buyer.pk,
            data=services.RequestInput(
                commodity_id=commodity.pk, quantity_grams=quantity, min_truckload_grams=min(5 * TONNE, quantity),
                max_price_per_tonne_minor=int(highest * markup), currency=currency, delivery_place=place,
                delivery_latitude=Decimal(lat), delivery_longitude=Decimal(lon), window_start=today,
                window_end=today + datetime.timedelta(days=45), max_distance_km=distance,
            ),
        )  # fmt: skip
        made.append(request)
    for request in made:
        services.matching_rematch(commodity_id=request.commodity_id, currency=request.currency)
    # The cooperatives were "told" when the demo was made: no e-mail or SMS on every seeding.
    ProposalPart.objects.filter(notified_at__isnull=True).update(notified_at=timezone.now())
    if made:
        live = ProposalPart.objects.filter(proposal__request__in=made, proposal__status="open").count()
        stdout.write(f"matching: {len(made)} open requests, {live} proposal parts\n")
    else:
        stdout.write("matching: nothing new\n")
