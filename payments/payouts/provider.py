"""How member payouts leave the platform: a `PayoutProvider` pays a list of instructions and says which were paid.

The offline provider (the default) pays nothing itself: it records each payment with a reference, and the
cooperative pays through its mobile-money operator's bulk upload, using the CSV from `payments_csv`. A mobile-money
API can be added as another provider (settings.PAYOUT_PROVIDER names the class), the way payments has Stripe and an
offline payment provider.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from marketplace.core.money import Money, minor_unit_exponent

DEFAULT_PROVIDER = "payments.payouts.provider.OfflinePayoutProvider"
CSV_HEADER = ["phone", "amount", "reference"]


@dataclass(frozen=True)
class PayoutInstruction:
    line_id: int
    phone: str  # E.164, may be empty
    amount: Money
    reference: str


@dataclass(frozen=True)
class PayoutResult:
    line_id: int
    provider_reference: str


class PayoutRefused(Exception):
    """The provider definitely paid none of the instructions (nothing moved)."""


class PayoutUnavailable(Exception):
    """No definite answer (a timeout, a 5xx): some or all instructions may have been paid. Paying the same
    instructions again must be harmless: each carries our reference, the provider's idempotency key."""


class PayoutProvider(Protocol):
    name: str

    def pay(self, instructions: list[PayoutInstruction]) -> list[PayoutResult]:
        """Pay every instruction; return one result per instruction. Raise PayoutRefused when none was paid,
        anything else (PayoutUnavailable) when the outcome is not known. An instruction paid before (same
        reference) is not paid again."""
        ...

    def find(self, instructions: list[PayoutInstruction]) -> list[PayoutResult]:
        """Reconciliation by our references: the instructions the provider paid (one result each); one it has no
        payment for was never paid. Raise PayoutUnavailable when it cannot be asked."""
        ...


class OfflinePayoutProvider:
    """Records the payments; the money moves through the operator's bulk upload (see `payments_csv`)."""

    name = "offline"

    def pay(self, instructions: list[PayoutInstruction]) -> list[PayoutResult]:
        return [PayoutResult(i.line_id, f"OFFLINE-{i.reference}") for i in instructions]

    def find(self, instructions: list[PayoutInstruction]) -> list[PayoutResult]:
        return self.pay(instructions)  # it records every payment at once: each one asked about was paid


def payout_provider() -> PayoutProvider:
    return import_string(getattr(settings, "PAYOUT_PROVIDER", DEFAULT_PROVIDER))()


def msisdn(phone: str) -> str:
    """The number as bulk uploads want it: international format, digits only (+225 07... → 22507...)."""
    return "".join(ch for ch in str(phone) if ch.isdigit())


def major_units(amount: Money) -> str:
    """12345 XOF → "12345"; 123456 EUR → "1234.56": a plain decimal, no thousands separator."""
    return f"{amount.to_decimal():.{minor_unit_exponent(amount.currency)}f}"


def payments_csv(instructions: list[PayoutInstruction]) -> str:
    """The bulk mobile-money upload: one row per payment with a phone number (phone, amount, reference)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for instruction in instructions:
        if instruction.phone and instruction.amount.amount > 0:
            writer.writerow([msisdn(instruction.phone), major_units(instruction.amount), instruction.reference])
    return out.getvalue()
