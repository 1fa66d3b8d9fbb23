"""Tasks of group input orders: they take ids, are safe to run twice, and call services."""

from celery import shared_task
from django.utils import translation

from marketplace.core.sms import send_sms


@shared_task(name="orders.tasks.group_order_follow_order")
def group_order_follow_order(event_id: int) -> str:
    """Subscribed to order events (settings.ORDER_EVENT_SUBSCRIBERS): a paid escrow order pays its group order."""
    from orders.services.group_orders import group_order_follow_order as follow

    return follow(order_event_id=event_id)


@shared_task(name="orders.tasks.group_orders_expire_due")
def group_orders_expire_due() -> int:
    from orders.services.group_orders import group_orders_expire_due as expire

    return expire()


@shared_task(name="orders.tasks.group_windows_close_due")
def group_windows_close_due() -> int:
    """Close the windows whose closing time has passed, and remind members two days before a window closes."""
    from orders.services.group_windows import windows_close_due, windows_remind_due

    windows_remind_due()
    return windows_close_due()


MESSAGES = {
    "opened": "{coop}: input orders are open until {closes}. Ask your clerk for seed and fertiliser.",
    "closing": "{coop}: input orders close on {closes}. Your clerk can still change your request.",
    "extended": "{coop}: the supplier minimum was not met for {products}; input orders stay open until {closes}.",
    "cancelled": "{coop}: the supplier minimum was not met for {products}; this input order is cancelled. "
    "Nothing is owed.",
}


@shared_task(name="orders.tasks.group_window_notify")
def group_window_notify(window_id: int, what: str, products: str = "") -> int:
    """Tell every member of the window's cooperative who has a request (or, on opening, every active member)."""
    from marketplace.organisations.models import MemberFarmer
    from orders.group_models import OrderingWindow
    from orders.services.group_orders import members_with_requests

    window = OrderingWindow.objects.select_related("organisation").filter(pk=window_id).first()
    if window is None or what not in MESSAGES:
        return 0
    if what == "opened":
        farmers = MemberFarmer.objects.filter(organisation=window.organisation, status="active").exclude(phone="")
    else:
        farmers = members_with_requests(window.pk)
    sent = 0
    with translation.override(window.organisation.preferred_language or "en"):
        body = MESSAGES[what].format(
            coop=window.organisation.name, closes=f"{window.closes_at:%d/%m %H:%M}", products=products
        )
    for farmer in farmers.order_by("pk"):
        send_sms(to=str(farmer.phone), body=body)
        sent += 1
    return sent
