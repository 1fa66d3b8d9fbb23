"""Stripe through Connect "separate charges and transfers" (DESIGN.md, "Payments, in short").

The buyer pays a PaymentIntent on the platform, captured at once, with `transfer_group` the order's number; the
money waits in the order's escrow on our ledger. Cooperatives and suppliers onboard as Express accounts through
account links; a release is a Transfer with `source_transaction` the buyer's charge. Refunds and transfer
reversals handle cancellations and disputes. Every call carries an idempotency key derived from our ids.

stripe-python 16 through one `StripeClient` configured from settings. Its objects are not dicts: fields are read
as attributes, and stored events are the verified webhook's JSON.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import stripe
from django.conf import settings

from marketplace.core.money import minor_unit_exponent
from payments.providers import base
from payments.providers.base import (
    CollectResult,
    NormalisedEvent,
    PaymentProvider,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    RemoteState,
)

# Stripe's zero-decimal currencies (docs: "Supported currencies", zero-decimal). Amounts are whole units.
STRIPE_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
# Three-decimal currencies Stripe takes in thousandths.
STRIPE_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def stripe_exponent(currency: str) -> int:
    currency = currency.upper()
    if currency in STRIPE_ZERO_DECIMAL:
        return 0
    return 3 if currency in STRIPE_THREE_DECIMAL else 2


def to_stripe_amount(amount: int, currency: str) -> int:
    """Our minor units as Stripe's amount (they differ only where Stripe keeps a legacy exponent, e.g. ISK)."""
    shift = stripe_exponent(currency) - minor_unit_exponent(currency)
    if shift >= 0:
        return amount * 10**shift
    factor = 10 ** (-shift)
    if amount % factor:
        raise ProviderRefused(f"{amount} cannot be expressed in Stripe's units of {currency}.")
    return amount // factor


def from_stripe_amount(amount: int, currency: str) -> int:
    shift = stripe_exponent(currency) - minor_unit_exponent(currency)
    if shift <= 0:
        return amount * 10 ** (-shift)
    factor = 10**shift
    if amount % factor:
        raise ProviderRefused(f"Stripe's {amount} {currency} is not a whole number of our units.")
    return amount // factor


def _id(value: Any) -> str:
    """A field that is an id, or an expanded object with one."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(getattr(value, "id", "") or "")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _call(function, *args, **kwargs):
    """Call Stripe; a definite refusal raises ProviderRefused, anything without a definite answer (a timeout, a
    lost connection, a 5xx, a 409 idempotency clash with a request still in flight, rate limiting)
    ProviderUnavailable."""
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as error:
        raise classify(error) from error


def classify(error: stripe.StripeError) -> ProviderError:
    message = getattr(error, "user_message", None) or str(error) or type(error).__name__
    status = getattr(error, "http_status", None)
    if isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)):
        return ProviderUnavailable(f"Stripe did not answer: {message}")
    if isinstance(error, stripe.APIError) or status is None or status >= 500 or status in (409, 429):
        return ProviderUnavailable(f"Stripe did not answer definitely: {message}")
    return ProviderRefused(message)


def _metadata(obj: Any, key: str) -> str:
    metadata = getattr(obj, "metadata", None)
    if metadata is None:
        return ""
    return str(metadata.to_dict().get(key) or "") if hasattr(metadata, "to_dict") else str(metadata.get(key) or "")


def _paged(list_call, params: dict[str, Any], page):
    """Every object of a Stripe list, following `has_more` with `starting_after`."""
    while True:
        yield from page.data
        if not page.has_more or not page.data:
            return
        page = _call(list_call, params={**params, "limit": 100, "starting_after": page.data[-1].id})


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(
        self, *, secret_key: str | None = None, webhook_secret: str | None = None, api_base: str | None = None
    ):
        self.webhook_secret = webhook_secret if webhook_secret is not None else settings.STRIPE_WEBHOOK_SECRET
        self._secret_key = secret_key
        self._api_base = api_base

    @cached_property
    def client(self) -> stripe.StripeClient:
        base_url = self._api_base or settings.STRIPE_API_BASE
        return stripe.StripeClient(
            self._secret_key or settings.STRIPE_SECRET_KEY,
            base_addresses={"api": base_url, "connect": base_url, "files": base_url},
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        )

    # Collecting and refunding -------------------------------------------------------------------------------
    def collect(self, *, payment, order, idempotency_key: str) -> CollectResult:
        intent = _call(
            self.client.v1.payment_intents.create,
            params={
                "amount": to_stripe_amount(payment.amount, payment.currency),
                "currency": payment.currency.lower(),
                "payment_method_types": ["card"],
                "capture_method": "automatic",
                "transfer_group": order.number,
                "description": f"CoopMarket order {order.number}",
                "metadata": {"order_id": str(order.pk), "order_number": order.number, "payment_id": str(payment.pk)},
            },
            options={"idempotency_key": idempotency_key},
        )
        return CollectResult(reference=intent.id, client_secret=intent.client_secret or "", status=intent.status)

    def refund(self, *, refund, payment, idempotency_key: str) -> tuple[str, str]:
        created = _call(
            self.client.v1.refunds.create,
            params={
                "payment_intent": payment.reference,
                "amount": to_stripe_amount(refund.amount, refund.currency),
                "metadata": {"refund_id": str(refund.pk), "order_id": str(refund.order_id)},
            },
            options={"idempotency_key": idempotency_key},
        )
        status = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}.get(created.status, "pending")
        return created.id, status

    # Sellers ---------------------------------------------------------------------------------------------------
    def onboard(self, *, organisation, account_reference: str, return_url: str, refresh_url: str) -> tuple[str, str]:
        if not account_reference:
            params: dict[str, Any] = {
                "type": "express",
                "country": str(organisation.country),
                "capabilities": {"transfers": {"requested": True}},
                "business_profile": {"name": organisation.legal_name},
                "metadata": {"organisation_id": str(organisation.pk)},
            }
            if organisation.email:
                params["email"] = organisation.email
            account = _call(
                self.client.v1.accounts.create, params=params, options={"idempotency_key": f"account:{organisation.pk}"}
            )
            account_reference = account.id
        link = _call(
            self.client.v1.account_links.create,
            params={
                "account": account_reference,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
        return account_reference, link.url

    def transfer(self, *, transfer, destination: str, source_charge: str, idempotency_key: str) -> str:
        params: dict[str, Any] = {
            "amount": to_stripe_amount(transfer.amount, transfer.currency),
            "currency": transfer.currency.lower(),
            "destination": destination,
            "transfer_group": transfer.order.number,
            "metadata": {
                "transfer_id": str(transfer.pk), "order_id": str(transfer.order_id), "send": str(transfer.resends),
            },
        }  # fmt: skip
        if source_charge:
            params["source_transaction"] = source_charge
        created = _call(self.client.v1.transfers.create, params=params, options={"idempotency_key": idempotency_key})
        return created.id

    def reverse_transfer(self, *, transfer, amount: int, idempotency_key: str) -> str:
        reversal = _call(
            self.client.v1.transfers.reversals.create,
            transfer.reference,
            params={
                "amount": to_stripe_amount(amount, transfer.currency),
                "metadata": {"transfer_id": str(transfer.pk)},
            },
            options={"idempotency_key": idempotency_key},
        )
        return reversal.id

    # Events ----------------------------------------------------------------------------------------------------
    def verify_webhook(self, *, payload: bytes, signature: str) -> dict[str, Any]:
        if not self.webhook_secret:
            raise base.InvalidWebhook("No webhook secret is configured (STRIPE_WEBHOOK_SECRET).")
        try:
            stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
            raw = json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise base.InvalidWebhook(str(error) or "The signature does not verify.") from error
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("type"):
            raise base.InvalidWebhook("The body is not a Stripe event.")
        return raw

    def normalise(self, raw: dict[str, Any]) -> NormalisedEvent:
        event_id, kind = str(raw.get("id")), str(raw.get("type"))
        obj = (raw.get("data") or {}).get("object") or {}
        metadata = obj.get("metadata") or {}
        currency = str(obj.get("currency") or "").upper()

        def amount(field: str = "amount") -> int | None:
            value = _int(obj.get(field))
            return None if value is None or not currency else from_stripe_amount(value, currency)

        common = {"id": event_id, "currency": currency, "order_id": _int(metadata.get("order_id"))}
        if kind == "payment_intent.succeeded":
            received = amount("amount_received")
            return NormalisedEvent(
                type=base.PAYMENT_SUCCEEDED, payment_reference=_id(obj.get("id")),
                charge_reference=_id(obj.get("latest_charge")),
                amount=received if received is not None else amount(), **common,
            )  # fmt: skip
        if kind == "payment_intent.payment_failed":
            error = obj.get("last_payment_error") or {}
            return NormalisedEvent(
                type=base.PAYMENT_FAILED, payment_reference=_id(obj.get("id")), amount=amount(),
                failure_message=str(error.get("message") or "The payment failed.")[:300], **common,
            )  # fmt: skip
        if kind == "charge.refunded":
            return NormalisedEvent(
                type=base.PAYMENT_REFUNDED, payment_reference=_id(obj.get("payment_intent")),
                charge_reference=_id(obj.get("id")), amount=amount("amount_refunded"), **common,
            )  # fmt: skip
        if kind in ("refund.created", "refund.updated", "charge.refund.updated"):
            status = obj.get("status")
            event_type = {"succeeded": base.REFUND_SUCCEEDED, "failed": base.REFUND_FAILED}.get(status, "")
            if status == "canceled":
                event_type = base.REFUND_FAILED
            return NormalisedEvent(
                type=event_type, refund_reference=_id(obj.get("id")), refund_id=_int(metadata.get("refund_id")),
                payment_reference=_id(obj.get("payment_intent")), charge_reference=_id(obj.get("charge")),
                amount=amount(), failure_message=str(obj.get("failure_reason") or "")[:300], **common,
            )  # fmt: skip
        if kind in ("charge.dispute.created", "charge.dispute.closed"):
            status = str(obj.get("status") or "")
            outcome = "open"
            if kind == "charge.dispute.closed":
                outcome = "won" if status in ("won", "warning_closed") else "lost"
            return NormalisedEvent(
                type=base.DISPUTE_CREATED if kind.endswith("created") else base.DISPUTE_CLOSED,
                dispute_reference=_id(obj.get("id")), dispute_status=outcome,
                dispute_reason=str(obj.get("reason") or "")[:100], charge_reference=_id(obj.get("charge")),
                payment_reference=_id(obj.get("payment_intent")), amount=amount(), **common,
            )  # fmt: skip
        if kind in ("transfer.created", "transfer.reversed"):
            return NormalisedEvent(
                type=base.TRANSFER_CREATED if kind.endswith("created") else base.TRANSFER_REVERSED,
                transfer_reference=_id(obj.get("id")), transfer_id=_int(metadata.get("transfer_id")),
                amount=amount(), amount_reversed=amount("amount_reversed"), **common,
            )  # fmt: skip
        if kind == "account.updated":
            flags = {key: bool(obj.get(key)) for key in ("details_submitted", "payouts_enabled", "charges_enabled")}
            return NormalisedEvent(
                id=event_id, type=base.ACCOUNT_UPDATED, account_reference=_id(obj.get("id")), account_flags=flags
            )
        return NormalisedEvent(id=event_id, type="")

    # Reconciliation --------------------------------------------------------------------------------------------
    def _listed(self, list_call, since, **params) -> list:
        params = {**params, "created": {"gte": int(since.timestamp())}}
        first = _call(list_call, params={**params, "limit": 100})
        return list(_paged(list_call, params, first))

    def payment_states_since(self, since, references: list[str]) -> dict[str, RemoteState]:
        """Two paged lists by date (PaymentIntents, and their charges for what was refunded) instead of one call
        per payment."""
        wanted = set(references)
        refunded: dict[str, int] = {}
        charges_params = {"created": {"gt": int(since.timestamp()) - 1}}
        first = _call(self.client.v1.charges.list, params={**charges_params, "limit": 100})
        for charge in _paged(self.client.v1.charges.list, charges_params, first):
            intent = _id(getattr(charge, "payment_intent", None))
            if intent in wanted:
                refunded[intent] = refunded.get(intent, 0) + int(getattr(charge, "amount_refunded", 0) or 0)
        found = {}
        for intent in self._listed(self.client.v1.payment_intents.list, since):
            if intent.id not in wanted:
                continue
            currency = str(intent.currency).upper()
            status = {"succeeded": "succeeded", "canceled": "failed"}.get(intent.status, "pending")
            found[intent.id] = RemoteState(
                intent.id, status, from_stripe_amount(int(intent.amount), currency), currency,
                amount_refunded=from_stripe_amount(refunded.get(intent.id, 0), currency),
            )  # fmt: skip
        return found

    def transfer_states_since(self, since, references: list[str]) -> dict[str, RemoteState]:
        wanted = set(references)
        found = {}
        for transfer in self._listed(self.client.v1.transfers.list, since):
            if transfer.id in wanted:
                currency = str(transfer.currency).upper()
                found[transfer.id] = RemoteState(
                    transfer.id, "paid", from_stripe_amount(int(transfer.amount), currency), currency,
                    amount_reversed=from_stripe_amount(int(transfer.amount_reversed or 0), currency),
                )  # fmt: skip
        return found

    def find_refund(self, *, refund, payment) -> tuple[str, str] | None:
        listed = _call(self.client.v1.refunds.list, params={"payment_intent": payment.reference, "limit": 100})
        for remote in _paged(self.client.v1.refunds.list, {"payment_intent": payment.reference}, listed):
            if _metadata(remote, "refund_id") == str(refund.pk):
                status = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}.get(
                    remote.status, "pending"
                )
                return remote.id, status
        return None

    def find_transfer(self, *, transfer) -> str | None:
        params = {"transfer_group": transfer.order.number}
        listed = _call(self.client.v1.transfers.list, params={**params, "limit": 100})
        for remote in _paged(self.client.v1.transfers.list, params, listed):
            # The current send only (a re-sent transfer's earlier, refused sends made nothing at Stripe anyway).
            if _metadata(remote, "transfer_id") == str(transfer.pk) and (_metadata(remote, "send") or "0") == str(
                transfer.resends
            ):
                return remote.id
        return None

    def payment_state(self, reference: str) -> RemoteState | None:
        try:
            intent = self.client.v1.payment_intents.retrieve(reference, params={"expand": ["latest_charge"]})
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        currency = str(intent.currency).upper()
        charge = intent.latest_charge
        refunded = 0
        if charge is not None and not isinstance(charge, str):
            refunded = int(getattr(charge, "amount_refunded", 0) or 0)
        status = "succeeded" if intent.status == "succeeded" else "failed" if intent.status == "canceled" else "pending"
        return RemoteState(
            reference, status, from_stripe_amount(int(intent.amount), currency), currency,
            amount_refunded=from_stripe_amount(refunded, currency),
        )  # fmt: skip

    def transfer_state(self, reference: str) -> RemoteState | None:
        try:
            transfer = self.client.v1.transfers.retrieve(reference)
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as error:
            raise ProviderError(str(error)) from error
        currency = str(transfer.currency).upper()
        return RemoteState(
            reference, "paid", from_stripe_amount(int(transfer.amount), currency), currency,
            amount_reversed=from_stripe_amount(int(transfer.amount_reversed or 0), currency),
        )  # fmt: skip
