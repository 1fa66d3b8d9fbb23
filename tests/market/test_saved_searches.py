"""Saved searches: a buyer hears once of every new listing that fits (on commit, through the outbox), by e-mail or
SMS; the API is the buyer's own; matching many searches takes a constant number of queries."""

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.core.sms import MemorySmsBackend
from marketplace.market.models import SavedSearch, SavedSearchHit
from marketplace.market.searches import saved_search_create, saved_searches_match
from marketplace.market.tasks import saved_search_hit_send
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.catalogue.conftest import *  # noqa: F403  (the cooperative, lots and listings)
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(db):
    organisation = OrganisationFactory(kind=Organisation.Kind.BUYER, legal_name="Chocolat SA", country="FR")
    return MembershipFactory(organisation=organisation, role=Role.MANAGER).user, organisation


def search(buyer, **fields):
    user, organisation = buyer
    return saved_search_create(actor=user, organisation_id=organisation.pk, **{"name": "Cocoa", "commodity":
                                                                               "cocoa-beans", **fields})  # fmt: skip


def test_a_new_listing_that_fits_sends_one_email(buyer, make_lot, make_listing, django_capture_on_commit_callbacks,
                                                  settings):  # fmt: skip
    settings.SMS_BACKEND = "marketplace.core.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    fits = search(buyer, name="Nawa cocoa", min_grade="grade-1", country="CI", region="Nawa")
    by_sms = search(buyer, name="Near Soubre", latitude="5.78", longitude="-6.60", radius_km="20", channel="sms",
                    phone="+2250701020304")  # fmt: skip
    elsewhere = search(buyer, name="Ghana", country="GH")
    far = search(buyer, name="Abidjan", latitude="5.35", longitude="-4.00", radius_km="50")
    certified = search(buyer, name="Fairtrade", certification="fairtrade")
    maize = search(buyer, name="Maize", commodity="maize-white")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        listing = make_listing(make_lot())
    hits = set(SavedSearchHit.objects.values_list("search_id", flat=True))
    assert fits.pk in hits and {elsewhere.pk, far.pk, certified.pk, maize.pk}.isdisjoint(hits)
    assert ({by_sms.pk} <= hits) == (listing.latitude is not None)
    assert [m.subject for m in mail.outbox] == ["CoopMarket: a new listing fits Nawa cocoa"]
    assert f"/listings/{listing.pk}/" in mail.outbox[0].body and mail.outbox[0].to == [buyer[0].email]
    # the task again (at-least-once delivery) and the hit's sender again send nothing more
    assert saved_searches_match(listing_id=listing.pk) == 0
    for hit in SavedSearchHit.objects.all():
        assert saved_search_hit_send(hit.pk) == "already_sent"
    assert len(mail.outbox) == 1


def test_a_listing_that_is_not_live_matches_nothing(buyer):
    search(buyer)
    assert saved_searches_match(listing_id=987654321) == 0
    assert not SavedSearchHit.objects.exists()


def test_matching_many_searches_takes_constant_queries(buyer, make_lot, make_listing, django_assert_max_num_queries,
                                                       django_capture_on_commit_callbacks):  # fmt: skip
    for n in range(30):
        user = MembershipFactory(organisation=buyer[1], role=Role.MANAGER).user
        saved_search_create(actor=user, organisation_id=buyer[1].pk, name=f"s{n}", commodity="cocoa-beans",
                            min_grade="grade-1")  # fmt: skip
    listing = make_listing(make_lot())  # no on-commit: the match runs below
    with django_assert_max_num_queries(10):
        assert saved_searches_match(listing_id=listing.pk) == 30


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"commodity": "nothing"}, "commodity"),
        ({"min_grade": "zz"}, "min_grade"),
        ({"country": "FRA"}, "country"),
        ({"latitude": "5"}, "radius_km"),
        ({"latitude": "95", "longitude": "1", "radius_km": "3"}, "latitude"),
        ({"certification": "organic-ish"}, "certification"),
        ({"channel": "sms", "phone": "12"}, "phone"),
        ({"channel": "sms"}, "phone"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_searches_are_refused_with_the_field(client, buyer, fields, field):
    user, organisation = buyer
    client.force_login(user)
    body = {"organisation": organisation.pk, "name": "x", "commodity": "cocoa-beans", **fields}
    response = client.post(reverse("api-market-saved-searches"), body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()


def test_the_api_is_the_buyers_own(client, buyer, coop, manager):
    user, organisation = buyer
    client.force_login(user)
    url = reverse("api-market-saved-searches")
    created = client.post(
        url,
        {
            "organisation": organisation.pk,
            "name": "Nawa",
            "commodity": "cocoa-beans",
            "min_grade": "grade-1",
            "eudr_ready": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["min_grade"] == "grade-1" and created.json()["eudr_ready"] is True
    assert [s["name"] for s in client.get(url).json()] == ["Nawa"]
    # a cooperative cannot save one; a stranger neither sees nor deletes it
    assert client.post(url, {"organisation": coop.pk, "name": "x", "commodity": "cocoa-beans"},
                       content_type="application/json").status_code == 404  # fmt: skip
    client.force_login(manager)
    assert client.get(url).json() == []
    detail = reverse("api-market-saved-search", args=[created.json()["id"]])
    assert client.delete(detail).status_code == 404
    client.force_login(user)
    assert client.delete(detail).status_code == 204
    assert client.delete(detail).status_code == 404
    assert not SavedSearch.objects.exists()


def test_the_page_lists_saves_and_deletes_the_buyers_own(client, buyer, manager, django_assert_max_num_queries):
    user, _organisation = buyer
    client.force_login(user)
    url = reverse("market:searches")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "x", "commodity": "cocoa-beans", "country": "FRA"})
    assert bad.status_code == 400 and "country" in bad.content.decode()
    assert client.post(url, {"name": "Nawa cocoa", "commodity": "cocoa-beans", "region": "Nawa"}).status_code == 302
    for n in range(5):
        search(buyer, name=f"extra {n}")
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert "Nawa cocoa" in html
    saved = SavedSearch.objects.get(name="Nawa cocoa")
    client.force_login(manager)  # another organisation's member: not shown, cannot delete
    assert client.post(url, {"delete": saved.pk}).status_code == 404
    client.force_login(user)
    assert client.post(url, {"delete": saved.pk}).status_code == 302
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()
