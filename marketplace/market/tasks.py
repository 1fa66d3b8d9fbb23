"""Celery tasks of the market app; they take ids, are idempotent and call one service (house rule 4).

Beat schedule (settings.CELERY_BEAT_SCHEDULE): marketplace.market.tasks.market_refresh_all, nightly.
Order events arrive through settings.ORDER_EVENT_SUBSCRIBERS: orders never imports this app.
"""

from celery import shared_task

from marketplace.market import services
from orders.models import Order, OrderEvent


@shared_task(name="marketplace.market.tasks.market_order_event")
def market_order_event(event_id: int) -> str:
    """A completed order's trades join the price series at once."""
    event = OrderEvent.objects.filter(pk=event_id).values("order_id", "to_status").first()
    if event is None:
        return "missing"
    if event["to_status"] != Order.Status.COMPLETED:
        return "nothing_to_do"
    result = services.market_refresh(order_ids=[event["order_id"]])
    return f"{result['trades']} trades, {result['points']} points"


@shared_task(name="marketplace.market.tasks.market_refresh_all")
def market_refresh_all() -> str:
    """Nightly: rebuild every trade and price point from the orders."""
    result = services.market_refresh()
    return f"{result['trades']} trades, {result['points']} points"


@shared_task(name="marketplace.market.tasks.price_alert_send")
def price_alert_send(firing_id: int) -> str:
    """Send a fired price alert's e-mail or SMS; a second run sends nothing."""
    from marketplace.market.alerts import price_alert_send as send

    return send(firing_id=firing_id)


@shared_task(name="marketplace.market.tasks.saved_searches_listing_created")
def saved_searches_listing_created(listing_id: int) -> str:
    """Subscribed to new listings (settings.LISTING_EVENT_SUBSCRIBERS["created"]): the saved searches it fits hear
    of it."""
    from marketplace.market.searches import saved_searches_match

    return f"{saved_searches_match(listing_id=listing_id)} hits"


@shared_task(name="marketplace.market.tasks.saved_search_hit_send")
def saved_search_hit_send(hit_id: int) -> str:
    from marketplace.market.searches import saved_search_hit_send as send

    return send(hit_id=hit_id)
