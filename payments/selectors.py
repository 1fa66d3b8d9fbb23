"""Reads for payments; every selector that shows money to a person takes the viewer (house rule 2)."""

from django.db.models import Q, Sum

from payments.models import Account, Entry, LedgerTransaction


def ledger_unbalanced_transactions() -> list[tuple[int, str, int]]:
    """(transaction id, currency, sum) for every transaction whose entries do not sum to zero."""
    rows = (
        Entry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("transaction_id")
    )
    return [(row["transaction_id"], row["currency"], row["total"]) for row in rows]


def ledger_balance_mismatches() -> list[tuple[int, int, int]]:
    """(account id, stored balance, balance recomputed from its entries) where they differ."""
    mismatches = []
    for account in Account.objects.annotate(entry_sum=Sum("entries__amount")).order_by("pk"):
        debits = account.entry_sum or 0
        expected = debits if account.debit_normal else -debits
        if expected != account.balance:
            mismatches.append((account.pk, account.balance, expected))
    return mismatches


def negative_accounts() -> list[Account]:
    return list(Account.objects.filter(kind__in=Account.NEVER_NEGATIVE, balance__lt=0))


def order_escrow_account(*, order_id: int) -> Account | None:
    return Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, order_id=order_id).first()


def transactions_for_order(*, order_id: int):
    return LedgerTransaction.objects.filter(Q(order_id=order_id)).prefetch_related("entries__account")
