"""Pluggable SMS sending. The console backend prints; the memory backend keeps messages for tests.

A `key` (derived from our own ids) makes a send idempotent: the gateway backend records one message per key, the
memory backend keeps one, so a task that runs twice sends each keyed message once."""

import sys
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    body: str
    key: str | None = None


class ConsoleSmsBackend:
    def send(self, message: SmsMessage) -> None:
        sys.stdout.write(f"[SMS to {message.to}] {message.body}\n")


class MemorySmsBackend:
    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        if message.key is not None and any(sent.key == message.key for sent in self.outbox):
            return
        self.outbox.append(message)


def send_sms(*, to: str, body: str, key: str | None = None) -> None:
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(SmsMessage(to=to, body=body, key=key))
