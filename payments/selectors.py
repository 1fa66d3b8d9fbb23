"""Reads for payments; every selector that shows money to a person takes the viewer (house rule 2)."""

from django.db.models import BigIntegerField, Case, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from payments.models import Account, Entry, LedgerTransaction


def with_balances(queryset: QuerySet[Account]) -> QuerySet[Account]:
    """Accounts annotated with `current_balance`: the running balance, or for the SUMMED kinds (provider clearing,
    platform fees, which keep none) the sum of their entries, in the account's normal orientation."""
    summed = Coalesce(
        Subquery(
            Entry.objects.filter(account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(t=Sum("amount"))
            .values("t")
        ),
        Value(0),
    )
    return queryset.annotate(
        current_balance=Case(
            When(kind=Account.Kind.PROVIDER_CLEARING, then=summed),
            When(kind=Account.Kind.PLATFORM_FEES, then=-summed),
            default=F("balance"),
            output_field=BigIntegerField(),
        )
    )


def account_balance(account: Account) -> int:
    """One account's balance in its normal orientation (a query for the SUMMED kinds)."""
    if account.kind not in Account.SUMMED:
        return account.balance
    total = Entry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or 0
    return total if account.debit_normal else -total


def ledger_unbalanced_transactions(*, transactions: QuerySet | None = None) -> list[tuple[int, str, int]]:
    """(transaction id, currency, sum) for every transaction (or those given) whose entries do not sum to zero."""
    entries = Entry.objects.all() if transactions is None else Entry.objects.filter(transaction_id__in=transactions)
    rows = (
        entries.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("transaction_id")
    )
    return [(row["transaction_id"], row["currency"], row["total"]) for row in rows]


def ledger_balance_mismatches(*, accounts: QuerySet | None = None) -> list[tuple[int, int, int]]:
    """(account id, stored balance, balance recomputed from its entries) where they differ."""
    mismatches = []
    # The SUMMED kinds store no balance (a check constraint keeps it 0): there is nothing to compare.
    queryset = Account.objects.exclude(kind__in=Account.SUMMED)
    if accounts is not None:
        queryset = queryset.filter(pk__in=accounts)
    for account in queryset.annotate(entry_sum=Sum("entries__amount")).order_by("pk"):
        debits = account.entry_sum or 0
        expected = debits if account.debit_normal else -debits
        if expected != account.balance:
            mismatches.append((account.pk, account.balance, expected))
    return mismatches


def negative_accounts(*, accounts: QuerySet | None = None) -> list[Account]:
    queryset = Account.objects.filter(kind__in=Account.NEVER_NEGATIVE, balance__lt=0)
    if accounts is not None:
        queryset = queryset.filter(pk__in=accounts)
    return list(queryset)


def order_escrow_account(*, order_id: int) -> Account | None:
    return Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, order_id=order_id).first()


def transactions_for_order(*, order_id: int):
    return LedgerTransaction.objects.filter(Q(order_id=order_id)).prefetch_related("entries__account")


# --- Invariants (manage.py ledger_check) -----------------------------------------------------------------------

ESCROW_KINDS = {
    "payment": "paid",
    "release": "released",
    "refund": "refunded",
    "reversal:refund": "refunded",
    "chargeback": "chargeback",
}


def escrow_movements(*, orders: QuerySet | None = None) -> dict[int, dict[str, int]]:
    """Per order: what its escrow received and gave, by kind of transaction (credit-normal: paid > 0)."""
    entries = Entry.objects.filter(account__kind=Account.Kind.ORDER_ESCROW)
    if orders is not None:
        entries = entries.filter(account__order_id__in=orders)
    rows = entries.values("account__order_id", "transaction__kind").annotate(total=Sum("amount"))
    movements: dict[int, dict[str, int]] = {}
    for row in rows:
        bucket = ESCROW_KINDS.get(row["transaction__kind"], "unexpected:" + row["transaction__kind"])
        per_order = movements.setdefault(row["account__order_id"], {})
        per_order[bucket] = per_order.get(bucket, 0) - row["total"]  # credits are negative amounts
    return movements


def ledger_scope_since(since) -> dict[str, QuerySet]:
    """What changed since `since` (a datetime): the transactions posted, the accounts written (a trigger stamps
    every write of an account row) or given entries, and the orders whose money any of these or a payment or
    refund record touched. The incremental ledger check looks only at these."""
    from payments.models import Payment, Refund

    transactions = LedgerTransaction.objects.filter(posted_at__gte=since).values("pk")
    accounts = Account.objects.filter(
        Q(changed_at__gte=since) | Q(pk__in=Entry.objects.filter(transaction_id__in=transactions).values("account_id"))
    ).values("pk")
    orders = (
        Account.objects.filter(pk__in=accounts, order_id__isnull=False)
        .values_list("order_id", flat=True)
        .union(
            LedgerTransaction.objects.filter(posted_at__gte=since, order_id__isnull=False).values_list(
                "order_id", flat=True
            ),
            Payment.objects.filter(updated_at__gte=since).values_list("order_id", flat=True),
            Refund.objects.filter(created_at__gte=since).values_list("order_id", flat=True),
        )
    )
    return {"transactions": transactions, "accounts": accounts, "orders": list(orders)}


def ledger_problems(*, since=None) -> list[str]:
    """Every broken invariant of the ledger, in words naming the offender; empty when all is well. With `since`
    (a datetime), only what changed since then (see ledger_scope_since): the nightly incremental check."""
    from payments.models import Payment, Refund

    scope = ledger_scope_since(since) if since is not None else {}
    order_ids = scope.get("orders")
    problems = [
        f"transaction {tx} does not balance in {currency}: its entries sum to {total}"
        for tx, currency, total in ledger_unbalanced_transactions(transactions=scope.get("transactions"))
    ]
    problems += [
        f"account {pk}: stored balance {stored} but its entries give {expected}"
        for pk, stored, expected in ledger_balance_mismatches(accounts=scope.get("accounts"))
    ]
    problems += [
        f"account {account.pk} ({account}) is negative: {account.balance}"
        for account in negative_accounts(accounts=scope.get("accounts"))
    ]
    payments = Payment.objects.filter(status=Payment.Status.SUCCEEDED)
    refunds = Refund.objects.exclude(status=Refund.Status.FAILED)
    escrows = Account.objects.filter(kind=Account.Kind.ORDER_ESCROW)
    if order_ids is not None:
        payments, refunds = payments.filter(order_id__in=order_ids), refunds.filter(order_id__in=order_ids)
        escrows = escrows.filter(order_id__in=order_ids)
    paid = {row["order_id"]: row["total"] for row in payments.values("order_id").annotate(total=Sum("amount"))}
    refunded = {row["order_id"]: row["total"] for row in refunds.values("order_id").annotate(total=Sum("amount"))}
    movements = escrow_movements(orders=order_ids)
    balances = dict(escrows.values_list("order_id", "balance").order_by("order_id"))
    for order_id in sorted(set(balances) | set(paid)):
        moved = movements.get(order_id, {})
        for bucket in moved:
            if bucket.startswith("unexpected:"):
                problems.append(f"order {order_id}: its escrow was moved by a {bucket[11:]!r} transaction")
        credited = moved.get("paid", 0)
        if credited != paid.get(order_id, 0):
            problems.append(
                f"order {order_id}: escrow credits for payments are {credited} but its payments total "
                f"{paid.get(order_id, 0)}"
            )
        released = -moved.get("released", 0)
        refunds_posted = -moved.get("refunded", 0)
        chargebacks = -moved.get("chargeback", 0)
        if refunds_posted != refunded.get(order_id, 0):
            problems.append(
                f"order {order_id}: escrow gave {refunds_posted} in refunds but its refunds total "
                f"{refunded.get(order_id, 0)}"
            )
        expected = paid.get(order_id, 0) - released - refunded.get(order_id, 0) - chargebacks
        if balances.get(order_id, 0) != expected:
            problems.append(
                f"order {order_id}: escrow holds {balances.get(order_id, 0)} but paid {paid.get(order_id, 0)} "
                f"- released {released} - refunded {refunded.get(order_id, 0)} - chargebacks {chargebacks} "
                f"= {expected}"
            )
    # Each payment's escrow credit (its posting's key names it), in one query rather than one per payment.
    credits = dict(
        Entry.objects.filter(
            account__kind=Account.Kind.ORDER_ESCROW,
            transaction__idempotency_key__startswith="payment:",
            **({"account__order_id__in": order_ids} if order_ids is not None else {}),
        )
        .values_list("transaction__idempotency_key")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for payment in payments.order_by("pk").only("pk", "amount"):
        credit = credits.get(f"payment:{payment.pk}", 0)
        if -credit != payment.amount:
            problems.append(f"payment {payment.pk}: escrow was credited {-credit} for a payment of {payment.amount}")
    return problems


# --- What people see ---------------------------------------------------------------------------------------------


def _visible_order_ids(viewer):
    from orders.selectors import order_list

    return order_list(viewer=viewer).values("pk")


def payment_list(*, viewer):
    """Payments of the orders the viewer may see (as buyer, seller or operator), newest first."""
    from payments.models import Payment

    return Payment.objects.filter(order_id__in=_visible_order_ids(viewer)).select_related("order").order_by("-pk")


def payment_get(*, viewer, payment_id) -> "Payment":  # noqa: F821
    from marketplace.core.errors import NotFound

    try:
        payment_id = int(payment_id)
    except (TypeError, ValueError):
        raise NotFound("No such payment.") from None
    payment = payment_list(viewer=viewer).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment


def order_money(*, viewer, number: str) -> dict:
    """An order's payments, escrow, refunds and transfer, for its buyer, its seller and the operator."""
    from orders.selectors import order_get, order_sides
    from payments.models import ChargeDispute, Payment, Refund, Transfer

    order = order_get(viewer=viewer, number=number)
    escrow = order_escrow_account(order_id=order.pk)
    release = Entry.objects.filter(
        transaction__idempotency_key=f"release:{order.pk}", account__kind__in=["platform_fees", "order_escrow"]
    ).values_list("account__kind", "amount")
    released = dict(release)
    return {
        "order": order,
        "sides": order_sides(viewer=viewer, order=order),
        "payments": list(Payment.objects.filter(order=order).order_by("pk")),
        "held": escrow.balance if escrow else 0,
        "released": released.get("order_escrow", 0),
        "fee": -released.get("platform_fees", 0),
        "refunds": list(Refund.objects.filter(order=order).order_by("pk")),
        "transfer": Transfer.objects.filter(order=order).first(),
        "frozen": ChargeDispute.objects.filter(order=order, status="open").exists(),
    }


def organisation_money(*, viewer, organisation_id) -> dict:
    """A seller's money: held in escrow for its orders, released, fees, owed to it and sent, per currency."""
    from marketplace.organisations.roles import Capability
    from marketplace.organisations.selectors import organisation_for
    from orders.models import Order
    from payments.models import PayoutAccount, Transfer

    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    sold = Order.objects.filter(seller=organisation).values("pk")
    figures: dict[str, dict[str, int]] = {}

    def add(currency: str, key: str, amount: int) -> None:
        row = figures.setdefault(currency, {"held": 0, "released": 0, "fees": 0, "owed": 0, "sent": 0})
        row[key] += amount

    for currency, balance in Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, order_id__in=sold).values_list(
        "currency", "balance"
    ):
        add(currency, "held", balance)
    releases = Entry.objects.filter(transaction__kind="release", transaction__order_id__in=sold)
    for row in releases.values("currency", "account__kind").annotate(total=Sum("amount")):
        if row["account__kind"] == Account.Kind.ORDER_ESCROW:
            add(row["currency"], "released", row["total"])
        elif row["account__kind"] == Account.Kind.PLATFORM_FEES:
            add(row["currency"], "fees", -row["total"])
    for currency, balance in Account.objects.filter(
        kind=Account.Kind.ORGANISATION_PAYABLE, organisation=organisation
    ).values_list("currency", "balance"):
        add(currency, "owed", balance)
    transfers = Transfer.objects.filter(organisation=organisation).select_related("order").order_by("-pk")
    for transfer in transfers:
        if transfer.status != Transfer.Status.PENDING:
            add(transfer.currency, "sent", transfer.amount - transfer.amount_reversed)
    held = Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, order_id=OuterRef("pk")).values("balance")[:1]
    held_orders = (
        Order.objects.filter(seller=organisation, pk__in=Account.objects.filter(
            kind=Account.Kind.ORDER_ESCROW, balance__gt=0).values("order_id"))
        .annotate(held=Subquery(held))
        .order_by("-pk")
    )  # fmt: skip
    return {
        "organisation": organisation,
        "figures": dict(sorted(figures.items())),
        "transfers": list(transfers[:50]),
        "held_orders": [(order, order.held) for order in held_orders[:50]],
        "payout_accounts": list(PayoutAccount.objects.filter(organisation=organisation)),
    }


def ledger_overview(*, viewer, limit: int = 50, page: int | str | None = 1, per_page: int = 50) -> dict:
    """The operator's view of the ledger: one page of the accounts with a balance, recent transactions, alerts,
    and what the last stored ledger check found (the nightly task; the page never runs the check itself)."""
    from django.core.paginator import Paginator

    from marketplace.core.errors import NotFound
    from marketplace.core.selectors import check_run_last
    from marketplace.organisations.selectors import is_operator
    from payments.models import OperatorAlert, ProviderEvent
    from payments.services.checks import CHECK_NAME

    if not is_operator(viewer):
        raise NotFound("No such page.")
    accounts = (
        with_balances(Account.objects.all())
        .exclude(current_balance=0)
        .select_related("organisation", "order")
        .order_by("kind", "currency", "pk")
    )
    accounts_page = Paginator(accounts, per_page).get_page(page)
    last_check = check_run_last(name=CHECK_NAME)
    return {
        "accounts": list(accounts_page.object_list),
        "accounts_page": accounts_page,
        "page": accounts_page.number,
        "pages": accounts_page.paginator.num_pages,
        "transactions": list(
            LedgerTransaction.objects.select_related("order")
            .prefetch_related("entries__account")
            .order_by("-posted_at", "-pk")[:limit]
        ),
        "alerts": list(OperatorAlert.objects.select_related("order").order_by("-pk")[:limit]),
        "rejected_events": list(ProviderEvent.objects.filter(outcome="rejected").order_by("-pk")[:limit]),
        "problems": last_check.problems if last_check else [],
        "checked_at": last_check.checked_at if last_check else None,
        "last_check": last_check,
    }


def organisation_purchases_money(*, viewer, organisation_id, limit: int = 50) -> dict:
    """A buyer's side of the money: what it paid, what escrow still holds for its orders, and refunds, per currency."""
    from marketplace.organisations.roles import Capability
    from marketplace.organisations.selectors import organisation_for
    from orders.models import Order
    from payments.models import Payment, Refund

    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    bought = Order.objects.filter(buyer=organisation).values("pk")
    totals: dict[str, dict[str, int]] = {}

    def add(currency: str, key: str, amount: int) -> None:
        totals.setdefault(currency, {"paid": 0, "held": 0, "refunded": 0})[key] += amount

    for row in (
        Payment.objects.filter(order_id__in=bought, status=Payment.Status.SUCCEEDED)
        .values("currency")
        .annotate(total=Sum("amount"))
    ):
        add(row["currency"], "paid", row["total"])
    for currency, balance in Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, order_id__in=bought).values_list(
        "currency", "balance"
    ):
        add(currency, "held", balance)
    refunds = Refund.objects.filter(order_id__in=bought).exclude(status=Refund.Status.FAILED)
    for row in refunds.values("currency").annotate(total=Sum("amount")):
        add(row["currency"], "refunded", row["total"])
    payments = Payment.objects.filter(order_id__in=bought).select_related("order").order_by("-created_at", "-pk")
    escrow = dict(
        Account.objects.filter(kind=Account.Kind.ORDER_ESCROW, order_id__in=bought).values_list("order_id", "balance")
    )
    return {
        "purchase_totals": dict(sorted(totals.items())),
        "payments_made": [(payment, escrow.get(payment.order_id, 0)) for payment in payments[:limit]],
    }
