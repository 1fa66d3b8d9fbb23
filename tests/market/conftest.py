"""Fixtures for the market tests: sellers in two regions and a helper that writes trades straight into the read
model (the aggregation's input), so that hypothesis can try many trade sets quickly."""

import itertools
from datetime import date

import pytest

from catalogue.models import Commodity, Grade
from marketplace.market.models import Trade
from marketplace.organisations.models import Organisation
from tests.factories import OrganisationFactory
from tests.orders.factories import ensure_reference_data

_ids = itertools.count(1)


@pytest.fixture
def cocoa(db):
    ensure_reference_data()
    commodity = Commodity.objects.get(code="cocoa-beans")
    return commodity, list(Grade.objects.filter(commodity=commodity).order_by("rank")[:2])


@pytest.fixture
def sellers(db):
    """Four cooperatives: two in Nawa, two in Haut-Sassandra (Côte d'Ivoire)."""
    return [
        OrganisationFactory(kind=Organisation.Kind.COOPERATIVE, country="CI", region=region, currency="XOF",
                            legal_name=f"Coop {index}")
        for index, region in enumerate(["Nawa", "Nawa", "Haut-Sassandra", "Haut-Sassandra"])
    ]  # fmt: skip


def make_trade(*, seller, grade, traded_on: date, amount: int, grams: int, order_id: int | None = None,
               currency: str = "XOF") -> Trade:  # fmt: skip
    return Trade.objects.create(
        order_id=order_id or next(_ids) + 10_000_000, line_id=next(_ids) + 10_000_000, seller=seller,
        commodity_id=grade.commodity_id, grade=grade, country=seller.country.code, region=seller.region,
        currency=currency, traded_on=traded_on, amount=amount, grams=grams,
    )  # fmt: skip


@pytest.fixture
def world(db):
    from tests.orders.factories import make_world

    return make_world()


@pytest.fixture(autouse=True)
def _empty_render_cache():
    """The market pages cache their bodies (keyed by the data version); every test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()
