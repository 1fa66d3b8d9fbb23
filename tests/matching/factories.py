"""A small market for the matching tests, built through the services: two cocoa cooperatives in Côte d'Ivoire
with a listing each (12 t and 10 t, grade 1, 1,500 XOF/kg), a cocoa buyer, and a stranger of each kind."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from catalogue.models import Listing
from marketplace.matching import services
from marketplace.matching.models import BuyerRequest
from marketplace.organisations.models import Organisation
from tests.catalogue.factories import LocationFactory, WarehouseFactory
from tests.orders.factories import TONNE, Side, make_listing, make_lot, make_side, make_world


@dataclass
class Market:
    coop_a: Side
    coop_b: Side
    buyer: Side
    stranger_buyer: Side
    stranger_coop: Side
    listing_a: Listing
    listing_b: Listing
    grade_1: object
    grade_2: object


def make_market(*, a_grams: int = 12 * TONNE, b_grams: int = 10 * TONNE) -> Market:
    world = make_world(lot_grams=a_grams)
    coop_b = make_side(legal_name="Coopérative de Daloa", currency="XOF", country="CI", phone="+2252732000003")
    warehouse = WarehouseFactory(organisation=coop_b.organisation, latitude=Decimal("6.877"),
                                 longitude=Decimal("-6.450"))  # fmt: skip
    lot = make_lot(coop_b, grams=b_grams, grade=world.grade_1, warehouse=warehouse,
                   collection_point=LocationFactory(organisation=coop_b.organisation))  # fmt: skip
    listing_b = make_listing(coop_b, lot, warehouse)
    stranger_coop = make_side(legal_name="Other Cooperative", currency="XOF")
    return Market(
        coop_a=world.seller, coop_b=coop_b, buyer=world.buyer, stranger_buyer=world.stranger,
        stranger_coop=stranger_coop, listing_a=world.listing, listing_b=listing_b, grade_1=world.grade_1,
        grade_2=world.grade_2,
    )  # fmt: skip


def request_input(market: Market, **overrides) -> services.RequestInput:
    today = datetime.date.today()
    fields = {
        "commodity_id": market.grade_1.commodity_id, "quantity_grams": 20 * TONNE,
        "max_price_per_tonne_minor": 1_700_000, "currency": "XOF", "delivery_latitude": Decimal("5.316"),
        "delivery_longitude": Decimal("-4.033"), "window_start": today,
        "window_end": today + datetime.timedelta(days=30), "max_distance_km": 600,
        "min_truckload_grams": 15 * TONNE, "delivery_place": "Abidjan port",
    }  # fmt: skip
    fields.update(overrides)
    return services.RequestInput(**fields)


def post_request(market: Market, **overrides) -> BuyerRequest:
    return services.buyer_request_create(
        actor=market.buyer.manager, buyer_id=market.buyer.organisation.pk, data=request_input(market, **overrides)
    )


def is_buyer(org: Organisation) -> bool:
    return org.kind == Organisation.Kind.BUYER
