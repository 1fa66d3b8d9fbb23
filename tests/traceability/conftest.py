import datetime

import pytest

from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory
from traceability import identifiers


@pytest.fixture
def coop():
    return OrganisationFactory()


@pytest.fixture
def clerk(coop):
    return MembershipFactory(organisation=coop, role=Role.CLERK).user


@pytest.fixture
def farmer(coop):
    return MemberFarmerFactory(organisation=coop)


@pytest.fixture
def plot(farmer):
    return PlotFactory(farmer=farmer)


@pytest.fixture
def lot(coop):
    def make(code: str, organisation=None) -> str:
        return identifiers.lot_uri(organisation=organisation or coop, lot_code=code)

    return make


@pytest.fixture
def delivery(coop):
    def make(reference, organisation=None) -> str:
        return identifiers.delivery_uri(organisation=organisation or coop, reference=reference)

    return make


@pytest.fixture
def when():
    """Event times a minute apart, in Abidjan's zone (UTC+0) unless another offset is given."""
    start = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)

    def at(minutes: int = 0, hours_offset: int = 0) -> datetime.datetime:
        zone = datetime.timezone(datetime.timedelta(hours=hours_offset))
        return (start + datetime.timedelta(minutes=minutes)).astimezone(zone)

    return at
