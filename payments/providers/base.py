"""The interface every payment provider implements, and the normalised events they all emit.

A provider collects a buyer's payment, refunds it, onboards a seller's payout account, transfers a release to
it and reverses a transfer; it also turns its own events (verified webhooks, or the offline provider's records)
into `NormalisedEvent`s, which `payments.services.events` processes the same way whatever their source.
Every call that moves money carries an idempotency key derived from our own ids.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


class InvalidWebhook(Exception):
    """A webhook whose signature, timestamp or body does not verify: answer 400 and store nothing."""


class ProviderError(Exception):
    """The provider refused or failed a call; the message says why."""


class ProviderRefused(ProviderError):
    """A definite refusal (a declined card, an invalid request: a 4xx): nothing moved at the provider."""


class ProviderUnavailable(ProviderError):
    """No definite answer (a timeout, a lost connection, a 5xx, rate limiting): the provider may or may not have
    carried out the call. The caller keeps its record pending/unknown, retries with the same idempotency key, and
    in the end asks the provider (reconciliation); it never treats this as a refusal."""


# The event types of the processing path, whatever the provider calls them.
PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
PAYMENT_REFUNDED = "payment.refunded"  # the provider's running total refunded on a charge
REFUND_SUCCEEDED = "refund.succeeded"
REFUND_FAILED = "refund.failed"
DISPUTE_CREATED = "dispute.created"
DISPUTE_CLOSED = "dispute.closed"
TRANSFER_CREATED = "transfer.created"
TRANSFER_REVERSED = "transfer.reversed"
ACCOUNT_UPDATED = "account.updated"
EVENT_TYPES = frozenset({
    PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_REFUNDED, REFUND_SUCCEEDED, REFUND_FAILED, DISPUTE_CREATED,
    DISPUTE_CLOSED, TRANSFER_CREATED, TRANSFER_REVERSED, ACCOUNT_UPDATED,
})  # fmt: skip


@dataclass(frozen=True)
class NormalisedEvent:
    """One provider event in our terms. `type` is one of EVENT_TYPES, or "" for events we do not handle."""

    id: str
    type: str
    payment_reference: str = ""
    charge_reference: str = ""
    amount: int | None = None
    currency: str = ""
    refund_reference: str = ""
    refund_id: int | None = None  # our Refund's id, from the provider's metadata
    dispute_reference: str = ""
    dispute_status: str = ""  # won | lost | open
    dispute_reason: str = ""
    transfer_reference: str = ""
    transfer_id: int | None = None  # our Transfer's id
    amount_reversed: int | None = None
    account_reference: str = ""
    account_flags: dict[str, bool] = field(default_factory=dict)
    order_id: int | None = None
    failure_message: str = ""


@dataclass(frozen=True)
class CollectResult:
    reference: str
    client_secret: str = ""
    status: str = "pending"


@dataclass(frozen=True)
class RemoteState:
    """What the provider holds for one of our records, for reconciliation."""

    reference: str
    status: str
    amount: int
    currency: str
    amount_refunded: int = 0
    amount_reversed: int = 0


class PaymentProvider(ABC):
    name: str = ""

    # Collecting and refunding -------------------------------------------------------------------------------
    @abstractmethod
    def collect(self, *, payment, order, idempotency_key: str) -> CollectResult:
        """Start collecting `payment` from the buyer (captured at once when it succeeds)."""

    @abstractmethod
    def refund(self, *, refund, payment, idempotency_key: str) -> tuple[str, str]:
        """Refund part or all of a payment: (provider reference, "succeeded" | "pending" | "failed")."""

    # Sellers ---------------------------------------------------------------------------------------------------
    @abstractmethod
    def onboard(self, *, organisation, account_reference: str, return_url: str, refresh_url: str) -> tuple[str, str]:
        """Create the seller's payout account if `account_reference` is empty: (account reference, onboarding URL)."""

    @abstractmethod
    def transfer(self, *, transfer, destination: str, source_charge: str, idempotency_key: str) -> str:
        """Pay a release to the seller's account; returns the transfer's reference."""

    @abstractmethod
    def reverse_transfer(self, *, transfer, amount: int, idempotency_key: str) -> str:
        """Take back part or all of a transfer; returns the reversal's reference."""

    # Events ----------------------------------------------------------------------------------------------------
    @abstractmethod
    def verify_webhook(self, *, payload: bytes, signature: str) -> dict[str, Any]:
        """The event a webhook carries, once its signature verifies; raises InvalidWebhook otherwise."""

    @abstractmethod
    def normalise(self, raw: dict[str, Any]) -> NormalisedEvent:
        """A stored event in our terms."""

    # Reconciliation --------------------------------------------------------------------------------------------
    @abstractmethod
    def payment_state(self, reference: str) -> RemoteState | None: ...

    @abstractmethod
    def transfer_state(self, reference: str) -> RemoteState | None: ...

    def payment_states_since(self, since, references: list[str]) -> dict[str, RemoteState]:
        """What the provider holds for the payments created since `since` (a datetime), by reference: paged
        through the provider's lists by date where it has them. This default asks once per reference."""
        found = {}
        for reference in references:
            state = self.payment_state(reference)
            if state is not None:
                found[reference] = state
        return found

    def transfer_states_since(self, since, references: list[str]) -> dict[str, RemoteState]:
        found = {}
        for reference in references:
            state = self.transfer_state(reference)
            if state is not None:
                found[reference] = state
        return found

    def find_refund(self, *, refund, payment) -> tuple[str, str] | None:
        """Our refund as the provider holds it, looked up by our id (its metadata), not by its reference:
        (reference, "succeeded" | "pending" | "failed"), or None if the provider never made it."""
        return None

    def find_transfer(self, *, transfer) -> str | None:
        """Our transfer's reference at the provider, looked up by our id; None if the provider never made it."""
        return None

    @property
    def offline(self) -> bool:
        return False
