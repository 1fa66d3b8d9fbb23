"""Factories for the catalogue's reference data and an organisation's places and certificates.

Deliveries, lots and listings are made through the services (see conftest), so that tests start from states
the application can really reach.
"""

import datetime
import random
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from catalogue.models import Certification, Commodity, Grade, InputProduct, Location, Packaging
from marketplace.demo.organisations import plot_polygon
from tests.factories import OrganisationFactory, PlotFactory


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"site-{n}")
    name = factory.Sequence(lambda n: f"Site {n}")
    is_collection_point = True
    is_warehouse = False
    country = factory.SelfAttribute("organisation.country")
    region = "Nawa"
    latitude = Decimal("5.785630")
    longitude = Decimal("-6.606390")


class WarehouseFactory(LocationFactory):
    code = factory.Sequence(lambda n: f"warehouse-{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    is_collection_point = False
    is_warehouse = True


class CertificationFactory(DjangoModelFactory):
    class Meta:
        model = Certification

    organisation = factory.SubFactory(OrganisationFactory)
    scheme = Certification.Scheme.FAIRTRADE
    certificate_number = factory.Sequence(lambda n: f"FLO-{n:06d}")
    certifying_body = "FLOCERT"
    valid_from = datetime.date(2024, 1, 1)
    valid_until = datetime.date(2099, 12, 31)


class CommodityFactory(DjangoModelFactory):
    class Meta:
        model = Commodity
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"commodity-{n}")
    name = factory.Sequence(lambda n: f"Commodity {n}")
    hs_code = "1801.00"


class GradeFactory(DjangoModelFactory):
    class Meta:
        model = Grade

    commodity = factory.SubFactory(CommodityFactory)
    code = factory.Sequence(lambda n: f"grade-{n}")
    name = factory.Sequence(lambda n: f"Grade {n}")
    rank = factory.Sequence(lambda n: n + 1)
    max_moisture_pct = Decimal("10")


class PackagingFactory(DjangoModelFactory):
    class Meta:
        model = Packaging

    code = factory.Sequence(lambda n: f"bag-{n}")
    name = factory.Sequence(lambda n: f"Bag {n}")
    net_mass_grams = 50_000
    tare_grams = 120


class InputProductFactory(DjangoModelFactory):
    class Meta:
        model = InputProduct

    organisation = None
    kind = InputProduct.Kind.FERTILISER
    name = factory.Sequence(lambda n: f"NPK 17-17-17 lot {n}")
    nitrogen_pct = 17
    phosphorus_pct = 17
    potassium_pct = 17
    packaging = factory.SubFactory(PackagingFactory)


def polygon_plot(farmer, name: str, seed: int):
    """A plot drawn as a valid EUDR polygon of about 1.2 ha near Soubré (one grid cell per seed)."""
    geometry, area = plot_polygon(random.Random(seed), lon=-6.6 + seed * 0.01, lat=5.78, hectares=1.2)
    return PlotFactory(farmer=farmer, name=name, geometry=geometry, area_hectares=area)
