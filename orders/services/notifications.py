"""Email and SMS to both sides at every move of an order.

The move's transaction writes one `Notification` row per recipient and channel (unique on order, event,
channel and recipient) and schedules a task on commit. The task sends each row under a row lock and marks it
sent in the same transaction, so a task that runs twice, or two workers at once, notify once.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.core import outbox
from marketplace.core.money import Money
from marketplace.core.sms import send_sms
from marketplace.organisations.models import Membership
from orders.models import Notification, Order, OrderEvent

SMS_LIMIT = 320


def queue_notifications(*, order: Order, event: OrderEvent) -> int:
    """Write the notifications of an event for both sides; they are sent once the transaction commits."""
    rows = []
    memberships = Membership.objects.filter(
        organisation_id__in=[order.buyer_id, order.seller_id], user__is_active=True
    ).values_list("user__email", "user__preferred_language")
    for email, language in sorted(set(memberships)):
        rows.append(Notification(order=order, event=event, channel="email", recipient=email, language=language or "en"))
    for organisation in (order.buyer, order.seller):
        if organisation.phone:
            rows.append(
                Notification(
                    order=order, event=event, channel="sms", recipient=str(organisation.phone),
                    language=organisation.preferred_language or "en",
                )
            )  # fmt: skip
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    from orders.tasks import send_order_notifications

    outbox.enqueue(send_order_notifications, args=[event.pk], key=f"order-notifications:{event.pk}")
    return len(rows)


def _status_label(status: str) -> str:
    return str(Order.Status(status).label).lower() if status else ""


def message_for(notification: Notification) -> tuple[str, str, str]:
    """Subject, email body and SMS text of a notification, in the recipient's language where translated."""
    order, event = notification.order, notification.event
    with translation.override(notification.language or "en"):
        status = _status_label(event.to_status)
        subject = _("Order %(number)s: %(status)s") % {"number": order.number, "status": status}
        lines = [
            _("Order %(number)s from %(seller)s to %(buyer)s is now %(status)s.")
            % {"number": order.number, "seller": order.seller.name, "buyer": order.buyer.name, "status": status},
            _("Total: %(total)s.") % {"total": Money(order.total_amount, order.currency)},
        ]
        if order.amount_due is not None:
            lines.append(_("Amount due after receipt: %(due)s.") % {"due": Money(order.amount_due, order.currency)})
        if event.reason:
            lines.append(_("Reason: %(reason)s") % {"reason": event.reason})
        if event.to_status == Order.Status.PLACED:
            lines.append(
                _("The seller has until %(when)s UTC to accept it.") % {"when": f"{order.accept_by:%Y-%m-%d %H:%M}"}
            )
        if event.to_status == Order.Status.DELIVERED and order.dispute_until:
            lines.append(
                _("A dispute can be opened until %(when)s UTC.") % {"when": f"{order.dispute_until:%Y-%m-%d %H:%M}"}
            )
        link = f"{settings.SITE_BASE_URL.rstrip('/')}/orders/{order.number}/"
        body = "\n".join([*lines, "", link])
        sms = " ".join(lines[:1] + ([lines[-1]] if event.reason else []))[:SMS_LIMIT]
    return str(subject), body, sms


@transaction.atomic
def notification_send(*, notification_id: int) -> bool:
    """Send one notification unless it was sent already; True when this call sent it."""
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("order__buyer", "order__seller", "event")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.sent_at is not None:
        return False
    subject, body, sms = message_for(notification)
    if notification.channel == Notification.Channel.EMAIL:
        send_mail(subject, body, None, [notification.recipient])
    else:
        send_sms(to=notification.recipient, body=sms)
    notification.sent_at = timezone.now()
    notification.save(update_fields=["sent_at"])
    return True


def notifications_send_for_event(*, event_id: int) -> int:
    """Send the pending notifications of one order event; returns how many this call sent."""
    pending = Notification.objects.filter(event_id=event_id, sent_at__isnull=True).values_list("pk", flat=True)
    return sum(notification_send(notification_id=pk) for pk in list(pending))
