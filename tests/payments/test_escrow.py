"""Escrow flows with the offline provider: fund, release less the fee, refund the rest, cancellations,
dispute decisions, chargebacks, bad input, ledger_check and reconcile_payments."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalogue.models import LotContribution
from marketplace.core.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.core.money import is_zero_decimal
from orders.models import Order, OrderEvent
from orders.services import order_transition
from payments.models import (
    Account,
    ChargeDispute,
    Entry,
    LedgerTransaction,
    OfflineRecord,
    OperatorAlert,
    Payment,
    ProviderEvent,
    Refund,
    Transfer,
)
from payments.payouts.models import PayoutBatchOrder
from payments.payouts.services import payout_batch_cancel, payout_batch_propose
from payments.providers import base
from payments.providers.stripe import STRIPE_ZERO_DECIMAL, from_stripe_amount, to_stripe_amount
from payments.selectors import account_balance, ledger_problems
from payments.services.escrow import escrow_refund, escrow_settle, platform_fee
from payments.services.events import provider_event_process, provider_event_receive
from payments.services.payments import payment_start
from payments.services.reconcile import reconcile_differences
from payments.tasks import order_event_received
from tests.orders.factories import TONNE, advance, place
from tests.payments.conftest import (
    batch_of,
    complete_input_order,
    input_order,
    move,
    onboard,
    paid_order,
    pay,
    pay_members,
    resolve,
)
from tests.payouts.factories import give_input_credit

K = Account.Kind
pytestmark = pytest.mark.django_db


def balance(kind, **owner) -> int:
    account = Account.objects.filter(kind=kind, **owner).first()
    return account_balance(account) if account else 0


def lines_of(key: str) -> list[tuple[str, int]]:
    return sorted(
        (e.account.kind, e.amount)
        for e in Entry.objects.filter(transaction__idempotency_key=key).select_related("account")
    )


# --- Money ---------------------------------------------------------------------------------------------------

# Stripe's documented zero-decimal currencies (docs.stripe.com/currencies#zero-decimal).
STRIPE_DOCUMENTED_ZERO_DECIMAL = [
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
]


@pytest.mark.parametrize("currency", STRIPE_DOCUMENTED_ZERO_DECIMAL)
def test_every_stripe_zero_decimal_currency_has_no_minor_unit_here(currency):
    assert is_zero_decimal(currency)
    assert to_stripe_amount(1500, currency) == 1500 == from_stripe_amount(1500, currency)


def test_stripe_units_match_ours_for_the_rest():
    assert set(STRIPE_DOCUMENTED_ZERO_DECIMAL) == STRIPE_ZERO_DECIMAL
    assert not is_zero_decimal("EUR") and to_stripe_amount(1050, "EUR") == 1050
    assert to_stripe_amount(1500, "ISK") == 150_000  # Stripe keeps two decimals for ISK
    assert from_stripe_amount(150_000, "ISK") == 1500


@pytest.mark.parametrize(("amount", "fee"), [(50, 2), (150, 4), (250, 8), (3_000_000, 90_000), (1, 0)])
def test_the_fee_is_rounded_half_even_once(settings, amount, fee):
    settings.PLATFORM_FEE_BP = 300
    assert platform_fee(amount, "XOF") == fee


# --- Funding ---------------------------------------------------------------------------------------------------


def test_an_offline_payment_funds_the_escrow_and_marks_the_order_paid(world, run_commits):
    order = advance(world, place(world, 2 * TONNE), "accepted")
    with run_commits():
        payment = pay(world, order)
    order.refresh_from_db()
    assert payment.status == "succeeded" and order.status == "paid"
    assert order.payment_reference == payment.reference
    assert balance(K.ORDER_ESCROW, order_id=order.pk) == 3_000_000
    assert balance(K.PROVIDER_CLEARING, currency="XOF") == 3_000_000
    assert lines_of(f"payment:{payment.pk}") == [("order_escrow", -3_000_000), ("provider_clearing", 3_000_000)]
    assert ProviderEvent.objects.get().outcome == "applied"
    assert ledger_problems() == []


def test_a_declined_demo_card_leaves_the_order_accepted(world, run_commits):
    order = advance(world, place(world), "accepted")
    with run_commits():
        payment = pay(world, order, succeed=False)
    order.refresh_from_db()
    assert payment.status == "failed" and order.status == "accepted"
    assert not LedgerTransaction.objects.exists()


def test_paying_twice_returns_the_same_payment_and_funds_once(world, run_commits):
    order = advance(world, place(world), "accepted")
    with run_commits():
        first = pay(world, order)
    with pytest.raises(Conflict):
        payment_start(actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount, currency="XOF")
    assert Payment.objects.count() == 1 and first.status == "succeeded"
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1


# --- Bad input: a clear 4xx and nothing written --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (3_000_000, "EUR", "currency"),
        (2_999_999, "XOF", "amount"),
        ("3000000", "XOF", "amount"),
        (None, "", "currency"),
    ],
)
def test_a_payment_in_the_wrong_currency_or_for_the_wrong_amount_is_refused(world, amount, currency, field):
    order = advance(world, place(world), "accepted")
    with pytest.raises(ValidationFailed) as refused:
        payment_start(actor=world.buyer.manager, order_id=order.pk, amount=amount, currency=currency)
    assert field in refused.value.fields and "XOF" in refused.value.message
    assert not Payment.objects.exists() and not OfflineRecord.objects.exists() and not Entry.objects.exists()


def test_only_the_buyers_managers_pay_and_only_accepted_orders(world):
    order = place(world)
    with pytest.raises(Conflict, match="accepted"):
        payment_start(actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount, currency="XOF")
    advance(world, order, "accepted")
    with pytest.raises(PermissionDenied):
        payment_start(actor=world.seller.manager, order_id=order.pk, amount=order.total_amount, currency="XOF")
    with pytest.raises(PermissionDenied):
        payment_start(actor=world.buyer.clerk, order_id=order.pk, amount=order.total_amount, currency="XOF")
    assert not Payment.objects.exists()


def test_a_provider_event_for_the_wrong_amount_funds_nothing_and_alerts(world, run_commits):
    order = advance(world, place(world), "accepted")
    payment = payment_start(actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount, currency="XOF")
    raw = {"id": "offevt_forged", "type": base.PAYMENT_SUCCEEDED, "payment_reference": payment.reference,
           "amount": 1000, "currency": "XOF", "order_id": order.pk}  # fmt: skip
    event, _ = provider_event_receive(provider="offline", raw=raw)
    assert provider_event_process(event_pk=event.pk) == "rejected"
    event.refresh_from_db()
    assert "comes to 3,000,000 XOF" in event.error
    assert not Entry.objects.exists()
    assert Order.objects.get(pk=order.pk).status == "accepted"
    assert OperatorAlert.objects.filter(kind="event_rejected").exists()


def test_releasing_twice_and_refunding_more_than_held_are_refused(world, run_commits):
    order = paid_order(world)
    with run_commits():
        move(world, order, "completed")
    assert LedgerTransaction.objects.filter(kind="release").count() == 1
    with pytest.raises(Conflict, match="already been released"):
        escrow_settle(actor=world.operator.manager, order_id=order.pk, explicit=True)
    other = paid_order(world)
    before = Entry.objects.count()
    with pytest.raises(ValidationFailed, match="more than that"):
        escrow_refund(
            actor=world.operator.manager, order_id=other.pk, amount=3_000_001, reason="Too much", request_key="k1"
        )
    assert Entry.objects.count() == before and not Refund.objects.filter(order=other).exists()


# --- Release --------------------------------------------------------------------------------------------------


def _members_paid(batch) -> None:
    """Every member of an executed batch was paid its net: its member payable is back at 0."""
    lines = list(batch.lines.all())
    assert lines and sum(line.net_amount for line in lines) == batch.net_amount > 0
    for line in lines:
        assert line.paid_at is not None and line.payout_transaction is not None
        assert lines_of(f"payout:{line.pk}") == sorted(
            [("member_payable", line.net_amount), ("provider_clearing", -line.net_amount)]
        )
        assert balance(K.MEMBER_PAYABLE, farmer_id=line.farmer_id) == 0


def test_completion_releases_to_the_seller_less_the_fee_and_pays_the_transfer(world, run_commits, settings):
    """A cooperative's produce order: the release credits its payable and proposes a payout batch; once the manager
    executes it, the members have their net and the levy is transferred to the cooperative."""
    settings.PLATFORM_FEE_BP = 300
    settings.PAYOUT_DEFAULT_LEVY_BP = 200
    onboard(world)
    order = paid_order(world)
    with run_commits():
        move(world, order, "completed")
    seller = world.seller.organisation.pk
    assert lines_of(f"release:{order.pk}") == sorted(
        [("order_escrow", 3_000_000), ("organisation_payable", -2_910_000), ("platform_fees", -90_000)]
    )
    release = LedgerTransaction.objects.get(idempotency_key=f"release:{order.pk}")
    assert release.kind == "release" and release.order_id == order.pk
    # Nothing leaves the payable at release: a batch is proposed for the members instead.
    assert not Transfer.objects.exists()
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=seller) == 2_910_000
    batch = batch_of(order)
    assert batch.status == "proposed" and batch.proposed_by is None
    assert (batch.proceeds_amount, batch.levy_amount, batch.credit_amount) == (2_910_000, 58_200, 0)
    assert batch.net_amount == 2_910_000 - 58_200
    with run_commits():
        batch = pay_members(world, batch)
    batch.refresh_from_db()
    assert batch.status == "executed"
    _members_paid(batch)
    transfer = Transfer.objects.get(order=order)
    assert (transfer.status, transfer.amount, transfer.organisation_id) == ("paid", 58_200, seller)
    assert lines_of(f"transfer:{transfer.pk}") == [("organisation_payable", 58_200), ("provider_clearing", -58_200)]
    assert balance(K.ORDER_ESCROW, order_id=order.pk) == 0
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=seller) == 0
    assert balance(K.PLATFORM_FEES, currency="XOF") == 90_000
    assert balance(K.PROVIDER_CLEARING, currency="XOF") == 90_000
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_cooperatives_orders_reach_its_members_through_a_batch_and_the_rest_is_transferred(
    world, run_commits, settings
):
    """End to end over two orders and a member with input credit the cooperative advanced: no transfer at release,
    batches proposed automatically; one batch for both orders pays the members their net, recovers the credit, and
    transfers the levy and the credit recovered, shared over the orders; the cooperative's payable ends at 0."""
    settings.PLATFORM_FEE_BP = 300
    settings.PAYOUT_DEFAULT_LEVY_BP = 200
    onboard(world)
    seller = world.seller.organisation.pk
    farmer_id = LotContribution.objects.filter(lot=world.listing.lot).order_by("pk").first().farmer_id
    give_input_credit(farmer_id, 50_000)
    first, second = paid_order(world, 2 * TONNE), paid_order(world, TONNE)
    with run_commits():
        move(world, first, "completed")
        move(world, second, "completed")
    assert not Transfer.objects.exists()
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=seller) == 2_910_000 + 1_455_000 + 50_000
    proposed = [batch_of(first), batch_of(second)]
    assert [b.status for b in proposed] == ["proposed", "proposed"] and proposed[0].pk != proposed[1].pk
    # The manager pays both orders in one batch.
    for batch in proposed:
        payout_batch_cancel(actor=world.seller.manager, batch_id=batch.pk, reason="One batch for both")
    batch = payout_batch_propose(actor=world.seller.manager, organisation_id=seller)
    assert sorted(batch.orders.values_list("order_id", flat=True)) == [first.pk, second.pk]
    assert (batch.proceeds_amount, batch.levy_amount, batch.credit_amount) == (4_365_000, 87_300, 50_000)
    with run_commits():
        batch = pay_members(world, batch)
    _members_paid(batch)
    assert batch.net_amount == 4_365_000 - 87_300 - 50_000
    assert balance(K.MEMBER_INPUT_CREDIT, farmer_id=farmer_id) == 0
    # The levy and the credit recovered, shared over the orders in proportion to what each brought in.
    transfers = {t.order_id: t for t in Transfer.objects.all()}
    assert {k: (t.amount, t.status) for k, t in transfers.items()} == {
        first.pk: (91_533, "paid"), second.pk: (45_767, "paid")
    }  # fmt: skip
    assert sum(t.amount for t in transfers.values()) == batch.levy_amount + batch.credit_amount
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=seller) == 0
    assert ledger_problems() == [] and reconcile_differences() == []


def test_an_input_suppliers_order_is_transferred_at_release(world, run_commits, settings):
    settings.PLATFORM_FEE_BP = 300
    onboard(world, world.supplier)
    supplier = world.supplier.organisation.pk
    order = input_order(world, packs=10)
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="accepted")
    with run_commits():
        pay(world, order)
        complete_input_order(world, order)
    assert order.status == "completed" and order.amount_due == 180_000
    assert lines_of(f"release:{order.pk}") == sorted(
        [("order_escrow", 180_000), ("organisation_payable", -174_600), ("platform_fees", -5_400)]
    )
    transfer = Transfer.objects.get(order=order)
    assert (transfer.status, transfer.amount, transfer.organisation_id) == ("paid", 174_600, supplier)
    assert lines_of(f"transfer:{transfer.pk}") == [("organisation_payable", 174_600), ("provider_clearing", -174_600)]
    assert not PayoutBatchOrder.objects.exists()
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=supplier) == 0
    assert balance(K.PROVIDER_CLEARING, currency="XOF") == 5_400
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_short_receipt_releases_the_adjusted_amount_and_refunds_the_difference(world, run_commits):
    order = paid_order(world)
    line = order.lines.get()
    with run_commits():
        move(world, order, "delivered", receipt={line.pk: {"quantity": 1_800_000}})
        order.refresh_from_db()
        due = order.amount_due
        move(world, order, "completed")
    assert 0 < due < 3_000_000
    fee = platform_fee(due, "XOF")
    assert lines_of(f"release:{order.pk}") == sorted(
        [("order_escrow", due), ("organisation_payable", -(due - fee)), ("platform_fees", -fee)]
    )
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.reason, refund.status) == (3_000_000 - due, "settlement", "succeeded")
    assert lines_of(f"refund:{refund.pk}") == [
        ("order_escrow", 3_000_000 - due),
        ("provider_clearing", -(3_000_000 - due)),
    ]
    batch = batch_of(order)
    assert batch.proceeds_amount == due - fee
    with run_commits():
        batch = pay_members(world, batch)
    _members_paid(batch)
    # No payout account yet: the levy transfer waits, and goes once the cooperative onboards.
    transfer = Transfer.objects.get(order=order)
    assert transfer.amount == batch.levy_amount > 0
    assert transfer.status == "pending" and "payouts" in transfer.error
    with run_commits():
        onboard(world)
    transfer.refresh_from_db()
    assert transfer.status == "paid"
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=world.seller.organisation.pk) == 0
    assert ledger_problems() == [] and reconcile_differences() == []


@pytest.mark.parametrize(
    ("decision", "refund_amount"), [("release", None), ("partial_refund", 500_000), ("full_refund", None)]
)
def test_a_dispute_resolution_is_carried_out(world, run_commits, decision, refund_amount):
    onboard(world)
    order = paid_order(world)
    with run_commits():
        resolve(world, order, decision, refund_amount)
    to_buyer = {"release": 0, "partial_refund": 500_000, "full_refund": 3_000_000}[decision]
    to_seller = 3_000_000 - to_buyer
    released = LedgerTransaction.objects.filter(idempotency_key=f"release:{order.pk}").first()
    if to_seller:
        assert dict(lines_of(f"release:{order.pk}"))["order_escrow"] == to_seller
    else:
        assert released is None and not Transfer.objects.exists()
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == to_buyer
    assert balance(K.ORDER_ESCROW, order_id=order.pk) == 0
    assert ledger_problems() == [] and reconcile_differences() == []


def test_a_cancellation_after_payment_refunds_the_buyer(world, run_commits):
    order = paid_order(world)
    with run_commits():
        move(world, order, "cancelled")
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.reason, refund.status) == (3_000_000, "cancellation", "succeeded")
    assert balance(K.ORDER_ESCROW, order_id=order.pk) == 0 and balance(K.PROVIDER_CLEARING, currency="XOF") == 0
    assert OfflineRecord.objects.get(kind="pay").data["refunded"] == 3_000_000
    assert ledger_problems() == [] and reconcile_differences() == []


def test_the_order_task_is_idempotent(world, run_commits):
    order = paid_order(world)
    with run_commits():
        move(world, order, "completed")
    completed = OrderEvent.objects.get(order=order, to_status="completed")
    for _ in range(3):
        assert order_event_received(completed.pk) == "already_settled"
    assert LedgerTransaction.objects.filter(kind="release").count() == 1
    assert LedgerTransaction.objects.filter(kind="refund").count() == 0


def test_orders_marked_paid_outside_the_platform_are_left_alone(world, run_commits):
    order = place(world)
    with run_commits():
        advance(world, order, "completed")  # the operator recorded a bank payment
    assert not LedgerTransaction.objects.exists()


# --- Chargebacks ------------------------------------------------------------------------------------------------


def _chargeback(order, payment, kind, status="open", n=1):
    raw = {"id": f"offevt_{kind}_{n}", "type": kind, "payment_reference": payment.reference, "dispute_reference":
           f"dp_{n}", "dispute_status": status, "amount": payment.amount, "currency": payment.currency}  # fmt: skip
    event, _ = provider_event_receive(provider="offline", raw=raw)
    return provider_event_process(event_pk=event.pk)


def test_a_chargeback_freezes_the_escrow_and_alerts_until_it_is_won(world, run_commits, mailoutbox):
    onboard(world)
    order = paid_order(world)
    payment = Payment.objects.get(order=order)
    with run_commits():
        assert _chargeback(order, payment, base.DISPUTE_CREATED) == "applied"
    assert ChargeDispute.objects.get().status == "open"
    assert OperatorAlert.objects.filter(kind="chargeback", order=order).exists()
    assert any("frozen" in mail.body for mail in mailoutbox)
    with run_commits():
        move(world, order, "completed")
    assert not LedgerTransaction.objects.filter(kind="release").exists()
    with pytest.raises(Conflict, match="chargeback"):
        escrow_settle(actor=world.operator.manager, order_id=order.pk, explicit=True)
    with run_commits():
        assert _chargeback(order, payment, base.DISPUTE_CLOSED, "won") == "applied"
    assert LedgerTransaction.objects.filter(kind="release", order_id=order.pk).count() == 1
    assert ledger_problems() == []


def test_a_lost_chargeback_takes_the_money_from_escrow(world, run_commits):
    order = paid_order(world)
    payment = Payment.objects.get(order=order)
    with run_commits():
        _chargeback(order, payment, base.DISPUTE_CREATED)
        _chargeback(order, payment, base.DISPUTE_CLOSED, "lost")
    assert lines_of("chargeback:" + str(ChargeDispute.objects.get().pk)) == [
        ("order_escrow", 3_000_000), ("provider_clearing", -3_000_000)
    ]  # fmt: skip
    assert balance(K.ORDER_ESCROW, order_id=order.pk) == 0
    assert ledger_problems() == []


# --- ledger_check ---------------------------------------------------------------------------------------------------


def test_ledger_check_passes_then_names_the_offenders(world, run_commits, capsys):
    order = paid_order(world)
    call_command("ledger_check")
    assert "consistent" in capsys.readouterr().out
    # A second, unexplained credit to the escrow (as a double-posted payment would make): balanced, but wrong.
    escrow = Account.objects.get(kind=K.ORDER_ESCROW, order_id=order.pk)
    clearing = Account.objects.get(kind=K.PROVIDER_CLEARING, currency="XOF")
    from payments.services.ledger import ledger_post

    ledger_post(actor=None, kind="payment", idempotency_key="payment:again", lines=[(clearing, 10), (escrow, -10)],
                order_id=order.pk)  # fmt: skip
    with pytest.raises(CommandError):
        call_command("ledger_check")
    err = capsys.readouterr().err
    assert f"order {order.pk}: escrow credits for payments are 3000010" in err


def test_ledger_check_reports_an_unbalanced_transaction_and_a_bad_balance(world):
    order = paid_order(world)
    escrow = Account.objects.get(kind=K.ORDER_ESCROW, order_id=order.pk)
    tx = LedgerTransaction.objects.create(kind="manual", idempotency_key="manual:1")
    Entry.objects.create(transaction=tx, account=escrow, amount=-5, currency="XOF")
    problems = ledger_problems()
    assert any(f"transaction {tx.pk} does not balance" in p for p in problems)
    assert any(f"account {escrow.pk}: stored balance" in p for p in problems)
    assert any("'manual' transaction" in p for p in problems)


def test_reconcile_reports_a_difference_with_the_provider(world, run_commits):
    order = paid_order(world)
    assert reconcile_differences() == []
    record = OfflineRecord.objects.get(kind="pay")
    record.data["refunded"] = 100
    record.save()
    differences = reconcile_differences()
    assert differences == [f"payment {Payment.objects.get(order=order).pk} ({record.reference}): we refunded 0, "
                           "offline says 100"]  # fmt: skip
    with pytest.raises(CommandError):
        call_command("reconcile_payments")
