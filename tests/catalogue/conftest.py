"""Fixtures for the catalogue: a cooperative with staff, places, members and plots, reference data,
and helpers that record deliveries, bulk lots and publish listings through the services."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.test import Client

from catalogue import services
from catalogue.models import Commodity, Grade, Packaging
from marketplace.core.money import Money
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.catalogue.factories import LocationFactory, WarehouseFactory, polygon_plot
from tests.dates import today
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory

# Playwright's sync API runs an event loop in the test thread; the live server and the ORM are still synchronous.

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def ensure_reference_data() -> None:
    """The commodities, grades and packaging the data migration provides. A transactional test (flushing every
    table) may have run before, so fixtures put them back, in a few bulk inserts."""
    if Commodity.objects.filter(code="cocoa-beans").exists() and Packaging.objects.filter(code="piece").exists():
        return
    data = importlib.import_module("catalogue.migrations.0003_reference_data")
    Commodity.objects.bulk_create(
        [
            Commodity(code=code, name=name, hs_code=hs_code, eudr_commodity=eudr, default_unit=unit)
            for code, name, hs_code, eudr, unit, _ in data.COMMODITIES
        ],
        ignore_conflicts=True,
    )
    ids = dict(Commodity.objects.values_list("code", "pk"))
    Grade.objects.bulk_create(
        [
            Grade(commodity_id=ids[code], code=grade_code, name=grade_name, rank=rank, max_moisture_pct=moisture,
                  max_defects_pct=defects, min_screen_size=screen)
            for code, _, _, _, _, grades in data.COMMODITIES
            for rank, (grade_code, grade_name, moisture, defects, screen) in enumerate(grades, start=1)
        ],
        ignore_conflicts=True,
    )  # fmt: skip
    Packaging.objects.bulk_create(
        [
            Packaging(code=code, name=name, net_mass_grams=mass, net_volume_ml=volume, unit_count=count,
                      tare_grams=tare)
            for code, name, mass, volume, count, tare in data.PACKAGING
        ],
        ignore_conflicts=True,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Listing photos uploaded by the tests go to a temporary folder, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reference(db):
    ensure_reference_data()


@pytest.fixture
def cocoa(reference) -> Commodity:
    return Commodity.objects.get(code="cocoa-beans")


@pytest.fixture
def maize(reference) -> Commodity:
    return Commodity.objects.get(code="maize-white")


@pytest.fixture
def grade_1(cocoa) -> Grade:
    return Grade.objects.get(commodity=cocoa, code="grade-1")


@pytest.fixture
def grade_2(cocoa) -> Grade:
    return Grade.objects.get(commodity=cocoa, code="grade-2")


@pytest.fixture
def substandard(cocoa) -> Grade:
    return Grade.objects.get(commodity=cocoa, code="sub-standard")


@pytest.fixture
def maize_grade_1(maize) -> Grade:
    return Grade.objects.get(commodity=maize, code="grade-1")


@pytest.fixture
def jute_bag(reference) -> Packaging:
    return Packaging.objects.get(code="jute-bag-62-5kg")


@pytest.fixture
def bottle(reference) -> Packaging:
    return Packaging.objects.get(code="bottle-1l")


@pytest.fixture
def coop(db) -> Organisation:
    return OrganisationFactory(
        legal_name="Coopérative Agricole de la Nawa",
        kind=Organisation.Kind.COOPERATIVE,
        currency="XOF",
        country="CI",
        latitude=Decimal("5.785630"),
        longitude=Decimal("-6.606390"),
    )


@pytest.fixture
def other_coop(db) -> Organisation:
    return OrganisationFactory(legal_name="Société Coopérative Beta", kind=Organisation.Kind.COOPERATIVE)


@pytest.fixture
def supplier(db) -> Organisation:
    return OrganisationFactory(
        legal_name="Kitale Farm Inputs Ltd", kind=Organisation.Kind.INPUT_SUPPLIER, country="KE", currency="KES"
    )


@pytest.fixture
def other_supplier(db) -> Organisation:
    return OrganisationFactory(
        legal_name="Soubré Agro-Intrants", kind=Organisation.Kind.INPUT_SUPPLIER, country="CI", currency="XOF"
    )


@pytest.fixture
def member_of():
    def make(organisation: Organisation, role: str = Role.MANAGER):
        return MembershipFactory(organisation=organisation, role=role).user

    return make


@pytest.fixture
def manager(coop, member_of):
    return member_of(coop, Role.MANAGER)


@pytest.fixture
def clerk(coop, member_of):
    return member_of(coop, Role.CLERK)


@pytest.fixture
def viewer(coop, member_of):
    return member_of(coop, Role.VIEWER)


@pytest.fixture
def outsider(other_coop, member_of):
    """A manager of another cooperative."""
    return member_of(other_coop, Role.MANAGER)


@pytest.fixture
def supplier_manager(supplier, member_of):
    return member_of(supplier, Role.MANAGER)


@pytest.fixture
def collection_point(coop):
    return LocationFactory(organisation=coop, code="okrouyo", name="Okrouyo collection point", region="Nawa")


@pytest.fixture
def warehouse(coop):
    return WarehouseFactory(
        organisation=coop, code="soubre-wh", name="Soubré warehouse", region="Nawa",
        latitude=Decimal("5.791240"), longitude=Decimal("-6.598710"),
    )  # fmt: skip


@pytest.fixture
def farmer(coop):
    return MemberFarmerFactory(organisation=coop, member_number="NAW-0001", name="Aya Kouassi")


@pytest.fixture
def plot(farmer):
    return PlotFactory(farmer=farmer, name="Parcelle 1")


@pytest.fixture
def farmers(coop):
    """Five members, each with a plot."""
    people = [MemberFarmerFactory(organisation=coop, member_number=f"NAW-1{i:03d}") for i in range(5)]
    for person in people:
        PlotFactory(farmer=person)
    return people


@pytest.fixture
def record(clerk, coop, collection_point, cocoa, grade_1, jute_bag):
    """Record a cocoa delivery as the clerk; keyword arguments override the defaults (kg as grams)."""

    def make(farmer, **overrides):
        fields = {
            "actor": clerk,
            "organisation_id": coop.pk,
            "collection_point_id": collection_point.pk,
            "farmer_id": farmer.pk,
            "plot_id": farmer.plots.first().pk if farmer.plots.exists() else None,
            "commodity_id": cocoa.pk,
            "grade_id": grade_1.pk,
            "moisture_pct": Decimal("7.0"),
            "net_grams": 250_000,
        }
        fields.update(overrides)
        return services.delivery_record(**fields)

    return make


@pytest.fixture
def make_lot(record, manager, coop, warehouse, farmers):
    """Bulk one delivery per given weight (by the five farmers in turn) into a lot."""

    def make(weights=(250_000, 180_000, 320_000), **overrides):
        deliveries = [record(farmers[i % len(farmers)], net_grams=w, **overrides) for i, w in enumerate(weights)]
        return services.lot_bulk(
            actor=manager,
            organisation_id=coop.pk,
            delivery_ids=[d.pk for d in deliveries],
            storage_location_id=warehouse.pk,
        )

    return make


@pytest.fixture
def fairtrade(coop):
    from tests.catalogue.factories import CertificationFactory

    return CertificationFactory(organisation=coop)


@pytest.fixture
def make_listing(manager, warehouse):
    def make(lot, **overrides):
        fields = {
            "actor": manager,
            "lot_id": lot.pk,
            "title": "Cocoa Grade I",
            "price": Money(1500, "XOF"),
            "price_unit": "KGM",
            "quantity_grams": lot.quantity_grams,
            "min_order_grams": 100_000,
            "delivery_terms": "ex_warehouse",
            "pickup_location_id": warehouse.pk,
            "available_from": today(),
            "valid_until": today() + datetime.timedelta(days=60),
        }
        fields.update(overrides)
        return services.listing_create(**fields)

    return make


@pytest.fixture
def login(client: Client):
    def sign_in(user) -> Client:
        client.force_login(user, backend=LOGIN_BACKEND)
        return client

    return sign_in


@pytest.fixture
def api(api_client):
    def as_user(user=None):
        api_client.force_authenticate(user=user)
        return api_client

    return as_user


@pytest.fixture
def growers(coop):
    """Three members, each with one plot drawn as a valid polygon."""
    people = []
    for i in range(3):
        farmer = MemberFarmerFactory(organisation=coop, member_number=f"NAW-2{i:03d}")
        polygon_plot(farmer, f"Parcelle {i + 1}", i + 1)
        people.append(farmer)
    return people
