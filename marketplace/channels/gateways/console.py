"""The demo gateway: prints each SMS and accepts it at once."""

import sys

from marketplace.channels.gateways.base import SendResult


class ConsoleGateway:
    name = "console"

    def send_sms(self, *, to: str, body: str, idempotency_key: str, link_id: str = "") -> SendResult:
        sys.stdout.write(f"[SMS to {to}] {body}\n")
        return SendResult(accepted=True, provider_message_id=f"console-{idempotency_key}")
