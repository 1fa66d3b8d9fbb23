"""Fixtures for the payout tests: the orders tests' small marketplace, with released orders."""

import pytest

from tests.orders.factories import World, make_world


@pytest.fixture(autouse=True)
def _payouts_post_their_own_releases(settings):
    """These tests post the release transaction themselves (see factories), so whatever else follows order
    events (the escrow's release) stays out of the way."""
    settings.ORDER_EVENT_SUBSCRIBERS = []


@pytest.fixture
def world(db) -> World:
    return make_world()
