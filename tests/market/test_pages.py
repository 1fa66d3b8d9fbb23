"""The public market page, its CSV and API, and a cooperative's own prices: published cells only, constant
queries, clear 4xx on bad input, no other organisation's figures."""

import csv
from datetime import date, timedelta
from io import StringIO

import pytest
from django.urls import reverse

from marketplace.market.services import price_points_rebuild
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.market.conftest import make_trade

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(cocoa, sellers):
    """Nawa grade 1: three months of 3 trades from 2 sellers (published). Haut-Sassandra: one seller (hidden)."""
    _, (grade_1, grade_2) = cocoa
    nawa_1, nawa_2, sassandra_1, _ = sellers
    today = date.today().replace(day=5)
    for months_back, price in ((2, 1_400), (1, 1_500), (0, 1_600)):
        day = (today - timedelta(days=31 * months_back)).replace(day=5)
        for seller in (nawa_1, nawa_2, nawa_1):
            make_trade(seller=seller, grade=grade_1, traded_on=day, amount=price * 1_000, grams=1_000_000)
        for _ in range(3):
            make_trade(seller=sassandra_1, grade=grade_2, traded_on=day, amount=987_654, grams=1_000_000)
    price_points_rebuild()
    return {"nawa_1": nawa_1, "nawa_2": nawa_2, "sassandra_1": sassandra_1}


def test_the_market_page_is_public_and_shows_published_cells_only(client, market, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get(reverse("market:index"))
    assert response.status_code == 200
    html = response.content.decode()
    [row] = response.context["rows"]
    assert (row["region"], row["latest"].per_unit.amount, row["latest"].sellers) == ("Nawa", 1_600, 2)
    assert "Nawa" in html
    assert "Haut-Sassandra" not in html
    assert "988" not in html  # the hidden cell's price (987.654 per kg)


def test_the_series_page_has_a_chart_a_table_and_constant_queries(client, market, django_assert_max_num_queries):
    url = reverse("market:detail", args=["cocoa-beans", "CI"])
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'role="img"' in html and "<table" in html
    assert html.count("<tr>") == 1 + 3  # header + three monthly points of grade 1 in Nawa
    assert "Haut-Sassandra" not in html
    with django_assert_max_num_queries(6):
        assert client.get(url, {"period": "week"}).status_code == 200
    assert client.get(url, {"period": "fortnight"}).status_code == 200  # falls back to the month
    assert client.get(reverse("market:detail", args=["no-such-thing", "CI"])).status_code == 404


def test_the_csv_has_the_published_figures(client, market):
    response = client.get(reverse("market:csv", args=["cocoa-beans", "CI"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(StringIO(response.content.decode())))
    assert [r["price_per_quoted_unit"] for r in rows] == ["1400", "1500", "1600"]
    assert {r["region"] for r in rows} == {"Nawa"}
    assert {r["sellers"] for r in rows} == {"2"}


def test_the_api_is_public_and_refuses_bad_queries(api_client, market, django_assert_max_num_queries):
    url = reverse("api-market-series")
    with django_assert_max_num_queries(4):
        response = api_client.get(url, {"commodity": "cocoa-beans", "country": "ci"})
    assert response.status_code == 200
    [series] = response.json()
    assert (series["region"], series["currency"], series["quoted_unit"]) == ("Nawa", "XOF", "kg")
    assert [p["price_per_quoted_unit"] for p in series["grades"][0]["points"]] == [1400, 1500, 1600]
    bad = api_client.get(url, {"commodity": "cocoa-beans", "country": "CI", "period": "year"})
    assert bad.status_code == 400 and "period" in bad.json()["error"]["fields"]
    assert api_client.get(url, {"commodity": "cocoa-beans"}).status_code == 400
    assert api_client.get(url, {"commodity": "nothing", "country": "CI"}).status_code == 404


def test_a_cooperative_sees_its_own_prices_against_the_market(client, market, django_assert_max_num_queries):
    from tests.pages.conftest import LOGIN_BACKEND

    manager = MembershipFactory(organisation=market["nawa_2"], role=Role.VIEWER).user
    client.force_login(manager, backend=LOGIN_BACKEND)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("market:ours"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 3  # nawa_2 sold one tonne a month
    assert {(str(r["own_per_unit"].amount), str(r["market_per_unit"].amount)) for r in rows} == {
        ("1400", "1400"),
        ("1500", "1500"),
        ("1600", "1600"),
    }
    # the hidden Haut-Sassandra seller sees its own prices, and a dash for the market
    client.force_login(MembershipFactory(organisation=market["sassandra_1"]).user, backend=LOGIN_BACKEND)
    rows = client.get(reverse("market:ours")).context["rows"]
    assert {r["market_per_unit"] for r in rows} == {None}


def test_our_prices_is_private(client, market):
    from tests.pages.conftest import LOGIN_BACKEND

    assert client.get(reverse("market:ours")).status_code == 302  # sign in first
    buyer = OrganisationFactory(kind=Organisation.Kind.BUYER)
    client.force_login(MembershipFactory(organisation=buyer).user, backend=LOGIN_BACKEND)
    assert client.get(reverse("market:ours")).status_code == 404
    # another cooperative's member sees nothing of Nawa's trades
    other = OrganisationFactory(kind=Organisation.Kind.COOPERATIVE, country="CI", region="Nawa")
    client.force_login(MembershipFactory(organisation=other).user, backend=LOGIN_BACKEND)
    response = client.get(reverse("market:ours"))
    assert response.status_code == 200 and response.context["rows"] == []
