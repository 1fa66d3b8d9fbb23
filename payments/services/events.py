"""Provider events: stored first (unique on the provider's id), then processed exactly once.

`provider_event_process` locks the event's row and commits the event's effects together with its processed
mark, so however often (or however concurrently) an event is delivered, it takes effect once. Stripe's verified
webhooks and the offline provider's events take the same path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_record
from orders.models import Order
from orders.services import order_mark_paid
from payments.models import ChargeDispute, Payment, PayoutAccount, ProviderEvent, Refund, Transfer
from payments.providers import PaymentProvider, provider_named
from payments.providers import base as ev
from payments.services import escrow
from payments.services.alerts import operator_alert
from payments.services.transitions import payment_transition, refund_transition

Outcome = ProviderEvent.Outcome


def provider_for(name: str) -> PaymentProvider:
    """A provider by name; the offline one's events are stored at once and processed after the commit."""
    return provider_named(name, emit=_offline_emitted)


def _offline_emitted(raw: dict[str, Any]) -> None:
    event, created = provider_event_receive(provider="offline", raw=raw)
    if created:
        from payments.tasks import provider_event_process as task

        escrow.enqueue(task, event.pk, key=f"provider-event:{event.pk}")


def provider_event_receive(*, provider: str, raw: dict[str, Any]) -> tuple[ProviderEvent, bool]:
    """Store an event (a verified webhook's body) unless it is already stored."""
    event_id = str(raw.get("id") or "")[:100]
    existing = ProviderEvent.objects.filter(provider=provider, event_id=event_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = ProviderEvent.objects.create(
                provider=provider, event_id=event_id, type=str(raw.get("type") or "")[:60], payload=raw
            )
        return event, True
    except IntegrityError:
        return ProviderEvent.objects.get(provider=provider, event_id=event_id), False


def provider_event_process(*, event_pk: int) -> str:
    with transaction.atomic():
        event = ProviderEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None:
            return "missing"
        if event.processed_at is not None:
            return event.outcome
        normalised = provider_for(event.provider).normalise(event.payload)
        handler = HANDLERS.get(normalised.type)
        error = ""
        if handler is None:
            outcome = Outcome.IGNORED
        else:
            try:
                with transaction.atomic():
                    outcome = handler(normalised, event.provider)
            except DomainError as refusal:
                outcome, error = Outcome.REJECTED, refusal.message
                operator_alert(
                    kind="event_rejected",
                    message=f"{event.provider} event {event.event_id} ({event.type}) was refused: {refusal.message}",
                    order_id=normalised.order_id,
                )
        event.processed_at = timezone.now()
        event.outcome = outcome
        event.error = error
        event.save(update_fields=["processed_at", "outcome", "error"])
        return outcome


# --- Handlers: each returns an outcome, or raises a DomainError (nothing it did stays) -------------------------


def _payment(event: ev.NormalisedEvent, provider: str, *, lock: bool = True) -> Payment | None:
    queryset = Payment.objects.select_for_update() if lock else Payment.objects.all()
    if event.payment_reference:
        found = queryset.filter(provider=provider, reference=event.payment_reference).first()
        if found is not None:
            return found
    if event.charge_reference:
        return queryset.filter(provider=provider, charge_reference=event.charge_reference).first()
    return None


def payment_succeeded(event: ev.NormalisedEvent, provider: str) -> str:
    payment = _payment(event, provider)
    if payment is None:
        raise ValidationFailed(
            gettext("No payment of ours has the reference %(payment_reference)s.")
            % {"payment_reference": repr(event.payment_reference)}
        )
    if payment.status == Payment.Status.SUCCEEDED:
        return Outcome.IGNORED
    order = Order.objects.get(pk=payment.order_id)
    errors = {}
    if event.currency and event.currency != order.currency:
        errors["currency"] = f"The payment is in {event.currency} but order {order.number} is in {order.currency}."
    if event.amount != payment.amount or payment.amount != order.total_amount:
        errors["amount"] = (
            f"The payment is {Money(event.amount or 0, order.currency)} but order {order.number} comes to "
            f"{Money(order.total_amount, order.currency)}."
        )
    if errors:
        raise ValidationFailed(" ".join(errors.values()) + " The escrow was not funded.", fields=errors)

    def fund(payment: Payment) -> dict:
        payment.charge_reference = event.charge_reference or payment.charge_reference
        escrow.escrow_fund(payment=payment)
        return {"order": order.number, "amount": payment.amount, "currency": payment.currency, "event": event.id}

    payment_transition(payment=payment, to_status=Payment.Status.SUCCEEDED, apply=fund)
    needed = order.status == Order.Status.ACCEPTED
    if needed:
        try:
            with transaction.atomic():
                order_mark_paid(actor=None, order_id=order.pk, payment_reference=payment.reference)
        except DomainError:
            needed = False
    elif order.payment_reference == payment.reference:
        needed = True
    if not needed:
        # The order no longer needs this money (cancelled meanwhile, or already paid): give it back.
        order.refresh_from_db()
        refunds = escrow.refund_from_escrow(
            actor=None, order=order, escrow=escrow._lock_escrow(order), amount=payment.amount,
            reason=Refund.Reason.DUPLICATE, key=f"unneeded:{payment.pk}",
            note=f"Order {order.number} was {order.status} when payment {payment.reference} arrived",
        )  # fmt: skip
        if order.status == Order.Status.CANCELLED:
            return Outcome.APPLIED if refunds else Outcome.IGNORED
    return Outcome.APPLIED


def payment_failed(event: ev.NormalisedEvent, provider: str) -> str:
    payment = _payment(event, provider)
    if payment is None or payment.status != Payment.Status.PENDING:
        return Outcome.IGNORED
    message = (event.failure_message or "The payment failed.")[:300]

    def note(payment: Payment) -> dict:
        payment.failure_message = message
        return {"event": event.id}

    payment_transition(payment=payment, to_status=Payment.Status.FAILED, reason=message, apply=note)
    return Outcome.APPLIED


def payment_refunded(event: ev.NormalisedEvent, provider: str) -> str:
    """The provider's running total refunded on a charge: whatever exceeds our refunds was refunded at the
    provider directly (the dashboard) and leaves escrow now."""
    payment = _payment(event, provider)
    if payment is None or payment.status != Payment.Status.SUCCEEDED or event.amount is None:
        return Outcome.IGNORED
    ours = escrow._refunded_on(payment)
    extra = event.amount - ours
    if extra <= 0:
        return Outcome.IGNORED
    order = Order.objects.get(pk=payment.order_id)
    refunds = escrow.refund_from_escrow(
        actor=None, order=order, escrow=escrow._lock_escrow(order), amount=extra, reason=Refund.Reason.PROVIDER,
        key=f"provider:{payment.pk}:{event.amount}", note="Refunded at the provider",
    )  # fmt: skip
    for refund in Refund.objects.select_for_update().filter(pk__in=[r.pk for r in refunds]).order_by("pk"):
        refund_transition(refund=refund, to_status=Refund.Status.SUCCEEDED, data={"event": event.id})
    return Outcome.APPLIED


def _our_refund(event: ev.NormalisedEvent) -> Refund | None:
    queryset = Refund.objects.select_for_update()
    if event.refund_id is not None:
        found = queryset.filter(pk=event.refund_id).first()
        if found is not None:
            return found
    if event.refund_reference:
        return queryset.filter(reference=event.refund_reference).first()
    return None


def refund_succeeded(event: ev.NormalisedEvent, provider: str) -> str:
    refund = _our_refund(event)
    if refund is None or refund.status not in (Refund.Status.PENDING, Refund.Status.UNKNOWN):
        return Outcome.IGNORED  # a refund made at the provider directly counts through charge.refunded

    def note(refund: Refund) -> dict:
        refund.reference = event.refund_reference or refund.reference
        refund.error = ""
        return {"event": event.id, "reference": refund.reference}

    refund_transition(refund=refund, to_status=Refund.Status.SUCCEEDED, apply=note)
    return Outcome.APPLIED


def refund_failed(event: ev.NormalisedEvent, provider: str) -> str:
    refund = _our_refund(event)
    if refund is None or refund.status == Refund.Status.FAILED:
        return Outcome.IGNORED
    escrow.refund_record_failed(refund_id=refund.pk, message=event.failure_message or "refused by the provider")
    return Outcome.APPLIED


def dispute_created(event: ev.NormalisedEvent, provider: str) -> str:
    payment = _payment(event, provider)
    if payment is None:
        raise ValidationFailed(
            gettext("The chargeback %(dispute_reference)s names no payment of ours.")
            % {"dispute_reference": event.dispute_reference}
        )
    amount = event.amount if event.amount is not None else payment.amount
    escrow.chargeback_open(
        provider=provider, reference=event.dispute_reference, payment=payment, amount=amount,
        reason=event.dispute_reason,
    )  # fmt: skip
    return Outcome.APPLIED


def dispute_closed(event: ev.NormalisedEvent, provider: str) -> str:
    dispute = ChargeDispute.objects.select_for_update().filter(provider=provider, reference=event.dispute_reference)
    dispute = dispute.first()
    if dispute is None:
        dispute_created(event, provider)
        dispute = ChargeDispute.objects.select_for_update().get(provider=provider, reference=event.dispute_reference)
    if dispute.status != ChargeDispute.Status.OPEN:
        return Outcome.IGNORED
    escrow.chargeback_close(dispute=dispute, won=event.dispute_status == "won", amount=event.amount)
    return Outcome.APPLIED


def _transfer(event: ev.NormalisedEvent) -> Transfer | None:
    queryset = Transfer.objects.select_for_update()
    if event.transfer_id is not None:
        found = queryset.filter(pk=event.transfer_id).first()
        if found is not None:
            return found
    if event.transfer_reference:
        return queryset.filter(reference=event.transfer_reference).first()
    return None


def transfer_created(event: ev.NormalisedEvent, provider: str) -> str:
    transfer = _transfer(event)
    if transfer is None or transfer.status != Transfer.Status.UNKNOWN:
        return Outcome.IGNORED  # only a transfer we sent (posted, outcome not yet recorded) is confirmed by it
    escrow.transfer_record_paid(transfer=transfer, reference=event.transfer_reference)
    return Outcome.APPLIED


def transfer_reversed(event: ev.NormalisedEvent, provider: str) -> str:
    transfer = _transfer(event)
    if transfer is None or event.amount_reversed is None:
        return Outcome.IGNORED
    return (
        Outcome.APPLIED
        if escrow.transfer_record_reversed(transfer=transfer, amount_reversed=event.amount_reversed)
        else Outcome.IGNORED
    )


def account_updated(event: ev.NormalisedEvent, provider: str) -> str:
    account = PayoutAccount.objects.select_for_update().filter(provider=provider, reference=event.account_reference)
    account = account.first()
    if account is None:
        return Outcome.IGNORED
    for flag in ("details_submitted", "payouts_enabled", "charges_enabled"):
        if flag in event.account_flags:
            setattr(account, flag, event.account_flags[flag])
    account.save()
    audit_record(
        actor=None, action="payments.account_updated", subject=account, organisation_id=account.organisation_id,
        data=event.account_flags,
    )  # fmt: skip
    if account.payouts_enabled:
        from payments.tasks import transfers_submit_waiting

        escrow.enqueue(transfers_submit_waiting, account.organisation_id)
    return Outcome.APPLIED


HANDLERS: dict[str, Callable[[ev.NormalisedEvent, str], str]] = {
    ev.PAYMENT_SUCCEEDED: payment_succeeded,
    ev.PAYMENT_FAILED: payment_failed,
    ev.PAYMENT_REFUNDED: payment_refunded,
    ev.REFUND_SUCCEEDED: refund_succeeded,
    ev.REFUND_FAILED: refund_failed,
    ev.DISPUTE_CREATED: dispute_created,
    ev.DISPUTE_CLOSED: dispute_closed,
    ev.TRANSFER_CREATED: transfer_created,
    ev.TRANSFER_REVERSED: transfer_reversed,
    ev.ACCOUNT_UPDATED: account_updated,
}
