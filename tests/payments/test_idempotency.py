"""The Idempotency-Key header on the money-moving endpoints: one effect, the same answer; another request with the
same key is a 422; the operator's refund requires a key; and 20 concurrent refund requests never refund more than
the escrow holds."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from marketplace.core.models import IdempotentRequest
from payments.models import Account, LedgerTransaction, Refund
from payments.selectors import ledger_problems
from tests.orders.factories import make_world
from tests.payments import stripe_fake
from tests.payments.conftest import batch_of, move, paid_order
from tests.payments.test_stripe import _pay

pytestmark = pytest.mark.django_db


def _refund_url(order) -> str:
    return f"/api/v1/payments/orders/{order.number}/refunds/"


def test_a_refund_posted_twice_with_one_key_refunds_once_and_answers_the_same(world, as_user, run_commits):
    order = paid_order(world)
    operator = as_user(world.operator.manager)
    body = {"amount": 400_000, "reason": "Short weight"}
    with run_commits():
        first = operator.post(_refund_url(order), body, format="json", headers={"Idempotency-Key": "key-1"})
        again = operator.post(_refund_url(order), body, format="json", headers={"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert Refund.objects.filter(order=order).count() == 1
    assert LedgerTransaction.objects.filter(kind="refund").count() == 1
    assert Account.objects.get(kind="order_escrow", order_id=order.pk).balance == 2_600_000
    # Another refund needs another key; the same key with another body is refused, and changes nothing.
    other = operator.post(
        _refund_url(order), {**body, "amount": 1}, format="json", headers={"Idempotency-Key": "key-1"}
    )
    assert other.status_code == 422 and "already used" in other.json()["error"]["message"]
    assert Refund.objects.filter(order=order).count() == 1
    second = operator.post(_refund_url(order), body, format="json", headers={"Idempotency-Key": "key-2"})
    assert second.status_code == 201 and Refund.objects.filter(order=order).count() == 2
    assert ledger_problems() == []


def test_the_refund_endpoint_requires_a_well_formed_key(world, as_user):
    order = paid_order(world)
    operator = as_user(world.operator.manager)
    missing = operator.post(_refund_url(order), {"amount": 1, "reason": "x"}, format="json")
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["error"]["message"]
    bad = operator.post(
        _refund_url(order), {"amount": 1, "reason": "x"}, format="json", headers={"Idempotency-Key": "a b/c"}
    )
    assert bad.status_code == 400 and "idempotency_key" in bad.json()["error"]["fields"]
    assert not Refund.objects.exists() and not IdempotentRequest.objects.exists()


def test_a_refused_request_is_not_stored_and_keys_belong_to_their_user(world, as_user):
    order = paid_order(world)
    operator = as_user(world.operator.manager)
    too_much = operator.post(
        _refund_url(order), {"amount": 3_000_001, "reason": "x"}, format="json", headers={"Idempotency-Key": "k"}
    )
    assert too_much.status_code == 400 and not IdempotentRequest.objects.exists()
    fixed = operator.post(
        _refund_url(order), {"amount": 3_000_001, "reason": "x"}, format="json", headers={"Idempotency-Key": "k"}
    )
    assert fixed.status_code == 400
    # Another user's identical key is theirs: the seller is refused as usual (404), not served the operator's reply.
    seller = APIClient()
    seller.force_authenticate(world.seller.manager)
    assert (
        seller.post(
            _refund_url(order), {"amount": 1, "reason": "x"}, format="json", headers={"Idempotency-Key": "k"}
        ).status_code
        == 404
    )


def test_release_and_payout_execution_replay_with_their_key(world, as_user, run_commits):
    order = paid_order(world)
    with run_commits():
        move(world, order, "completed")
    batch = batch_of(order)
    manager = as_user(world.seller.manager)
    url = f"/api/v1/payout-batches/{batch.pk}/"
    assert manager.post(url + "approve/", headers={"Idempotency-Key": "approve-1"}).status_code == 200
    with run_commits():
        first = manager.post(url + "execute/", headers={"Idempotency-Key": "exec-1"})
    again = manager.post(url + "execute/", headers={"Idempotency-Key": "exec-1"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert manager.post(url + "execute/", headers={"Idempotency-Key": "exec-2"}).status_code == 409
    assert LedgerTransaction.objects.filter(kind="payout").count() == batch.lines.filter(net_amount__gt=0).count()
    operator = as_user(world.operator.manager)
    release = f"/api/v1/payments/orders/{order.number}/release/"
    assert operator.post(release, headers={"Idempotency-Key": "rel-1"}).status_code == 409  # released already
    assert ledger_problems() == []


def test_a_double_post_against_stripe_makes_one_refund(world, stripe_mode, as_user, run_commits):
    from django.test import Client

    from tests.orders.factories import advance, place

    order = advance(world, place(world), "accepted")
    with run_commits():
        payment = _pay(world, stripe_mode, Client(), order)
    operator = as_user(world.operator.manager)
    body = {"amount": 250_000, "reason": "Goodwill"}
    with run_commits():
        first = operator.post(_refund_url(order), body, format="json", headers={"Idempotency-Key": "s-1"})
        again = operator.post(_refund_url(order), body, format="json", headers={"Idempotency-Key": "s-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    remote = stripe_fake.call(stripe_mode, "GET", f"/v1/refunds?payment_intent={payment.reference}")["data"]
    assert len(remote) == 1 and remote[0]["amount"] == 250_000
    assert Refund.objects.get(order=order).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refund_requests_never_refund_more_than_held(settings):
    world = make_world()
    order = paid_order(world)
    held = Account.objects.get(kind="order_escrow", order_id=order.pk).balance
    assert held == 3_000_000
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def request(i: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(world.operator.manager)
            barrier.wait(timeout=30)
            # Ten requests are each sent twice with the same key; each asks for a fifth of the escrow.
            response = client.post(
                _refund_url(order), {"amount": 600_000, "reason": "Concurrent"}, format="json",
                headers={"Idempotency-Key": f"c-{i % 10}"},
            )  # fmt: skip
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    refunded = sum(Refund.objects.filter(order=order).values_list("amount", flat=True))
    assert len(statuses) == 20 and set(statuses) <= {201, 400}
    # Exactly five distinct refunds of 600,000 fit in 3,000,000; a key's second request never adds one.
    assert refunded == held and Refund.objects.filter(order=order).count() == 5
    assert Refund.objects.filter(order=order).count() == len({r.key for r in Refund.objects.filter(order=order)})
    assert Account.objects.get(kind="order_escrow", order_id=order.pk).balance == held - refunded
    assert ledger_problems() == []


def test_stored_keys_older_than_the_retention_are_purged_in_batches(world, settings, django_assert_max_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.core.tasks import idempotent_requests_purge

    settings.IDEMPOTENCY_KEY_RETENTION_DAYS = 7
    settings.IDEMPOTENCY_PURGE_BATCH = 2
    user = world.operator.manager
    for i in range(7):
        IdempotentRequest.objects.create(user=user, key=f"k{i}", endpoint="/x/", request_hash="h", status_code=201)
    now = timezone.now()
    IdempotentRequest.objects.filter(key__in=["k0", "k1", "k2", "k3", "k4"]).update(created_at=now - timedelta(days=8))
    IdempotentRequest.objects.filter(key="k5").update(created_at=now - timedelta(days=6, hours=23))
    # 5 old rows in batches of 2: three batches that delete (select + delete each) and one that finds nothing.
    with django_assert_max_num_queries(3 * 2 + 1 + 2 * 4):
        assert idempotent_requests_purge() == 5
    assert set(IdempotentRequest.objects.values_list("key", flat=True)) == {"k5", "k6"}
    assert idempotent_requests_purge() == 0
    settings.IDEMPOTENCY_KEY_RETENTION_DAYS = 0
    assert idempotent_requests_purge() == 2 and not IdempotentRequest.objects.exists()


def test_a_purged_key_is_a_new_request(world, as_user, settings):
    from marketplace.core.idempotency import idempotent_requests_purge

    order = paid_order(world)
    operator = as_user(world.operator.manager)
    body = {"amount": 1_000, "reason": "Short weight"}
    assert operator.post(_refund_url(order), body, format="json", headers={"Idempotency-Key": "old"}).status_code == 201
    assert idempotent_requests_purge(days=0) == 1
    again = operator.post(
        _refund_url(order), {**body, "amount": 2_000}, format="json", headers={"Idempotency-Key": "old"}
    )
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers  # not replayed: forgotten
    # ... yet the refund's own key (from the request key) still refunds once.
    assert Refund.objects.filter(order=order).count() == 1
