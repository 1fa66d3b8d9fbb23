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


# --- Invariants (manage.py ledger_check) -----------------------------------------------------------------------

ESCROW_KINDS = {
    "payment": "paid",
    "release": "released",
    "refund": "refunded",
    "reversal:refund": "refunded",
    "chargeback": "chargeback",
}


def escrow_movements() -> dict[int, dict[str, int]]:
    """Per order: what its escrow received and gave, by kind of transaction (credit-normal: paid > 0)."""
    rows = (
        Entry.objects.filter(account__kind=Account.Kind.ORDER_ESCROW)
        .values("account__order_id", "transaction__kind")
        .annotate(total=Sum("amount"))
    )
    movements: dict[int, dict[str, int]] = {}
    for row in rows:
        bucket = ESCROW_KINDS.get(row["transaction__kind"], "unexpected:" + row["transaction__kind"])
        per_order = movements.setdefault(row["account__order_id"], {})
        per_order[bucket] = per_order.get(bucket, 0) - row["total"]  # credits are negative amounts
    return movements


def ledger_problems() -> list[str]:
    """Every broken invariant of the ledger, in words naming the offender; empty when all is well."""
    from payments.models import Payment, Refund

    problems = [
        f"transaction {tx} does not balance in {currency}: its entries sum to {total}"
        for tx, currency, total in ledger_unbalanced_transactions()
    ]
    problems += [
        f"account {pk}: stored balance {stored} but its entries give {expected}"
        for pk, stored, expected in ledger_balance_mismatches()
    ]
    problems += [f"account {account.pk} ({account}) is negative: {account.balance}" for account in negative_accounts()]
    paid = {
        row["order_id"]: row["total"]
        for row in Payment.objects.filter(status=Payment.Status.SUCCEEDED)
        .values("order_id")
        .annotate(total=Sum("amount"))
    }
    refunded = {
        row["order_id"]: row["total"]
        for row in Refund.objects.exclude(status=Refund.Status.FAILED).values("order_id").annotate(total=Sum("amount"))
    }
    movements = escrow_movements()
    balances = dict(
        Account.objects.filter(kind=Account.Kind.ORDER_ESCROW).values_list("order_id", "balance").order_by("order_id")
    )
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
    for payment in Payment.objects.filter(status=Payment.Status.SUCCEEDED).order_by("pk"):
        credit = (
            Entry.objects.filter(
                transaction__idempotency_key=f"payment:{payment.pk}", account__kind=Account.Kind.ORDER_ESCROW
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
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
    held_orders = (
        Order.objects.filter(seller=organisation, pk__in=Account.objects.filter(
            kind=Account.Kind.ORDER_ESCROW, balance__gt=0).values("order_id"))
        .order_by("-pk")
    )  # fmt: skip
    return {
        "organisation": organisation,
        "figures": dict(sorted(figures.items())),
        "transfers": list(transfers[:50]),
        "held_orders": [(order, order_escrow_account(order_id=order.pk).balance) for order in held_orders[:50]],
        "payout_accounts": list(PayoutAccount.objects.filter(organisation=organisation)),
    }


def ledger_overview(*, viewer, limit: int = 50) -> dict:
    """The operator's view of the ledger: every account's balance, recent transactions, alerts and problems."""
    from marketplace.core.errors import NotFound
    from marketplace.organisations.selectors import is_operator
    from payments.models import OperatorAlert, ProviderEvent

    if not is_operator(viewer):
        raise NotFound("No such page.")
    return {
        "accounts": list(
            Account.objects.exclude(balance=0)
            .select_related("organisation", "order")
            .order_by("kind", "currency", "pk")
        ),
        "transactions": list(
            LedgerTransaction.objects.select_related("order")
            .prefetch_related("entries__account")
            .order_by("-posted_at", "-pk")[:limit]
        ),
        "alerts": list(OperatorAlert.objects.select_related("order").order_by("-pk")[:limit]),
        "rejected_events": list(ProviderEvent.objects.filter(outcome="rejected").order_by("-pk")[:limit]),
        "problems": ledger_problems(),
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
