"""The matching pages: what each side sees, isolation, bad input and query counts."""

import datetime

import pytest
from django.test import Client

from marketplace.matching import services
from marketplace.matching.models import BuyerRequest, Consignment, Proposal, ProposalPart
from tests.matching.factories import post_request
from tests.orders.factories import TONNE


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def matched(market):
    request = post_request(market)
    services.matching_rematch(commodity_id=market.grade_1.commodity_id, currency="XOF")
    return request, Proposal.objects.get(request=request, status="open")


def form(market, **overrides):
    today = datetime.date.today()
    data = {
        "commodity": market.grade_1.commodity_id, "quantity_t": "20", "min_fill_t": "0", "min_truckload_t": "15",
        "max_price": "1700000", "currency": "XOF", "delivery_place": "Abidjan port", "delivery_latitude": "5.316",
        "delivery_longitude": "-4.033", "window_start": str(today),
        "window_end": str(today + datetime.timedelta(days=30)), "max_distance_km": "600",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_buyer_posts_edits_and_withdraws_from_the_pages(market):
    client = client_for(market.buyer.manager)
    assert client.get("/matching/requests/new/").status_code == 200
    response = client.post("/matching/requests/new/", form(market))
    assert response.status_code == 302
    request = BuyerRequest.objects.get()
    assert (request.quantity_grams, request.max_price_per_tonne_minor) == (20 * TONNE, 1_700_000)
    assert client.post(f"/matching/requests/{request.pk}/edit/", form(market, quantity_t="25")).status_code == 302
    request.refresh_from_db()
    assert request.quantity_grams == 25 * TONNE
    assert client.post(f"/matching/requests/{request.pk}/withdraw/").status_code == 302
    request.refresh_from_db()
    assert request.status == "withdrawn"


@pytest.mark.parametrize(
    "change",
    [{"quantity_t": "-1"}, {"currency": "X"}, {"delivery_latitude": "99"}, {"window_end": "2001-01-01"},
     {"max_price": "abc"}, {"min_fill_t": "30"}],
)  # fmt: skip
def test_bad_page_input_is_a_400_that_says_what_to_fix(market, change):
    response = client_for(market.buyer.manager).post("/matching/requests/new/", form(market, **change))
    assert response.status_code == 400
    assert not BuyerRequest.objects.exists()


def test_a_cooperative_cannot_post_a_request(market):
    assert client_for(market.coop_a.manager).get("/matching/requests/new/").status_code == 403


def test_the_buyer_sees_the_proposal_in_words_and_figures(market):
    _, proposal = matched(market)
    page = client_for(market.buyer.manager).get(f"/matching/proposals/{proposal.pk}/").content.decode()
    assert market.coop_a.organisation.name in page and market.coop_b.organisation.name in page
    assert "which leaves" in page and "Accept the proposal" in page


def test_a_cooperative_sees_only_its_part_and_the_requests_it_could_serve(market):
    request, proposal = matched(market)
    page = client_for(market.coop_a.manager).get(f"/matching/proposals/{proposal.pk}/").content.decode()
    assert market.coop_a.organisation.name in page
    assert market.coop_b.organisation.name not in page  # nor its ask
    assert "Accept our part" in page
    home = client_for(market.coop_a.manager).get("/matching/").content.decode()
    assert f'data-request="{request.pk}"' in home


def test_pages_are_isolated(market):
    request, proposal = matched(market)
    part = ProposalPart.objects.filter(proposal=proposal).first()
    for user in (market.stranger_buyer.manager, market.stranger_coop.manager):
        client = client_for(user)
        assert client.get(f"/matching/requests/{request.pk}/").status_code == 404
        assert client.get(f"/matching/requests/{request.pk}/edit/").status_code == 404
        assert client.post(f"/matching/requests/{request.pk}/withdraw/").status_code == 404
        assert client.get(f"/matching/proposals/{proposal.pk}/").status_code == 404
        for action in ("accept", "decline", "counter"):
            assert client.post(f"/matching/proposals/{proposal.pk}/{action}/", {"part": part.pk}).status_code == 404
    assert client_for(market.coop_a.manager).get(f"/matching/requests/{request.pk}/").status_code == 404
    assert BuyerRequest.objects.get(pk=request.pk).status == "open"
    assert Proposal.objects.get(pk=proposal.pk).status == "open"


def test_answers_from_the_pages_make_one_consignment(market):
    _, proposal = matched(market)
    for side in (market.coop_a, market.coop_b):
        part = ProposalPart.objects.get(proposal=proposal, seller=side.organisation)
        response = client_for(side.manager).post(f"/matching/proposals/{proposal.pk}/accept/", {"part": part.pk})
        assert response.status_code == 302
    bad = client_for(market.coop_a.manager).post(
        f"/matching/proposals/{proposal.pk}/counter/", {"part": part.pk, "tonnes": "lots"}
    )
    assert bad.status_code in (400, 404)
    assert client_for(market.buyer.manager).post(f"/matching/proposals/{proposal.pk}/accept/").status_code == 302
    page = client_for(market.buyer.manager).get(f"/matching/proposals/{proposal.pk}/").content.decode()
    consignment = Consignment.objects.get(proposal=proposal)
    assert consignment.purchase.reference in page
    assert page.count("/orders/PO-") == 2
    # Each cooperative sees its own order of the consignment, never the other cooperative's number or name.
    for side, other in ((market.coop_a, market.coop_b), (market.coop_b, market.coop_a)):
        page = client_for(side.manager).get(f"/matching/proposals/{proposal.pk}/").content.decode()
        own = consignment.purchase.orders.get(seller=side.organisation)
        theirs = consignment.purchase.orders.get(seller=other.organisation)
        assert own.number in page and page.count("/orders/PO-") == 1
        assert theirs.number not in page and other.organisation.name not in page


def test_pages_run_a_bounded_number_of_queries(market, django_assert_max_num_queries):
    for _ in range(3):
        post_request(market, quantity_grams=7 * TONNE, min_truckload_grams=5 * TONNE)
    services.matching_rematch(commodity_id=market.grade_1.commodity_id, currency="XOF")
    request = BuyerRequest.objects.first()
    client = client_for(market.buyer.manager)
    with django_assert_max_num_queries(20):
        assert client.get("/matching/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(f"/matching/requests/{request.pk}/").status_code == 200
    coop = client_for(market.coop_a.manager)
    with django_assert_max_num_queries(20):
        assert coop.get("/matching/").status_code == 200
