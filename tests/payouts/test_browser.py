"""Member payouts in Chromium: the system proposes a batch for a released order, a manager of the cooperative
approves it, another executes it and opens a member's statement; another cooperative gets 404."""

import pytest
from playwright.sync_api import expect

from payments.payouts.models import PayoutBatch
from tests.formats import shown
from tests.orders.factories import TONNE, make_side, make_world
from tests.payouts.factories import released_order

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_propose_approve_execute_and_open_a_statement(browser_as):
    world = make_world(lot_grams=10 * TONNE)
    order, _net = released_order(world, 2 * TONNE)

    # The release (the real escrow settlement, committed) has the system propose the batch at once.
    batch = PayoutBatch.objects.get()
    assert batch.proposed_by is None and list(batch.orders.values_list("order_id", flat=True)) == [order.pk]
    manager = browser_as(world.seller.manager)
    manager.goto(f"/payouts/{batch.pk}/")
    expect(manager.get_by_role("heading", level=1)).to_have_text(f"Payout batch {batch.reference}")
    expect(manager.locator(".page-head .badge")).to_have_text("Proposed")
    expect(manager.locator("#proceeds")).to_have_text(f"{shown(2_910_000)}")
    expect(manager.locator("table.payout-lines tbody tr")).to_have_count(3)

    approver = browser_as(world.seller.admin)
    approver.goto(f"/payouts/{batch.pk}/")
    approver.get_by_role("button", name="Approve the payout batch").click()
    expect(approver.locator(".page-head .badge")).to_have_text("Approved")
    expect(approver.locator("#approved-by")).to_contain_text(world.seller.admin.full_name)

    manager.reload()
    download = manager.request.get(f"/payouts/{batch.pk}/payments.csv")
    assert download.ok and download.text().startswith("phone,amount,reference")
    manager.get_by_role("button", name="Execute the payouts").click()
    expect(manager.locator(".page-head .badge")).to_have_text("Executed")
    expect(manager.locator("table.payout-lines")).to_contain_text("Paid")

    line = batch.lines.order_by("farmer__member_number").first()
    manager.get_by_role("link", name=f"{line.farmer.member_number} {line.farmer.name}").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text(f"Statement of {line.farmer.name}")
    expect(manager.locator("#statement-payouts")).to_contain_text(line.reference)
    expect(manager.locator("#statement-payouts")).to_contain_text("Executed")
    pdf = manager.request.get(f"/payouts/members/{line.farmer_id}/statement.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    stranger = browser_as(make_side(legal_name="Another Cooperative").manager)
    response = stranger.goto(f"/payouts/members/{line.farmer_id}/statement/")
    assert response is not None and response.status == 404
    response = stranger.goto(f"/payouts/{batch.pk}/")
    assert response is not None and response.status == 404
