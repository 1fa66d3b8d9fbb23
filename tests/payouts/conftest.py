"""Fixtures for the payout tests: the orders tests' small marketplace, with released orders."""

import os

import pytest

from marketplace.core.sms import MemorySmsBackend
from tests.orders.factories import World, make_world

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(autouse=True)
def _payouts_post_their_own_releases(settings):
    """These tests post the release transaction themselves (see factories), so whatever else follows order
    events (the escrow's release) stays out of the way."""
    settings.ORDER_EVENT_SUBSCRIBERS = []


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def sms_outbox():
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


@pytest.fixture
def browser_as(chromium, live_server):
    """`browser_as(user)`: a fresh browser context signed in as `user` through the sign-in page."""
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    contexts = []

    def open_as(user):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": 412, "height": 860}, locale="en-GB", service_workers="block"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Email address").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
        return page

    yield open_as
    for context in contexts:
        context.close()
