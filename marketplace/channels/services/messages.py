"""The message log: outbound SMS are recorded first, then sent by a task after commit; never while a lock is held.

A send that times out is `unknown`, never `failed`: the task retries with the same idempotency key (derived from the
message's id), and a delivery report names the message once the gateway's id is known.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.channels.gateways import GatewayRejected, GatewayTimeout, GatewayUnavailable, gateway
from marketplace.channels.gateways.africastalking import parse_cost
from marketplace.channels.gateways.base import DeliveryReportIn
from marketplace.channels.models import DeliveryReport, Message
from marketplace.core import outbox
from marketplace.core.sms_segments import sms_segments
from marketplace.core.transitions import TransitionTable, transition_locked

logger = logging.getLogger(__name__)

S = Message.Status
# Outbound: queued -> sending -> (sent | unknown | failed); the gateway's reports move a sent message on.
# Inbound: received -> answered.
MESSAGE_TRANSITIONS = TransitionTable(
    "sms",
    {
        S.QUEUED: {S.SENDING, S.FAILED},
        S.SENDING: {S.QUEUED, S.UNKNOWN, S.SENT, S.FAILED},
        S.UNKNOWN: {S.SENDING, S.SENT, S.SUBMITTED, S.BUFFERED, S.SUCCESS, S.FAILED, S.REJECTED},
        S.SENT: {S.SUBMITTED, S.BUFFERED, S.SUCCESS, S.FAILED, S.REJECTED},
        S.SUBMITTED: {S.BUFFERED, S.SUCCESS, S.FAILED, S.REJECTED},
        S.BUFFERED: {S.SUBMITTED, S.SUCCESS, S.FAILED, S.REJECTED},
        S.SUCCESS: set(),
        S.FAILED: set(),
        S.REJECTED: set(),
        S.RECEIVED: {S.ANSWERED},
        S.ANSWERED: set(),
    },
)


def message_transition(*, message: Message, to_status: str, reason: str = "", data: dict | None = None) -> Message:
    """Move a message (already locked by the caller) to `to_status` if the table allows it; audited."""
    return transition_locked(
        obj=message,
        table=MESSAGE_TRANSITIONS,
        to_status=to_status,
        actor=None,
        reason=reason,
        organisation_id=message.organisation_id,
        data=data,
        label="The SMS",
    )


def _schedule_send(message_id: int, attempt: int = 0) -> None:
    from marketplace.channels.tasks import sms_send

    key = f"sms-send:{message_id}" if not attempt else f"sms-send:{message_id}:after-{attempt}"
    outbox.enqueue(sms_send, args=[message_id], key=key)


def sms_enqueue(
    *,
    to: str,
    body: str,
    farmer_id: int | None = None,
    organisation_id: int | None = None,
    key: str | None = None,
    link_id: str = "",
    in_reply_to: Message | None = None,
) -> Message:
    """Record an outbound SMS and send it after commit. The same `key` twice records and sends it once."""
    with transaction.atomic():
        if key is not None:
            existing = Message.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return existing
        segments = sms_segments(body)
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    direction=Message.Direction.OUTBOUND,
                    gateway=gateway().name,
                    status=S.QUEUED,
                    phone=to,
                    body=body,
                    encoding=segments.encoding,
                    segments=segments.count,
                    farmer_id=farmer_id,
                    organisation_id=organisation_id,
                    idempotency_key=key,
                    link_id=link_id,
                    in_reply_to=in_reply_to,
                )
        except IntegrityError:
            existing = Message.objects.filter(idempotency_key=key).first() if key else None
            if existing is None:
                raise
            return existing
        if key is None:
            message.idempotency_key = f"sms-{message.pk}"
            message.save(update_fields=["idempotency_key"])
        _schedule_send(message.pk)
        return message


def _locked(message_id: int) -> Message | None:
    return Message.objects.select_for_update().filter(pk=message_id, direction=Message.Direction.OUTBOUND).first()


def message_send(*, message_id: int) -> Message | None:
    """Send one queued (or unknown) message through the gateway. The row is locked only to claim it and to record
    the answer, never during the HTTP call. Raises GatewayTimeout / GatewayUnavailable for the task to retry."""
    with transaction.atomic():
        message = _locked(message_id)
        if message is None or message.status not in (S.QUEUED, S.UNKNOWN):
            return message
        message.attempts += 1
        message_transition(message=message, to_status=S.SENDING, data={"attempt": message.attempts})
    try:
        result = gateway().send_sms(
            to=message.phone, body=message.body, idempotency_key=message.idempotency_key, link_id=message.link_id
        )
    except GatewayTimeout as error:
        with transaction.atomic():
            message = _locked(message_id)
            message.failure_reason = f"no answer: {error}"[:200]
            message_transition(message=message, to_status=S.UNKNOWN, reason=message.failure_reason)
        raise
    except GatewayUnavailable as error:
        with transaction.atomic():
            message = _locked(message_id)
            message.failure_reason = f"not sent: {error}"[:200]
            message_transition(message=message, to_status=S.QUEUED, reason=message.failure_reason)
        raise
    except GatewayRejected as error:
        with transaction.atomic():
            message = _locked(message_id)
            message.failure_reason = str(error)[:200]
            return message_transition(message=message, to_status=S.FAILED, reason=message.failure_reason)
    with transaction.atomic():
        message = _locked(message_id)
        if not result.accepted:
            message.failure_reason = result.failure_reason
            return message_transition(message=message, to_status=S.FAILED, reason=result.failure_reason)
        message.provider_message_id = result.provider_message_id
        message.cost = result.cost[:40]
        message.cost_currency, message.cost_micros = parse_cost(result.cost)
        message.failure_reason = ""
        message_transition(message=message, to_status=S.SENT, data={"provider_message_id": result.provider_message_id})
        # Reports that arrived before the gateway's answer was recorded.
        for report in DeliveryReport.objects.filter(
            gateway=message.gateway, provider_message_id=message.provider_message_id, applied_at__isnull=True
        ).order_by("received_at", "pk"):
            _apply(message, report)
        return message


def _apply(message: Message, report: DeliveryReport) -> None:
    if MESSAGE_TRANSITIONS.allows(message.status, report.status):
        if report.failure_reason:
            message.failure_reason = report.failure_reason
        message_transition(
            message=message, to_status=report.status, reason=report.failure_reason, data={"report": report.pk}
        )
    report.applied_at = timezone.now()
    report.save(update_fields=["applied_at"])


def delivery_report_receive(*, gateway_name: str, report: DeliveryReportIn) -> DeliveryReport:
    """Store a delivery report and apply it to its message, once per (message id, status): a repeated post changes
    nothing, and a late report never moves a message back (Success then Buffered stays Success)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = DeliveryReport.objects.create(
                    gateway=gateway_name,
                    provider_message_id=report.provider_message_id,
                    status=report.status,
                    failure_reason=report.failure_reason,
                    network_code=report.network_code,
                    retry_count=report.retry_count,
                )
        except IntegrityError:
            return DeliveryReport.objects.get(
                gateway=gateway_name, provider_message_id=report.provider_message_id, status=report.status
            )
        message = (
            Message.objects.select_for_update()
            .filter(
                gateway=gateway_name,
                direction=Message.Direction.OUTBOUND,
                provider_message_id=report.provider_message_id,
            )
            .first()
        )
        if message is not None and message.status not in (S.QUEUED, S.SENDING):
            _apply(message, stored)
        return stored


# A send holds no lock during the HTTP call (10 s timeout), so a message still `sending` long after that lost its
# worker (killed between claiming the message and recording the gateway's answer).
STUCK_AFTER = timedelta(minutes=10)
MAX_SEND_ATTEMPTS = 7  # the first try and the task's 6 retries


def messages_sweep_stuck(*, now=None, limit: int = 500) -> dict[str, int]:
    """The beat task's sweep of messages stuck in `sending`. Each becomes `unknown` (it may have gone) and is sent
    again through the outbox with the same idempotency key, so a gateway that took the first request answers with
    that first message and sends nothing twice; after MAX_SEND_ATTEMPTS it is marked failed for a person to see."""
    now = now or timezone.now()
    swept = {"resent": 0, "failed": 0}
    stuck = (
        Message.objects.filter(direction=Message.Direction.OUTBOUND, status=S.SENDING, updated_at__lt=now - STUCK_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in list(stuck):
        with transaction.atomic():
            message = (
                Message.objects.select_for_update(skip_locked=True)
                .filter(pk=message_id, status=S.SENDING, updated_at__lt=now - STUCK_AFTER)
                .first()
            )
            if message is None:
                continue  # answered or swept meanwhile
            if message.attempts >= MAX_SEND_ATTEMPTS:
                message.failure_reason = f"no answer recorded after {message.attempts} attempts"
                message_transition(message=message, to_status=S.FAILED, reason=message.failure_reason)
                swept["failed"] += 1
                continue
            message.failure_reason = "the sending worker stopped before the gateway's answer was recorded"
            message_transition(message=message, to_status=S.UNKNOWN, reason=message.failure_reason)
            _schedule_send(message.pk, attempt=message.attempts)
            swept["resent"] += 1
    return swept
