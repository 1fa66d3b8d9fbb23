"""Each role's main journey on a 360 x 740 phone, in English and in French, by clicking links and buttons only
after the sign-in page. On every page: nothing is wider than the screen, and axe-core finds no serious or
critical accessibility violation. In French, amounts read like "3 000 000 F CFA" and date inputs hold ISO dates.

With COOPMARKET_SCREENSHOTS=<folder> (docs/screenshots/capture.py sets it) the journeys also save phone and
laptop screenshots of their main pages.
"""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation
from playwright.sync_api import Page, expect

from marketplace.organisations.models import MemberFarmer
from orders.models import Order
from tests.factories import PASSWORD
from tests.orders.factories import TONNE, make_lot, make_world, place
from tests.payouts.factories import released_order

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
AXE = Axe()
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FRENCH_XOF = re.compile(r"\d{1,3}(?: \d{3})+ F CFA")
SCREENSHOTS = os.environ.get("COOPMARKET_SCREENSHOTS", "")
# The innermost elements that stick out on the right, to say what to fix.
WIDE_ELEMENTS = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1
  && ![...e.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


class Phone:
    """A signed-in phone in one language; `t()` is the page's own wording (the French catalogue in French)."""

    def __init__(self, page: Page, language: str):
        self.page = page
        self.language = language

    def t(self, message: str, **values) -> str:
        with translation.override(self.language):
            text = translation.gettext(message)
        return text % values if values else text

    def check(self, shot: str = "") -> None:
        """The page fits the screen and has no serious or critical accessibility violation."""
        page = self.page
        page.wait_for_load_state("domcontentloaded")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            wide = page.evaluate(WIDE_ELEMENTS)
            raise AssertionError(f"{page.url} is {width[0]} px wide on a {width[1]} px screen: {wide}")
        violations = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in AXE.run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not violations, f"{page.url}: {violations}"
        if shot and SCREENSHOTS:
            folder = Path(SCREENSHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{shot}-phone.png"), full_page=True)
            page.set_viewport_size(LAPTOP)
            page.screenshot(path=str(folder / f"{shot}-laptop.png"), full_page=True)
            page.set_viewport_size(PHONE)

    def menu(self, entry: str) -> None:
        nav = self.page.get_by_role("navigation", name=self.t("Main"))
        nav.locator("label.menu-button").click()
        nav.get_by_role("link", name=self.t(entry), exact=True).click()
        self.check()

    def click(self, role: str, label: str, **values) -> None:
        self.page.get_by_role(role, name=self.t(label, **values)).first.click()
        self.check()


@pytest.fixture
def phone(chromium, live_server):
    contexts = []

    def open_as(user, language: str = "en") -> Phone:
        context = chromium.new_context(
            base_url=live_server.url, viewport=PHONE, locale="fr-FR" if language == "fr" else "en-GB",
            service_workers="block",
        )  # fmt: skip
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        device = Phone(page, language)
        page.goto("/accounts/login/")  # the only address typed
        device.check()
        page.get_by_label(device.t("Email address")).fill(user.email)
        page.get_by_label(device.t("Password")).fill(PASSWORD)
        page.get_by_role("button", name=device.t("Sign in")).click()
        expect(page.get_by_role("button", name=device.t("Sign in"))).to_have_count(0)
        if language != "en":  # the account's language wins over the browser's: switch on the page, as a user does
            page.get_by_label("Language").select_option(language)
            page.get_by_role("button", name="Change language").click()
            expect(page.locator("html")).to_have_attribute("lang", language)
        device.check()
        return device

    yield open_as
    for context in contexts:
        context.close()


def _normal(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def _order_link(device: Phone, number: str) -> None:
    device.page.get_by_role("link", name=number).first.click()
    device.check()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_buyer_goes_from_search_to_confirmed_receipt(phone, settings, language):
    settings.DEBUG = True  # the demo's own "Pay (demo)" button: the journey of `make demo`
    settings.PLATFORM_FEE_BP = 300
    world = make_world(lot_grams=10 * TONNE)
    buyer = phone(world.buyer.manager, language)

    buyer.menu("Catalogue")
    buyer.click("button", "Search")
    buyer.page.get_by_role("link", name=world.listing.title).first.click()
    buyer.check("listing")
    buyer.page.get_by_label(buyer.t("Quantity (kg)")).fill("2000")
    buyer.click("button", "Add to basket")
    buyer.check("basket")
    buyer.click("button", "Place the order for %(name)s", name=world.buyer.organisation.name)
    order = Order.objects.get(buyer=world.buyer.organisation)
    _order_link(buyer, order.number)
    expect(buyer.page.locator(".next-step")).to_be_visible()

    seller = phone(world.seller.manager, language)
    seller.menu("Order inbox")
    _order_link(seller, order.number)
    seller.click("button", "Accept the order")

    buyer.menu("Orders")
    _order_link(buyer, order.number)
    buyer.click("link", "Pay for the order")
    amount = _normal(buyer.page.locator("#order-total").inner_text())
    if language == "fr":
        assert FRENCH_XOF.fullmatch(amount), amount
        assert amount == "3 000 000 F CFA"
    buyer.page.locator("form[action$='/pay/'] button[type=submit]").last.click()  # the demo button
    buyer.check("payment")
    buyer.click("link", "Follow the order")

    seller.menu("Order inbox")
    _order_link(seller, order.number)
    assert ISO_DATE.match(seller.page.locator("#dispatched-on").input_value())
    seller.page.get_by_label(seller.t("Document number")).fill("BL-0001")
    seller.click("button", "Record the dispatch")

    buyer.menu("Orders")
    _order_link(buyer, order.number)
    assert ISO_DATE.match(buyer.page.locator("#received-on").input_value())
    buyer.click("button", "Record the receipt")
    buyer.click("button", "Complete the order")
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED

    buyer.menu("Money")
    paid = _normal(buyer.page.locator(".purchase-money .paid").first.inner_text())
    assert paid == ("3 000 000 F CFA" if language == "fr" else "F CFA 3,000,000"), paid
    expect(buyer.page.locator(".payments-made")).to_contain_text(order.number)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_clerk_registers_edits_a_member_records_a_delivery_and_opens_a_lot(phone, language):
    world = make_world(lot_grams=3 * TONNE)
    clerk = phone(world.seller.clerk, language)

    clerk.menu("Add a member")
    page = clerk.page
    page.get_by_label(clerk.t("Member number")).fill("NEW-001")
    page.get_by_label(clerk.t("Full name")).fill("Awa Kone")
    page.get_by_label(clerk.t("Village")).fill("Soubré")
    assert page.locator("input[type=date]").input_value() in ("",) or ISO_DATE.match(
        page.locator("input[type=date]").input_value()
    )
    clerk.click("button", "Add the member")
    clerk.click("link", "Edit the member")
    page.get_by_label(clerk.t("Full name")).fill("Awa Koné")
    clerk.click("button", "Save the changes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Awa Koné")
    clerk.click("link", "Add a plot")
    page.get_by_label(re.compile("^" + re.escape(clerk.t("Plot name")))).fill("Cacao bas-fond")
    page.get_by_label(re.compile("^" + re.escape(clerk.t("Area (hectares)")))).fill("2.5")
    clerk.click("button", "Add the plot")

    clerk.menu("Record a delivery")
    clerk.check("delivery")
    page.get_by_label(clerk.t("Member number")).fill("NEW-001")
    clerk.click("button", "Next")
    assert ISO_DATE.match(page.locator("input[type=date]").input_value())
    page.get_by_label(re.compile("^" + re.escape(clerk.t("Grade")))).select_option(index=1)
    page.get_by_label(clerk.t("Net weight (kg)")).fill("120")
    page.get_by_label(clerk.t("Moisture (%)")).fill("7")
    clerk.click("button", "Record the delivery")
    assert MemberFarmer.objects.get(member_number="NEW-001").deliveries.count() == 1

    clerk.menu("Lots")
    page.locator("table a").first.click()
    clerk.check("lot")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_manager_lists_a_lot_accepts_an_order_and_pays_members_in_cash(phone, settings, language):
    settings.ORDER_EVENT_SUBSCRIBERS = []  # the release is posted by the test's factory
    world = make_world(lot_grams=10 * TONNE)
    # Members without a phone are paid in cash; set before the release, whose batch is proposed when it commits.
    MemberFarmer.objects.filter(organisation=world.seller.organisation).update(phone="")
    released_order(world)
    order = place(world, 1 * TONNE)
    new_lot = make_lot(world.seller, grams=3 * TONNE, grade=world.grade_1, warehouse=world.warehouse,
                       collection_point=world.extra["collection_point"])  # fmt: skip
    manager = phone(world.seller.manager, language)
    page = manager.page

    manager.menu("Lots")
    page.get_by_role("link", name=new_lot.code).first.click()
    manager.check()
    manager.click("link", "Offer this lot")
    page.get_by_label(manager.t("Title")).fill("Cocoa, second listing")
    page.get_by_label(manager.t("Price (%(currency)s)", currency="XOF")).fill("1500")
    page.get_by_label(manager.t("Quantity offered (kg)")).fill("500")
    page.get_by_label(manager.t("Minimum order (kg)")).fill("100")
    page.get_by_label(manager.t("Warehouse (ex warehouse)")).select_option(index=1)
    assert ISO_DATE.match(page.get_by_label(manager.t("Available from")).input_value() or "2026-01-01")
    page.get_by_label(manager.t("Available from")).fill("2026-12-01")
    page.get_by_label(manager.t("Valid until")).fill("2027-12-01")
    acknowledge = page.locator("input[type=checkbox][name=eudr_acknowledged]")
    if acknowledge.count():
        acknowledge.check()
    manager.click("button", "Publish the listing")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cocoa, second listing")

    manager.menu("Order inbox")
    _order_link(manager, order.number)
    manager.click("button", "Accept the order")

    manager.menu("Member payouts")
    manager.check("payouts")
    proposed = page.locator("table a[href*='/payouts/']")
    if proposed.count():  # the release proposed the batch when it committed: open it
        proposed.first.click()
    else:
        manager.click("button", "Propose a payout batch")
    manager.click("button", "Approve the payout batch")
    manager.click("button", "Execute the payouts")

    manager.menu("Cash payouts")
    page.locator(".cash-due a.button").first.click()
    manager.check()
    amount = _normal(page.locator("#cash-amount").inner_text())
    if language == "fr":
        assert FRENCH_XOF.fullmatch(amount), amount
    page.locator("form.card button[type=submit]").click()
    manager.check("cash-receipt")
    expect(page.locator("#receipt-clerk")).to_contain_text(world.seller.manager.full_name or world.seller.manager.email)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_supplier_finds_its_offers_group_orders_and_money(phone, language):
    world = make_world(lot_grams=3 * TONNE)
    supplier = phone(world.supplier.manager, language)
    supplier.menu("Our offers")
    supplier.check("offers")
    supplier.menu("Group orders")
    supplier.menu("Money")
    expect(supplier.page.get_by_role("heading", level=1)).to_contain_text(world.supplier.organisation.legal_name)


def test_the_api_docs_render_with_no_network_beyond_the_server(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE, service_workers="block")
    blocked = []

    def only_the_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CoopMarket API", timeout=15_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert not blocked, blocked
    context.close()
