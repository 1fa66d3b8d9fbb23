"""`POST /payments/` with an Idempotency-Key calls the provider with no lock held (the key is claimed and committed
first, not wrapped round the service): the order's escrow account can be locked by another connection meanwhile; the
same key sent while the first request is at the provider is a 409; once answered it is replayed; a claim left by a
request that died is taken over after IDEMPOTENCY_IN_PROGRESS_SECONDS."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.core.models import IdempotentRequest
from payments.models import Account, Payment
from payments.providers.offline import OfflineProvider
from payments.services.escrow import escrow_account
from tests.locks import locked_elsewhere
from tests.orders.factories import advance, make_world, place

pytestmark = pytest.mark.django_db(transaction=True)
KEY = {"Idempotency-Key": "pay-once"}


@pytest.fixture
def accepted(settings):
    settings.OFFLINE_PAYMENTS = True
    world = make_world()
    order = advance(world, place(world), "accepted")
    body = {"order": order.number, "amount": order.total_amount, "currency": order.currency}
    return order, world.buyer.manager, body


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_provider_is_called_with_no_lock_and_a_second_copy_meanwhile_is_a_409(monkeypatch, accepted):
    order, buyer, body = accepted
    client = client_for(buyer)
    inside, release, seen = threading.Event(), threading.Event(), {}
    real = OfflineProvider.collect

    def slow_collect(self, **kwargs):
        seen["escrow_locked"] = locked_elsewhere(Account, escrow_account(order).pk)
        inside.set()
        release.wait(20)
        return real(self, **kwargs)

    monkeypatch.setattr(OfflineProvider, "collect", slow_collect)
    answers = {}

    def first():
        try:
            answers["first"] = client.post("/api/v1/payments/", body, format="json", headers=KEY)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(20)
        meanwhile = client_for(buyer).post("/api/v1/payments/", body, format="json", headers=KEY)
        assert meanwhile.status_code == 409, meanwhile.json()
        assert meanwhile.json()["error"]["code"] == "idempotency_key_in_use"
    finally:
        release.set()
        thread.join(30)
    assert seen["escrow_locked"] is False
    assert answers["first"].status_code == 201
    replay = client.post("/api/v1/payments/", body, format="json", headers=KEY)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == answers["first"].json()
    assert Payment.objects.filter(order=order).count() == 1


def test_a_claim_left_by_a_request_that_died_is_taken_over(accepted, settings):
    order, buyer, body = accepted
    client = client_for(buyer)
    settings.IDEMPOTENCY_IN_PROGRESS_SECONDS = 60
    from marketplace.core.idempotency import _claim, request_hash  # the claim a dead request left behind

    class Sent:
        method, path, data = "POST", "/api/v1/payments/", body

    record_id = _claim(buyer, KEY["Idempotency-Key"], Sent.path, request_hash(Sent))
    refused = client.post("/api/v1/payments/", body, format="json", headers=KEY)
    assert refused.status_code == 409
    IdempotentRequest.objects.filter(pk=record_id).update(created_at=timezone.now() - timedelta(seconds=61))
    taken = client.post("/api/v1/payments/", body, format="json", headers=KEY)
    assert taken.status_code == 201, taken.json()
    assert IdempotentRequest.objects.get(pk=record_id).status_code == 201
    assert Payment.objects.filter(order=order).count() == 1


def test_a_refused_payment_start_forgets_its_claim(accepted):
    _order, buyer, body = accepted
    client = client_for(buyer)
    wrong = client.post("/api/v1/payments/", {**body, "amount": 1}, format="json", headers=KEY)
    assert wrong.status_code == 400 and not IdempotentRequest.objects.exists()
    assert client.post("/api/v1/payments/", body, format="json", headers=KEY).status_code == 201
