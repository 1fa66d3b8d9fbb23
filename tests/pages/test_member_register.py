import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace.organisations.models import MemberFarmer
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, PlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(coop, other_coop):
    """Two cooperatives whose farmers share villages and look alike."""
    MemberFarmerFactory(
        organisation=coop, member_number="A-001", name="Awa Koné", village="Soubré", phone="+2250701020304"
    )
    MemberFarmerFactory(organisation=coop, member_number="A-002", name="Yao Kouassi", village="Méagui")
    MemberFarmerFactory(
        organisation=coop, member_number="A-003", name="Adjoua Bamba", village="Soubré", status=MemberFarmer.Status.LEFT
    )
    MemberFarmerFactory(organisation=other_coop, member_number="A-001", name="Secret Farmer", village="Soubré")
    return coop


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"Awa Koné", "Yao Kouassi", "Adjoua Bamba"}),
        ({"q": "awa"}, {"Awa Koné"}),
        ({"q": "A-002"}, {"Yao Kouassi"}),
        ({"q": "0701020304"}, {"Awa Koné"}),
        ({"q": "soubré"}, {"Awa Koné", "Adjoua Bamba"}),
        ({"status": "left"}, {"Adjoua Bamba"}),
        ({"q": "soubré", "status": "active"}, {"Awa Koné"}),
        ({"q": "nobody"}, set()),
    ],
)
def test_register_search_and_status_filter(client, register, user_in, login, query, expected):
    login(user_in(register, Role.VIEWER))
    response = client.get(reverse("member-list"), query)
    assert response.status_code == 200
    assert {farmer.name for farmer in response.context["page"].object_list} == expected
    html = response.content.decode()
    for name in expected:
        assert name in html
    if not expected:
        assert "No member farmer matches this search." in html


def test_register_rows_link_to_the_member_page(client, register, user_in, login):
    login(user_in(register, Role.VIEWER))
    farmer = MemberFarmer.objects.get(organisation=register, member_number="A-001")
    PlotFactory(farmer=farmer)
    html = client.get(reverse("member-list")).content.decode()
    assert f'href="/members/{farmer.pk}/"' in html
    assert 'role="search"' in html
    assert 'hx-get="/members/"' in html


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"page": "2"},
        {"page": "999"},
        {"q": "Secret"},
        {"q": "A-001"},
        {"q": "Soubré"},
        {"status": "active"},
        {"q": "Secret", "htmx": True},
    ],
)
def test_the_register_never_shows_another_cooperatives_farmers(client, register, other_coop, user_in, login, query):
    MemberFarmerFactory.create_batch(30, organisation=register)
    MemberFarmerFactory.create_batch(30, organisation=other_coop, name="Secret Farmer")
    login(user_in(register, Role.ADMIN))
    query = dict(query)
    headers = {"HX-Request": "true"} if query.pop("htmx", False) else {}
    response = client.get(reverse("member-list"), query, headers=headers)
    assert response.status_code == 200
    assert "Secret Farmer" not in response.content.decode()
    assert all(farmer.organisation_id == register.pk for farmer in response.context["page"].object_list)


def test_the_register_is_paginated(client, coop, user_in, login):
    MemberFarmerFactory.create_batch(30, organisation=coop)
    login(user_in(coop, Role.VIEWER))
    first = client.get(reverse("member-list"))
    assert len(first.context["page"].object_list) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()
    second = client.get(reverse("member-list"), {"page": 2, "status": "active"})
    assert len(second.context["page"].object_list) == 5
    assert 'href="?page=1&amp;status=active"' in second.content.decode()


def test_htmx_gets_only_the_results(client, register, user_in, login):
    login(user_in(register, Role.VIEWER))
    response = client.get(reverse("member-list"), {"q": "yao"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Yao Kouassi" in html
    assert "Awa Koné" not in html
    assert "HX-Request" in response["Vary"]
    full = client.get(reverse("member-list"), {"q": "yao"})
    assert "<html" in full.content.decode()
    assert "HX-Request" in full["Vary"]
    # A history restore asks for the whole page.
    restore = client.get(
        reverse("member-list"), {"q": "yao"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def _register_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("member-list"), {"q": "a"})
    assert response.status_code == 200
    return len(queries)


def test_the_register_query_count_does_not_grow_with_the_farmers(
    client, coop, user_in, login, django_assert_max_num_queries
):
    login(user_in(coop, Role.CLERK))
    for farmer in MemberFarmerFactory.create_batch(5, organisation=coop, name="Ama"):
        PlotFactory.create_batch(2, farmer=farmer)
    with django_assert_max_num_queries(10):
        small = _register_queries(client)
    for farmer in MemberFarmerFactory.create_batch(45, organisation=coop, name="Ama"):
        PlotFactory.create_batch(2, farmer=farmer)
    with django_assert_max_num_queries(10):
        large = _register_queries(client)
    assert small == large


def test_a_member_page_shows_details_and_plots(client, coop, user_in, login):
    farmer = MemberFarmerFactory(organisation=coop, name="Awa Koné", village="Soubré", birth_year=1980)
    PlotFactory(farmer=farmer, name="Cacao nord", area_hectares="2.5")
    PlotFactory(farmer=farmer, name="Cacao sud", area_hectares="1.0")
    login(user_in(coop, Role.VIEWER))
    response = client.get(reverse("member-detail", args=[farmer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Awa Koné", "Soubré", "1980", "Cacao nord", "Cacao sud", farmer.member_number, "3.5"):
        assert text in html
    assert f'href="/members/{farmer.pk}/plots/add/"' not in html  # a viewer records nothing


@pytest.mark.parametrize("page", ["member-detail", "plot-add"])
@pytest.mark.parametrize("role", [Role.VIEWER, Role.ADMIN])
def test_another_cooperatives_member_is_not_found(client, coop, other_coop, user_in, login, page, role):
    stranger = MemberFarmerFactory(organisation=other_coop, name="Secret Farmer")
    login(user_in(coop, role))
    response = client.get(reverse(page, args=[stranger.pk]))
    assert response.status_code == 404
    assert "Secret Farmer" not in response.content.decode()
    assert "Page not found" in response.content.decode()


def test_an_unknown_member_is_not_found(client, coop, user_in, login):
    login(user_in(coop))
    assert client.get(reverse("member-detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("value", "language", "shown"),
    [("2.5000", "en", "2.5"), ("2.5000", "fr", "2,5"), ("10.0000", "en", "10"), ("0.1234", "en", "0.1234")],
)
def test_areas_are_shown_without_trailing_zeros(value, language, shown):
    from decimal import Decimal

    from django.utils import translation

    from marketplace.organisations.templatetags.coop import hectares

    with translation.override(language):
        assert hectares(Decimal(value)) == shown
