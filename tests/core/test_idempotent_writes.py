"""The Idempotency-Key header on the writes that a retry would otherwise repeat: placing a purchase (stock and,
later, money), adding to a member's input request (a delta) and posting a buyer's request. The same key and body
again replays the first answer and writes nothing; the same key with another body is a 422 and writes nothing; a
refused request is not remembered; a key belongs to its user; two copies sent at once place one purchase."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalogue.models import Listing
from marketplace.core.models import IdempotentRequest
from marketplace.matching.models import BuyerRequest
from orders.group_models import MemberRequest
from orders.models import Order, Purchase
from tests.matching.factories import make_market
from tests.matching.test_api import BASE as MATCHING
from tests.matching.test_api import payload
from tests.orders.factories import TONNE, make_world
from tests.orders.group_factories import make_group_world

pytestmark = pytest.mark.django_db
PURCHASES = "/api/v1/purchases/"
KEY = {"Idempotency-Key": "3f0c2a4e-retry-1"}


def basket(world, grams=2 * TONNE) -> dict:
    return {"organisation": world.buyer.organisation.pk, "lines": [{"listing": world.listing.pk, "quantity": grams}]}


def available(world) -> int:
    return Listing.objects.get(pk=world.listing.pk).quantity_available_grams


def test_a_purchase_sent_twice_with_one_key_is_placed_once(as_user):
    world = make_world()
    before = available(world)
    buyer = as_user(world.buyer.manager)
    first = buyer.post(PURCHASES, basket(world), format="json", headers=KEY)
    again = buyer.post(PURCHASES, basket(world), format="json", headers=KEY)
    assert first.status_code == again.status_code == 201, first.json()
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Purchase.objects.filter(buyer=world.buyer.organisation).count() == 1
    assert available(world) == before - 2 * TONNE
    # Without a key, or with a new one, a second purchase is a second purchase.
    assert buyer.post(PURCHASES, basket(world), format="json", headers={"Idempotency-Key": "k2"}).status_code == 201
    assert buyer.post(PURCHASES, basket(world), format="json").status_code == 201
    assert Purchase.objects.filter(buyer=world.buyer.organisation).count() == 3
    assert available(world) == before - 6 * TONNE


def test_the_same_key_with_another_basket_is_a_422_and_places_nothing(as_user):
    world = make_world()
    buyer = as_user(world.buyer.manager)
    assert buyer.post(PURCHASES, basket(world), format="json", headers=KEY).status_code == 201
    before = available(world)
    other = buyer.post(PURCHASES, basket(world, 3 * TONNE), format="json", headers=KEY)
    assert other.status_code == 422, other.json()
    assert "already used" in other.json()["error"]["message"]
    assert other.json()["error"]["fields"] == {"idempotency_key": ["Already used for another request."]}
    assert Purchase.objects.count() == 1 and available(world) == before


def test_a_refused_basket_is_not_remembered_so_the_corrected_one_goes_through(as_user):
    world = make_world(lot_grams=30 * TONNE)
    buyer = as_user(world.buyer.manager)
    too_much = buyer.post(PURCHASES, basket(world, 99 * TONNE), format="json", headers=KEY)
    assert too_much.status_code == 400 and not IdempotentRequest.objects.exists()
    assert not Order.objects.exists()
    corrected = buyer.post(PURCHASES, basket(world), format="json", headers=KEY)
    assert corrected.status_code == 201 and IdempotentRequest.objects.count() == 1


@pytest.mark.parametrize("key", ["", "a b", "x" * 81, "ключ"])
def test_a_malformed_key_is_a_400_naming_the_header(as_user, key):
    world = make_world()
    answer = as_user(world.buyer.manager).post(
        PURCHASES, basket(world), format="json", headers={"Idempotency-Key": key} if key else {"Idempotency-Key": " "}
    )
    if key == "":  # a blank header is no header: placed as usual
        assert answer.status_code == 201
        return
    assert answer.status_code == 400 and "idempotency_key" in answer.json()["error"]["fields"]
    assert not Purchase.objects.exists()


def test_a_key_belongs_to_its_user_and_never_replays_another_organisations_answer(as_user):
    world = make_world()
    assert as_user(world.buyer.manager).post(PURCHASES, basket(world), format="json", headers=KEY).status_code == 201
    # The stranger sends the same key and body: it is its own request (404: not its organisation), not a replay of
    # the buyer's purchase.
    stranger = as_user(world.stranger.manager).post(PURCHASES, basket(world), format="json", headers=KEY)
    assert stranger.status_code == 404 and "Idempotent-Replayed" not in stranger.headers
    assert "reference" not in stranger.json()
    # A colleague of the buyer with the same key places a purchase of its own.
    colleague = as_user(world.buyer.clerk).post(PURCHASES, basket(world), format="json", headers=KEY)
    assert colleague.status_code in (201, 403)
    assert "Idempotent-Replayed" not in colleague.headers


@pytest.mark.django_db(transaction=True)
def test_two_copies_sent_at_once_place_one_purchase():
    world = make_world()
    before = available(world)
    start = threading.Barrier(2)
    answers = []

    def send():
        try:
            client = APIClient()
            client.force_authenticate(world.buyer.manager)
            start.wait()
            answers.append(client.post(PURCHASES, basket(world), format="json", headers=KEY))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(answer.headers.get("Idempotent-Replayed", "") for answer in answers) == ["", "true"]
    assert Purchase.objects.count() == 1 and available(world) == before - 2 * TONNE


def test_a_request_change_sent_twice_with_one_key_is_added_once(as_user):
    world = make_group_world()
    url = f"/api/v1/group/windows/{world.window.pk}/requests/"
    change = {"member_number": world.farmers[0].member_number, "product": world.products[0].pk,
              "quantity_delta": 75_000, "tolerance_delta": 0}  # fmt: skip
    clerk = as_user(world.clerk)
    first = clerk.post(url, change, format="json", headers=KEY)
    again = clerk.post(url, change, format="json", headers=KEY)
    assert first.status_code == again.status_code == 201, first.json()
    assert again.json()["quantity"] == 75_000 and again.headers["Idempotent-Replayed"] == "true"
    assert MemberRequest.objects.get(farmer=world.farmers[0], product=world.products[0]).quantity == 75_000
    assert clerk.post(url, change, format="json", headers={"Idempotency-Key": "next"}).json()["quantity"] == 150_000


def test_a_buyer_request_posted_twice_with_one_key_is_posted_once(as_user):
    market = make_market()
    client = as_user(market.buyer.manager)
    first = client.post(f"{MATCHING}requests/", payload(market), format="json", headers=KEY)
    again = client.post(f"{MATCHING}requests/", payload(market), format="json", headers=KEY)
    assert first.status_code == again.status_code == 201, first.json()
    assert again.json()["id"] == first.json()["id"]
    assert BuyerRequest.objects.filter(buyer=market.buyer.organisation).count() == 1
    changed = client.post(
        f"{MATCHING}requests/", payload(market, quantity_grams=25 * TONNE), format="json", headers=KEY
    )
    assert changed.status_code == 422
    assert BuyerRequest.objects.filter(buyer=market.buyer.organisation).count() == 1
