"""Email and SMS to both sides at every move of an order.

The move's transaction writes one `Notification` row per recipient and channel (unique on order, event,
channel and recipient) and schedules a task on commit. The task sends each row under a row lock and marks it
sent in the same transaction, so a task that runs twice, or two workers at once, notify once.
"""

import json

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.core import outbox
from marketplace.core.models import AuditEvent
from marketplace.core.money import Money
from marketplace.core.sending import SENT, send_once
from marketplace.core.sms import send_sms
from marketplace.organisations.models import Membership, Organisation, User
from orders.models import Notification, Order, OrderEvent
from orders.services._common import insert_sql

SMS_LIMIT = 320
NOTIFY_KEY = "order-notifications:"  # the outbox key of an event's sending, before the event's id


def queue_notifications(*, order: Order, event: OrderEvent) -> int:
    """Write the notifications of an event for both sides; they are sent once the transaction commits."""
    return queue_notifications_many(pairs=[(order, event)])


def queue_notifications_many(*, pairs: list[tuple[Order, OrderEvent]]) -> int:
    """Write the notifications of several order events in one INSERT ... SELECT (an email to every active user
    of both sides, an SMS to each side's phone), and send each event's once the transaction commits."""
    if not pairs:
        return 0
    values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint, %s::bigint)"] * len(pairs))
    params: list = [v for order, event in pairs for v in (order.pk, event.pk, order.buyer_id, order.seller_id)]
    sql = f"WITH v(order_id, event_id, buyer_id, seller_id) AS (VALUES {values}) {_notify_sql()}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, timezone.now()])
        written = cursor.rowcount
    _send_on_commit([event.pk for _, event in pairs])
    return written


def order_events_record(*, events: list[OrderEvent], audit_events: list[AuditEvent] = ()) -> list[OrderEvent]:
    """Insert new events of distinct orders, their notifications and the outbox messages that send them, in one
    statement (the events' INSERT feeds the notifications' INSERT ... SELECT and the outbox's); the messages are
    sent once the transaction commits. Sets the events' ids. `audit_events` (collected by `audit_record` in an
    `audit_batch`, taken out of it by the caller) are written by the same statement."""
    from orders.tasks import send_order_notifications

    if not events:
        return events
    orders = {event.order.pk: event.order for event in events}
    assert len(orders) == len(events), "one event per order"
    now = timezone.now()
    rows = ", ".join(["(%s::bigint, %s, %s, %s::bigint, %s, %s, %s, %s::jsonb, %s::timestamptz)"] * len(events))
    params: list = []
    for event in events:
        event.occurred_at = now
        params += [event.order.pk, event.from_status, event.to_status, event.actor_id, event.side, event.role,
                   event.reason, json.dumps(event.details or {}), now]  # fmt: skip
    sides = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(orders))
    params += [v for order in orders.values() for v in (order.pk, order.buyer_id, order.seller_id)]
    outbox_sql, outbox_params = outbox.insert_select_sql(
        send_order_notifications, source="e", key_prefix=NOTIFY_KEY, now=now
    )
    audit_sql, audit_params = insert_sql(AuditEvent, list(audit_events), "1") if audit_events else ("", [])
    q = connection.ops.quote_name
    # identifiers from the models, values as parameters
    sql = f"""
        WITH {f"audited AS ({audit_sql})," if audit_sql else ""} e AS (
            INSERT INTO {q(OrderEvent._meta.db_table)}
                   (order_id, from_status, to_status, actor_id, side, role, reason, details, occurred_at)
            VALUES {rows} RETURNING id, order_id
        ), o(order_id, buyer_id, seller_id) AS (VALUES {sides}),
        v AS (SELECT o.order_id, e.id AS event_id, o.buyer_id, o.seller_id FROM e JOIN o USING (order_id)),
        notified AS ({_notify_sql()} RETURNING 1),
        m AS ({outbox_sql})
        SELECT e.id, e.order_id, m.id FROM e JOIN m ON m.key = %s::text || e.id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*audit_params, *params, now, *outbox_params, NOTIFY_KEY])
        written = cursor.fetchall()
    ids = {order_id: event_id for event_id, order_id, _ in written}
    for event in events:
        event.pk = ids[event.order.pk]
        event._state.adding = False
    sent = [(message_id, event_id) for event_id, _, message_id in written]
    outbox.send_rows_on_commit(send_order_notifications, sent)
    return events


def _send_on_commit(event_ids: list[int]) -> None:
    """Put each event's sending in the outbox (one INSERT for all), sent once the transaction commits."""
    from orders.tasks import send_order_notifications

    outbox.enqueue_many(
        send_order_notifications, calls=[([event_id], f"{NOTIFY_KEY}{event_id}") for event_id in event_ids]
    )


def _notify_sql() -> str:
    """INSERT ... SELECT of the notifications of the events in a relation v(order_id, event_id, buyer_id,
    seller_id): an email to every active user of both sides, an SMS to each side's phone; one parameter, the
    time written."""
    q = connection.ops.quote_name
    notification, membership = q(Notification._meta.db_table), q(Membership._meta.db_table)
    user, organisation = q(User._meta.db_table), q(Organisation._meta.db_table)
    # identifiers from the models, values as parameters
    return f"""
        INSERT INTO {notification} (order_id, event_id, channel, recipient, language, created_at)
        SELECT order_id, event_id, channel, recipient, language, %s FROM (
            SELECT DISTINCT v.order_id, v.event_id, 0 AS side, 'email' AS channel, u.email AS recipient,
                   COALESCE(NULLIF(u.preferred_language, ''), 'en') AS language
              FROM v JOIN {membership} m ON m.organisation_id IN (v.buyer_id, v.seller_id)
                     JOIN {user} u ON u.id = m.user_id AND u.is_active
            UNION ALL
            SELECT v.order_id, v.event_id, s.side, 'sms', o.phone, COALESCE(NULLIF(o.preferred_language, ''), 'en')
              FROM v CROSS JOIN (VALUES (1), (2)) AS s(side)
                     JOIN {organisation} o ON o.id = CASE s.side WHEN 1 THEN v.buyer_id ELSE v.seller_id END
             WHERE o.phone <> ''
        ) AS notification_rows
        ORDER BY order_id, event_id, side, recipient, language
        ON CONFLICT DO NOTHING"""  # noqa: S608


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


def notification_send(*, notification_id: int) -> bool:
    """Send one notification unless it was sent already, outside the row's lock (core.sending); True when this call
    sent it."""
    notifications = Notification.objects.select_related("order__buyer", "order__seller", "event")
    return send_once(notifications, notification_id, _deliver) == SENT


def _deliver(notification: Notification) -> None:
    subject, body, sms = message_for(notification)
    if notification.channel == Notification.Channel.EMAIL:
        send_mail(subject, body, None, [notification.recipient])
    else:
        send_sms(to=notification.recipient, body=sms)


def notifications_send_for_event(*, event_id: int) -> int:
    """Send the pending notifications of one order event; returns how many this call sent."""
    pending = Notification.objects.filter(event_id=event_id, sent_at__isnull=True).values_list("pk", flat=True)
    return sum(notification_send(notification_id=pk) for pk in list(pending))
