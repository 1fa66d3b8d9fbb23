"""In Chromium, each person in their own phone-sized browser: a buyer posts a 20 t request, the engine proposes
lots from two cooperatives, both accept their parts, the buyer accepts, and the orders appear as one consignment."""

import datetime

import pytest
from playwright.sync_api import expect

from marketplace.matching import services
from marketplace.matching.models import BuyerRequest, Consignment, Proposal
from tests.matching.factories import make_market

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_request_filled_from_two_cooperatives(browser_as, artifacts_dir):
    market = make_market()
    today = datetime.date.today()

    buyer = browser_as(market.buyer.manager)
    buyer.goto("/matching/")
    buyer.get_by_role("link", name="Post a request").click()
    buyer.get_by_label("Commodity").select_option(str(market.grade_1.commodity_id))
    buyer.get_by_label("Quantity wanted (t)").fill("20")
    buyer.get_by_label("Minimum truckload (t)").fill("15")
    buyer.get_by_label("Highest price per tonne").fill("1700000")
    buyer.get_by_label("Currency").fill("XOF")
    buyer.get_by_label("Delivery place").fill("Abidjan port")
    buyer.get_by_label("Delivery latitude").fill("5.316")
    buyer.get_by_label("Delivery longitude").fill("-4.033")
    buyer.get_by_label("Deliver from").fill(str(today))
    buyer.get_by_label("Deliver until").fill(str(today + datetime.timedelta(days=30)))
    buyer.get_by_label("Maximum sourcing distance (km)").fill("600")
    buyer.get_by_role("button", name="Save the request").click()
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("20 t")
    request = BuyerRequest.objects.get()
    if not Proposal.objects.filter(request=request).exists():  # the on-commit re-match, if no worker ran it
        services.matching_rematch(commodity_id=request.commodity_id, currency="XOF")
    proposal = Proposal.objects.get(request=request, status="open")

    for side in (market.coop_a, market.coop_b):
        page = browser_as(side.manager)
        page.goto("/matching/")
        page.get_by_role("link", name=f"Proposal {proposal.pk}").click()
        expect(page.locator("table")).to_contain_text(side.organisation.name)
        page.get_by_role("button", name="Accept our part").click()
        expect(page.locator("[data-part-actions]")).to_have_count(0)

    buyer.reload()
    buyer.get_by_role("link", name=f"Proposal {proposal.pk}").click()
    expect(buyer.locator("table")).to_contain_text(market.coop_a.organisation.name)
    expect(buyer.locator("table")).to_contain_text(market.coop_b.organisation.name)
    buyer.get_by_role("button", name="Accept the proposal").click()
    consignment = buyer.locator("#consignment")
    expect(consignment).to_be_visible()
    expect(consignment.locator("li")).to_have_count(2)
    reference = Consignment.objects.get().purchase.reference
    expect(consignment).to_contain_text(reference)
    buyer.screenshot(path=str(artifacts_dir / "matching-consignment.png"), full_page=True)
