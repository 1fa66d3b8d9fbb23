"""In Chromium, the whole Buy-inputs loop through the pages: a manager opens a window, a clerk records requests on the
phone form, the plan, the group order submitted and accepted by the supplier, paid into escrow (offline), dispatched,
received one bag short, distributed and handed over on credit; a later harvest payout recovers the credit and the
member's statement shows it."""

import re

import pytest
from playwright.sync_api import expect

from marketplace.organisations.models import MemberFarmer
from orders.group_models import GroupOrder, MemberAllocation, OrderingWindow
from tests.formats import shown
from tests.orders.factories import TONNE, advance, make_world, place
from tests.orders.group_factories import make_group_world
from tests.payments.conftest import batch_of

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_the_buy_inputs_loop_in_the_browser(browser_as, settings):
    settings.DEBUG = True  # the demo's own "Pay (demo)" button: the journey of `make demo`
    settings.PLATFORM_FEE_BP = 300
    world = make_world(lot_grams=10 * TONNE)
    members = list(MemberFarmer.objects.filter(pk__in=world.listing.lot.contributions.values("farmer_id")))
    gw = make_group_world(side=world.seller, members=members, name="")
    npk = gw.products[0]

    manager = browser_as(gw.manager)
    manager.goto("/orders/group/windows/")
    manager.get_by_label("Name").fill("Short rains")
    manager.get_by_label("Opens at").fill("2020-01-01T08:00")
    manager.get_by_label("Closes at").fill("2099-01-01T08:00")
    manager.get_by_label(re.compile("NPK 15-15-15")).check()
    manager.get_by_label("Allocation rule").select_option("first_come")
    manager.get_by_label("Members buy on credit").check()
    manager.get_by_role("button", name="Create the window").click()
    manager.get_by_role("button", name="Open the window").click()
    expect(manager.locator(".page-head .badge")).to_have_text("Open")
    window = OrderingWindow.objects.get(name="Short rains")

    clerk = browser_as(gw.clerk)
    for n, farmer in enumerate(members):
        clerk.goto(f"/orders/group/windows/{window.pk}/request/")
        clerk.get_by_label("Member number").fill(farmer.member_number)
        clerk.get_by_label("Quantity").fill(str(100 + 50 * n))
        clerk.get_by_label("Tolerance").fill("25")
        clerk.get_by_role("button", name="Record").click()
        expect(clerk.get_by_text(re.compile(f"Recorded: {re.escape(farmer.name)}"))).to_be_visible()

    manager.goto(f"/orders/group/windows/{window.pk}/plan/")
    expect(manager.locator("#plan-cost")).to_contain_text("F CFA")
    manager.goto(f"/orders/group/windows/{window.pk}/")
    manager.get_by_role("button", name="Close the window").click()
    manager.get_by_role("button", name="Prepare the group orders").click()
    group_order = GroupOrder.objects.get(window=window)
    manager.goto(f"/orders/group/orders/{group_order.pk}/")
    manager.get_by_role("button", name="Submit to the supplier").click()
    expect(manager.locator(".page-head .badge")).to_have_text("Submitted")

    supplier_user = next(u for u, s in zip(gw.supplier_users, gw.suppliers, strict=True)
                         if s.pk == group_order.supplier_id)  # fmt: skip
    supplier = browser_as(supplier_user)
    supplier.goto("/orders/group/orders/")
    supplier.get_by_role("link", name=group_order.reference).click()
    supplier.get_by_role("button", name="Accept").click()
    expect(supplier.locator(".page-head .badge")).to_have_text("Accepted")

    manager.goto(f"/orders/group/orders/{group_order.pk}/")
    manager.get_by_role("link", name="Pay into escrow").click()
    manager.get_by_role("button", name=re.compile(r"Pay .* \(demo\)")).click()
    expect(manager.get_by_text("Paid. The money is held in escrow")).to_be_visible()
    manager.goto(f"/orders/group/orders/{group_order.pk}/")
    expect(manager.locator(".page-head .badge")).to_have_text("Paid")

    supplier.reload()
    supplier.get_by_label("Waybill number").fill("WB-42")
    supplier.get_by_role("button", name="Record dispatch").click()
    expect(supplier.locator(".page-head .badge")).to_have_text("Dispatched")

    line = group_order.lines.get(product=npk)
    manager.reload()
    manager.get_by_label("Packs received").fill(str(line.packs - 1))
    manager.get_by_role("button", name="Record what arrived").click()
    expect(manager.locator(".page-head .badge")).to_have_text("Received")
    manager.get_by_role("button", name="Mark as distributed").click()
    expect(manager.locator("#allocations")).to_be_visible()

    clerk.goto(f"/orders/group/orders/{group_order.pk}/")
    allocations = MemberAllocation.objects.filter(group_order=group_order).count()
    for _ in range(allocations):
        clerk.get_by_role("button", name="Handed over").first.click()
        expect(clerk.get_by_text(re.compile("collected the inputs"))).to_be_visible()
    first = MemberAllocation.objects.filter(group_order=group_order).order_by("pk").first()
    assert first.handed_over_at is not None

    # a harvest sale later: released, and its payout batch recovers the credit first
    order = advance(world, place(world, 2 * TONNE), "accepted")
    buyer = browser_as(world.buyer.manager)
    buyer.goto(f"/payments/orders/{order.number}/")
    buyer.get_by_role("button", name=re.compile(r"Pay .* \(demo\)")).click()
    expect(buyer.get_by_text("Paid. The money is held in escrow")).to_be_visible()
    advance(world, order, "completed")
    batch = batch_of(order)
    assert batch.credit_amount > 0
    manager.goto(f"/payouts/{batch.pk}/")
    manager.get_by_role("button", name="Approve the payout batch").click()
    manager.get_by_role("button", name="Execute the payouts").click()
    expect(manager.locator(".page-head .badge")).to_have_text("Executed")

    manager.goto(f"/payouts/members/{first.farmer_id}/statement/")
    expect(manager.locator("#statement-inputs")).to_contain_text(first.receipt_number)
    recovered = batch.lines.get(farmer_id=first.farmer_id).credit_amount
    expect(manager.locator("#statement-input-credit")).to_contain_text(shown(recovered))
    expect(manager.locator("[data-credit-left]")).to_have_text(shown(first.amount - recovered))
