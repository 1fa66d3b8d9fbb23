"""The market page and a manager's dashboard from the demo data, on a 360 x 740 phone and a laptop: nothing wider
than the screen, no serious accessibility violation, the chart and its table there. With COOPMARKET_SCREENSHOTS
set (docs/screenshots/capture.py sets it) it saves the README screenshots of both pages."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from marketplace.market.services import market_refresh
from marketplace.organisations.models import User
from tests.browser.test_journeys import Phone, phone  # noqa: F401  (the signed-in phone fixture)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_the_dashboard_and_the_market_page_from_the_demo(phone):  # noqa: F811
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    market_refresh()
    manager = User.objects.get(email="manager@maize-transnzoia.demo")
    manager.set_password(PASSWORD)  # the phone fixture signs in with the tests' password
    manager.save()
    device: Phone = phone(manager)
    page = device.page
    page.goto("/")
    expect(page.locator("h1").first).to_be_visible()
    device.check("dashboard")
    page.goto("/market/")
    expect(page.get_by_role("link", name="Maize, white").first).to_be_visible()
    device.check("market")
    page.get_by_role("link", name="Maize, white").first.click()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    expect(page.get_by_text("per 90 kg bag").first).to_be_visible()
    device.check("market-series")
