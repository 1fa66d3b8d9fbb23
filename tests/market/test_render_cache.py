"""The public market pages cache their rendered body under the data version (the time of the last refresh): a
second request runs no figure queries, and a refresh shows the new figures at once."""

import re
from datetime import date

import pytest
from django.urls import reverse

from marketplace.market.services import price_points_rebuild
from tests.market.conftest import make_trade

pytestmark = pytest.mark.django_db


def shows(html: str, thousands: str, rest: str) -> bool:
    return re.search(rf"{thousands}[\s,.\u202f\xa0]?{rest}", html) is not None


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


def test_the_body_is_cached_until_the_next_refresh(client, cocoa, sellers, django_assert_max_num_queries,
                                                   django_assert_num_queries):  # fmt: skip
    _, (grade_1, _grade_2) = cocoa
    day = date.today().replace(day=3)
    for seller in (sellers[0], sellers[1], sellers[0]):
        make_trade(seller=seller, grade=grade_1, traded_on=day, amount=1_234_000, grams=1_000_000)
    price_points_rebuild()
    pages = [reverse("market:index"), reverse("market:detail", args=["cocoa-beans", "CI"])]
    for url in pages:
        first = client.get(url)
        assert shows(first.content.decode(), "1", "234")
        with django_assert_num_queries(1):  # the data version only
            again = client.get(url)
        body = lambda response: response.content.decode().split('class="page-head"')[1].split("</main>")[0]  # noqa: E731
        assert body(again) == body(first)
    # a new trade and a refresh: a new version, the new price shows at once
    make_trade(seller=sellers[1], grade=grade_1, traded_on=day, amount=2_298_000, grams=1_000_000)
    price_points_rebuild()
    for url in pages:
        html = client.get(url).content.decode()
        assert shows(html, "1", "500") and not shows(html, "1", "234"), url  # (3 x 1,234 + 2,298) / 4 kg
    # another language or another query is another entry
    french = client.get(pages[0], HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = client.get(pages[0], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert french != english and "<table" in french
    assert client.get(pages[0], {"country": "GH"}).context["rows"] == []


def test_a_cooperatives_cached_prices_are_never_shown_to_another(client, cocoa, sellers):
    from marketplace.organisations.roles import Role
    from tests.factories import MembershipFactory

    _, (grade_1, _grade_2) = cocoa
    day = date.today().replace(day=3)
    for seller in (sellers[0], sellers[1], sellers[0]):
        make_trade(seller=seller, grade=grade_1, traded_on=day, amount=1_234_000, grams=1_000_000)
    price_points_rebuild()
    client.force_login(MembershipFactory(organisation=sellers[0], role=Role.VIEWER).user)
    assert len(client.get(reverse("market:ours")).context["rows"]) == 1
    assert "<table" in client.get(reverse("market:ours")).content.decode()  # from the cache
    client.force_login(MembershipFactory(organisation=sellers[2], role=Role.VIEWER).user)
    response = client.get(reverse("market:ours"))
    assert response.context["rows"] == [] and not shows(response.content.decode(), "1", "234")
