"""What people and tasks ask of the provider: start a payment, pay in offline mode, onboard a seller, send a
refund or a transfer, reverse a transfer. Each provider call carries an idempotency key derived from our ids."""

from __future__ import annotations

from django.db import transaction

from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_record
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import is_operator, organisation_for
from orders.models import Order
from orders.selectors import order_get_by_id, order_sides
from payments.models import Payment, PayoutAccount, ProviderEvent, Refund, Transfer
from payments.providers import ProviderError, provider_get
from payments.services import escrow
from payments.services.alerts import operator_alert
from payments.services.events import provider_event_process, provider_event_receive, provider_for


def _buyer_order(actor: User, order_id: int) -> Order:
    order = order_get_by_id(viewer=actor, order_id=order_id)
    if "buyer" not in order_sides(viewer=actor, order=order):
        raise PermissionDenied(f"Only the buyer pays for order {order.number}.")
    organisation_for(viewer=actor, organisation_id=order.buyer_id, capability=Capability.DECIDE)
    return order


def payment_start(*, actor: User, order_id: int, amount, currency: str) -> Payment:
    """The buyer starts paying an accepted order: exactly its total, in its currency. A payment already waiting
    for the buyer is returned again rather than doubled."""
    order = _buyer_order(actor, order_id)
    errors: dict[str, str] = {}
    currency = str(currency or "").strip().upper()
    if currency != order.currency:
        errors["currency"] = (
            f"Order {order.number} is in {order.currency}; pay in {order.currency}, not {currency or '—'}."
        )
    if isinstance(amount, bool) or not isinstance(amount, int):
        errors["amount"] = f"Give the amount as a whole number of minor units of {order.currency}."
    elif amount != order.total_amount:
        shown = Money(amount, order.currency) if not errors.get("currency") else amount
        errors["amount"] = f"Order {order.number} comes to {order.total}; pay exactly that, not {shown}."
    if errors:
        raise ValidationFailed(" ".join(errors.values()), fields=errors)
    if order.status != Order.Status.ACCEPTED:
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}; an order is paid once the seller has "
            "accepted it, and only once."
        )
    provider = provider_for(provider_get().name)
    with transaction.atomic():
        escrow._lock_escrow(order)  # one payment start at a time per order
        waiting = Payment.objects.filter(order=order, provider=provider.name, status=Payment.Status.PENDING).first()
        if waiting is not None:
            return waiting
        if Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).exists():
            raise Conflict(f"Order {order.number} is already paid.")
        payment = Payment.objects.create(
            order=order, provider=provider.name, amount=order.total_amount, currency=order.currency, created_by=actor
        )
        try:
            result = provider.collect(payment=payment, order=order, idempotency_key=f"payment:{payment.pk}")
        except ProviderError as error:
            raise Conflict(f"The payment provider refused the payment: {error}", code="provider_error") from error
        payment.reference = result.reference
        payment.client_secret = result.client_secret
        payment.save(update_fields=["reference", "client_secret", "updated_at"])
        audit_record(
            actor=actor, action="payment.started", subject=payment, organisation_id=order.buyer_id,
            data={"order": order.number, "amount": payment.amount, "currency": payment.currency,
                  "provider": provider.name},
        )  # fmt: skip
    return payment


def payment_offline_pay(*, actor: User, payment_id: int, succeed: bool = True) -> Payment:
    """Offline mode: the demo buyer "pays". The offline provider's event goes through the usual processing."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    _buyer_order(actor, payment.order_id)
    if payment.provider != "offline":
        raise Conflict("This payment goes through Stripe: pay with a card on the payment page.")
    if payment.status != Payment.Status.PENDING:
        return payment
    with transaction.atomic():
        raw = provider_for("offline").settle_demo_payment(reference=payment.reference, succeed=succeed)
        event, _created = provider_event_receive(provider="offline", raw=raw)
        provider_event_process(event_pk=event.pk)
    payment.refresh_from_db()
    return payment


def payment_record_received(*, actor: User, order_id: int) -> Payment:
    """The operator records that the money of an order marked paid by hand (a bank transfer, cash) is held by the
    platform: it is booked through the offline provider under the order's payment reference and funds the escrow
    like any payment; an order already settled is then settled on the ledger too."""
    if not is_operator(actor):
        raise NotFound("No such order.")
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.")
    if not order.payment_reference:
        raise Conflict(f"Order {order.number} has no payment reference: it was never marked paid.")
    with transaction.atomic():
        escrow._lock_escrow(order)
        existing = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).first()
        if existing is not None:
            return existing
        payment = Payment.objects.create(
            order=order, provider="offline", reference=order.payment_reference, amount=order.total_amount,
            currency=order.currency, created_by=actor,
        )  # fmt: skip
        raw = provider_for("offline").record_received(
            reference=order.payment_reference, amount=order.total_amount, currency=order.currency, order_id=order.pk
        )
        event, _created = provider_event_receive(provider="offline", raw=raw)
        provider_event_process(event_pk=event.pk)
        audit_record(
            actor=actor, action="payment.recorded", subject=payment, organisation_id=order.buyer_id,
            data={"order": order.number, "reference": order.payment_reference},
        )  # fmt: skip
        escrow.escrow_follow_up(order_id=order.pk)
    payment.refresh_from_db()
    return payment


def payout_onboarding_start(*, actor: User, organisation_id: int, return_url: str, refresh_url: str) -> str:
    """Start (or resume) a seller's payout account onboarding; returns where to send the person."""
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    if organisation.kind not in (Organisation.Kind.COOPERATIVE, Organisation.Kind.INPUT_SUPPLIER):
        raise ValidationFailed("Only cooperatives and input suppliers receive payouts.")
    provider = provider_for(provider_get().name)
    with transaction.atomic():
        account = PayoutAccount.objects.select_for_update().filter(organisation=organisation, provider=provider.name)
        account = account.first()
        try:
            reference, url = provider.onboard(
                organisation=organisation, account_reference=account.reference if account else "",
                return_url=return_url, refresh_url=refresh_url,
            )  # fmt: skip
        except ProviderError as error:
            raise Conflict(f"The payment provider refused: {error}", code="provider_error") from error
        if account is None:
            account = PayoutAccount.objects.create(
                organisation=organisation, provider=provider.name, reference=reference
            )
            audit_record(
                actor=actor, action="payments.payout_account_created", subject=account,
                organisation_id=organisation.pk, data={"provider": provider.name, "reference": reference},
            )  # fmt: skip
        if provider.offline:
            # Offline onboarding completes at once: apply its account event now, as the demo expects.
            event = ProviderEvent.objects.filter(provider="offline", event_id=f"offevt_account.updated_{reference}")
            if event.exists():
                provider_event_process(event_pk=event.get().pk)
    return url


# --- Carried out after the commit by tasks ---------------------------------------------------------------------


def refund_submit(*, refund_id: int) -> str:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).select_related("payment").first()
        if refund is None or refund.status != Refund.Status.PENDING:
            return "nothing_to_do"
        provider = provider_for(refund.payment.provider)
        try:
            reference, status = provider.refund(
                refund=refund, payment=refund.payment, idempotency_key=f"refund:{refund.pk}"
            )
        except ProviderError as error:
            escrow.refund_failed(refund=refund, message=str(error))
            return "failed"
        refund.reference = reference
        if status == "succeeded":
            refund.status = Refund.Status.SUCCEEDED
        refund.save(update_fields=["reference", "status"])
        if status == "failed":
            escrow.refund_failed(refund=refund, message="refused by the provider")
        return status


def transfer_submit(*, transfer_id: int) -> str:
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).select_related("order").first()
        if transfer is None or transfer.status != Transfer.Status.PENDING:
            return "nothing_to_do"
        account = PayoutAccount.objects.filter(
            organisation_id=transfer.organisation_id, provider=transfer.provider, payouts_enabled=True
        ).first()
        if account is None:
            transfer.error = "Waiting for the seller to finish setting up payouts."
            transfer.save(update_fields=["error", "updated_at"])
            return "waiting"
        payable = escrow.payable_account(transfer.organisation_id, transfer.currency)
        payable = type(payable).objects.select_for_update().get(pk=payable.pk)
        if payable.balance < transfer.amount:
            # Member payouts (payments.payouts) draw on the same payable: never send money that is not owed.
            transfer.error = (
                f"Only {Money(payable.balance, transfer.currency)} is owed to the seller now; the transfer of "
                f"{Money(transfer.amount, transfer.currency)} waits for the operator."
            )
            transfer.save(update_fields=["error", "updated_at"])
            operator_alert(kind="transfer_short", message=transfer.error, order_id=transfer.order_id)
            return "short"
        payment = Payment.objects.filter(order_id=transfer.order_id, status=Payment.Status.SUCCEEDED).order_by("pk")
        payment = payment.first()
        provider = provider_for(transfer.provider)
        try:
            reference = provider.transfer(
                transfer=transfer, destination=account.reference,
                source_charge=payment.charge_reference if payment else "", idempotency_key=f"transfer:{transfer.pk}",
            )  # fmt: skip
        except ProviderError as error:
            transfer.error = str(error)[:300]
            transfer.save(update_fields=["error", "updated_at"])
            operator_alert(
                kind="transfer_failed",
                message=f"Transfer {transfer.pk} for order {transfer.order.number} failed: {error}",
                order_id=transfer.order_id,
            )
            return "failed"
        escrow.transfer_record_paid(transfer=transfer, reference=reference, destination=account.reference)
        return "paid"


def transfers_submit_waiting(*, organisation_id: int) -> int:
    waiting = Transfer.objects.filter(organisation_id=organisation_id, status=Transfer.Status.PENDING)
    return sum(transfer_submit(transfer_id=pk) == "paid" for pk in waiting.values_list("pk", flat=True))


def transfer_reverse(*, actor: User, transfer_id: int, amount, reason: str) -> Transfer:
    """The operator takes back part or all of a transfer (e.g. after a lost chargeback)."""
    if not is_operator(actor):
        raise NotFound("No such transfer.")
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
        if transfer is None:
            raise NotFound("No such transfer.")
        left = transfer.amount - transfer.amount_reversed
        errors: dict[str, str] = {}
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= left:
            errors["amount"] = f"Give a whole number of minor units between 1 and {left} (what is left of it)."
        if not (reason or "").strip():
            errors["reason"] = "Say why the transfer is reversed."
        if errors:
            raise ValidationFailed(" ".join(errors.values()), fields=errors)
        if transfer.status != Transfer.Status.PAID:
            raise Conflict("Only a transfer that was sent can be reversed.")
        target = transfer.amount_reversed + amount
        try:
            provider_for(transfer.provider).reverse_transfer(
                transfer=transfer, amount=amount, idempotency_key=f"transfer_reversal:{transfer.pk}:{target}"
            )
        except ProviderError as error:
            raise Conflict(f"The payment provider refused the reversal: {error}", code="provider_error") from error
        escrow.transfer_record_reversed(transfer=transfer, amount_reversed=target)
        audit_record(
            actor=actor, action="payments.transfer_reversed", subject=transfer, reason=reason,
            data={"amount": amount, "order": transfer.order_id},
        )  # fmt: skip
        return transfer
