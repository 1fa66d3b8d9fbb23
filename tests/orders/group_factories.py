"""A cooperative with member farmers, an ordering window and two input suppliers' offers, for the group order tests."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from catalogue.models import OfferRegion, PriceTier, SupplierOffer
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Role
from orders.group_models import OrderingWindow
from orders.services import group_windows
from tests.catalogue.factories import InputProductFactory, PackagingFactory
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory


@dataclass
class GroupWorld:
    coop: Organisation
    manager: User
    clerk: User
    viewer: User
    farmers: list
    products: list
    suppliers: list
    supplier_users: list
    offers: dict = field(default_factory=dict)  # (supplier index, product index) -> offer
    window: OrderingWindow | None = None


def make_offer(supplier: Organisation, user: User, product, tiers, *, country="CI", region="", stock=10_000):
    offer = SupplierOffer.objects.create(
        organisation=supplier, product=product, currency="XOF", stock_packs=stock, lead_time_days=5,
        valid_from=datetime.date.today() - datetime.timedelta(days=10),
        valid_until=datetime.date.today() + datetime.timedelta(days=100), created_by=user,
    )  # fmt: skip
    OfferRegion.objects.create(offer=offer, country=country, region=region)
    for min_packs, price in tiers:
        PriceTier.objects.create(offer=offer, min_packs=min_packs, unit_price_amount=price)
    return offer


def make_group_world(*, farmers: int = 5, open_window: bool = True, side=None, members=None,
                     **window_fields) -> GroupWorld:  # fmt: skip
    """A new cooperative, or `side` (a tests.orders.factories.Side) with its `members`."""
    if side is not None:
        coop, manager, clerk, viewer = side.organisation, side.manager, side.clerk, side.viewer
    else:
        coop = OrganisationFactory(country="CI", region="Nawa", currency="XOF")
        manager = MembershipFactory(organisation=coop, role=Role.MANAGER).user
        clerk = MembershipFactory(organisation=coop, role=Role.CLERK).user
        viewer = MembershipFactory(organisation=coop, role=Role.VIEWER).user
    members = list(members) if members is not None else [MemberFarmerFactory(organisation=coop) for _ in range(farmers)]
    bag = PackagingFactory(net_mass_grams=50_000)
    products = [InputProductFactory(packaging=bag, name="NPK 15-15-15"),
                InputProductFactory(packaging=PackagingFactory(net_mass_grams=25_000), name="Urea 46")]  # fmt: skip
    suppliers, supplier_users = [], []
    for n in range(2):
        supplier = OrganisationFactory(kind=Organisation.Kind.INPUT_SUPPLIER, legal_name=f"Agro {n}", country="CI")
        suppliers.append(supplier)
        supplier_users.append(MembershipFactory(organisation=supplier, role=Role.MANAGER).user)
    world = GroupWorld(coop, manager, clerk, viewer, members, products, suppliers, supplier_users)
    world.offers[(0, 0)] = make_offer(suppliers[0], supplier_users[0], products[0], [(1, 20_000), (10, 18_000)])
    world.offers[(0, 1)] = make_offer(suppliers[0], supplier_users[0], products[1], [(1, 16_000)])
    world.offers[(1, 0)] = make_offer(suppliers[1], supplier_users[1], products[0], [(1, 19_000)], region="Nawa")
    world.offers[(1, 1)] = make_offer(suppliers[1], supplier_users[1], products[1], [(2, 14_000)])
    now = timezone.now()
    fields = {"name": "Long rains", "opens_at": now - datetime.timedelta(hours=1),
              "closes_at": now + datetime.timedelta(days=7), **window_fields}  # fmt: skip
    if window_fields.get("name") == "":
        return world  # no window: the test creates one
    world.window = group_windows.window_create(actor=manager, organisation_id=coop.pk,
                                               product_ids=[p.pk for p in products], **fields)  # fmt: skip
    if open_window:
        world.window = group_windows.window_transition(actor=manager, window_id=world.window.pk, to_status="open")
    return world


def ask(world: GroupWorld, farmer, product, quantity: int, tolerance: int = 0, actor=None):
    return group_windows.request_change(actor=actor or world.clerk, window_id=world.window.pk,
                                        member_number=farmer.member_number, product_id=product.pk,
                                        quantity_delta=quantity, tolerance_delta=tolerance)  # fmt: skip
