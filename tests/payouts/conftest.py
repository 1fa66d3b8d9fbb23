"""Fixtures for the payout tests: the orders tests' small marketplace. Orders are paid and released through the
real payment and escrow services (tests/payouts/factories.py)."""

import pytest

from tests.orders.factories import World, make_world


@pytest.fixture(autouse=True)
def _offline_payments_on(settings):
    settings.OFFLINE_PAYMENTS = True


@pytest.fixture
def world(db) -> World:
    return make_world()
