"""What people and tasks ask of the provider: start a payment, pay in offline mode, onboard a seller, send a
refund or a transfer, reverse a transfer. Each provider call carries an idempotency key derived from our ids."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_record
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import is_operator, organisation_for
from orders.models import Order
from orders.selectors import order_get_by_id, order_sides
from payments.models import OfflinePaymentConfirmation, Payment, PayoutAccount, ProviderEvent, Refund, Transfer
from payments.providers import ProviderError, ProviderRefused, ProviderUnavailable, provider_get
from payments.services import escrow
from payments.services.alerts import operator_alert
from payments.services.events import provider_event_process, provider_event_receive, provider_for
from payments.services.transitions import payment_transition, refund_transition, transfer_transition


def _buyer_order(actor: User, order_id: int) -> Order:
    order = order_get_by_id(viewer=actor, order_id=order_id)
    if "buyer" not in order_sides(viewer=actor, order=order):
        raise PermissionDenied(gettext("Only the buyer pays for order %(number)s.") % {"number": order.number})
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
            gettext("Order %(number)s is %(status)s; an order is paid once the seller has accepted it, and only once.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    provider = provider_for(provider_get().name)
    if provider.offline and not settings.OFFLINE_PAYMENTS:
        raise Conflict(
            "This deployment takes no payments yet: no card provider is set up and offline payments (a bank or "
            "mobile-money transfer confirmed by the operator) are off.",
            code="payments_off",
        )
    with transaction.atomic():
        escrow._lock_escrow(order)  # one payment start at a time per order
        payment = Payment.objects.filter(order=order, provider=provider.name, status=Payment.Status.PENDING).first()
        if payment is not None and payment.reference:
            return payment
        if payment is None:
            if Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).exists():
                raise Conflict(gettext("Order %(number)s is already paid.") % {"number": order.number})
            payment = Payment.objects.create(
                order=order, provider=provider.name, amount=order.total_amount, currency=order.currency,
                created_by=actor,
            )  # fmt: skip
            audit_record(
                actor=actor, action="payment.started", subject=payment, organisation_id=order.buyer_id,
                data={"order": order.number, "amount": payment.amount, "currency": payment.currency,
                      "provider": provider.name},
            )  # fmt: skip
    # The attempt is recorded; the provider is called with no lock held, keyed by our payment's id, so a repeat (a
    # retry after no answer) gets the same intent back from the provider rather than a second one.
    return _collect(provider, payment, order)


def _collect(provider, payment: Payment, order: Order) -> Payment:
    try:
        result = provider.collect(payment=payment, order=order, idempotency_key=f"payment:{payment.pk}")
    except ProviderUnavailable as error:  # no definite answer: the payment stays pending; asking again retries it
        raise Conflict(
            gettext("The payment provider did not answer (%(error)s); try again in a moment.") % {"error": error},
            code="provider_unavailable",
        ) from error
    except ProviderError as error:
        payment_transition(payment_id=payment.pk, to_status=Payment.Status.FAILED, reason=str(error)[:500])
        raise Conflict(
            gettext("The payment provider refused the payment: %(error)s") % {"error": error}, code="provider_error"
        ) from error
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if not locked.reference:
            locked.reference = result.reference
            locked.client_secret = result.client_secret
            locked.save(update_fields=["reference", "client_secret", "updated_at"])
    return locked


def payment_offline_pay(*, actor: User, payment_id: int, succeed: bool = True) -> Payment:
    """The demo buyer "pays" with no money moving: only with DEBUG on (a development or demo deployment). The
    offline provider's event goes through the usual processing."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    _buyer_order(actor, payment.order_id)
    if not settings.DEBUG:
        raise PermissionDenied(
            "Paying without moving money exists only in demo mode. Transfer the amount quoting the payment's "
            "reference; the operator confirms it when it is received."
        )
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


def payment_offline_confirm(
    *, actor: User, payment_id: int, transfer_reference: str, evidence=None, note: str = ""
) -> Payment:
    """The operator confirms that an offline payment's money was received (a bank or mobile-money transfer quoting
    the payment's reference): the reference of the transfer and optional evidence are kept, and the offline
    provider's payment event funds the escrow like any payment. Confirming again changes nothing."""
    if not is_operator(actor):
        raise NotFound("No such payment.")
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    errors: dict[str, str] = {}
    transfer_reference = str(transfer_reference or "").strip()
    if not 1 <= len(transfer_reference) <= 100:
        errors["transfer_reference"] = (
            "Give the reference of the transfer received (bank or mobile money), 1 to 100 characters."
        )
    if evidence is not None:
        name = str(getattr(evidence, "name", "")).lower()
        if not name.endswith((".pdf", ".jpg", ".jpeg", ".png")):
            errors["evidence"] = "Attach the evidence as a PDF, JPEG or PNG file."
        elif evidence.size > settings.OFFLINE_EVIDENCE_MAX_BYTES:
            errors["evidence"] = f"The evidence file is larger than {settings.OFFLINE_EVIDENCE_MAX_BYTES // 1024} KB."
    if errors:
        raise ValidationFailed(" ".join(errors.values()), fields=errors)
    if payment.provider != "offline":
        raise Conflict("This payment goes through the card provider; it is confirmed by the provider, not by hand.")
    if not settings.OFFLINE_PAYMENTS:
        raise Conflict("Offline payments are off on this deployment (OFFLINE_PAYMENTS).", code="payments_off")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == Payment.Status.SUCCEEDED:
            return payment
        if payment.status != Payment.Status.PENDING:
            raise Conflict(
                gettext("Payment %(reference)s is %(status)s.")
                % {"reference": payment.reference, "status": payment.get_status_display().lower()}
            )
        OfflinePaymentConfirmation.objects.create(
            payment=payment, transfer_reference=transfer_reference, evidence=evidence or "", note=note[:300],
            confirmed_by=actor,
        )  # fmt: skip
        order = Order.objects.get(pk=payment.order_id)
        audit_record(
            actor=actor, action="payment.offline_confirmed", subject=payment, organisation_id=order.buyer_id,
            data={"order": order.number, "transfer_reference": transfer_reference, "evidence": bool(evidence)},
        )  # fmt: skip
        raw = provider_for("offline").settle_demo_payment(reference=payment.reference, succeed=True)
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
        raise Conflict(
            gettext("Order %(number)s has no payment reference: it was never marked paid.") % {"number": order.number}
        )
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


def _payout_account_record(actor: User, organisation: Organisation, provider, reference: str) -> None:
    with transaction.atomic():
        account, created = PayoutAccount.objects.get_or_create(
            organisation=organisation, provider=provider.name, defaults={"reference": reference}
        )
        if created:
            audit_record(
                actor=actor, action="payments.payout_account_created", subject=account,
                organisation_id=organisation.pk, data={"provider": provider.name, "reference": reference},
            )  # fmt: skip
        if provider.offline:
            # Offline onboarding completes at once: apply its account event now, as the demo expects.
            event = ProviderEvent.objects.filter(provider="offline", event_id=f"offevt_account.updated_{reference}")
            if event.exists():
                provider_event_process(event_pk=event.get().pk)


def payout_onboarding_start(*, actor: User, organisation_id: int, return_url: str, refresh_url: str) -> str:
    """Start (or resume) a seller's payout account onboarding; returns where to send the person."""
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    if organisation.kind not in (Organisation.Kind.COOPERATIVE, Organisation.Kind.INPUT_SUPPLIER):
        raise ValidationFailed("Only cooperatives and input suppliers receive payouts.")
    provider = provider_for(provider_get().name)
    # A card provider is called with no lock held (house rule 4). It keys a new account by our organisation's id, so
    # two first onboardings at once get the same account, and only one of them records it. The offline provider is
    # our own tables: its onboarding runs in one transaction with the recording, so the account event it emits is
    # applied to the recorded account.
    with transaction.atomic() if provider.offline else nullcontext():
        account = PayoutAccount.objects.filter(organisation=organisation, provider=provider.name).first()
        try:
            reference, url = provider.onboard(
                organisation=organisation, account_reference=account.reference if account else "",
                return_url=return_url, refresh_url=refresh_url,
            )  # fmt: skip
        except ProviderError as error:
            raise Conflict(
                gettext("The payment provider refused: %(error)s") % {"error": error}, code="provider_error"
            ) from error
        _payout_account_record(actor, organisation, provider, reference)
    return url


# --- Carried out after the commit by tasks ---------------------------------------------------------------------
# Never call the provider while holding a database lock (house rule 4): each call is recorded first in its own
# transaction, made with an idempotency key derived from our id, and its outcome recorded in a new transaction.
# A definite refusal (ProviderRefused) fails the record and reverses its posting; no definite answer
# (ProviderUnavailable: a timeout, a 5xx) leaves it "unknown" for the task to retry with the same key and, after
# the retries, for reconciliation to settle by asking the provider.

UNSETTLED_REFUND = (Refund.Status.PENDING, Refund.Status.UNKNOWN)


def refund_submit(*, refund_id: int) -> str:
    """Send a refund (posted when decided) to the provider. Returns succeeded | pending | failed | unknown |
    nothing_to_do."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None or refund.status not in UNSETTLED_REFUND:
            return "nothing_to_do"
        refund.attempts += 1
        refund.last_attempt_at = timezone.now()
        refund.save(update_fields=["attempts", "last_attempt_at"])
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    provider = provider_for(refund.payment.provider)
    try:
        reference, status = provider.refund(
            refund=refund, payment=refund.payment, idempotency_key=f"refund:{refund.pk}"
        )
    except ProviderRefused as error:
        escrow.refund_record_failed(refund_id=refund.pk, message=str(error))
        return "failed"
    except ProviderUnavailable as error:
        return refund_record_unknown(refund_id=refund.pk, message=str(error))
    return refund_record_outcome(refund_id=refund.pk, reference=reference, status=status)


def refund_record_unknown(*, refund_id: int, message: str) -> str:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None or refund.status not in UNSETTLED_REFUND:
            return "nothing_to_do"
        refund.error = message[:300]
        if refund.status == Refund.Status.PENDING:
            refund_transition(refund=refund, to_status=Refund.Status.UNKNOWN, reason=refund.error)
        else:
            refund.save(update_fields=["error"])
    return "unknown"


def refund_record_outcome(*, refund_id: int, reference: str, status: str) -> str:
    """What the provider answered (or what reconciliation found): succeeded, pending (it answers later by webhook)
    or failed."""
    if status == "failed":
        escrow.refund_record_failed(refund_id=refund_id, message="refused by the provider")
        return "failed"
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None or refund.status not in UNSETTLED_REFUND:
            return "nothing_to_do"

        def note(refund: Refund) -> dict:
            refund.reference = reference or refund.reference
            refund.error = ""
            return {"reference": refund.reference}

        if status == "succeeded":
            refund_transition(refund=refund, to_status=Refund.Status.SUCCEEDED, apply=note)
        elif refund.status == Refund.Status.UNKNOWN:
            refund_transition(refund=refund, to_status=Refund.Status.PENDING, apply=note)
        else:
            note(refund)
            refund.save(update_fields=["reference", "error"])
    return status


def refund_reconcile(*, refund_id: int) -> str:
    """After the retries: ask the provider for the refund by our id. Found: record what it says. Not found: the
    provider never made it, so it fails and its money is back in escrow (a refund that still appears later at the
    provider is booked from its charge.refunded event, like one made in the provider's dashboard)."""
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.status not in UNSETTLED_REFUND:
        return "nothing_to_do"
    try:
        found = provider_for(refund.payment.provider).find_refund(refund=refund, payment=refund.payment)
    except ProviderError as error:
        return refund_record_unknown(refund_id=refund_id, message=f"Reconciliation could not ask: {error}")
    if found is None:
        escrow.refund_record_failed(
            refund_id=refund_id, message=f"the provider has no refund {refund.pk} after {refund.attempts} call(s)"
        )
        return "failed"
    reference, status = found
    return refund_record_outcome(refund_id=refund_id, reference=reference, status=status)


UNSETTLED_TRANSFER = (Transfer.Status.PENDING, Transfer.Status.UNKNOWN)


def transfer_submit(*, transfer_id: int) -> str:
    """Send a transfer to the seller's payout account. Returns paid | failed | unknown | waiting | short |
    nothing_to_do."""
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
        if transfer is None or transfer.status not in UNSETTLED_TRANSFER:
            return "nothing_to_do"
        account = PayoutAccount.objects.filter(
            organisation_id=transfer.organisation_id, provider=transfer.provider, payouts_enabled=True
        ).first()
        if account is None and transfer.status == Transfer.Status.PENDING:
            transfer.error = "Waiting for the seller to finish setting up payouts."
            transfer.save(update_fields=["error", "updated_at"])
            return "waiting"
        if transfer.status == Transfer.Status.PENDING:
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

            def sending(transfer: Transfer) -> dict:
                transfer.destination = account.reference
                escrow.transfer_post(transfer=transfer)
                return {"destination": account.reference, "amount": transfer.amount}

            # The attempt is recorded (and the money posted as sent) before the call.
            transfer_transition(transfer=transfer, to_status=Transfer.Status.UNKNOWN, apply=sending)
        transfer.attempts += 1
        transfer.last_attempt_at = timezone.now()
        transfer.save(update_fields=["attempts", "last_attempt_at", "updated_at"])
    transfer = Transfer.objects.select_related("order").get(pk=transfer_id)
    payment = Payment.objects.filter(order_id=transfer.order_id, status=Payment.Status.SUCCEEDED).order_by("pk")
    payment = payment.first()
    try:
        reference = provider_for(transfer.provider).transfer(
            transfer=transfer, destination=transfer.destination,
            source_charge=payment.charge_reference if payment else "", idempotency_key=transfer.key,
        )  # fmt: skip
    except ProviderRefused as error:
        return transfer_record_outcome(transfer_id=transfer_id, reference="", refused=str(error))
    except ProviderUnavailable as error:
        Transfer.objects.filter(pk=transfer_id).update(error=str(error)[:300])
        return "unknown"
    return transfer_record_outcome(transfer_id=transfer_id, reference=reference)


def transfer_record_outcome(*, transfer_id: int, reference: str, refused: str = "") -> str:
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
        if transfer is None or transfer.status != Transfer.Status.UNKNOWN:
            return "nothing_to_do"
        if refused:
            escrow.transfer_record_failed(transfer=transfer, message=refused)
            return "failed"
        escrow.transfer_record_paid(transfer=transfer, reference=reference)
        return "paid"


def transfer_reconcile(*, transfer_id: int) -> str:
    """After the retries: ask the provider for the transfer by our id (its transfer group and metadata)."""
    transfer = Transfer.objects.select_related("order").filter(pk=transfer_id).first()
    if transfer is None or transfer.status != Transfer.Status.UNKNOWN:
        return "nothing_to_do"
    try:
        reference = provider_for(transfer.provider).find_transfer(transfer=transfer)
    except ProviderError as error:
        Transfer.objects.filter(pk=transfer_id).update(error=f"Reconciliation could not ask: {error}"[:300])
        return "unknown"
    if reference is None:
        return transfer_record_outcome(
            transfer_id=transfer_id,
            reference="",
            refused=f"the provider has no transfer {transfer.pk} after {transfer.attempts} call(s)",
        )
    return transfer_record_outcome(transfer_id=transfer_id, reference=reference)


def transfer_resend(*, actor: User, transfer_id: int, reason: str) -> Transfer:
    """The operator re-sends a transfer the provider refused (once the cause, e.g. the seller's payout account, is
    fixed): it becomes pending again as a new send with its own idempotency key (`transfer:<id>:resend:<n>`, from
    our ids), and the task posts it again and calls the provider like the first send. Only a failed transfer can
    be re-sent; asking twice re-sends once (the second finds it no longer failed)."""
    if not is_operator(actor):
        raise NotFound("No such transfer.")
    reason = str(reason or "").strip()
    if not 1 <= len(reason) <= 300:
        raise ValidationFailed(
            "Say why the transfer can be sent again (what was fixed), 1 to 300 characters.",
            fields={"reason": "Required, at most 300 characters."},
        )
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
        if transfer is None:
            raise NotFound("No such transfer.")
        if transfer.status != Transfer.Status.FAILED:
            raise Conflict(
                gettext("Transfer %(pk)s is %(status)s; only a transfer the provider refused can be sent again.")
                % {"pk": transfer.pk, "status": transfer.get_status_display().lower()}
            )

        def again(transfer: Transfer) -> dict:
            transfer.resends += 1
            transfer.error = ""
            transfer.reference = ""
            return {"resend": transfer.resends, "key": transfer.key, "amount": transfer.amount}

        transfer_transition(transfer=transfer, to_status=Transfer.Status.PENDING, actor=actor, reason=reason,
                            apply=again)  # fmt: skip
        from payments.tasks import transfer_submit

        escrow.enqueue(transfer_submit, transfer.pk, key=f"transfer-submit:{transfer.key}")
    return transfer


def transfers_submit_waiting(*, organisation_id: int) -> int:
    waiting = Transfer.objects.filter(organisation_id=organisation_id, status=Transfer.Status.PENDING)
    return sum(transfer_submit(transfer_id=pk) == "paid" for pk in waiting.values_list("pk", flat=True))


def unsettled_after(*, minutes: int) -> tuple[list[int], list[int]]:
    """Refunds and transfers whose last call is older than `minutes` and still has no definite outcome."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    refunds = Refund.objects.filter(status__in=UNSETTLED_REFUND, attempts__gt=0, last_attempt_at__lt=cutoff)
    transfers = Transfer.objects.filter(status=Transfer.Status.UNKNOWN, last_attempt_at__lt=cutoff)
    return list(refunds.values_list("pk", flat=True)), list(transfers.values_list("pk", flat=True))


def _reversal_claim(transfer: Transfer, amount: int) -> int:
    """Under the transfer's lock: the running total this reversal brings it to, claimed for this reversal. Another
    reversal to another total while one is being made (its total not yet recorded) is refused; one to the same
    total is the same reversal asked again, and goes through with the same idempotency key."""
    target = transfer.amount_reversed + amount
    pending = transfer.reversal_target if transfer.reversal_target > transfer.amount_reversed else 0
    if pending and pending != target:
        raise Conflict(
            gettext(
                "Another reversal of this transfer, to %(pending)s in all, is being made. Wait for it to be "
                "recorded, then ask again."
            )
            % {"pending": Money(pending, transfer.currency)},
            code="reversal_in_progress",
        )
    if pending != target:
        transfer.reversal_target = target
        transfer.save(update_fields=["reversal_target", "updated_at"])
    return target


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
        target = _reversal_claim(transfer, amount)
    # The provider is called with no lock held. The key names the running total, and the claim above lets only
    # reversals to that one total through until it is recorded: asking again, or twice at once, reverses once.
    try:
        provider_for(transfer.provider).reverse_transfer(
            transfer=transfer, amount=amount, idempotency_key=f"transfer_reversal:{transfer.pk}:{target}"
        )
    except ProviderUnavailable as error:
        raise Conflict(
            gettext(
                "The payment provider did not answer (%(error)s); the reversal may or "
                "may not be made. Ask again with the same amount: it is made at most "
                "once."
            )
            % {"error": error},
            code="provider_unavailable",
        ) from error
    except ProviderError as error:
        Transfer.objects.filter(pk=transfer_id, reversal_target=target).update(reversal_target=0)
        raise Conflict(
            gettext("The payment provider refused the reversal: %(error)s") % {"error": error}, code="provider_error"
        ) from error
    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
        escrow.transfer_record_reversed(transfer=transfer, amount_reversed=target)
        audit_record(
            actor=actor, action="payments.transfer_reversed", subject=transfer, reason=reason,
            data={"amount": amount, "order": transfer.order_id},
        )  # fmt: skip
        return transfer
