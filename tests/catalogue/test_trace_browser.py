"""Browser tests in Debian's Chromium: a passer-by opens the public trace page from the address on a bag label's
QR code, without an account; a manager downloads the EUDR due-diligence package from the lot page."""

import json
from urllib.parse import urlsplit

import pytest

from catalogue import services
from tests.catalogue.conftest import ensure_reference_data
from tests.catalogue.factories import polygon_plot
from tests.catalogue.test_browser import signed_in_context
from tests.factories import MemberFarmerFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _reference(transactional_db):
    ensure_reference_data()


@pytest.fixture
def lot(record, manager, coop, warehouse):
    growers = []
    for i in range(2):
        farmer = MemberFarmerFactory(organisation=coop, member_number=f"NAW-3{i:03d}", name=f"Grower Number{i}")
        polygon_plot(farmer, f"Parcelle {i + 1}", i + 1)
        growers.append(farmer)
    deliveries = [record(growers[0], net_grams=250_000), record(growers[1], net_grams=180_000)]
    made = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                             storage_location_id=warehouse.pk)  # fmt: skip
    made.growers = growers
    return made


def test_a_passer_by_opens_the_public_page_from_the_label(chromium, live_server, manager, lot):
    staff = signed_in_context(chromium, live_server, manager)
    page = staff.new_page()
    page.goto(f"/catalogue/lots/{lot.pk}/label/")
    assert page.get_by_test_id("lot-code").inner_text() == lot.code
    assert page.get_by_test_id("qr").locator("svg").count() == 1
    target = page.get_by_test_id("trace-url").get_attribute("href")
    staff.close()

    anonymous = chromium.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    visitor = anonymous.new_page()
    path = urlsplit(target).path  # the label names the deployment's domain; the test server has its own
    response = visitor.goto(path)
    assert response.status == 200
    assert visitor.get_by_role("heading", name=f"Lot {lot.code}").is_visible()
    journey = visitor.get_by_test_id("journey")
    assert "2 member deliveries from 2 members" in journey.inner_text()
    assert f"Deliveries bulked into lot {lot.code}" in journey.inner_text()
    content = visitor.content()
    assert all(grower.name not in content for grower in lot.growers)
    assert visitor.goto(path.replace(str(lot.public_id), "00000000-0000-4000-8000-000000000000")).status == 404
    anonymous.close()


def test_a_manager_downloads_the_eudr_package_from_the_lot_page(chromium, live_server, manager, lot, tmp_path):
    context = signed_in_context(chromium, live_server, manager, accept_downloads=True)
    page = context.new_page()
    page.goto(f"/catalogue/lots/{lot.pk}/")
    assert page.get_by_test_id("eudr-badge").inner_text() == "EUDR-ready"
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the due-diligence package (JSON)").click()
    download = info.value
    assert download.suggested_filename == f"eudr-lot-{lot.code}.json"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    package = json.loads(target.read_text())
    assert package["eudr_ready"] is True and package["net_mass_kg"] == 430
    features = package["geolocation"]["features"]
    assert sorted(f["properties"]["ProducerName"] for f in features) == sorted(g.name for g in lot.growers)
    context.close()
