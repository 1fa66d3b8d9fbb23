"""The main menu: grouped by task for each role, the current page marked, every entry a working page."""

import re

import pytest
from django.urls import reverse

from marketplace.organisations.menu import MENU, build_menu
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _sections(*, kind, role, is_operator=False, view_name=None):
    return {
        section.key: [str(link.label) for link in section.links]
        for section in build_menu(kind=kind, role=role, is_operator=is_operator, view_name=view_name)
    }


def test_a_clerk_sees_members_deliveries_lots_and_cash_payouts():
    assert _sections(kind="cooperative", role=Role.CLERK) == {
        "members": ["Member register", "Add a member", "Member decisions"],
        "deliveries": ["Record a delivery", "Deliveries"],
        "lots": ["Lots"],
        "orders": ["Input ordering windows"],
        "money": ["Cash payouts"],
        "reports": ["Market prices", "Our prices"],
    }


def test_a_manager_adds_sales_and_money():
    sections = _sections(kind="cooperative", role=Role.MANAGER)
    assert sections["sales"] == ["Our listings", "Order inbox", "Requests we could serve"]
    assert sections["reports"] == ["Market prices", "Our prices", "Price alerts", "Reports"]
    assert sections["money"] == ["Money", "Member payouts", "Cash payouts"]
    assert sections["organisation"] == ["Members & invitations"]
    assert "platform" not in sections


def test_a_buyer_sees_market_basket_orders_and_money():
    assert _sections(kind="buyer", role=Role.MANAGER) == {
        "market": ["Buyer requests and proposals", "Catalogue", "Input offers"],
        "orders": ["Basket", "Orders"],
        "money": ["Money"],
        "reports": ["Market prices", "Price alerts", "Reports"],
        "organisation": ["Members & invitations"],
    }


def test_a_supplier_sees_offers_group_orders_and_money():
    sections = _sections(kind="input_supplier", role=Role.MANAGER)
    assert sections["offers"] == ["Our offers", "Group orders", "Group input orders"]
    assert sections["money"] == ["Money"]
    assert "members" not in sections and "orders" not in sections


def test_the_operator_sees_organisations_ledger_and_disputes():
    assert _sections(kind="operator", role=Role.ADMIN, is_operator=True)["platform"] == [
        "Organisations",
        "Ledger",
        "Dispute desk",
    ]


def test_a_viewer_sees_no_entry_that_needs_more_than_reading():
    sections = _sections(kind="cooperative", role=Role.VIEWER)
    assert "Add a member" not in sections["members"] and "sales" not in sections and "money" not in sections


def test_the_entry_of_the_page_and_of_the_pages_it_leads_to_is_current():
    menu = build_menu(kind="cooperative", role=Role.CLERK, is_operator=False, view_name="member-detail")
    current = [str(link.label) for section in menu for link in section.links if link.is_current]
    assert current == ["Member register"]


def test_every_entry_names_a_url_that_exists():
    for entry in MENU:
        reverse(entry.url_name)


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        ("cooperative", Role.CLERK),
        ("cooperative", Role.ADMIN),
        ("buyer", Role.MANAGER),
        ("input_supplier", Role.MANAGER),
    ],
)
def test_every_link_in_the_menu_opens_a_page(kind, role, user_in, login):
    client = login(user_in(OrganisationFactory(kind=kind), role))
    page = client.get("/").content.decode()
    nav = page[page.index('<nav class="main-nav"') : page.index("</nav>")]
    links = re.findall(r'href="([^"]+)"', nav)
    assert len(links) >= 4
    for link in links:
        answer = client.get(link, follow=True)
        text = answer.content.decode()
        assert answer.status_code == 200, link
        assert "</nav>" in text, f"{link} has no menu"
        assert 'aria-current="page"' in text[: text.index("</nav>")], link


def test_the_menu_folds_on_a_phone_without_a_script(user_in, login):
    page = login(user_in(OrganisationFactory(kind=Organisation.Kind.COOPERATIVE), Role.CLERK)).get("/").content
    text = page.decode()
    assert 'type="checkbox" id="menu-toggle"' in text and '<label for="menu-toggle"' in text
