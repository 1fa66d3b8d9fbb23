"""Fixtures for the orders tests: a small marketplace built through the services (see factories)."""

import os

import pytest

from marketplace.core.sms import MemorySmsBackend
from tests.orders.factories import World, make_world

# Playwright's sync API runs an event loop in the test thread; the live server and the ORM are synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def sms_outbox():
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()
