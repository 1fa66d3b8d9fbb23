"""Post balanced transactions to the double-entry ledger.

    ledger_post(actor=..., kind="payment_captured", idempotency_key=f"payment:{payment.pk}",
                lines=[(clearing, +amount), (escrow, -amount)], order_id=order.pk)

Lines are (account, signed amount): debit > 0, credit < 0. The key makes a post idempotent: posting the same
key again returns the first transaction and changes nothing, so tasks and webhooks can retry safely.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.core.versions import organisation_changed
from payments.models import Account, Entry, LedgerTransaction


class LedgerImbalance(ValueError):
    """A programming error: the lines of a transaction do not sum to zero per currency."""


def account_get_or_create(
    *,
    kind: str,
    currency: str,
    organisation_id: int | None = None,
    order_id: int | None = None,
    farmer_id: int | None = None,
) -> Account:
    account, _created = Account.objects.get_or_create(
        kind=kind, currency=currency, organisation_id=organisation_id, order_id=order_id, farmer_id=farmer_id
    )
    return account


def _check_balanced(lines: Sequence[tuple[Account, int]]) -> None:
    if not lines:
        raise LedgerImbalance("a transaction needs at least two lines")
    totals: dict[str, int] = defaultdict(int)
    for account, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise LedgerImbalance(f"line amounts are non-zero integers, got {amount!r}")
        totals[account.currency] += amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise LedgerImbalance(f"lines do not balance: {unbalanced}")


def _apply_balances(lines: Sequence[tuple[Account, int]]) -> None:
    """Lock the accounts in id order (no deadlocks) and move their running balances. The SUMMED accounts (provider
    clearing, platform fees: one per currency, in nearly every posting) have none: their balance is the sum of
    their entries, so postings of different orders never wait on each other for them."""
    net: dict[int, int] = defaultdict(int)
    accounts = {account.pk: account for account, _amount in lines}
    for account, amount in lines:
        if account.kind in Account.SUMMED:
            continue
        net[account.pk] += amount if account.debit_normal else -amount
    if not net:
        return
    locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=sorted(net)).order_by("pk")}
    for account_id, change in sorted(net.items()):
        account = locked[account_id]
        if account.kind in Account.NEVER_NEGATIVE and account.balance + change < 0:
            raise Conflict(
                gettext("This would take %(account)s below zero (balance %(balance)s, change %(change)s).")
                % {"account": account, "balance": account.balance, "change": change},
                code="insufficient_funds",
            )
        account.balance += change
        account.save(update_fields=["balance"])
        accounts[account_id].balance = account.balance


def _owning_organisations(lines: Sequence[tuple[Account, int]]) -> set[int]:
    """The organisations whose money figures the lines move: an account's organisation, its order's two sides, its
    farmer's cooperative (one query when an order's or a farmer's account is among them)."""
    owners = {account.organisation_id for account, _amount in lines if account.organisation_id}
    linked = {account.pk for account, _amount in lines if account.order_id or account.farmer_id}
    if linked:
        rows = Account.objects.filter(pk__in=linked).values_list(
            "order__seller_id", "order__buyer_id", "farmer__organisation_id"
        )
        owners.update(pk for row in rows for pk in row if pk)
    return owners


@transaction.atomic
def ledger_post(
    *,
    actor,
    kind: str,
    idempotency_key: str,
    lines: Sequence[tuple[Account, int]],
    memo: str = "",
    order_id: int | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    _check_balanced(lines)
    try:
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                memo=memo[:300],
                order_id=order_id,
                reverses=reverses,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # The same key posted at the same moment by another worker: theirs stands.
        return LedgerTransaction.objects.get(idempotency_key=idempotency_key)
    _apply_balances(lines)
    organisation_changed(*_owning_organisations(lines))
    Entry.objects.bulk_create(
        Entry(transaction=posted, account=account, amount=amount, currency=account.currency)
        for account, amount in lines
    )
    audit_record(
        actor=actor,
        action=f"ledger.{kind}",
        subject=posted,
        data={"lines": [[str(account), amount] for account, amount in lines], "order": order_id},
    )
    return posted


@transaction.atomic
def ledger_reverse(*, actor, transaction_id: int, reason: str) -> LedgerTransaction:
    """Post the mirror image of a transaction; the original stays as it was."""
    if not reason.strip():
        raise ValidationFailed("Give a reason for the reversal.", fields={"reason": "Required."})
    original = LedgerTransaction.objects.select_for_update().filter(pk=transaction_id).first()
    if original is None:
        raise ValidationFailed("No such ledger transaction.", fields={"transaction": "Unknown."})
    if hasattr(original, "reversed_by"):
        raise Conflict("This transaction has already been reversed.")
    lines = [(entry.account, -entry.amount) for entry in original.entries.select_related("account")]
    return ledger_post(
        actor=actor,
        kind=f"reversal:{original.kind}"[:40],
        idempotency_key=f"reversal:{original.pk}",
        lines=lines,
        memo=reason,
        order_id=original.order_id,
        reverses=original,
    )
