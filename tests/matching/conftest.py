import pytest

from tests.matching.factories import make_market


@pytest.fixture
def market(db):
    return make_market()
