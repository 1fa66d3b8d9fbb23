import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory


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
