"""Trades come from completed produce orders at their settled price, through the order-event subscription."""

from datetime import date, timedelta

import pytest

from marketplace.market.models import PricePoint, Trade
from marketplace.market.services import market_refresh
from marketplace.market.tasks import market_order_event, market_refresh_all
from orders.models import OrderEvent
from orders.services import order_transition
from tests.orders.factories import TONNE, advance, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def market_only(settings):
    settings.ORDER_EVENT_SUBSCRIBERS = ["marketplace.market.tasks.market_order_event"]


def deliver(world, order, *, grams: int, grade=None, received_on: date | None = None):
    advance(world, order, "dispatched")
    line = order.lines.get()
    entry = {"quantity": grams}
    if grade is not None:
        entry["grade"] = grade.pk
    order_transition(
        actor=world.buyer.clerk, order_id=order.pk, to_status="delivered", lines={line.pk: entry},
        received_on=(received_on or date.today()).isoformat(),
    )  # fmt: skip
    return line


def test_a_completed_order_becomes_a_trade_at_its_settled_price(world, market_only, django_capture_on_commit_callbacks):
    # 2 t of grade 1 at XOF 1,500/kg, a grade-2 price agreed at acceptance; 1.8 t arrive as grade 2 (a loss
    # beyond the weight tolerance): the buyer owes 1.8 t at XOF 1,300/kg.
    order = place(world, 2 * TONNE)
    line = order.lines.get()
    order_transition(actor=world.seller.manager, order_id=order.pk, to_status="accepted",
                     grade_prices={line.pk: {world.grade_2.pk: 1_300}})  # fmt: skip
    received_on = date.today() - timedelta(days=20)
    deliver(world, order, grams=1_800_000, grade=world.grade_2, received_on=received_on)
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="completed")
    trade = Trade.objects.get()
    line.refresh_from_db()
    assert line.amount_due == 1_800 * 1_300
    assert (trade.order_id, trade.line_id, trade.seller_id) == (order.pk, line.pk, world.seller.organisation.pk)
    assert (trade.grade_id, trade.amount, trade.grams, trade.traded_on) == (
        world.grade_2.pk,
        2_340_000,
        1_800_000,
        received_on,
    )
    assert (trade.country, trade.currency) == ("CI", "XOF")
    # one seller, one trade: the cells exist but are hidden
    points = PricePoint.objects.filter(grade=world.grade_2)
    assert {p.period for p in points} == {"week", "month"}
    assert all(not p.visible and p.price_per_tonne == 1_300_000 for p in points)
    # running the task again (at-least-once delivery) changes nothing
    event = OrderEvent.objects.get(order=order, to_status="completed")
    before = list(PricePoint.objects.order_by("pk").values_list("period", "trades", "total_amount"))
    market_order_event(event.pk)
    assert list(PricePoint.objects.order_by("pk").values_list("period", "trades", "total_amount")) == before
    assert Trade.objects.count() == 1


def test_orders_that_are_not_completed_are_not_trades(world, market_only, django_capture_on_commit_callbacks):
    delivered = place(world, TONNE)
    deliver(world, delivered, grams=TONNE)
    cancelled = place(world, TONNE)
    with django_capture_on_commit_callbacks(execute=True):
        advance(world, cancelled, "cancelled")
    assert market_refresh() == {"trades": 0, "points": 0}
    assert market_order_event(OrderEvent.objects.filter(order=cancelled).last().pk) == "nothing_to_do"
    assert market_order_event(987654321) == "missing"
    assert not Trade.objects.exists()


def test_the_nightly_refresh_rebuilds_everything(world, market_only):
    order = place(world, TONNE)
    deliver(world, order, grams=TONNE)
    order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="completed")  # no on-commit here
    assert not Trade.objects.exists()
    assert market_refresh_all() == "1 trades, 2 points"
    assert market_refresh_all() == "1 trades, 2 points"  # idempotent
    assert Trade.objects.get().amount == 1_500_000
