"""Released orders for the payout tests. Until the escrow code lands, the tests post the release themselves, in
the shape payments will: one transaction kind "release", key "release:<order id>", crediting the seller's
organisation_payable with the net after the platform fee."""

from orders.selectors import order_settlement
from payments.models import Account
from payments.services.ledger import account_get_or_create, ledger_post
from tests.orders.factories import TONNE, World, advance, place

K = Account.Kind
FEE_BP = 300


def release(order, *, fee_bp: int = FEE_BP):
    """Capture the buyer's payment into escrow and release it to the seller; returns the net credited."""
    settlement = order_settlement(order_id=order.pk)
    currency = order.currency
    escrow = account_get_or_create(kind=K.ORDER_ESCROW, currency=currency, order_id=order.pk)
    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency=currency)
    payable = account_get_or_create(kind=K.ORGANISATION_PAYABLE, currency=currency, organisation_id=order.seller_id)
    fees = account_get_or_create(kind=K.PLATFORM_FEES, currency=currency)
    paid = settlement.paid.amount
    ledger_post(actor=None, kind="payment_captured", idempotency_key=f"payment:{order.pk}",
                lines=[(clearing, paid), (escrow, -paid)], order_id=order.pk)  # fmt: skip
    to_seller = settlement.to_seller.amount
    fee = to_seller * fee_bp // 10_000
    net = to_seller - fee
    lines = [(escrow, to_seller), (payable, -net)] + ([(fees, -fee)] if fee else [])
    refund = paid - to_seller
    if refund:
        lines.append((clearing, -refund))
        lines[0] = (escrow, paid)
    ledger_post(actor=None, kind="release", idempotency_key=f"release:{order.pk}", lines=lines, order_id=order.pk)
    return net


def released_order(world: World, grams: int = 2 * TONNE, **kwargs):
    order = place(world, grams, **kwargs)
    order = advance(world, order, "completed")
    net = release(order)
    return order, net


def give_input_credit(farmer_id: int, amount: int, currency: str = "XOF"):
    """The member took inputs on credit: the platform paid the supplier for them."""
    credit = account_get_or_create(kind=K.MEMBER_INPUT_CREDIT, currency=currency, farmer_id=farmer_id)
    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency=currency)
    ledger_post(actor=None, kind="input_credit", idempotency_key=f"test-input-credit:{farmer_id}:{amount}",
                lines=[(credit, amount), (clearing, -amount)])  # fmt: skip
    return credit
