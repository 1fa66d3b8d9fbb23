"""The transactional outbox: an intent commits with its transaction, is sent once on commit, and is swept later
when the broker could not take it."""

from datetime import timedelta

import pytest
from celery import shared_task
from django.db import transaction

from marketplace.core import outbox
from marketplace.core.models import OutboxMessage
from marketplace.core.tasks import outbox_sweep

RAN: list[tuple] = []


@shared_task(name="tests.core.outbox_probe")
def outbox_probe(value: int, *, label: str = "") -> None:
    RAN.append((value, label))


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()
    yield
    RAN.clear()


@pytest.mark.django_db
def test_nothing_is_sent_before_the_commit_and_it_is_sent_once_after(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        message = outbox.enqueue(outbox_probe, args=[7], kwargs={"label": "seven"})
    assert RAN == []
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is None
    for callback in pending:
        callback()
    assert RAN == [(7, "seven")]
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is not None
    assert outbox.dispatch(message.pk) is False  # a second dispatcher finds it sent
    assert RAN == [(7, "seven")]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(outbox_probe, args=[1])
        raise RuntimeError("the service failed")
    assert RAN == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_sends_on_commit():
    with transaction.atomic():
        outbox.enqueue(outbox_probe, args=[2])
        assert RAN == []
    assert RAN == [(2, "")]


@pytest.mark.django_db
def test_the_same_key_is_one_intent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = outbox.enqueue(outbox_probe, args=[3], key="probe:3")
        again = outbox.enqueue(outbox_probe, args=[3], key="probe:3")
    assert first is not None and again is None
    assert RAN == [(3, "")]
    assert OutboxMessage.objects.filter(key="probe:3").count() == 1


def test_a_task_name_is_refused():
    with pytest.raises(TypeError):
        outbox.enqueue("tests.core.outbox_probe", args=[1])


@pytest.mark.django_db
def test_the_sweeper_sends_what_the_broker_refused_and_only_that(monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(outbox_probe, "apply_async", broker_down)
    outbox_probe.app.conf.task_always_eager = False  # a deployment with a broker: a refusal is not raised
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lost = outbox.enqueue(outbox_probe, args=[4])
    finally:
        outbox_probe.app.conf.task_always_eager = True
    lost.refresh_from_db()
    assert lost.sent_at is None and lost.claimed_until is None
    assert "broker down" in lost.last_error and lost.attempts == 1

    monkeypatch.undo()
    assert outbox.sweep() == 0  # too young: its own dispatcher may still be at work
    OutboxMessage.objects.filter(pk=lost.pk).update(created_at=lost.created_at - timedelta(minutes=1))
    assert outbox_sweep() == 1
    assert RAN == [(4, "")]
    lost.refresh_from_db()
    assert lost.sent_at is not None and lost.last_error == "" and lost.attempts == 2
    assert outbox_sweep() == 0
    assert RAN == [(4, "")]


@pytest.mark.django_db
def test_a_claimed_message_is_left_to_its_dispatcher_until_the_lease_ends():
    message = OutboxMessage.objects.create(task_name=outbox_probe.name, args=[5])
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=message.created_at - timedelta(hours=1), claimed_until=message.created_at + timedelta(hours=1)
    )
    assert outbox.sweep() == 0
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_until=message.created_at - timedelta(minutes=1))
    assert outbox.sweep() == 1
    assert RAN == [(5, "")]


@pytest.mark.django_db
def test_an_unknown_task_stays_unsent_with_the_reason():
    message = OutboxMessage.objects.create(task_name="tests.core.no_such_task")
    with pytest.raises(KeyError):  # eager mode surfaces the failure, as calling the task would
        outbox.dispatch(message.pk)
    message.refresh_from_db()
    assert message.sent_at is None and "no_such_task" in message.last_error
