"""The demo shows funded, released and refunded orders, and its ledger passes ledger_check; seeding again adds
nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from orders.models import Order
from orders.selectors import order_settlement
from payments.models import Account, LedgerTransaction, Refund, Transfer
from payments.services.reconcile import reconcile_differences


@pytest.mark.django_db
def test_the_demo_has_funded_released_and_refunded_orders_and_a_consistent_ledger(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", allow_production=True, stdout=StringIO())
    held = Account.objects.filter(kind="order_escrow", balance__gt=0).values_list("order__status", flat=True)
    assert {"paid", "dispatched", "delivered", "disputed"} <= set(held)
    demo = Order.objects.filter(purchase__note__startswith="Demo order (")  # the market demo adds maize trades
    completed, resolved = demo.get(status="completed"), demo.get(status="resolved")
    assert LedgerTransaction.objects.filter(kind="release", order_id__in=[completed.pk, resolved.pk]).count() == 2
    refund = Refund.objects.get(order=resolved)
    settlement = order_settlement(order_id=resolved.pk)
    assert settlement.refund.amount == 150_000 and settlement.to_buyer.amount > 150_000  # short and mouldy
    assert (refund.amount, refund.status) == (settlement.to_buyer.amount, "succeeded")
    # No payout account in the demo: what the cooperative is owed stays for the member payouts demo.
    assert set(Transfer.objects.filter(order__in=[completed, resolved]).values_list("status", flat=True)) == {"pending"}
    output = StringIO()
    call_command("ledger_check", stdout=output)
    assert "consistent" in output.getvalue()
    assert reconcile_differences() == []
    again = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", allow_production=True, stdout=again)
    assert "payments: nothing new" in again.getvalue()
    assert LedgerTransaction.objects.filter(kind="release", order__in=demo).count() == 2
