"""In Chromium, offline mode: the buyer pays an accepted order on the payment page (no card, no script), the
order moves to paid with the money in escrow; after dispatch, receipt and completion the cooperative's money page
shows the release less the fee owed to it; once its manager executes the members' payout batch, the levy is sent to
its account, and the operator's ledger page is consistent."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order
from payments.tasks import ledger_verify
from tests.formats import shown
from tests.orders.factories import TONNE, advance, make_world, place
from tests.payments.conftest import batch_of, onboard

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_offline_payment_from_an_accepted_order_to_release(browser_as, settings):
    settings.PLATFORM_FEE_BP = 300
    settings.DEBUG = True  # the buyer's self-service demo button exists only in demo mode
    settings.PAYOUT_DEFAULT_LEVY_BP = 200
    world = make_world(lot_grams=10 * TONNE)
    onboard(world)
    order = advance(world, place(world, 2 * TONNE), "accepted")

    buyer = browser_as(world.buyer.manager)
    buyer.goto(f"/payments/orders/{order.number}/")
    expect(buyer.get_by_role("heading", level=1)).to_have_text(f"Payment of order {order.number}")
    buyer.get_by_role("button", name=f"Pay {shown(3_000_000)} (demo)").click()
    expect(buyer.get_by_text("Paid. The money is held in escrow")).to_be_visible()
    expect(buyer.locator(".page-head .badge")).to_have_text("Paid")
    expect(buyer.locator("#held")).to_have_text(f"{shown(3_000_000)}")
    assert Order.objects.get(pk=order.pk).status == "paid"

    advance(world, order, "completed")  # dispatch, receipt, completion by the people of the orders pages

    # A cooperative's order: released to its payable, and a payout batch proposed for its members.
    seller = browser_as(world.seller.manager)
    seller.goto("/payments/money/")
    row = seller.locator("tr[data-currency='XOF']")
    expect(row.locator(".released")).to_have_text(f"{shown(3_000_000)}")
    expect(row.locator(".fees")).to_have_text(f"{shown(90_000)}")
    expect(row.locator(".owed")).to_have_text(f"{shown(2_910_000)}")
    expect(row.locator(".sent")).to_have_text(f"{shown(0)}")
    expect(row.locator(".held")).to_have_text(f"{shown(0)}")

    # The manager approves and executes it: the members have their net, the levy goes to the cooperative.
    batch = batch_of(order)
    seller.goto(f"/payouts/{batch.pk}/")
    seller.get_by_role("button", name="Approve the payout batch").click()
    expect(seller.locator(".page-head .badge")).to_have_text("Approved")
    seller.get_by_role("button", name="Execute the payouts").click()
    expect(seller.locator(".page-head .badge")).to_have_text("Executed")
    seller.goto("/payments/money/")
    expect(row.locator(".owed")).to_have_text(f"{shown(0)}")
    expect(row.locator(".sent")).to_have_text(f"{shown(58_200)}")

    buyer.goto(f"/payments/orders/{order.number}/")
    expect(buyer.locator("#held")).to_have_text(f"{shown(0)}")
    expect(buyer.locator("#released")).to_have_text(f"{shown(3_000_000)}")
    expect(buyer.locator("#transfer")).to_have_text(re.compile(f"{shown(58_200)}"))

    operator = browser_as(world.operator.manager)
    ledger_verify()  # the ledger page shows the stored result of the nightly check
    operator.goto("/payments/ledger/")
    expect(operator.locator("#ledger-ok")).to_be_visible()
