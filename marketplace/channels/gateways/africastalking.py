"""Africa's Talking over plain HTTP (httpx), 10 s timeout. The callbacks post forms with the gateway's own field
names; the parsers below turn them into plain records and refuse a form that lacks one (a clear 400)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import httpx
from django.conf import settings
from django.utils.translation import gettext

from marketplace.channels.gateways.base import (
    DeliveryReportIn,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    InboundSms,
    SendResult,
    UssdRequest,
)
from marketplace.core.errors import ValidationFailed

NAME = "africastalking"
# Recipient status codes of the send response: 100 Processed, 101 Sent, 102 Queued are accepted.
ACCEPTED_CODES = {100, 101, 102}
# 500 InternalServerError and 501 GatewayError: nothing was sent, try again later.
RETRY_CODES = {500, 501}
# Delivery report statuses, as the gateway spells them.
REPORT_STATUSES = {
    "Sent": "sent",
    "Submitted": "submitted",
    "Buffered": "buffered",
    "Rejected": "rejected",
    "Success": "success",
    "Failed": "failed",
}


class AfricasTalkingGateway:
    name = NAME

    def __init__(self, *, base_url: str | None = None, timeout: float | None = None) -> None:
        self.base_url = (base_url or settings.AFRICASTALKING_API_BASE).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.AFRICASTALKING_TIMEOUT_SECONDS

    def send_sms(self, *, to: str, body: str, idempotency_key: str, link_id: str = "") -> SendResult:
        data = {"username": settings.AFRICASTALKING_USERNAME, "to": to, "message": body}
        if settings.AFRICASTALKING_SENDER_ID:
            data["from"] = settings.AFRICASTALKING_SENDER_ID
        if link_id:
            data["linkId"] = link_id
        headers = {
            "apiKey": settings.AFRICASTALKING_API_KEY,
            "Accept": "application/json",
            "Idempotency-Key": idempotency_key,
        }
        try:
            response = httpx.post(
                f"{self.base_url}/version1/messaging", data=data, headers=headers, timeout=self.timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise GatewayUnavailable(str(error) or type(error).__name__) from error
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as error:
            raise GatewayTimeout(str(error) or type(error).__name__) from error
        if response.status_code >= 500:
            raise GatewayUnavailable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise GatewayRejected(f"HTTP {response.status_code}: {response.text[:150]}")
        try:
            recipients = response.json()["SMSMessageData"]["Recipients"]
        except (ValueError, KeyError, TypeError) as error:
            raise GatewayTimeout(f"unreadable answer: {response.text[:150]}") from error
        if not recipients:
            message = (response.json().get("SMSMessageData") or {}).get("Message", "")
            return SendResult(accepted=False, failure_reason=str(message)[:200] or "no recipient accepted")
        recipient = recipients[0]
        code = int(recipient.get("statusCode", 0))
        if code in ACCEPTED_CODES:
            return SendResult(
                accepted=True,
                provider_message_id=str(recipient.get("messageId", "")),
                cost=str(recipient.get("cost", "")),
            )
        if code in RETRY_CODES:
            raise GatewayUnavailable(f"{code} {recipient.get('status', '')}")
        return SendResult(accepted=False, failure_reason=f"{code} {recipient.get('status', '')}"[:200])


def parse_cost(cost: str) -> tuple[str, int | None]:
    """ "KES 0.8000" -> ("KES", 800000); anything else -> ("", None)."""
    parts = cost.split()
    if len(parts) != 2 or len(parts[0]) != 3:
        return "", None
    try:
        amount = Decimal(parts[1])
    except InvalidOperation:
        return "", None
    return parts[0].upper(), int(amount * 1_000_000)


def _required(form, *names: str) -> dict[str, str]:
    missing = [name for name in names if name not in form]
    if missing:
        raise ValidationFailed(
            gettext("Missing form fields: %(missing)s.") % {"missing": ", ".join(missing)},
            fields=dict.fromkeys(missing, "Required."),
        )
    return {name: str(form.get(name, ""))[:1000] for name in names}


def parse_ussd(form) -> UssdRequest:
    values = _required(form, "sessionId", "phoneNumber")
    if not values["sessionId"].strip():
        raise ValidationFailed("sessionId is empty.", fields={"sessionId": "Required."})
    return UssdRequest(
        session_id=values["sessionId"].strip()[:100],
        service_code=str(form.get("serviceCode", ""))[:30],
        phone=values["phoneNumber"].strip(),
        network_code=str(form.get("networkCode", ""))[:10],
        text=str(form.get("text", ""))[:500],
    )


def parse_inbound(form) -> InboundSms:
    values = _required(form, "id", "from", "text")
    if not values["id"].strip():
        raise ValidationFailed("id is empty.", fields={"id": "Required."})
    return InboundSms(
        provider_message_id=values["id"].strip()[:100],
        phone=values["from"].strip(),
        to=str(form.get("to", ""))[:20],
        text=values["text"][:1000],
        date=str(form.get("date", ""))[:40],
        link_id=str(form.get("linkId", ""))[:100],
    )


def parse_delivery_report(form) -> DeliveryReportIn:
    values = _required(form, "id", "status")
    status = REPORT_STATUSES.get(values["status"].strip())
    if status is None:
        raise ValidationFailed(
            gettext("Unknown status %(status)s; expected one of %(report_statuses)s.")
            % {"status": repr(values["status"][:30]), "report_statuses": ", ".join(REPORT_STATUSES)},
            fields={"status": "Unknown status."},
        )
    try:
        retry_count = max(0, min(int(form.get("retryCount") or 0), 1000))
    except ValueError:
        retry_count = 0
    return DeliveryReportIn(
        provider_message_id=values["id"].strip()[:100],
        status=status,
        phone=str(form.get("phoneNumber", ""))[:20],
        network_code=str(form.get("networkCode", ""))[:10],
        failure_reason=str(form.get("failureReason", ""))[:100],
        retry_count=retry_count,
    )
