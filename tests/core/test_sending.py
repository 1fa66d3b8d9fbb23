"""core.sending.send_once, on a real PostgreSQL: the provider is called with the row's lock released (another
connection can lock the row meanwhile), once per row whatever the reruns, and a failure releases the claim so the
retry sends. Every sender of the project (order notifications, invitations, price alerts, saved-search hits) goes
through it; their own tests check what they send."""

import pytest

from marketplace.core.models import OutboxMessage
from marketplace.core.sending import ALREADY_SENT, MISSING, SENT, send_once
from tests.locks import locked_elsewhere


@pytest.mark.django_db(transaction=True)
def test_the_provider_is_called_with_no_lock_held_and_only_once():
    message = OutboxMessage.objects.create(task_name="x.send")
    calls = []

    def deliver(row):
        calls.append((row.pk, row.sent_at is not None, locked_elsewhere(OutboxMessage, row.pk)))

    assert send_once(OutboxMessage.objects.all(), message.pk, deliver) == SENT
    assert calls == [(message.pk, True, False)]  # claimed, and not locked while the provider was called
    assert send_once(OutboxMessage.objects.all(), message.pk, deliver) == ALREADY_SENT
    assert len(calls) == 1
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is not None


@pytest.mark.django_db
def test_a_failed_delivery_releases_the_claim_so_the_retry_sends():
    message = OutboxMessage.objects.create(task_name="x.send")

    def refuse(row):
        raise ConnectionError("the SMS gateway timed out")

    with pytest.raises(ConnectionError):
        send_once(OutboxMessage.objects.all(), message.pk, refuse)
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is None
    sent = []
    assert send_once(OutboxMessage.objects.all(), message.pk, sent.append) == SENT
    assert [row.pk for row in sent] == [message.pk]


@pytest.mark.django_db
def test_a_row_outside_the_queryset_is_missing_and_nothing_is_sent():
    message = OutboxMessage.objects.create(task_name="x.send")
    sent = []
    assert send_once(OutboxMessage.objects.filter(task_name="other"), message.pk, sent.append) == MISSING
    assert send_once(OutboxMessage.objects.all(), message.pk + 1000, sent.append) == MISSING
    assert sent == [] and OutboxMessage.objects.get(pk=message.pk).sent_at is None
