"""Fixtures for the payments tests: the orders tests' small marketplace, and helpers that pay and drive orders
with every on-commit task run (as the eager Celery of the demo does)."""

import pytest

from orders.services import order_transition
from payments.services.payments import payment_offline_pay, payment_start, payout_onboarding_start
from tests.orders.factories import World, advance, make_world, place


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
    payment = payment_start(
        actor=world.buyer.manager, order_id=order.pk, amount=order.total_amount, currency=order.currency
    )
    return payment_offline_pay(actor=world.buyer.manager, payment_id=payment.pk, succeed=succeed)


def onboard(world: World) -> None:
    payout_onboarding_start(
        actor=world.seller.manager, organisation_id=world.seller.organisation.pk,
        return_url="http://testserver/payments/money/", refresh_url="http://testserver/payments/money/",
    )  # fmt: skip


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
