"""Tasks of group input orders: they take ids, are safe to run twice, and call services."""

from celery import shared_task
from django.utils import translation
from django.utils.translation import gettext_lazy as _

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
    "opened": _(
        "%(coop)s: input orders are open until %(closes)s. Send INPUT to order seed and fertiliser, or ask your clerk."
    ),
    "closing": _("%(coop)s: input orders close on %(closes)s. Send INPUT or ask your clerk to change your request."),
    "extended": _(
        "%(coop)s: the supplier minimum was not met for %(products)s; input orders stay open until %(closes)s."
    ),
    "cancelled": _(
        "%(coop)s: the supplier minimum was not met for %(products)s; this input order is cancelled. Nothing is owed."
    ),
}


@shared_task(name="orders.tasks.group_window_notify")
def group_window_notify(window_id: int, what: str, products: str = "") -> int:
    """Opening and the closing reminder: every active member with a phone; a minimum not met: every member with a
    request. Each member reads it in their own language (the cooperative's when they have none)."""
    from marketplace.organisations.models import MemberFarmer
    from orders.group_models import OrderingWindow
    from orders.services.group_orders import members_with_requests

    window = OrderingWindow.objects.select_related("organisation").filter(pk=window_id).first()
    if window is None or what not in MESSAGES:
        return 0
    if what in ("opened", "closing"):
        farmers = MemberFarmer.objects.filter(organisation=window.organisation, status="active").exclude(phone="")
    else:
        farmers = members_with_requests(window.pk)
    values = {"coop": window.organisation.name, "closes": f"{window.closes_at:%d/%m %H:%M}", "products": products}
    bodies: dict[str, str] = {}
    sent = 0
    for farmer in farmers.order_by("pk"):
        language = farmer.language or window.organisation.preferred_language or "en"
        if language not in bodies:
            with translation.override(language):
                bodies[language] = str(MESSAGES[what]) % values
        send_sms(to=str(farmer.phone), body=bodies[language])
        sent += 1
    return sent


@shared_task(name="orders.tasks.group_handover_receipt")
def group_handover_receipt(allocation_id: int) -> str:
    """The member's receipt SMS for inputs collected (sent once per allocation through the outbox)."""
    from orders.group_forms import shown
    from orders.group_models import MemberAllocation
    from orders.templatetags.orders_tags import money

    allocation = (
        MemberAllocation.objects.select_related("farmer", "group_order__buyer", "line__product__packaging")
        .filter(pk=allocation_id, handed_over_at__isnull=False)
        .first()
    )
    if allocation is None or not allocation.farmer.phone:
        return "nothing_to_send"
    coop = allocation.group_order.buyer
    body = (f"{coop.name}: receipt {allocation.receipt_number}. {allocation.farmer.name} collected "
            f"{shown(allocation.quantity, allocation.line.product)} of {allocation.line.product.name}, "
            f"{money(allocation.amount, allocation.group_order.currency)}"
            f"{' on input credit, recovered from your next payout' if allocation.on_credit else ''}.")  # fmt: skip
    send_sms(to=str(allocation.farmer.phone), body=body)
    return "sent"
