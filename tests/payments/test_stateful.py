"""Random sequences of pay, release, partial refund, refund, chargeback, cancel, paying the members (the
cooperatives' payout batches) and repeated provider calls (a task's retry, reconciliation) over several orders in
XOF and EUR, on the real services only: after every step every transaction balances, no
escrow is negative, no money is created or lost, and a cooperative's payable holds exactly what is still to be paid
out of it."""

import dataclasses
import itertools
from collections import defaultdict

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from marketplace.core.errors import Conflict
from marketplace.core.money import Money
from orders.models import Order
from orders.services import order_transition
from payments.models import Account, ChargeDispute, Entry, Payment, Refund, Transfer
from payments.payouts.models import PayoutBatch, PayoutBatchOrder
from payments.payouts.services import payout_batch_transition
from payments.selectors import ledger_problems, with_balances
from payments.services import payments as payment_services
from payments.services.escrow import escrow_refund
from payments.services.events import provider_event_process, provider_event_receive
from payments.services.payments import payout_onboarding_start
from payments.services.reconcile import reconcile_differences
from tests.catalogue.factories import LocationFactory, WarehouseFactory
from tests.orders.factories import TONNE, advance, make_listing, make_lot, make_side, make_world, place
from tests.payments.conftest import onboard, pay

EUR_PRICE = Money(275, "EUR")  # 2.75 EUR per kg


REQUEST_KEYS = itertools.count()


class EscrowMachine(RuleBasedStateMachine):
    worlds: dict = {}
    run_commits = None

    orders = Bundle("orders")
    chargebacks = Bundle("chargebacks")

    def __init__(self):
        super().__init__()
        self.count = 0

    def w(self, order: Order):
        return self.worlds[order.currency]

    def _status(self, order: Order) -> str:
        order.refresh_from_db()
        return order.status

    def _funded(self, order: Order) -> bool:
        return Payment.objects.filter(order=order, status="succeeded").exists()

    @initialize(target=orders)
    def paid_orders_in_both_currencies(self):
        """Every history starts with one paid order in each currency, so both always take part."""
        placed = []
        for currency in ("XOF", "EUR"):
            with self.run_commits():
                order = place(self.worlds[currency], TONNE)
                advance(self.worlds[currency], order, "accepted")
                pay(self.worlds[currency], order)
            placed.append(order)
        return multiple(*placed)

    @rule(target=orders, currency=st.sampled_from(["XOF", "EUR"]), tonnes=st.integers(1, 3))
    def new_order(self, currency, tonnes):
        with self.run_commits():
            order = place(self.worlds[currency], tonnes * TONNE)
            advance(self.worlds[currency], order, "accepted")
        return order

    @rule(order=orders)
    def pay(self, order):
        if self._status(order) == "accepted":
            with self.run_commits():
                pay(self.w(order), order)
            assert self._status(order) == "paid"

    @rule(order=orders, received=st.integers(80, 100))
    def release(self, order, received):
        if self._status(order) != "paid":
            return
        line = order.lines.get()
        with self.run_commits():
            advance(self.w(order), order, "dispatched")
            advance(
                self.w(order),
                order,
                "delivered",
                receipt={line.pk: {"quantity": line.quantity * received // 100}},
            )
            order_transition(actor=self.w(order).buyer.manager, order_id=order.pk, to_status="completed")

    def _resolve(self, order, decision, share=None):
        with self.run_commits():
            advance(self.w(order), order, "disputed")
            order.refresh_from_db()
            details = {"decision": decision}
            if decision == "partial_refund":
                details["refund_amount"] = max(1, min(order.amount_due - 1, order.amount_due * share // 100))
            order_transition(actor=self.w(order).operator.manager, order_id=order.pk, to_status="resolved",
                             reason="Decided at the desk", **details)  # fmt: skip

    @rule(order=orders, share=st.integers(1, 99))
    def partial_refund(self, order, share):
        if self._status(order) == "paid":
            self._resolve(order, "partial_refund", share)

    @rule(order=orders, full=st.booleans(), share=st.integers(1, 100))
    def refund(self, order, full, share):
        status = self._status(order)
        if full and status == "paid":
            self._resolve(order, "full_refund")
        elif not full and status in ("paid", "dispatched") and self._funded(order):
            held = Account.objects.get(kind="order_escrow", order_id=order.pk).balance
            amount = max(1, held * share // 100)
            with self.run_commits():
                try:
                    escrow_refund(
                        actor=self.w(order).operator.manager,
                        order_id=order.pk,
                        amount=amount,
                        reason="Goodwill",
                        request_key=f"goodwill-{next(REQUEST_KEYS)}",
                    )
                except Conflict:
                    assert ChargeDispute.objects.filter(order=order, status="open").exists()

    @rule(order=orders)
    def cancel(self, order):
        if self._status(order) == "paid":
            with self.run_commits():
                order_transition(actor=self.w(order).seller.manager, order_id=order.pk, to_status="cancelled",
                                 reason="Cannot deliver")  # fmt: skip

    def _event(self, raw):
        with self.run_commits():
            event, _ = provider_event_receive(provider="offline", raw=raw)
            provider_event_process(event_pk=event.pk)

    @precondition(lambda self: Payment.objects.filter(status="succeeded").exists())
    @rule(target=chargebacks, order=orders)
    def dispute(self, order):
        payment = Payment.objects.filter(order=order, status="succeeded").first()
        if payment is None:
            return None
        self.count += 1
        reference = f"dp_{payment.pk}_{self.count}"
        self._event({"id": f"offevt_dispute_{reference}", "type": "dispute.created", "payment_reference":
                     payment.reference, "dispute_reference": reference, "amount": payment.amount,
                     "currency": payment.currency})  # fmt: skip
        return reference

    @rule(reference=consumes(chargebacks), won=st.booleans())
    def close_dispute(self, reference, won):
        if reference is None:
            return
        self._event({"id": f"offevt_close_{reference}", "type": "dispute.closed", "dispute_reference": reference,
                     "dispute_status": "won" if won else "lost"})  # fmt: skip

    @rule()
    def pay_members(self):
        """The cooperatives' managers approve and execute the batches proposed after their releases."""
        managers = {world.seller.organisation.pk: world.seller.manager for world in self.worlds.values()}
        for batch in PayoutBatch.objects.filter(status="proposed").order_by("pk"):
            with self.run_commits():
                for status in ("approved", "executed"):
                    payout_batch_transition(actor=managers[batch.organisation_id], batch_id=batch.pk, to_status=status)

    @rule(pick=st.integers(0, 1000))
    def a_provider_call_is_repeated(self, pick):
        """A task's retry or a duplicate delivery: a refund or transfer is submitted again, and reconciliation
        asks the provider about it. Nothing is posted or sent twice."""
        refunds = list(Refund.objects.order_by("pk").values_list("pk", flat=True))
        transfers = list(Transfer.objects.order_by("pk").values_list("pk", flat=True))
        if refunds:
            refund_id = refunds[pick % len(refunds)]
            with self.run_commits():
                payment_services.refund_submit(refund_id=refund_id)
                payment_services.refund_reconcile(refund_id=refund_id)
        if transfers:
            transfer_id = transfers[pick % len(transfers)]
            with self.run_commits():
                payment_services.transfer_submit(transfer_id=transfer_id)
                payment_services.transfer_reconcile(transfer_id=transfer_id)

    @invariant()
    def nothing_is_posted_twice(self):
        for refund in Refund.objects.all():
            assert Entry.objects.filter(transaction__idempotency_key=f"refund:{refund.pk}").count() in (0, 2)
        for transfer in Transfer.objects.all():
            posted = Entry.objects.filter(transaction__idempotency_key=f"transfer:{transfer.pk}").count()
            assert posted == (0 if transfer.status == "pending" else 2)

    @invariant()
    def the_ledger_is_consistent(self):
        assert ledger_problems() == []

    @invariant()
    def no_money_is_created_or_lost(self):
        debit_normal, credit_normal = defaultdict(int), defaultdict(int)
        for account in with_balances(Account.objects.all()):
            (debit_normal if account.debit_normal else credit_normal)[account.currency] += account.current_balance
            if account.kind in Account.NEVER_NEGATIVE:
                assert account.balance >= 0, account
        assert dict(debit_normal) == dict(credit_normal)
        # What came in through payments is exactly what is held, owed, earned, sent back or taken by chargebacks.
        assert reconcile_differences() == []

    @invariant()
    def a_cooperatives_payable_is_drawn_on_once(self):
        """What a release credits stays in the payable until its batch is executed; then the members' net and
        the recovered credit leave through the batch and the levy through the transfers, never twice."""
        for world in self.worlds.values():
            seller = world.seller.organisation
            payable = Account.objects.filter(kind="organisation_payable", organisation=seller).first()
            paid_out = PayoutBatchOrder.objects.filter(batch__status="executed").values("order_id")
            waiting = -(
                Entry.objects.filter(transaction__kind="release", account=payable)
                .exclude(transaction__order_id__in=paid_out)
                .aggregate(t=Sum("amount"))["t"]
                or 0
            )
            pending = Transfer.objects.filter(organisation=seller, status="pending").aggregate(t=Sum("amount"))["t"]
            assert (payable.balance if payable else 0) == waiting + (pending or 0)
        for batch in PayoutBatch.objects.filter(status="executed"):
            transferred = Transfer.objects.filter(order_id__in=batch.orders.values("order_id")).aggregate(
                t=Sum("amount")
            )["t"]
            assert (transferred or 0) == batch.proceeds_amount - batch.net_amount - batch.credit_amount

    @invariant()
    def settled_orders_pay_the_seller_what_the_settlement_says(self):
        from orders.selectors import order_settlement

        for order in Order.objects.filter(status__in=["completed", "resolved"]):
            held = Account.objects.filter(kind="order_escrow", order_id=order.pk).first()
            frozen = ChargeDispute.objects.filter(order=order).exists()
            operator_refunds = Refund.objects.filter(order=order, reason="operator").exists()
            if held is None or frozen or operator_refunds:
                continue
            settlement = order_settlement(order_id=order.pk)
            released = sum(e.amount for e in held.entries.filter(transaction__kind="release"))
            assert released == settlement.to_seller.amount
            assert held.balance == 0


@pytest.mark.django_db
def test_random_escrow_histories_keep_every_invariant(django_capture_on_commit_callbacks):
    world = make_world(lot_grams=400 * TONNE)
    eur_seller = make_side(legal_name="Cooperativa Europa", currency="EUR", country="ES")
    warehouse = WarehouseFactory(organisation=eur_seller.organisation)
    eur_lot = make_lot(eur_seller, grams=400 * TONNE, grade=world.grade_1, warehouse=warehouse,
                       collection_point=LocationFactory(organisation=eur_seller.organisation))  # fmt: skip
    eur_listing = make_listing(eur_seller, eur_lot, warehouse, price=EUR_PRICE)
    EscrowMachine.worlds = {"XOF": world, "EUR": dataclasses.replace(world, seller=eur_seller, listing=eur_listing)}
    payout_onboarding_start(actor=eur_seller.manager, organisation_id=eur_seller.organisation.pk,
                            return_url="http://testserver/", refresh_url="http://testserver/")  # fmt: skip
    EscrowMachine.run_commits = staticmethod(lambda: django_capture_on_commit_callbacks(execute=True))
    onboard(world)
    run_state_machine_as_test(
        EscrowMachine,
        settings=settings(
            max_examples=20, stateful_step_count=15, deadline=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )  # fmt: skip
    # The histories (which accumulate in this test's transaction) did reach every kind of move.
    from payments.models import LedgerTransaction

    # A cooperative's release is paid out through a batch (members' net, then the levy transferred to it).
    kinds = set(LedgerTransaction.objects.values_list("kind", flat=True))
    assert {"payment", "release", "refund", "payout_allocation", "payout", "transfer"} <= kinds
    assert PayoutBatch.objects.filter(status="executed").exists()
    assert set(Payment.objects.filter(status="succeeded").values_list("currency", flat=True)) == {"EUR", "XOF"}
