"""Starting a payment records it first and calls the provider with no transaction (so no lock) open; a call that
gets no answer leaves the payment pending, and asking again retries it under the same key instead of doubling it."""

import pytest
from django.db import connection

from marketplace.core.errors import Conflict
from payments.models import Payment
from payments.providers import ProviderUnavailable
from payments.providers.offline import OfflineProvider
from payments.services.payments import payment_start
from tests.orders.factories import advance, make_world, place

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accepted(settings):
    settings.ORDER_EVENT_SUBSCRIBERS = []
    settings.OFFLINE_PAYMENTS = True
    world = make_world()
    return world, advance(world, place(world), "accepted")


def start(world, order) -> Payment:
    return payment_start(actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount,
                         currency=order.currency)  # fmt: skip


def test_the_provider_is_called_with_no_transaction_open(accepted, monkeypatch):
    world, order = accepted
    calls = []
    original = OfflineProvider.collect

    def collect(self, **kwargs):
        calls.append((connection.in_atomic_block, kwargs["idempotency_key"]))
        return original(self, **kwargs)

    monkeypatch.setattr(OfflineProvider, "collect", collect)
    payment = start(world, order)
    assert calls == [(False, f"payment:{payment.pk}")]
    assert payment.reference and Payment.objects.get(pk=payment.pk).reference == payment.reference


def test_no_answer_leaves_the_payment_pending_and_a_retry_reuses_it(accepted, monkeypatch):
    world, order = accepted
    original = OfflineProvider.collect
    keys = []

    def no_answer(self, **kwargs):
        keys.append(kwargs["idempotency_key"])
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(OfflineProvider, "collect", no_answer)
    with pytest.raises(Conflict) as refused:
        start(world, order)
    assert refused.value.code == "provider_unavailable"
    waiting = Payment.objects.get(order=order)
    assert waiting.status == "pending" and waiting.reference == ""

    def answer(self, **kwargs):
        keys.append(kwargs["idempotency_key"])
        return original(self, **kwargs)

    monkeypatch.setattr(OfflineProvider, "collect", answer)
    payment = start(world, order)
    assert payment.pk == waiting.pk and payment.reference
    assert keys == [f"payment:{payment.pk}", f"payment:{payment.pk}"]  # the same key: the provider dedupes
    assert Payment.objects.filter(order=order).count() == 1
