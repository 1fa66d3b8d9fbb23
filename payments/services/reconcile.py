"""Compare the ledger and our payment records with what the provider holds."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Sum

from payments.models import Account, ChargeDispute, Entry, Payment, Refund, Transfer
from payments.providers import ProviderError
from payments.selectors import with_balances
from payments.services.events import provider_for

# Our record is made just before the provider's: list the provider's records from a little earlier.
SLACK = timedelta(days=1)


def reconcile_differences(*, provider_name: str | None = None) -> list[str]:
    differences: list[str] = []
    providers: dict[str, object] = {}

    def provider(name: str):
        if name not in providers:
            providers[name] = provider_for(name)
        return providers[name]

    payments = Payment.objects.exclude(reference="").order_by("pk")
    transfers = Transfer.objects.exclude(reference="").order_by("pk")
    if provider_name:
        payments, transfers = payments.filter(provider=provider_name), transfers.filter(provider=provider_name)
    refunded = dict(
        Refund.objects.filter(status=Refund.Status.SUCCEEDED)
        .values("payment_id")
        .annotate(t=Sum("amount"))
        .values_list("payment_id", "t")
    )
    # One paged listing by date per provider (not one call per payment in history).
    by_provider: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        by_provider[payment.provider].append(payment)
    for name, group in by_provider.items():
        since = min(p.created_at for p in group) - SLACK
        try:
            remote_states = provider(name).payment_states_since(since, [p.reference for p in group])
        except ProviderError as error:
            differences.append(f"payments at {name}: the provider could not be asked: {error}")
            continue
        for payment in group:
            remote = remote_states.get(payment.reference)
            if remote is None:
                differences.append(f"payment {payment.pk} ({payment.reference}): unknown to {payment.provider}")
                continue
            if remote.status != payment.status and not (remote.status == "pending" and payment.status == "failed"):
                differences.append(
                    f"payment {payment.pk} ({payment.reference}): ours is {payment.status}, {payment.provider} "
                    f"says {remote.status}"
                )
            if (remote.amount, remote.currency) != (payment.amount, payment.currency):
                differences.append(
                    f"payment {payment.pk} ({payment.reference}): ours is {payment.amount} {payment.currency}, "
                    f"{payment.provider} says {remote.amount} {remote.currency}"
                )
            ours = refunded.get(payment.pk, 0)
            if remote.amount_refunded != ours:
                differences.append(
                    f"payment {payment.pk} ({payment.reference}): we refunded {ours}, {payment.provider} says "
                    f"{remote.amount_refunded}"
                )
    transfers_by_provider: dict[str, list[Transfer]] = defaultdict(list)
    for transfer in transfers:
        transfers_by_provider[transfer.provider].append(transfer)
    for name, group in transfers_by_provider.items():
        since = min(t.created_at for t in group) - SLACK
        try:
            remote_states = provider(name).transfer_states_since(since, [t.reference for t in group])
        except ProviderError as error:
            differences.append(f"transfers at {name}: the provider could not be asked: {error}")
            continue
        for transfer in group:
            remote = remote_states.get(transfer.reference)
            if remote is None:
                differences.append(f"transfer {transfer.pk} ({transfer.reference}): unknown to {transfer.provider}")
                continue
            if (remote.amount, remote.amount_reversed) != (transfer.amount, transfer.amount_reversed):
                differences.append(
                    f"transfer {transfer.pk} ({transfer.reference}): ours is {transfer.amount} reversed "
                    f"{transfer.amount_reversed}, {transfer.provider} says {remote.amount} "
                    f"reversed {remote.amount_reversed}"
                )
    # The provider clearing account against our records of money in and out.
    expected: dict[str, int] = defaultdict(int)
    for row in Payment.objects.filter(status="succeeded").values("currency").annotate(t=Sum("amount")):
        expected[row["currency"]] += row["t"]
    for row in Refund.objects.exclude(status="failed").values("currency").annotate(t=Sum("amount")):
        expected[row["currency"]] -= row["t"]
    # A transfer is posted as sent before the provider is called ("unknown" until it answers); a refused one is
    # reversed (reversal:transfer), so it counts for nothing.
    for row in Transfer.objects.exclude(status__in=["pending", "failed"]).values("currency").annotate(t=Sum("amount")):
        expected[row["currency"]] -= row["t"]
    for row in Transfer.objects.values("currency").annotate(t=Sum("amount_reversed")):
        expected[row["currency"]] += row["t"] or 0
    for dispute in ChargeDispute.objects.filter(status="lost"):
        taken = Entry.objects.filter(
            transaction__idempotency_key=f"chargeback:{dispute.pk}", account__kind=Account.Kind.PROVIDER_CLEARING
        ).aggregate(t=Sum("amount"))["t"]
        expected[dispute.currency] += taken or 0
    # Other parts of payments (member payouts) move the clearing account under their own kinds, and reconcile
    # them against their own records: take those movements as they are.
    mine = ["payment", "refund", "reversal:refund", "transfer", "reversal:transfer", "transfer_reversal", "chargeback"]
    others = (
        Entry.objects.filter(account__kind=Account.Kind.PROVIDER_CLEARING)
        .exclude(transaction__kind__in=mine)
        .values("currency")
        .annotate(t=Sum("amount"))
    )
    for row in others:
        expected[row["currency"]] += row["t"]
    clearing = dict(
        with_balances(Account.objects.filter(kind=Account.Kind.PROVIDER_CLEARING))
        .values_list("currency", "current_balance")
        .order_by()
    )
    for currency in sorted(set(expected) | set(clearing)):
        if clearing.get(currency, 0) != expected.get(currency, 0):
            differences.append(
                f"provider clearing {currency}: the ledger holds {clearing.get(currency, 0)}, our payment records "
                f"give {expected.get(currency, 0)}"
            )
    return differences
