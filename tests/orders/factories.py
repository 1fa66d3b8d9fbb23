"""A small marketplace for the orders tests, built through the catalogue's and the orders' services:
a cooperative that sells cocoa, a buyer, an input supplier, the platform operator, and a stranger."""

import datetime
import importlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps as django_apps

from catalogue import services as catalogue
from catalogue.models import Commodity, Grade, Listing, Packaging, SupplierOffer
from marketplace.core.money import Money
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Role
from orders.models import Order
from orders.services import LineInput, order_mark_paid, order_transition, purchase_place
from tests.catalogue.factories import InputProductFactory, LocationFactory, WarehouseFactory
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory

TONNE = 1_000_000


def ensure_reference_data() -> None:
    """The commodities, grades and packaging of the catalogue's data migration (a transactional test elsewhere
    may have truncated them; the loader is idempotent)."""
    if Commodity.objects.filter(code="cocoa-beans").exists() and Packaging.objects.filter(code="piece").exists():
        return
    importlib.import_module("catalogue.migrations.0003_reference_data").load(django_apps, None)


def member(organisation: Organisation, role: str = Role.MANAGER, **user_fields) -> User:
    return MembershipFactory(
        organisation=organisation, role=role, **{f"user__{k}": v for k, v in user_fields.items()}
    ).user


@dataclass
class Side:
    organisation: Organisation
    admin: User
    manager: User
    clerk: User
    viewer: User

    def by_role(self, role: str) -> User:
        return {"admin": self.admin, "manager": self.manager, "clerk": self.clerk, "viewer": self.viewer}[role]


def make_side(**org_fields) -> Side:
    organisation = OrganisationFactory(**org_fields)
    return Side(
        organisation,
        admin=member(organisation, Role.ADMIN),
        manager=member(organisation, Role.MANAGER),
        clerk=member(organisation, Role.CLERK),
        viewer=member(organisation, Role.VIEWER),
    )


@dataclass
class World:
    seller: Side
    buyer: Side
    operator: Side
    stranger: Side
    supplier: Side
    grade_1: Grade
    grade_2: Grade
    listing: Listing
    offer: SupplierOffer
    warehouse: object = None
    extra: dict = field(default_factory=dict)

    def actor(self, side: str, role: str = "manager") -> User | None:
        if side == "system":
            return None
        return getattr(self, side).by_role(role)


def make_lot(seller: Side, *, grams: int, grade: Grade, warehouse, collection_point, parts: int = 3):
    farmers = []
    for _ in range(parts):
        farmer = MemberFarmerFactory(organisation=seller.organisation)
        PlotFactory(farmer=farmer)
        farmers.append(farmer)
    shares = [grams // parts] * parts
    shares[-1] += grams - sum(shares)
    deliveries = [
        catalogue.delivery_record(
            actor=seller.clerk,
            organisation_id=seller.organisation.pk,
            collection_point_id=collection_point.pk,
            farmer_id=farmer.pk,
            plot_id=farmer.plots.first().pk,
            commodity_id=grade.commodity_id,
            grade_id=grade.pk,
            moisture_pct=Decimal("7.0"),
            net_grams=share,
        )
        for farmer, share in zip(farmers, shares, strict=True)
    ]
    return catalogue.lot_bulk(
        actor=seller.manager, organisation_id=seller.organisation.pk, delivery_ids=[d.pk for d in deliveries],
        storage_location_id=warehouse.pk,
    )  # fmt: skip


XOF_1500 = Money(1500, "XOF")


def make_listing(seller: Side, lot, warehouse, *, price=XOF_1500, price_unit="KGM", quantity=None,
                 min_order=TONNE) -> Listing:  # fmt: skip
    today = datetime.date.today()
    return catalogue.listing_create(
        actor=seller.manager, lot_id=lot.pk, title=f"Cocoa {lot.grade.name}", price=price, price_unit=price_unit,
        quantity_grams=quantity or lot.quantity_grams, min_order_grams=min_order, delivery_terms="ex_warehouse",
        pickup_location_id=warehouse.pk, available_from=today, valid_until=today + datetime.timedelta(days=60),
    )  # fmt: skip


def make_world(*, lot_grams: int = 30 * TONNE) -> World:
    ensure_reference_data()
    cocoa = Commodity.objects.get(code="cocoa-beans")
    grade_1 = Grade.objects.get(commodity=cocoa, code="grade-1")
    grade_2 = Grade.objects.get(commodity=cocoa, code="grade-2")
    seller = make_side(
        legal_name="Coopérative Agricole de la Nawa", currency="XOF", country="CI", phone="+2252722000001",
        address="BP 12, Soubré", latitude=Decimal("5.785630"), longitude=Decimal("-6.606390"),
    )  # fmt: skip
    buyer = make_side(
        legal_name="Abidjan Cocoa Processing SA", kind=Organisation.Kind.BUYER, currency="XOF",
        phone="+2252720000002", address="Zone industrielle, Abidjan",
    )  # fmt: skip
    operator = make_side(
        legal_name="CoopMarket Operations", kind=Organisation.Kind.OPERATOR, country="FR", currency="EUR"
    )
    stranger = make_side(legal_name="Other Buyer Ltd", kind=Organisation.Kind.BUYER, currency="XOF")
    supplier = make_side(legal_name="Soubré Agro-Intrants", kind=Organisation.Kind.INPUT_SUPPLIER, currency="XOF")
    collection_point = LocationFactory(organisation=seller.organisation)
    warehouse = WarehouseFactory(organisation=seller.organisation)
    lot = make_lot(seller, grams=lot_grams, grade=grade_1, warehouse=warehouse, collection_point=collection_point)
    listing = make_listing(seller, lot, warehouse)
    today = datetime.date.today()
    product = InputProductFactory()
    offer = catalogue.supplier_offer_create(
        actor=supplier.manager, organisation_id=supplier.organisation.pk, product_id=product.pk, currency="XOF",
        stock_packs=500,
        tiers=[catalogue.TierInput(1, Money(18_000, "XOF"), 99), catalogue.TierInput(100, Money(16_500, "XOF"))],
        regions=[catalogue.RegionInput("CI")], lead_time_days=7, valid_from=today,
        valid_until=today + datetime.timedelta(days=90),
    )  # fmt: skip
    return World(seller, buyer, operator, stranger, supplier, grade_1, grade_2, listing, offer, warehouse,
                 extra={"collection_point": collection_point})  # fmt: skip


def place(world: World, grams: int = 2 * TONNE, *, listing: Listing | None = None, actor=None, **kwargs) -> Order:
    purchase = purchase_place(
        actor=actor or world.buyer.manager,
        buyer_id=world.buyer.organisation.pk,
        lines=[LineInput(quantity=grams, listing_id=(listing or world.listing).pk, **kwargs)],
    )
    return purchase.orders.get()


PATH = ["placed", "accepted", "paid", "dispatched", "delivered"]


def advance(world: World, order: Order, to: str, **details) -> Order:
    """Drive an order along the main path (or to a side status) with the right actors."""
    order.refresh_from_db()
    targets = {
        "accepted": ["accepted"],
        "rejected": ["rejected"],
        "cancelled": ["cancelled"],
        "expired": ["expired"],
        "paid": ["accepted", "paid"],
        "dispatched": ["accepted", "paid", "dispatched"],
        "delivered": ["accepted", "paid", "dispatched", "delivered"],
        "disputed": ["accepted", "paid", "dispatched", "delivered", "disputed"],
        "resolved": ["accepted", "paid", "dispatched", "delivered", "disputed", "resolved"],
        "completed": ["accepted", "paid", "dispatched", "delivered", "completed"],
    }[to]
    for step in targets:
        order.refresh_from_db()
        already_there = step in PATH and order.status in PATH and PATH.index(order.status) >= PATH.index(step)
        if already_there:
            continue
        if step == "accepted":
            order_transition(actor=world.seller.manager, order_id=order.pk, to_status="accepted")
        elif step == "rejected":
            order_transition(actor=world.seller.manager, order_id=order.pk, to_status="rejected", reason="No stock")
        elif step == "cancelled":
            order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="cancelled", reason="Changed mind")
        elif step == "expired":
            Order.objects.filter(pk=order.pk).update(accept_by=order.accept_by - datetime.timedelta(days=3))
            order_transition(actor=None, order_id=order.pk, to_status="expired", reason="Not accepted in time")
        elif step == "paid":
            order_mark_paid(actor=world.operator.manager, order_id=order.pk, payment_reference=f"BANK-{order.pk}")
        elif step == "dispatched":
            order_transition(
                actor=world.seller.clerk, order_id=order.pk, to_status="dispatched",
                document_number=f"WB-{order.pk}", vehicle="AB-1234-CI", driver="Koffi",
                **details.pop("dispatch", {}),
            )  # fmt: skip
        elif step == "delivered":
            lines = details.pop("receipt", None) or {
                line.pk: {"quantity": line.quantity_dispatched} for line in order.lines.all()
            }
            order_transition(
                actor=world.buyer.clerk, order_id=order.pk, to_status="delivered", lines=lines,
                inspection_notes="Bags intact.",
            )  # fmt: skip
        elif step == "disputed":
            order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="disputed", reason="Mouldy beans")
        elif step == "resolved":
            order_transition(
                actor=world.operator.manager, order_id=order.pk, to_status="resolved", reason="Photos show mould",
                decision="partial_refund", refund_amount=100_000,
            )  # fmt: skip
        elif step == "completed":
            order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="completed")
    order.refresh_from_db()
    return order


def mapped_and_dispatched(**world_fields) -> tuple[World, Order]:
    """make_world's lot with every plot mapped (about 1.1 ha each), and 2 t of it sold to the buyer and dispatched."""
    import random

    from marketplace.demo.organisations import plot_polygon
    from marketplace.organisations.models import Plot

    world = make_world(**world_fields)
    for i, plot in enumerate(Plot.objects.filter(organisation=world.seller.organisation)):
        geometry, area = plot_polygon(random.Random(i), lon=-6.4 + i * 0.01, lat=5.7, hectares=1.1)
        Plot.objects.filter(pk=plot.pk).update(geometry=geometry, area_hectares=area)
    return world, advance(world, place(world), "dispatched")
