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
        # keyed per member and closing time: a rerun of this task (at-least-once delivery) sends nothing twice,
        # while a second extension (a new closing time) is a new message
        key = f"group-window:{window.pk}:{what}:{window.closes_at:%Y%m%d%H%M}:{farmer.pk}"
        send_sms(to=str(farmer.phone), body=bodies[language], key=key)
        sent += 1
    return sent


RECEIPT = _("%(coop)s: receipt %(receipt)s. %(member)s collected %(quantity)s of %(product)s, %(amount)s.")
RECEIPT_ON_CREDIT = _(
    "%(coop)s: receipt %(receipt)s. %(member)s collected %(quantity)s of %(product)s, %(amount)s on input credit, "
    "recovered from your next payout."
)


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
    farmer, product = allocation.farmer, allocation.line.product
    coop = allocation.group_order.buyer
    with translation.override(farmer.language or coop.preferred_language or "en"):
        values = {
            "coop": coop.name, "receipt": allocation.receipt_number, "member": farmer.name,
            "quantity": shown(allocation.quantity, product), "product": product.name,
            "amount": money(allocation.amount, allocation.group_order.currency),
        }  # fmt: skip
        body = str(RECEIPT_ON_CREDIT if allocation.on_credit else RECEIPT) % values
    send_sms(to=str(farmer.phone), body=body, key=f"handover-receipt:{allocation.pk}")
    return "sent"
