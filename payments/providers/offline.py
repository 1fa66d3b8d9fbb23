"""The offline provider: no network, its own records in the database, the same normalised events.

Used whenever no Stripe key is set (the demo, development, tests). A demo buyer "pays" from the payment page;
refunds, payout accounts and transfers succeed at once. Each call's idempotency key is stored, so a repeated call
returns the first record, as Stripe does. The references derive from the idempotency keys, so the demo is
deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.db import IntegrityError, transaction

from payments.models import OfflineRecord
from payments.providers import base
from payments.providers.base import CollectResult, NormalisedEvent, PaymentProvider, ProviderRefused, RemoteState


def _reference(prefix: str, idempotency_key: str) -> str:
    return f"off_{prefix}_" + idempotency_key.replace(":", "_")


class OfflineProvider(PaymentProvider):
    name = "offline"

    def __init__(self, emit: Callable[[dict[str, Any]], None] | None = None) -> None:
        # `emit` receives each raw event; the services store and process it like a webhook.
        self._emit = emit or (lambda raw: None)

    @property
    def offline(self) -> bool:
        return True

    def _record(self, kind: str, idempotency_key: str, data: dict[str, Any]) -> OfflineRecord:
        existing = OfflineRecord.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return OfflineRecord.objects.create(
                    kind=kind, reference=_reference(kind, idempotency_key), idempotency_key=idempotency_key, data=data
                )
        except IntegrityError:
            return OfflineRecord.objects.get(idempotency_key=idempotency_key)

    def emit(self, event_type: str, reference: str, **fields: Any) -> dict[str, Any]:
        raw = {"id": f"offevt_{event_type}_{reference}", "type": event_type, **fields}
        self._emit(raw)
        return raw

    # Collecting -----------------------------------------------------------------------------------------------
    def collect(self, *, payment, order, idempotency_key: str) -> CollectResult:
        record = self._record(
            "pay", idempotency_key,
            {"amount": payment.amount, "currency": payment.currency, "order_id": order.pk, "status": "pending",
             "refunded": 0},
        )  # fmt: skip
        return CollectResult(reference=record.reference, status=record.data["status"])

    def settle_demo_payment(self, *, reference: str, succeed: bool = True) -> dict[str, Any]:
        """The demo buyer pays (or the card is declined): the payment's event goes through the usual path."""
        record = OfflineRecord.objects.select_for_update().filter(reference=reference, kind="pay").first()
        if record is None:
            raise ProviderRefused(f"The offline provider has no payment {reference}.")
        if record.data["status"] == "pending":
            record.data["status"] = "succeeded" if succeed else "failed"
            record.save(update_fields=["data"])
        data = record.data
        event_type = base.PAYMENT_SUCCEEDED if data["status"] == "succeeded" else base.PAYMENT_FAILED
        return self.emit(
            event_type, reference, payment_reference=reference, charge_reference=reference, amount=data["amount"],
            currency=data["currency"], order_id=data["order_id"],
            failure_message="" if succeed else "The demo card was declined.",
        )  # fmt: skip

    def record_received(self, *, reference: str, amount: int, currency: str, order_id: int) -> dict[str, Any]:
        """Money received outside any provider (a bank transfer the operator saw): booked here under the
        order's payment reference, and its event emitted like any other payment's."""
        existing = OfflineRecord.objects.filter(reference=reference).first()
        if existing is None:
            data = {"amount": amount, "currency": currency, "order_id": order_id, "status": "succeeded", "refunded": 0}
            OfflineRecord.objects.create(
                kind="pay", reference=reference, idempotency_key=f"received:{reference}", data=data
            )
        return self.emit(
            base.PAYMENT_SUCCEEDED, reference, payment_reference=reference, charge_reference=reference, amount=amount,
            currency=currency, order_id=order_id,
        )  # fmt: skip

    @transaction.atomic
    def refund(self, *, refund, payment, idempotency_key: str) -> tuple[str, str]:
        pay = OfflineRecord.objects.select_for_update().filter(reference=payment.reference, kind="pay").first()
        if pay is None or pay.data["status"] != "succeeded":
            raise ProviderRefused(f"The offline provider has no succeeded payment {payment.reference} to refund.")
        existing = OfflineRecord.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            if pay.data["refunded"] + refund.amount > pay.data["amount"]:
                raise ProviderRefused("The refund is more than what is left of the payment.")
            pay.data["refunded"] += refund.amount
            pay.save(update_fields=["data"])
        record = self._record(
            "re", idempotency_key, {"payment": payment.reference, "amount": refund.amount, "refund_id": refund.pk}
        )
        self.emit(
            base.REFUND_SUCCEEDED, record.reference, refund_reference=record.reference, refund_id=refund.pk,
            payment_reference=payment.reference, amount=refund.amount, currency=refund.currency,
        )  # fmt: skip
        return record.reference, "succeeded"

    # Sellers ---------------------------------------------------------------------------------------------------
    def onboard(self, *, organisation, account_reference: str, return_url: str, refresh_url: str) -> tuple[str, str]:
        record = self._record("acct", f"account:{organisation.pk}", {"organisation": organisation.pk})
        flags = {"details_submitted": True, "payouts_enabled": True, "charges_enabled": True}
        self.emit(base.ACCOUNT_UPDATED, record.reference, account_reference=record.reference, account_flags=flags)
        return record.reference, return_url

    @transaction.atomic
    def transfer(self, *, transfer, destination: str, source_charge: str, idempotency_key: str) -> str:
        record = self._record(
            "tr", idempotency_key,
            {"amount": transfer.amount, "currency": transfer.currency, "destination": destination,
             "source_transaction": source_charge, "transfer_group": f"order:{transfer.order_id}", "reversed": 0},
        )  # fmt: skip
        self.emit(
            base.TRANSFER_CREATED, record.reference, transfer_reference=record.reference, transfer_id=transfer.pk,
            amount=transfer.amount, currency=transfer.currency,
        )  # fmt: skip
        return record.reference

    @transaction.atomic
    def reverse_transfer(self, *, transfer, amount: int, idempotency_key: str) -> str:
        tr = OfflineRecord.objects.select_for_update().filter(reference=transfer.reference, kind="tr").first()
        if tr is None:
            raise ProviderRefused(f"The offline provider has no transfer {transfer.reference}.")
        if OfflineRecord.objects.filter(idempotency_key=idempotency_key).first() is None:
            if tr.data["reversed"] + amount > tr.data["amount"]:
                raise ProviderRefused("The reversal is more than what is left of the transfer.")
            tr.data["reversed"] += amount
            tr.save(update_fields=["data"])
        record = self._record("trr", idempotency_key, {"transfer": transfer.reference, "amount": amount})
        self.emit(
            base.TRANSFER_REVERSED, record.reference, transfer_reference=transfer.reference, transfer_id=transfer.pk,
            amount_reversed=tr.data["reversed"], currency=transfer.currency,
        )  # fmt: skip
        return record.reference

    # Events ----------------------------------------------------------------------------------------------------
    def verify_webhook(self, *, payload: bytes, signature: str) -> dict[str, Any]:
        raise base.InvalidWebhook("The offline provider receives no webhooks.")

    def normalise(self, raw: dict[str, Any]) -> NormalisedEvent:
        known = set(NormalisedEvent.__dataclass_fields__)
        return NormalisedEvent(**{key: value for key, value in raw.items() if key in known})

    @staticmethod
    def event_for(event: NormalisedEvent) -> dict[str, Any]:
        return asdict(event)

    # Reconciliation --------------------------------------------------------------------------------------------
    def payment_state(self, reference: str) -> RemoteState | None:
        record = OfflineRecord.objects.filter(reference=reference, kind="pay").first()
        if record is None:
            return None
        data = record.data
        return RemoteState(
            reference, data["status"], data["amount"], data["currency"], amount_refunded=data["refunded"]
        )

    def payment_states_since(self, since, references: list[str]) -> dict[str, RemoteState]:
        records = OfflineRecord.objects.filter(kind="pay", reference__in=references)
        return {
            r.reference: RemoteState(
                r.reference, r.data["status"], r.data["amount"], r.data["currency"], amount_refunded=r.data["refunded"]
            )
            for r in records
        }

    def transfer_states_since(self, since, references: list[str]) -> dict[str, RemoteState]:
        records = OfflineRecord.objects.filter(kind="tr", reference__in=references)
        return {
            r.reference: RemoteState(
                r.reference, "paid", r.data["amount"], r.data["currency"], amount_reversed=r.data["reversed"]
            )
            for r in records
        }

    def find_refund(self, *, refund, payment) -> tuple[str, str] | None:
        record = OfflineRecord.objects.filter(idempotency_key=f"refund:{refund.pk}", kind="re").first()
        return (record.reference, "succeeded") if record is not None else None

    def find_transfer(self, *, transfer) -> str | None:
        record = OfflineRecord.objects.filter(idempotency_key=transfer.key, kind="tr").first()
        return record.reference if record is not None else None

    def transfer_state(self, reference: str) -> RemoteState | None:
        record = OfflineRecord.objects.filter(reference=reference, kind="tr").first()
        if record is None:
            return None
        data = record.data
        return RemoteState(reference, "paid", data["amount"], data["currency"], amount_reversed=data["reversed"])
