"""Released orders for the payout tests, on the real path: the buyer pays through the payment provider (offline
here), the order moves to completed (or resolved), and the escrow's own settlement (`escrow_settle`) posts the
release, with the platform's fee as production computes it.

`give_input_credit` posts a member's input credit as production does when inputs bought on credit are handed over
(`payments.input_credit`): the member owes it, and the cooperative, which advanced the inputs, is owed it."""

from django.db.models import Sum

from marketplace.organisations.models import MemberFarmer
from orders.models import Order
from payments.models import Account, Entry
from payments.services.escrow import escrow_settle
from payments.services.ledger import account_get_or_create, ledger_post
from tests.orders.factories import TONNE, World, advance, place
from tests.payments.conftest import pay

K = Account.Kind


def release(order: Order) -> int:
    """Settle a completed or resolved order's escrow through the real service; returns the net credited to the
    seller's payable."""
    escrow_settle(actor=None, order_id=order.pk)
    credited = Entry.objects.filter(
        transaction__idempotency_key=f"release:{order.pk}", account__kind=K.ORGANISATION_PAYABLE
    ).aggregate(total=Sum("amount"))["total"]
    return -(credited or 0)


def paid_order(world: World, grams: int = 2 * TONNE, **kwargs) -> Order:
    """An order accepted and paid by the buyer through the payment provider (its escrow funded)."""
    order = advance(world, place(world, grams, **kwargs), "accepted")
    pay(world, order)
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def released_order(world: World, grams: int = 2 * TONNE, *, to: str = "completed", **kwargs):
    order = advance(world, paid_order(world, grams, **kwargs), to)  # resolved: the operator refunds 100,000
    net = release(order)
    return order, net


def give_input_credit(farmer_id: int, amount: int, currency: str = "XOF"):
    """The member collected inputs on credit that the cooperative advanced (the posting of `payments.input_credit`)."""
    organisation_id = MemberFarmer.objects.values_list("organisation_id", flat=True).get(pk=farmer_id)
    credit = account_get_or_create(kind=K.MEMBER_INPUT_CREDIT, currency=currency, farmer_id=farmer_id)
    payable = account_get_or_create(kind=K.ORGANISATION_PAYABLE, currency=currency, organisation_id=organisation_id)
    ledger_post(actor=None, kind="input_credit", idempotency_key=f"test-input-credit:{farmer_id}:{amount}",
                lines=[(credit, amount), (payable, -amount)])  # fmt: skip
    return credit
