"""Fixtures for the payments tests: the orders tests' small marketplace, and helpers that pay and drive orders
with every on-commit task run (as the eager Celery of the demo does)."""

import pytest
from django.test import override_settings

from orders.services import LineInput, order_transition, purchase_place
from payments.payouts.models import PayoutBatch, PayoutBatchOrder
from payments.payouts.services import payout_batch_transition
from payments.services.payments import (
    payment_offline_confirm,
    payment_offline_pay,
    payment_start,
    payout_onboarding_start,
)
from tests.orders.factories import World, advance, make_world, place


@pytest.fixture(autouse=True)
def _offline_payments_on(settings):
    """These tests run the offline provider as a deployment that takes bank or mobile-money transfers."""
    settings.OFFLINE_PAYMENTS = True


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """`with run_commits(): ...` runs the on-commit callbacks (tasks) of what happens inside, and theirs."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


def pay(world: World, order, *, succeed: bool = True):
    """The buyer starts an offline payment and transfers the money; the operator confirms it was received. A
    failed payment exists only as the demo button's declined card (DEBUG on)."""
    payment = payment_start(
        actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount, currency=order.currency
    )
    if not succeed:
        with override_settings(DEBUG=True):
            return payment_offline_pay(actor=world.buyer.manager, payment_id=payment.pk, succeed=False)
    return payment_offline_confirm(
        actor=world.operator.manager, payment_id=payment.pk, transfer_reference=f"BANK-{payment.pk}"
    )


def onboard(world: World, side=None) -> None:
    side = side or world.seller
    payout_onboarding_start(
        actor=side.manager, organisation_id=side.organisation.pk,
        return_url="http://testserver/payments/money/", refresh_url="http://testserver/payments/money/",
    )  # fmt: skip


def batch_of(order) -> PayoutBatch:
    """The payout batch (not cancelled) that covers a released order of the cooperative."""
    return PayoutBatchOrder.objects.select_related("batch").get(order=order, active=True).batch


def pay_members(world: World, batch: PayoutBatch) -> PayoutBatch:
    """The cooperative's manager approves and executes a proposed batch (wrap it in run_commits() to send the
    levy transfers it creates)."""
    for status in ("approved", "executed"):
        batch = payout_batch_transition(actor=world.seller.manager, batch_id=batch.pk, to_status=status)
    return batch  # "executing" until the on-commit task has paid the members; refresh it after run_commits()


def input_order(world: World, packs: int = 10):
    """An order of inputs from the supplier (not shared with members: its seller is paid at release)."""
    return purchase_place(
        actor=world.buyer.manager, buyer_id=world.buyer.organisation.pk,
        lines=[LineInput(quantity=packs, offer_id=world.offer.pk)],
    ).orders.get()  # fmt: skip


def complete_input_order(world: World, order, *, received: int | None = None):
    """Dispatch (by the supplier), receive and complete a paid input order."""
    order_transition(actor=world.supplier.clerk, order_id=order.pk, to_status="dispatched", document_number="DN-1")
    order.refresh_from_db()
    lines = {line.pk: {"quantity": received or line.quantity_dispatched} for line in order.lines.all()}
    order_transition(actor=world.buyer.clerk, order_id=order.pk, to_status="delivered", lines=lines)
    order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="completed")
    order.refresh_from_db()
    return order


def paid_order(world: World, grams: int = 2_000_000):
    order = advance(world, place(world, grams), "accepted")
    pay(world, order)
    order.refresh_from_db()
    return order


def move(world: World, order, to: str, **details):
    """From paid onwards along the main path (advance() skips statuses already passed)."""
    if to == "cancelled":
        order_transition(actor=world.seller.manager, order_id=order.pk, to_status="cancelled", reason="Cannot load")
    else:
        advance(world, order, to, **details)
    order.refresh_from_db()
    return order


def resolve(world: World, order, decision: str, refund_amount=None):
    advance(world, order, "disputed")
    details = {"decision": decision}
    if refund_amount is not None:
        details["refund_amount"] = refund_amount
    order_transition(
        actor=world.operator.manager, order_id=order.pk, to_status="resolved", reason="Looked at the photos", **details
    )
    order.refresh_from_db()
    return order


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """localstripe (extended with Connect by tests/payments/localstripe_connect.py) for the whole run."""
    from tests.payments import stripe_fake

    process, base = stripe_fake.start(tmp_path_factory.mktemp("localstripe"))
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_mode(settings, localstripe):
    """The Stripe provider against localstripe."""
    from tests.payments import stripe_fake

    settings.STRIPE_SECRET_KEY = stripe_fake.SECRET_KEY
    settings.STRIPE_API_BASE = localstripe
    settings.STRIPE_WEBHOOK_SECRET = stripe_fake.WEBHOOK_SECRET
    return localstripe


@pytest.fixture
def faults(stripe_mode, settings):
    """Inject faults into localstripe; a short client timeout and no client-side retries, so our own retry and
    reconciliation are what is tested."""
    from tests.payments import stripe_fake

    settings.STRIPE_TIMEOUT_SECONDS = 1.0
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    def inject(path: str, mode: str, times: int = 1, seconds: float = 2.5):
        stripe_fake.call(stripe_mode, "POST", "/_config/faults", {"path": path, "mode": mode, "times": times,
                                                                   "seconds": seconds})  # fmt: skip

    yield inject
    stripe_fake.call(stripe_mode, "DELETE", "/_config/faults")
