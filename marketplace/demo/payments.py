"""Demo payments, with the offline provider: the money of every demo order that was marked paid by hand
(DEMO-PAY-...) is recorded as held by the platform. So the demo shows funded orders (paid, dispatched, delivered,
disputed), a released one (completed: owed to the cooperative less the platform fee) and one released and
refunded (resolved with a partial refund to the buyer). The cooperative has not set up a payout account, so what
it is owed stays on the ledger for the member payouts demo (marketplace/demo/payouts.py) to pay its farmers.

Everything goes through `payments.services`; an order whose payment is already recorded is skipped, so seeding
again changes nothing. References derive from our own ids, so two fresh runs give the same records.
"""

from typing import TextIO

from marketplace.demo.orders import OPERATOR
from marketplace.demo.organisations import account
from orders.models import Order
from payments.models import Payment
from payments.services.payments import payment_record_received


def seed(*, stdout: TextIO) -> None:
    operator = account(OPERATOR)
    recorded = []
    orders = Order.objects.filter(payment_reference__startswith="DEMO-PAY-").exclude(
        pk__in=Payment.objects.filter(status=Payment.Status.SUCCEEDED).values("order_id")
    )
    for order in orders.order_by("pk"):
        payment_record_received(actor=operator, order_id=order.pk)
        recorded.append(f"{order.number} ({order.status})")
    if recorded:
        stdout.write(f"payments: escrow funded for {len(recorded)} demo orders: {', '.join(recorded)}\n")
    else:
        stdout.write("payments: nothing new\n")
