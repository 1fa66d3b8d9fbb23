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


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _running_browser():
    """A Chromium that another suite's session fixture already drives in this process, if any: Playwright's sync
    API runs one event loop per thread, so a second `sync_playwright()` cannot start while that one lives."""
    import gc

    from playwright.sync_api import Browser

    for candidate in gc.get_objects():
        if isinstance(candidate, Browser) and candidate.is_connected():
            return candidate
    return None


@pytest.fixture
def chromium():
    """Debian's Chromium (never a downloaded browser), found at $CHROMIUM_PATH: the one already running in this
    process, or one started for this test and stopped after it (so that it never holds the event loop that
    another suite's session-wide browser needs)."""
    from pathlib import Path

    existing = _running_browser()
    if existing is not None:
        yield existing
        return
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"No Chromium at {executable}: run `apt-get install -y chromium` or set CHROMIUM_PATH.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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


@pytest.fixture
def artifacts_dir():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
