import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.organisations.models import MemberFarmer, Organisation, Plot
from marketplace.organisations.roles import Role
from tests.factories import PASSWORD, MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FARMERS = [
    ("A-001", "Awa Koné", "Soubré", MemberFarmer.Gender.FEMALE, 1986),
    ("A-002", "Yao Kouassi", "Méagui", MemberFarmer.Gender.MALE, 1979),
    ("A-003", "Adjoua Bamba", "Soubré", MemberFarmer.Gender.FEMALE, 1999),
    ("A-004", "Koffi N'Guessan", "Buyo", MemberFarmer.Gender.MALE, 1992),
    ("A-005", "Mariam Traoré", "Okrouyo", MemberFarmer.Gender.FEMALE, 2001),
    ("A-006", "Séraphin Gnagne", "Méagui", MemberFarmer.Gender.MALE, 1965),
    ("A-007", "Aminata Koné", "Buyo", MemberFarmer.Gender.FEMALE, 1990),
    ("A-008", "Jean-Baptiste Yao", "Soubré", MemberFarmer.Gender.MALE, 1983),
]


@pytest.fixture
def cooperative():
    coop = OrganisationFactory(legal_name="Coopérative Agricole de Soubré", display_name="CA Soubré", region="Nawa")
    for number, name, village, gender, birth_year in FARMERS:
        farmer = MemberFarmerFactory(
            organisation=coop, member_number=number, name=name, village=village, gender=gender, birth_year=birth_year
        )
        PlotFactory(farmer=farmer, name=f"Cacao {village}", area_hectares="2.5")
    # Another cooperative's farmer, never to be seen.
    MemberFarmerFactory(organisation=OrganisationFactory(), name="Awa Secret", village="Soubré")
    return coop


def sign_in(page: Page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_signing_in_through_the_login_page_opens_the_dashboard(browser_page: Page, cooperative, artifacts):
    page = browser_page
    manager = MembershipFactory(organisation=cooperative, role=Role.MANAGER, user__full_name="Fatou Diallo").user

    stylesheet = []
    page.on("response", lambda r: stylesheet.append(r.status) if r.url.endswith("/static/css/app.css") else None)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    sign_in(page, manager)

    expect(page.get_by_role("heading", level=1)).to_have_text("CA Soubré")
    expect(page.locator(".stat").first).to_contain_text("8")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Menu").click()  # on a phone the menu folds behind its button
    expect(nav.get_by_role("link", name="Member register")).to_be_visible()
    expect(nav.get_by_role("link", name="Members & invitations")).to_be_visible()
    expect(nav.get_by_role("link", name="Organisations")).to_have_count(0)
    # The hand-written stylesheet and the vendored htmx are served and applied.
    assert stylesheet and all(status in (200, 304) for status in stylesheet)
    background = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    assert background == "rgb(47, 107, 58)"
    assert page.evaluate("typeof window.htmx") == "object"
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    nav.get_by_role("link", name="Member register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Member register")
    expect(page.locator("table.register tbody tr")).to_have_count(8)
    expect(page.get_by_text("Awa Secret")).to_have_count(0)
    page.screenshot(path=str(artifacts / "member-register.png"), full_page=True)


def test_the_register_searches_as_you_type(browser_page: Page, cooperative):
    page = browser_page
    sign_in(page, MembershipFactory(organisation=cooperative, role=Role.VIEWER).user)
    page.goto("/members/")
    rows = page.locator("table.register tbody tr")
    expect(rows).to_have_count(8)

    page.get_by_label("Search").press_sequentially("koné", delay=30)
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Awa Koné")
    expect(page).to_have_url(re.compile(r"q=kon%C3%A9|q=koné"))
    expect(page.get_by_text("Awa Secret")).to_have_count(0)

    page.get_by_label("Search").fill("Soubré")
    page.get_by_label("Search").dispatch_event("input")
    expect(rows).to_have_count(3)
    page.get_by_label("Status").select_option("left")
    expect(page.get_by_text("No member farmer matches this search.")).to_be_visible()


def test_the_register_search_works_without_javascript(chromium, live_server, transactional_db, cooperative):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, MembershipFactory(organisation=cooperative, role=Role.VIEWER).user)
        page.goto("/members/")
        page.get_by_label("Search").fill("Méagui")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"/members/\?q="))
        expect(page.locator("table.register tbody tr")).to_have_count(2)
        # Menus are plain <details>: signing out needs no script either.
        page.get_by_text("Account").click()
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
    finally:
        context.close()


def test_a_clerk_adds_a_member_and_a_plot_through_the_forms(browser_page: Page, cooperative):
    page = browser_page
    sign_in(page, MembershipFactory(organisation=cooperative, role=Role.CLERK).user)
    page.get_by_role("navigation", name="Main").get_by_text("Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Add a member").click()

    # A used member number is refused, with the message next to the field and the input kept.
    page.get_by_label("Member number").fill("A-001")
    page.get_by_label("Full name").fill("Rokia Ouattara")
    page.get_by_role("button", name="Add the member").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(page.get_by_label("Member number")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Already used in this cooperative.")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Rokia Ouattara")

    page.get_by_label("Member number").fill("A-100")
    page.get_by_label("Phone number").fill("07 08 09 10 11")
    page.get_by_label("Gender").select_option("female")
    page.get_by_label("Birth year").fill("1995")
    page.get_by_label("Village").fill("Buyo")
    page.get_by_role("button", name="Add the member").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Rokia Ouattara")
    expect(page.get_by_role("status")).to_contain_text("Rokia Ouattara was added to the register.")
    farmer = MemberFarmer.objects.get(organisation=cooperative, member_number="A-100")
    assert str(farmer.phone) == "+2250708091011"

    page.get_by_role("link", name="Add a plot").click()
    page.get_by_label("Plot name").fill("Cacao bas-fond")
    page.get_by_label("Area (hectares)").fill("1.75")
    page.get_by_role("button", name="Add the plot").click()
    expect(page.get_by_role("cell", name="Cacao bas-fond", exact=True)).to_be_visible()
    assert Plot.objects.get(farmer=farmer).area_hectares == 1.75


def test_switching_the_language_to_french(browser_page: Page, cooperative):
    page = browser_page
    sign_in(page, MembershipFactory(organisation=cooperative, role=Role.ADMIN).user)
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change language").click()

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    nav = page.get_by_role("navigation", name="Principal")
    nav.get_by_text("Menu").click()
    expect(nav.get_by_role("link", name="Tableau de bord")).to_be_visible()
    expect(nav.get_by_role("link", name="Registre des membres")).to_be_visible()
    expect(page.get_by_text("membres actifs")).to_be_visible()
    # The choice sticks on the next page.
    nav.get_by_role("link", name="Registre des membres").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registre des membres")


def test_an_operator_verifies_a_pending_organisation(browser_page: Page):
    page = browser_page
    operator_org = OrganisationFactory(kind=Organisation.Kind.OPERATOR, legal_name="CoopMarket Operations")
    OrganisationFactory(legal_name="Union des Producteurs de Daloa", verification_status="pending")
    sign_in(page, MembershipFactory(organisation=operator_org, role=Role.ADMIN).user)
    page.get_by_role("link", name="Review them").click()
    card = page.locator(".card", has_text="Union des Producteurs de Daloa")
    card.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("Union des Producteurs de Daloa is now: Verified.")
    assert Organisation.objects.get(legal_name="Union des Producteurs de Daloa").verification_status == "verified"
