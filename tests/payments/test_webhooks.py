"""The Stripe webhook endpoint: only verified events are stored; each takes effect once however often, and
however concurrently, it is delivered."""

import json
import threading
import time

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client

from orders.models import Order
from payments.models import Entry, LedgerTransaction, Payment, ProviderEvent
from payments.selectors import ledger_problems
from tests.orders.factories import advance, place
from tests.payments import stripe_fake


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = stripe_fake.WEBHOOK_SECRET
    return settings.STRIPE_WEBHOOK_SECRET


def pending_stripe_payment(world, reference="pi_webhook_1") -> Payment:
    order = advance(world, place(world), "accepted")
    return Payment.objects.create(
        order=order, provider="stripe", reference=reference, amount=order.total_amount, currency=order.currency
    )


def succeeded_event(payment: Payment, event_id="evt_paid_1") -> dict:
    intent = {
        "id": payment.reference, "object": "payment_intent", "amount": payment.amount,
        "amount_received": payment.amount, "currency": payment.currency.lower(), "status": "succeeded",
        "latest_charge": "ch_" + payment.reference[3:], "metadata": {"order_id": str(payment.order_id)},
    }  # fmt: skip
    return stripe_fake.event_of("payment_intent.succeeded", intent, event_id=event_id)


def escrow_credits(payment: Payment) -> int:
    total = Entry.objects.filter(account__kind="order_escrow", account__order_id=payment.order_id).aggregate(
        t=Sum("amount")
    )["t"]
    return -(total or 0)


def post(client: Client, payload: bytes, signature: str):
    return client.post(
        stripe_fake.WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["wrong secret", "stale timestamp", "tampered body", "no signature", "not json"])
def test_an_unverified_webhook_is_refused_and_changes_nothing(world, webhook_secret, run_commits, case):
    payment = pending_stripe_payment(world)
    payload = json.dumps(succeeded_event(payment)).encode()
    signature = stripe_fake.sign(payload)
    if case == "wrong secret":
        signature = stripe_fake.sign(payload, secret="whsec_someone_else")
    elif case == "stale timestamp":
        signature = stripe_fake.sign(payload, timestamp=int(time.time()) - 3600)
    elif case == "tampered body":
        payload = payload.replace(b'"amount": 3000000', b'"amount": 3000001', 1)
    elif case == "no signature":
        signature = ""
    elif case == "not json":
        payload = b"not json"
        signature = stripe_fake.sign(payload)
    with run_commits():
        answer = post(Client(), payload, signature)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_webhook"
    assert not ProviderEvent.objects.exists() and not LedgerTransaction.objects.exists()
    assert Payment.objects.get().status == "pending" and Order.objects.get().status == "accepted"


@pytest.mark.django_db
def test_without_a_webhook_secret_every_webhook_is_refused(world, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payment = pending_stripe_payment(world)
    payload = json.dumps(succeeded_event(payment)).encode()
    assert post(Client(), payload, stripe_fake.sign(payload)).status_code == 400
    assert Client().get(stripe_fake.WEBHOOK_URL).status_code == 405


@pytest.mark.django_db
def test_the_same_event_delivered_ten_times_takes_effect_once(world, webhook_secret, run_commits):
    payment = pending_stripe_payment(world)
    event = succeeded_event(payment)
    client = Client()
    with run_commits():
        answers = [stripe_fake.deliver(client, event) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert [a.json()["duplicate"] for a in answers] == [False] + [True] * 9
    stored = ProviderEvent.objects.get()
    assert stored.outcome == "applied" and stored.processed_at is not None
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1
    assert escrow_credits(payment) == payment.amount
    assert Order.objects.get().status == "paid"
    assert ledger_problems() == []


@pytest.mark.django_db
def test_two_events_about_one_payment_fund_it_once(world, webhook_secret, run_commits):
    payment = pending_stripe_payment(world)
    with run_commits():
        stripe_fake.deliver(Client(), succeeded_event(payment, "evt_a"))
        stripe_fake.deliver(Client(), succeeded_event(payment, "evt_b"))  # Stripe retried under a new id
    assert list(ProviderEvent.objects.order_by("event_id").values_list("outcome", flat=True)) == ["applied", "ignored"]
    assert escrow_credits(payment) == payment.amount


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_concurrently_takes_effect_once(world, webhook_secret):
    payment = pending_stripe_payment(world, reference="pi_concurrent")
    event = succeeded_event(payment, "evt_concurrent")
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            statuses.append(stripe_fake.deliver(Client(), event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    assert ProviderEvent.objects.count() == 1 and ProviderEvent.objects.get().outcome == "applied"
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1
    # A balanced ledger would hide a double post: the escrow credits must equal the payment.
    assert escrow_credits(payment) == payment.amount
    assert Order.objects.get(pk=payment.order_id).status == "paid"
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_different_events_for_one_payment_arriving_together_fund_it_once(world, webhook_secret):
    payment = pending_stripe_payment(world, reference="pi_race")
    barrier = threading.Barrier(6)

    def deliver(n: int) -> None:
        try:
            barrier.wait()
            stripe_fake.deliver(Client(), succeeded_event(payment, f"evt_race_{n}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ProviderEvent.objects.count() == 6
    assert sorted(ProviderEvent.objects.values_list("outcome", flat=True)) == ["applied"] + ["ignored"] * 5
    assert escrow_credits(payment) == payment.amount
    assert ledger_problems() == []
