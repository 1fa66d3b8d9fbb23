"""Higher layers follow orders through the task names in settings.ORDER_EVENT_SUBSCRIBERS, on commit."""

import pytest
from celery import shared_task

from marketplace.core.errors import InvalidTransition
from orders.models import OrderEvent
from orders.services.transitions import order_transition
from tests.orders.factories import advance, place

RECEIVED: list[int] = []


@shared_task(name="tests.orders.remember_order_event")
def remember_order_event(event_id: int) -> None:
    RECEIVED.append(event_id)


@pytest.fixture
def subscribed(settings):
    settings.ORDER_EVENT_SUBSCRIBERS = ["tests.orders.test_event_subscribers.remember_order_event"]
    RECEIVED.clear()
    yield RECEIVED
    RECEIVED.clear()


@pytest.mark.django_db
def test_every_transition_is_published_once_after_commit(world, subscribed, django_capture_on_commit_callbacks):
    order = place(world)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        advance(world, order, "accepted")
    assert subscribed == []  # nothing before the commit
    for callback in pending:
        callback()
    accepted = OrderEvent.objects.get(order=order, to_status="accepted")
    assert subscribed == [accepted.pk]


@pytest.mark.django_db
def test_a_refused_transition_publishes_nothing(world, subscribed, django_capture_on_commit_callbacks):
    order = place(world)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransition):
        order_transition(actor=world.seller.manager, order_id=order.pk, to_status="completed")
    assert subscribed == []
