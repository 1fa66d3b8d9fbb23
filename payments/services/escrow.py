"""Escrow on the ledger: fund an order's escrow from a payment, release it to the seller (less the platform fee)
and refund the rest to the buyer, refund on cancellation, freeze it during a card chargeback.

Ledger transactions (the contract with member payouts, payments/payouts):
  payment    key payment:<payment>   provider_clearing debit, order_escrow credit
  release    key release:<order>     order_escrow debit (to seller + fee), organisation_payable credit (net of
                                      fee), platform_fees credit (fee)
  refund     key refund:<refund>     order_escrow debit, provider_clearing credit
  transfer   key transfer:<transfer> organisation_payable debit, provider_clearing credit (a transfer re-sent
                                      by the operator after a refusal: transfer:<transfer>:resend:<n>)
  chargeback key chargeback:<id>     order_escrow debit, provider_clearing credit
  transfer_reversal                  provider_clearing debit, organisation_payable credit
A refund is posted when decided, inside the deciding transaction; a transfer when its task records the attempt,
before the provider is called. Both are carried out at the provider by a task, outside any lock, with
`refund:<id>` / `transfer:<id>` as the idempotency key (payments.services.payments). A refund or transfer the
provider definitely refuses is corrected by reversing its ledger transaction; one without a definite answer stays
posted until a retry or reconciliation settles it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext

from marketplace.core import outbox
from marketplace.core.errors import Conflict, NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_record
from marketplace.organisations.models import Organisation
from marketplace.organisations.selectors import is_operator
from orders.models import Order
from orders.selectors import order_settlement
from payments.models import Account, ChargeDispute, LedgerTransaction, Payment, Refund, Transfer
from payments.services.alerts import operator_alert
from payments.services.ledger import account_get_or_create, ledger_post, ledger_reverse

K = Account.Kind
REQUEST_KEY = re.compile(r"[A-Za-z0-9._-]{1,80}")
FINAL = (Order.Status.COMPLETED, Order.Status.RESOLVED)


# --- Accounts ------------------------------------------------------------------------------------------------


def clearing_account(currency: str) -> Account:
    return account_get_or_create(kind=K.PROVIDER_CLEARING, currency=currency)


def fees_account(currency: str) -> Account:
    return account_get_or_create(kind=K.PLATFORM_FEES, currency=currency)


def payable_account(organisation_id: int, currency: str) -> Account:
    return account_get_or_create(kind=K.ORGANISATION_PAYABLE, currency=currency, organisation_id=organisation_id)


def escrow_account(order: Order) -> Account:
    return account_get_or_create(kind=K.ORDER_ESCROW, currency=order.currency, order_id=order.pk)


def _lock_escrow(order: Order) -> Account:
    """The order's escrow account, locked: every change to one order's money is serialised on it."""
    account = escrow_account(order)
    return Account.objects.select_for_update().get(pk=account.pk)


def platform_fee(amount: int, currency: str) -> int:
    """The fee on a release: PLATFORM_FEE_BP basis points, rounded half-even once."""
    return Money(amount, currency).multiply(Decimal(settings.PLATFORM_FEE_BP) / Decimal(10_000)).amount


def escrow_frozen(order_id: int) -> bool:
    return ChargeDispute.objects.filter(order_id=order_id, status=ChargeDispute.Status.OPEN).exists()


def _succeeded_payments(order_id: int) -> list[Payment]:
    return list(Payment.objects.filter(order_id=order_id, status=Payment.Status.SUCCEEDED).order_by("pk"))


# --- Funding -------------------------------------------------------------------------------------------------


def escrow_fund(*, payment: Payment) -> LedgerTransaction:
    """Post a succeeded payment into its order's escrow (once: the key is the payment's id)."""
    order = Order.objects.get(pk=payment.order_id)
    escrow = _lock_escrow(order)
    return ledger_post(
        actor=None,
        kind="payment",
        idempotency_key=f"payment:{payment.pk}",
        lines=[(clearing_account(payment.currency), payment.amount), (escrow, -payment.amount)],
        memo=f"Payment {payment.reference} for order {order.number}",
        order_id=order.pk,
    )


# --- Refunds -------------------------------------------------------------------------------------------------


def _refunded_on(payment: Payment) -> int:
    return (
        Refund.objects.filter(payment=payment).exclude(status=Refund.Status.FAILED).aggregate(t=Sum("amount"))["t"] or 0
    )


def refund_from_escrow(
    *, actor, order: Order, escrow: Account, amount: int, reason: str, key: str, note: str = ""
) -> list[Refund]:
    """Take `amount` out of the (locked) escrow back to the buyer, spread over the order's payments; each refund
    is posted now and sent to the provider after the commit."""
    if amount <= 0:
        return []
    if amount > escrow.balance:
        raise ValidationFailed(
            gettext(
                "Only %(balance)s is held in escrow for order %(number)s; a refund of %(amount)s is more than that."
            )
            % {
                "balance": Money(escrow.balance, order.currency),
                "number": order.number,
                "amount": Money(amount, order.currency),
            },
            fields={"amount": gettext("At most %(balance)s.") % {"balance": Money(escrow.balance, order.currency)}},
        )
    refunds: list[Refund] = []
    left = amount
    for payment in _succeeded_payments(order.pk):
        part = min(left, payment.amount - _refunded_on(payment))
        if part <= 0:
            continue
        refund = Refund.objects.create(
            key=key if not refunds else f"{key}:{len(refunds)}", payment=payment, order=order, amount=part,
            currency=order.currency, reason=reason, note=note[:300],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )  # fmt: skip
        ledger_post(
            actor=actor,
            kind="refund",
            idempotency_key=f"refund:{refund.pk}",
            lines=[(escrow, part), (clearing_account(order.currency), -part)],
            memo=f"Refund to the buyer of order {order.number} ({refund.get_reason_display()})",
            order_id=order.pk,
        )
        audit_record(
            actor=actor, action="payment.refund", subject=refund, organisation_id=order.buyer_id,
            reason=note, data={"order": order.number, "amount": part, "currency": order.currency, "reason": reason},
        )  # fmt: skip
        refunds.append(refund)
        from payments.tasks import refund_submit

        enqueue(refund_submit, refund.pk, key=f"refund-submit:{refund.pk}")
        left -= part
        if left == 0:
            break
    if left:
        raise Conflict(
            gettext("The payments of order %(number)s cannot cover a refund of %(amount)s.")
            % {"number": order.number, "amount": Money(amount, order.currency)},
            code="insufficient_funds",
        )
    return refunds


def pays_members(order: Order) -> bool:
    """A cooperative's produce sale is shared with the members who delivered into its lots."""
    return order.kind == Order.Kind.PRODUCE and order.seller.kind == Organisation.Kind.COOPERATIVE


def transfer_create(*, order_id: int, amount: int, provider: str = "") -> Transfer:
    """Send `amount` of what is owed to an order's seller to its payout account, after the commit (once per order)."""
    order = Order.objects.get(pk=order_id)
    if not provider:
        payment = Payment.objects.filter(order_id=order_id, status=Payment.Status.SUCCEEDED).order_by("pk").first()
        provider = payment.provider if payment else ""
    transfer = Transfer.objects.create(
        order=order, organisation_id=order.seller_id, provider=provider, amount=amount, currency=order.currency
    )
    audit_record(
        actor=None, action="transfer.created", subject=transfer, organisation_id=order.seller_id,
        to_status=transfer.status, data={"order": order.number, "amount": amount, "currency": order.currency},
    )  # fmt: skip
    from payments.tasks import transfer_submit

    enqueue(transfer_submit, transfer.pk, key=f"transfer-submit:{transfer.pk}")
    return transfer


def enqueue(task, *args, key: str | None = None) -> None:
    """Run `task(*args)` once this transaction commits, through the outbox (an imported task, never a name): the
    intent commits with the transaction and is sent even if the broker is down at that moment."""
    outbox.enqueue(task, args=args, key=key)


@transaction.atomic
def escrow_refund(*, actor, order_id: int, amount, reason: str, request_key: str) -> list[Refund]:
    """The operator refunds part or all of what an order's escrow holds. `request_key` identifies the request
    (the API's Idempotency-Key header, or the refund form's own token): asking twice with the same key refunds
    once and returns the first refunds."""
    if not is_operator(actor):
        raise NotFound("No such order.")
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.")
    errors: dict[str, str] = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        errors["amount"] = f"Give the refund as a whole number of minor units of {order.currency}, more than 0."
    if not (reason or "").strip():
        errors["reason"] = "Say why the buyer is refunded."
    request_key = str(request_key or "").strip()
    if not REQUEST_KEY.fullmatch(request_key):
        errors["idempotency_key"] = (
            "Give the request a key of 1 to 80 letters, digits, '.', '_' or '-' (the Idempotency-Key header)."
        )
    if errors:
        raise ValidationFailed(" ".join(errors.values()), fields=errors)
    escrow = _lock_escrow(order)
    key = f"operator:{order.pk}:{request_key}"
    already = list(Refund.objects.filter(order=order).filter(Q(key=key) | Q(key__startswith=f"{key}:")).order_by("pk"))
    if already:
        return already  # the same request again (under the escrow's lock): no second refund
    if escrow_frozen(order.pk):
        raise Conflict(
            gettext("A card chargeback freezes the escrow of order %(number)s; wait until it closes.")
            % {"number": order.number}
        )
    return refund_from_escrow(
        actor=actor, order=order, escrow=escrow, amount=amount, reason=Refund.Reason.OPERATOR, key=key,
        note=reason.strip(),
    )  # fmt: skip


def refund_record_failed(*, refund_id: int, message: str, actor=None) -> Refund | None:
    """The provider definitely refused the refund: reverse its posting (the money is back in escrow) in the same
    transaction as the refund's move to failed. Once only."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None or refund.status == Refund.Status.FAILED:
            return refund

        def reverse(refund: Refund) -> dict:
            refund.error = message[:300]
            posted = LedgerTransaction.objects.filter(idempotency_key=f"refund:{refund.pk}").first()
            if posted is not None and not hasattr(posted, "reversed_by"):
                ledger_reverse(
                    actor=actor, transaction_id=posted.pk, reason=f"The provider failed the refund: {message}"[:300]
                )
            return {"error": refund.error}

        from payments.services.transitions import refund_transition

        refund_transition(refund=refund, to_status=Refund.Status.FAILED, actor=actor, reason=message[:300],
                          apply=reverse)  # fmt: skip
        operator_alert(
            kind="refund_failed",
            message=f"Refund {refund.pk} of {Money(refund.amount, refund.currency)} for order {refund.order_id} "
            f"failed at the provider ({message}); the money is back in escrow.",
            order_id=refund.order_id,
        )
        return refund


# --- Release and settlement ----------------------------------------------------------------------------------


def _settled(order_id: int) -> bool:
    return (
        LedgerTransaction.objects.filter(idempotency_key=f"release:{order_id}").exists()
        or Refund.objects.filter(order_id=order_id, key__startswith=f"settle:{order_id}").exists()
    )


@transaction.atomic
def escrow_settle(*, actor, order_id: int, explicit: bool = False) -> str:
    """Carry out a completed or resolved order's settlement: release what goes to the seller (less the fee) and
    refund the rest of the escrow to the buyer. `explicit` (an operator's request) turns every "nothing to do"
    into a 409 saying why; the task calls it quietly and it is idempotent."""

    def stop(outcome: str, message: str) -> str:
        if explicit:
            raise Conflict(message)
        return outcome

    try:
        settlement = order_settlement(order_id=order_id)
    except NotFound:
        return stop("missing", "No such order.")
    order = Order.objects.select_related("seller").get(pk=order_id)
    if settlement.status not in FINAL or not settlement.final:
        return stop(
            "not_final",
            f"Order {order.number} is {order.get_status_display().lower()}; its escrow is released once the order "
            "is completed or its dispute resolved.",
        )
    payments = _succeeded_payments(order.pk)
    if not payments:
        return stop("nothing_held", f"Nothing was paid into escrow for order {order.number} through the platform.")
    escrow = _lock_escrow(order)
    if _settled(order.pk):
        return stop("already_settled", f"The escrow of order {order.number} has already been released.")
    if escrow_frozen(order.pk):
        return stop("frozen", f"A card chargeback freezes the escrow of order {order.number}.")
    to_seller = settlement.to_seller.amount
    if to_seller > escrow.balance:
        message = (
            f"Order {order.number} owes the seller {Money(to_seller, order.currency)} but its escrow holds only "
            f"{Money(escrow.balance, order.currency)}; the release waits for the operator."
        )
        if not explicit:
            operator_alert(kind="release_short", message=message, order_id=order.pk)
        return stop("short", message)
    to_buyer = escrow.balance - to_seller
    fee = platform_fee(to_seller, order.currency)
    net = to_seller - fee
    if to_seller > 0:
        lines = [(escrow, to_seller), (payable_account(order.seller_id, order.currency), -net)]
        lines.append((fees_account(order.currency), -fee))
        ledger_post(
            actor=actor,
            kind="release",
            idempotency_key=f"release:{order.pk}",
            lines=[(account, amount) for account, amount in lines if amount],
            memo=f"Release of order {order.number}: {Money(net, order.currency)} to the seller, "
            f"fee {Money(fee, order.currency)}",
            order_id=order.pk,
        )
        if net > 0 and pays_members(order):
            # The members' shares leave through a payout batch; the cooperative's own part is transferred
            # when that batch is executed (payments.payouts), so the payable is never drawn on twice.
            from payments.payouts.tasks import payout_propose_for_order

            enqueue(payout_propose_for_order, order.pk, key=f"payout-propose:{order.pk}")
        elif net > 0:
            transfer_create(order_id=order.pk, amount=net, provider=payments[0].provider)
    refund_from_escrow(
        actor=actor, order=order, escrow=escrow, amount=to_buyer, reason=Refund.Reason.SETTLEMENT,
        key=f"settle:{order.pk}", note=f"Settlement of order {order.number} ({settlement.decision or 'receipt'})",
    )  # fmt: skip
    audit_record(
        actor=actor, action="escrow.settled", subject=order, organisation_id=order.seller_id,
        data={"to_seller": to_seller, "fee": fee, "net": net, "to_buyer": to_buyer, "currency": order.currency},
    )  # fmt: skip
    return "settled"


@transaction.atomic
def escrow_refund_cancelled(*, actor, order_id: int) -> str:
    """An order cancelled after payment: everything its escrow holds goes back to the buyer (once)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status != Order.Status.CANCELLED or not _succeeded_payments(order_id):
        return "nothing_to_do"
    escrow = _lock_escrow(order)
    if Refund.objects.filter(order_id=order_id, key__startswith=f"cancel:{order_id}").exists():
        return "already_refunded"
    if escrow_frozen(order_id):
        return "frozen"
    refund_from_escrow(
        actor=actor, order=order, escrow=escrow, amount=escrow.balance, reason=Refund.Reason.CANCELLATION,
        key=f"cancel:{order_id}", note=f"Order {order.number} was cancelled after payment",
    )  # fmt: skip
    return "refunded"


def escrow_follow_up(*, order_id: int) -> str:
    """Whatever an order's state asks of its escrow now (after an order event, or a chargeback closing)."""
    status = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
    if status in FINAL:
        return escrow_settle(actor=None, order_id=order_id)
    if status == Order.Status.CANCELLED:
        return escrow_refund_cancelled(actor=None, order_id=order_id)
    return "nothing_to_do"


# --- Chargebacks ---------------------------------------------------------------------------------------------


def chargeback_open(*, provider: str, reference: str, payment: Payment, amount: int, reason: str) -> ChargeDispute:
    dispute, created = ChargeDispute.objects.get_or_create(
        provider=provider, reference=reference,
        defaults={"payment": payment, "order_id": payment.order_id, "amount": amount, "currency": payment.currency,
                  "reason": reason},
    )  # fmt: skip
    if created:
        audit_record(
            actor=None, action="escrow.frozen", subject=dispute, data={"order": payment.order_id, "amount": amount}
        )
        operator_alert(
            kind="chargeback",
            message=f"The buyer's bank disputes payment {payment.reference} ({Money(amount, payment.currency)}, "
            f"reason: {reason or 'not given'}). The escrow of order {payment.order_id} is frozen until it closes.",
            order_id=payment.order_id,
        )
    return dispute


def chargeback_close(*, dispute: ChargeDispute, won: bool, amount: int | None = None) -> None:
    """A chargeback closes (the dispute row is locked by the caller): a lost one takes the money from escrow."""
    from django.utils import timezone

    from payments.services.transitions import charge_dispute_transition

    order = Order.objects.get(pk=dispute.order_id)

    def close(dispute: ChargeDispute) -> dict:
        dispute.closed_at = timezone.now()
        if won:
            return {"order": order.number}
        escrow = _lock_escrow(order)
        lost = dispute.amount if amount is None else amount
        taken = min(lost, escrow.balance)
        if taken > 0:
            ledger_post(
                actor=None,
                kind="chargeback",
                idempotency_key=f"chargeback:{dispute.pk}",
                lines=[(escrow, taken), (clearing_account(order.currency), -taken)],
                memo=f"Chargeback {dispute.reference} lost on order {order.number}",
                order_id=order.pk,
            )
        if lost > taken:
            operator_alert(
                kind="chargeback_shortfall",
                message=f"Chargeback {dispute.reference} on order {order.number} was lost; "
                f"{Money(lost - taken, order.currency)} had already left escrow and must be recovered "
                "(reverse the transfer to the seller if that is fair).",
                order_id=order.pk,
            )
        return {"order": order.number, "taken": taken, "lost": lost}

    charge_dispute_transition(
        dispute=dispute, to_status=ChargeDispute.Status.WON if won else ChargeDispute.Status.LOST, apply=close
    )
    from payments.tasks import escrow_follow_up

    enqueue(escrow_follow_up, order.pk, key=f"escrow-follow-up:chargeback:{dispute.pk}")


# --- Transfers -----------------------------------------------------------------------------------------------


def transfer_post(*, transfer: Transfer) -> LedgerTransaction:
    """The transfer's money leaves the seller's payable for the provider clearing account (once: its key is the
    transfer's id). Posted before the provider is called, so the payable can never be sent twice."""
    return ledger_post(
        actor=None,
        kind="transfer",
        idempotency_key=transfer.key,
        lines=[
            (payable_account(transfer.organisation_id, transfer.currency), transfer.amount),
            (clearing_account(transfer.currency), -transfer.amount),
        ],
        memo=f"Transfer {transfer.pk} to the seller of order {transfer.order_id}"
        + (f" (re-sent, {transfer.resends})" if transfer.resends else ""),
        order_id=transfer.order_id,
    )


def transfer_record_paid(*, transfer: Transfer, reference: str, destination: str = "") -> None:
    """The provider made the transfer (the caller holds the transfer's row lock). Its posting is normally made
    before the call already; posting again is a no-op."""
    if transfer.status not in (Transfer.Status.PENDING, Transfer.Status.UNKNOWN):
        return
    from payments.services.transitions import transfer_transition

    def paid(transfer: Transfer) -> dict:
        transfer.reference = reference
        transfer.destination = destination or transfer.destination
        transfer.error = ""
        transfer_post(transfer=transfer)
        return {"reference": reference, "amount": transfer.amount, "currency": transfer.currency}

    transfer_transition(transfer=transfer, to_status=Transfer.Status.PAID, apply=paid)


def transfer_record_failed(*, transfer: Transfer, message: str) -> None:
    """The provider definitely refused a transfer we posted (the caller holds the row lock): reverse the posting,
    so the money is owed to the seller again, and tell the operator."""
    from payments.services.transitions import transfer_transition

    def failed(transfer: Transfer) -> dict:
        transfer.error = message[:300]
        posted = LedgerTransaction.objects.filter(idempotency_key=transfer.key).first()
        if posted is not None and not hasattr(posted, "reversed_by"):
            ledger_reverse(actor=None, transaction_id=posted.pk, reason=f"The provider refused: {message}"[:300])
        return {"error": transfer.error}

    transfer_transition(transfer=transfer, to_status=Transfer.Status.FAILED, reason=message[:300], apply=failed)
    operator_alert(
        kind="transfer_failed",
        message=f"Transfer {transfer.pk} of {Money(transfer.amount, transfer.currency)} for order "
        f"{transfer.order_id} was refused by the provider ({message}); the money is owed to the seller again.",
        order_id=transfer.order_id,
    )


def transfer_record_reversed(*, transfer: Transfer, amount_reversed: int) -> int:
    """The provider's running total reversed on a transfer: post what is new. Returns the amount posted."""
    delta = min(amount_reversed, transfer.amount) - transfer.amount_reversed
    if delta <= 0 or transfer.status != Transfer.Status.PAID:
        return 0
    ledger_post(
        actor=None,
        kind="transfer_reversal",
        idempotency_key=f"transfer_reversal:{transfer.pk}:{transfer.amount_reversed + delta}",
        lines=[
            (clearing_account(transfer.currency), delta),
            (payable_account(transfer.organisation_id, transfer.currency), -delta),
        ],
        memo=f"Reversal of transfer {transfer.reference}",
        order_id=transfer.order_id,
    )
    transfer.amount_reversed += delta
    if transfer.amount_reversed == transfer.amount:
        from payments.services.transitions import transfer_transition

        transfer_transition(transfer=transfer, to_status=Transfer.Status.REVERSED, data={"reversed": delta})
    else:
        transfer.save(update_fields=["amount_reversed", "updated_at"])
    return delta
