import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.fuzz.plugin import (  # noqa: F401 - the fuzz run's reach report (hooks)
    pytest_configure,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
)

# Property tests check correctness, not speed (benchmarks/ measure speed): on a shared 2-core machine an example can
# take seconds, so neither a per-example deadline nor the "too slow" health check may fail a test.
settings.register_profile("coopmarket", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("coopmarket")


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request activates its language in the thread and nothing resets it; the next test starts in English."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _reference_data_present(request):
    """The commodities, grades and packaging come from a data migration; a transactional test that ran earlier on the
    same worker flushed them. Every test with database access finds them, whichever test ran before it."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    if not (marker or transactional or "db" in request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from tests.orders.factories import ensure_reference_data

    ensure_reference_data()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_member():
    """Create a user with a role in an organisation (a new cooperative unless given)."""

    def make(role: str = Role.MANAGER, organisation: Organisation | None = None, **org_fields):
        organisation = organisation or OrganisationFactory(**org_fields)
        return MembershipFactory(role=role, organisation=organisation).user

    return make


@pytest.fixture
def operator_user(make_member):
    return make_member(Role.ADMIN, kind=Organisation.Kind.OPERATOR, country="FR", currency="EUR")


@pytest.fixture
def as_user(api_client):
    def login(user) -> APIClient:
        api_client.force_authenticate(user=user)
        return api_client

    return login


# --- Browser -------------------------------------------------------------------------------
# Playwright's sync API runs one event loop per thread, so the whole run shares one Chromium:
# Debian's (never a downloaded browser), found at $CHROMIUM_PATH.

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"No Chromium at {executable}: run `apt-get install -y chromium` or set CHROMIUM_PATH.")
    # The tests' own ORM calls run beside Playwright's event loop in this thread; they are synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_as(chromium, live_server):
    """`browser_as(user)`: a fresh phone-sized browser context signed in as `user` through the sign-in page."""
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


@pytest.fixture
def sms_outbox():
    """The SMS sent during the test (the test settings use the in-memory backend)."""
    from marketplace.core.sms import MemorySmsBackend

    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()
