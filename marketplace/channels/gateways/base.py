"""The gateway interface: send one SMS. Inbound SMS, delivery reports and USSD requests arrive at our callback
URLs; each gateway module parses its own form fields into the plain records below."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    """The gateway took the message (`provider_message_id` set) or refused it (`failure_reason`)."""

    accepted: bool
    provider_message_id: str = ""
    cost: str = ""
    failure_reason: str = ""


class GatewayUnavailable(Exception):
    """The request never reached the gateway, or it answered that nothing was sent: safe to send again."""


class GatewayTimeout(Exception):
    """No answer in time: the message may or may not have gone. Retried with the same idempotency key."""


class GatewayRejected(Exception):
    """The gateway refused the request itself (bad credentials, bad parameters): retrying will not help."""


@dataclass(frozen=True)
class UssdRequest:
    session_id: str
    service_code: str
    phone: str
    network_code: str
    text: str


@dataclass(frozen=True)
class InboundSms:
    provider_message_id: str
    phone: str
    to: str
    text: str
    date: str
    link_id: str


@dataclass(frozen=True)
class DeliveryReportIn:
    provider_message_id: str
    status: str  # one of Message.Status (lower case)
    phone: str
    network_code: str
    failure_reason: str
    retry_count: int


class Gateway(Protocol):
    name: str

    def send_sms(self, *, to: str, body: str, idempotency_key: str, link_id: str = "") -> SendResult: ...
