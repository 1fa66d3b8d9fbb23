"""The matching API: the buyer's requests and proposals, a cooperative's open requests and parts; isolation,
bad input and query counts."""

import datetime

import pytest
from django.core import mail
from django.test import Client

from marketplace.core.sms import MemorySmsBackend
from marketplace.matching import services
from marketplace.matching.models import BuyerRequest, Proposal, ProposalPart
from marketplace.matching.notifications import proposal_part_notify
from tests.matching.factories import post_request
from tests.orders.factories import TONNE

BASE = "/api/v1/matching/"


def payload(market, **overrides):
    today = datetime.date.today()
    data = {
        "organisation": market.buyer.organisation.pk,
        "commodity": market.grade_1.commodity_id,
        "min_grade": market.grade_2.pk,
        "quantity_grams": 20 * TONNE,
        "min_truckload_grams": 15 * TONNE,
        "max_price_per_tonne_minor": 1_700_000,
        "currency": "XOF",
        "delivery_place": "Abidjan port",
        "delivery_latitude": "5.316000",
        "delivery_longitude": "-4.033000",
        "window_start": str(today),
        "window_end": str(today + datetime.timedelta(days=30)),
        "max_distance_km": 600,
        "certifications": [],
    }
    data.update(overrides)
    return data


def matched(market):
    request = post_request(market)
    services.matching_rematch(commodity_id=market.grade_1.commodity_id, currency="XOF")
    return request, Proposal.objects.get(request=request, status="open")


def test_buyer_posts_edits_and_withdraws_a_request(market, as_user):
    client = as_user(market.buyer.manager)
    created = client.post(f"{BASE}requests/", payload(market), format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["min_grade"] == market.grade_2.code
    edited = client.put(f"{BASE}requests/{pk}/", payload(market, quantity_grams=25 * TONNE), format="json")
    assert edited.status_code == 200 and edited.json()["quantity_grams"] == 25 * TONNE
    listed = client.get(f"{BASE}requests/")
    assert [r["id"] for r in listed.json()["results"]] == [pk]
    withdrawn = client.post(f"{BASE}requests/{pk}/withdraw/", {"reason": "Bought elsewhere"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = client.post(f"{BASE}requests/{pk}/withdraw/", {}, format="json")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity_grams": 0}, "quantity_grams"),
        ({"currency": "X1"}, "currency"),
        ({"delivery_latitude": "95"}, "delivery_latitude"),
        ({"certifications": ["gold"]}, "certifications"),
        ({"window_end": "2001-01-01", "window_start": "2000-01-01"}, "window_end"),
        ({"min_fill_grams": 30 * TONNE}, "min_fill_grams"),
        ({"commodity": 999_999}, "commodity"),
        ({"organisation": None}, "organisation"),
    ],
)
def test_bad_request_input_is_a_clear_400(market, as_user, change, field):
    data = {k: v for k, v in payload(market, **change).items() if v is not None}
    response = as_user(market.buyer.manager).post(f"{BASE}requests/", data, format="json")
    assert response.status_code == 400, response.json()
    assert any(name.split(".")[0] == field for name in response.json()["error"]["fields"])
    assert not BuyerRequest.objects.exists()


def test_requests_are_isolated(market, as_user):
    request = post_request(market)
    for user in (market.stranger_buyer.manager, market.coop_a.manager):
        client = as_user(user)
        assert client.get(f"{BASE}requests/{request.pk}/").status_code == 404
        assert client.put(f"{BASE}requests/{request.pk}/", payload(market), format="json").status_code == 404
        assert client.post(f"{BASE}requests/{request.pk}/withdraw/", {}, format="json").status_code == 404
        assert client.get(f"{BASE}requests/").json()["results"] == []
    assert as_user(market.buyer.viewer).post(f"{BASE}requests/{request.pk}/withdraw/", {}).status_code == 403


def test_the_buyer_sees_every_part_and_the_explanation_a_cooperative_only_its_own(market, as_user):
    _, proposal = matched(market)
    buyer = as_user(market.buyer.manager).get(f"{BASE}proposals/{proposal.pk}/").json()
    assert len(buyer["parts"]) == 2 and "alternatives" in buyer["explanation"]
    coop = as_user(market.coop_a.manager).get(f"{BASE}proposals/{proposal.pk}/").json()
    assert [p["seller"] for p in coop["parts"]] == [market.coop_a.organisation.name]
    assert coop["explanation"] == {}
    listed = as_user(market.coop_b.manager).get(f"{BASE}proposals/").json()["results"]
    assert [len(p["parts"]) for p in listed] == [1]
    assert listed[0]["parts"][0]["price_per_tonne_minor"] == 1_500_000
    for user in (market.stranger_buyer.manager, market.stranger_coop.manager):
        assert as_user(user).get(f"{BASE}proposals/{proposal.pk}/").status_code == 404
        assert as_user(user).get(f"{BASE}proposals/").json()["results"] == []


def test_answers_through_the_api_make_one_consignment(market, as_user, api_client):
    _, proposal = matched(market)
    parts = {p.seller_id: p for p in ProposalPart.objects.filter(proposal=proposal)}
    part_a = parts[market.coop_a.organisation.pk]
    part_b = parts[market.coop_b.organisation.pk]
    # Isolation of every answer.
    assert as_user(market.coop_b.manager).post(f"{BASE}parts/{part_a.pk}/accept/").status_code == 404
    assert as_user(market.stranger_coop.manager).post(f"{BASE}parts/{part_a.pk}/decline/").status_code == 404
    assert (
        as_user(market.stranger_coop.manager).post(f"{BASE}parts/{part_a.pk}/counter/", {"grams": 1}).status_code == 404
    )
    assert as_user(market.coop_a.manager).post(f"{BASE}proposals/{proposal.pk}/accept/").status_code == 404
    assert as_user(market.stranger_buyer.manager).post(f"{BASE}proposals/{proposal.pk}/decline/").status_code == 404
    assert (
        as_user(market.stranger_buyer.manager)
        .post(f"{BASE}proposals/{proposal.pk}/counter/", {"grams": TONNE, "part": part_a.pk})
        .status_code
        == 404
    )
    assert as_user(market.coop_a.manager).post(f"{BASE}parts/{part_a.pk}/counter/", {"grams": "x"}).status_code == 400
    assert (
        as_user(market.buyer.manager).post(f"{BASE}proposals/{proposal.pk}/counter/", {"grams": 5}).status_code == 400
    )

    assert as_user(market.coop_a.manager).post(f"{BASE}parts/{part_a.pk}/accept/").status_code == 200
    assert as_user(market.coop_b.manager).post(f"{BASE}parts/{part_b.pk}/accept/").status_code == 200
    done = as_user(market.buyer.manager).post(f"{BASE}proposals/{proposal.pk}/accept/")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "accepted" and done.json()["purchase"]
    assert as_user(market.buyer.manager).post(f"{BASE}proposals/{proposal.pk}/decline/").status_code == 400


def test_a_cooperative_sees_the_open_requests_its_listings_could_serve(market, as_user):
    near = post_request(market)
    post_request(market, max_price_per_tonne_minor=1_000_000)  # below every ask
    post_request(market, certifications=("organic",))
    response = as_user(market.coop_a.manager).get(
        f"{BASE}open-requests/", {"organisation": market.coop_a.organisation.pk}
    )
    assert response.status_code == 200
    assert [(r["id"], r["your_listings"]) for r in response.json()] == [(near.pk, [market.listing_a.pk])]
    # No cooperative's ask is shown, not even its own listing's price.
    assert "price_per_tonne_minor" not in response.json()[0] and 1_500_000 not in response.json()[0].values()
    other = as_user(market.stranger_coop.manager).get(
        f"{BASE}open-requests/", {"organisation": market.coop_a.organisation.pk}
    )
    assert other.status_code == 404
    assert as_user(market.stranger_coop.manager).get(f"{BASE}open-requests/", {"organisation": "x"}).status_code == 404


def test_list_endpoints_run_a_constant_number_of_queries(market, as_user, django_assert_max_num_queries):
    for _ in range(3):
        post_request(market, quantity_grams=7 * TONNE, min_truckload_grams=5 * TONNE)
    services.matching_rematch(commodity_id=market.grade_1.commodity_id, currency="XOF")
    client = as_user(market.buyer.manager)
    with django_assert_max_num_queries(8):
        assert len(client.get(f"{BASE}proposals/").json()["results"]) >= 2
    with django_assert_max_num_queries(6):
        assert len(client.get(f"{BASE}requests/").json()["results"]) == 3


def test_a_cooperative_is_told_once_by_email_and_sms(market, settings):
    settings.SMS_BACKEND = "marketplace.core.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    _, proposal = matched(market)
    part = ProposalPart.objects.get(proposal=proposal, seller=market.coop_b.organisation)
    mail.outbox.clear()
    assert proposal_part_notify(part_id=part.pk) is True
    assert proposal_part_notify(part_id=part.pk) is False
    assert len(mail.outbox) == 1
    assert part.listing.title in mail.outbox[0].subject
    assert set(mail.outbox[0].to) == {market.coop_b.manager.email, market.coop_b.admin.email}
    assert [m.to for m in MemorySmsBackend.outbox] == ["+2252732000003"]
    assert "/api/v1/matching/proposals/" in MemorySmsBackend.outbox[0].body


def test_a_declining_cooperatives_words_reach_the_buyer_and_never_the_other_cooperative(market, as_user):
    _, proposal = matched(market)
    part_b = ProposalPart.objects.get(proposal=proposal, seller=market.coop_b.organisation)
    words = "Sold at 1.9 M elsewhere"
    services.proposal_part_decline(actor=market.coop_b.manager, part_id=part_b.pk, reason=words)
    as_buyer = as_user(market.buyer.manager).get(f"{BASE}proposals/{proposal.pk}/").json()
    assert words in {part["decline_reason"] for part in as_buyer["parts"]}
    assert words not in as_buyer["reason"]
    as_coop_a = as_user(market.coop_a.manager).get(f"{BASE}proposals/{proposal.pk}/")
    assert as_coop_a.status_code == 200 and words not in as_coop_a.content.decode()
    for user, shown in ((market.coop_a.manager, False), (market.buyer.manager, True)):
        client = Client()
        client.force_login(user)
        page = client.get(f"/matching/proposals/{proposal.pk}/")
        assert page.status_code == 200 and (words in page.content.decode()) is shown
