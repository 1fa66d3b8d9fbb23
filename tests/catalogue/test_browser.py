"""Browser tests in Debian's Chromium: a clerk records a delivery on a phone-sized screen with JavaScript
switched off, and a manager publishes a listing."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from catalogue.models import Delivery, Listing
from tests.catalogue.conftest import LOGIN_BACKEND, ensure_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

PAGE_BUDGET_BYTES = 60 * 1024


@pytest.fixture
def browser(chromium):
    """The run's one Chromium (tests/conftest.py), launched from /usr/bin/chromium or $CHROMIUM_PATH."""
    return chromium


@pytest.fixture(autouse=True)
def _reference(transactional_db):
    ensure_reference_data()


def signed_in_context(browser, live_server, user, **options):
    """A browser context carrying the session of `user` (signed in through Django's test client)."""
    client = Client()
    client.force_login(user, backend=LOGIN_BACKEND)
    context = browser.new_context(base_url=live_server.url, **options)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip
    return context


def test_a_clerk_records_a_delivery_on_a_phone_without_javascript(
    browser, live_server, clerk, farmer, plot, collection_point, cocoa, grade_1, jute_bag
):
    context = signed_in_context(
        browser, live_server, clerk, viewport={"width": 360, "height": 740}, java_script_enabled=False,
        is_mobile=True,
    )  # fmt: skip
    page = context.new_page()
    transferred = {"bytes": 0}

    def count(response):
        if not 300 <= response.status < 400:  # a redirect has no body to read
            transferred["bytes"] += len(response.body())

    page.on("response", count)
    page.goto("/catalogue/deliveries/new/")
    assert transferred["bytes"] < PAGE_BUDGET_BYTES, transferred
    page.get_by_label("Member number").fill(farmer.member_number)
    page.get_by_label("Collection point").select_option(str(collection_point.pk))
    page.get_by_label("Commodity").select_option(str(cocoa.pk))
    transferred["bytes"] = 0
    page.get_by_role("button", name="Next").click()
    page.wait_for_load_state()
    assert transferred["bytes"] < PAGE_BUDGET_BYTES, transferred
    assert page.get_by_text(farmer.name).is_visible()
    page.get_by_label("Plot").select_option(str(plot.pk))
    page.locator("#id_grade").select_option(str(grade_1.pk))
    page.get_by_label("Bags").fill("3")
    page.get_by_label("Bag type").select_option(str(jute_bag.pk))
    page.get_by_label("Moisture (%)").fill("7.9")
    page.get_by_role("button", name="Record the delivery").click()
    page.wait_for_load_state()
    assert "above the 7.5 % limit of Grade I" in page.content()
    assert Delivery.objects.count() == 0
    page.get_by_label("Moisture (%)").fill("7.2")
    page.get_by_role("button", name="Record the delivery").click()
    page.wait_for_url("**/catalogue/deliveries/*/")
    delivery = Delivery.objects.get()
    assert delivery.net_grams == 187_500 and delivery.bag_count == 3
    assert page.get_by_role("heading", name=f"Receipt {delivery.receipt_number}").is_visible()
    context.close()


def test_a_manager_publishes_a_listing(browser, live_server, manager, make_lot, warehouse, fairtrade, tmp_path):
    lot = make_lot((250_000, 150_000))
    photo = tmp_path / "cocoa.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    context = signed_in_context(browser, live_server, manager)
    page = context.new_page()
    page.goto(f"/catalogue/lots/{lot.pk}/")
    page.get_by_role("link", name="Offer this lot").click()
    page.get_by_label("Title").fill("Cocoa Grade I, Soubré")
    page.get_by_label("Price (XOF)").fill("1450")
    page.get_by_label("Quantity offered (kg)").fill("300")
    page.get_by_label("Minimum order (kg)").fill("50")
    page.get_by_label("Warehouse (ex warehouse)").select_option(str(warehouse.pk))
    page.get_by_label("Available from").fill(datetime.date.today().isoformat())
    page.get_by_label("Valid until").fill((datetime.date.today() + datetime.timedelta(days=30)).isoformat())
    page.get_by_label(f"Fairtrade {fairtrade.certificate_number}", exact=False).check()
    page.get_by_label("Photo").set_input_files(str(photo))
    # The lot's plots have no geometry: the form warns, and the manager lists it anyway.
    expect(page.locator("#eudr-warning")).to_contain_text("no boundary or centre point recorded")
    page.get_by_label("List it although it is not EUDR-ready", exact=False).check()
    page.get_by_role("button", name="Publish the listing").click()
    page.wait_for_url("**/catalogue/listings/*/")
    listing = Listing.objects.get()
    assert listing.quantity_offered_grams == 300_000 and listing.lot == lot
    assert list(listing.certifications.all()) == [fairtrade]
    assert page.get_by_role("heading", name="Cocoa Grade I, Soubré").is_visible()
    anonymous = browser.new_context(base_url=live_server.url).new_page()
    anonymous.goto("/catalogue/?commodity=cocoa-beans")
    assert anonymous.get_by_role("link", name="Cocoa Grade I, Soubré").is_visible()
    context.close()
