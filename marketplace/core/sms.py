"""Pluggable SMS sending. The console backend prints; the memory backend keeps messages for tests."""

import sys
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    body: str


class ConsoleSmsBackend:
    def send(self, message: SmsMessage) -> None:
        sys.stdout.write(f"[SMS to {message.to}] {message.body}\n")


class MemorySmsBackend:
    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        self.outbox.append(message)


def send_sms(*, to: str, body: str) -> None:
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(SmsMessage(to=to, body=body))
