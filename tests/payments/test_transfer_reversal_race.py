"""Two reversals of one transfer at once (the operator and a colleague, or a double submit): the provider is called
with no lock held, and the reversal being made claims its running total, so another total is refused with a 409
until it is recorded, while the same reversal asked twice is made and booked once."""

import threading

import pytest
from django.db import connection

from marketplace.core.errors import Conflict
from orders.services import order_transition
from payments.models import Transfer
from payments.providers.offline import OfflineProvider
from payments.selectors import ledger_problems
from payments.services.payments import transfer_reverse
from tests.orders.factories import make_world
from tests.payments.conftest import complete_input_order, input_order, onboard, pay

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid_transfer(settings, django_capture_on_commit_callbacks) -> tuple:
    settings.OFFLINE_PAYMENTS = True
    world = make_world()
    onboard(world, world.supplier)
    order = input_order(world)
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="accepted")
    with django_capture_on_commit_callbacks(execute=True):
        pay(world, order)
    with django_capture_on_commit_callbacks(execute=True):
        complete_input_order(world, order)
    return world, Transfer.objects.get(order=order, status="paid")


def _first_reversal_in_flight(monkeypatch, world, transfer, amount):
    """Start a reversal whose provider call waits until released; returns (thread, release, outcomes)."""
    inside, release, outcomes = threading.Event(), threading.Event(), []
    real = OfflineProvider.reverse_transfer

    def slow(self, **kwargs):
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(20)
        return real(self, **kwargs)

    monkeypatch.setattr(OfflineProvider, "reverse_transfer", slow)

    def first():
        try:
            outcomes.append(transfer_reverse(actor=world.operator.manager, transfer_id=transfer.pk, amount=amount,
                                             reason="Lost chargeback"))  # fmt: skip
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=first, name="first")
    thread.start()
    assert inside.wait(20)
    return thread, release, outcomes


def test_another_reversal_while_one_is_made_is_a_409_and_nothing_is_lost(monkeypatch, paid_transfer):
    world, transfer = paid_transfer
    thread, release, outcomes = _first_reversal_in_flight(monkeypatch, world, transfer, 300)
    try:
        with pytest.raises(Conflict) as refused:
            transfer_reverse(actor=world.operator.manager, transfer_id=transfer.pk, amount=500, reason="Twice")
        assert refused.value.code == "reversal_in_progress"
    finally:
        release.set()
        thread.join(30)
    assert isinstance(outcomes[0], Transfer)
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 300
    # Once recorded, the next reversal goes through and both are booked.
    transfer_reverse(actor=world.operator.manager, transfer_id=transfer.pk, amount=500, reason="The rest")
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 800
    assert ledger_problems() == []


def test_the_same_reversal_asked_twice_at_once_is_made_and_booked_once(monkeypatch, paid_transfer):
    world, transfer = paid_transfer
    thread, release, outcomes = _first_reversal_in_flight(monkeypatch, world, transfer, 300)
    try:
        again = transfer_reverse(actor=world.operator.manager, transfer_id=transfer.pk, amount=300, reason="Again")
    finally:
        release.set()
        thread.join(30)
    assert isinstance(outcomes[0], Transfer) and again.amount_reversed == 300
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 300
    assert ledger_problems() == []
