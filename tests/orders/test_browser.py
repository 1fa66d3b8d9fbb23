"""The whole order flow in Chromium, each person in their own browser: the buyer fills a basket and places the
order, the cooperative accepts it from its inbox, the operator marks it paid, the cooperative's clerk records the
dispatch, the buyer's clerk records the receipt and sees the adjusted amount, the buyer completes the order; and a
dispute opened with a photo and settled at the operator's desk."""

import re

import pytest
from playwright.sync_api import Page, expect

from orders.models import Order
from tests.formats import shown
from tests.orders.factories import TONNE, advance, make_world, place

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def open_order(page: Page, number: str) -> None:
    page.goto(f"/orders/{number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")


def expect_status(page: Page, label: str) -> None:
    expect(page.locator(".page-head .badge")).to_have_text(label)


def test_from_basket_to_completion(browser_as, artifacts_dir):
    world = make_world(lot_grams=10 * TONNE)

    buyer = browser_as(world.buyer.manager)
    buyer.goto("/orders/basket/")
    card = buyer.locator(f"[data-listing='{world.listing.pk}']")
    card.get_by_label("Quantity (kg)").fill("2000")
    card.get_by_role("button", name="Add to basket").click()
    expect(buyer.locator("table.basket")).to_contain_text("2,000 kg")
    expect(buyer.locator("table.basket")).to_contain_text(f"{shown(3_000_000)}")
    buyer.get_by_role("button", name=re.compile("Place the order for")).click()
    expect(buyer.get_by_role("heading", level=1)).to_have_text(re.compile(r"Purchase PU-\d{4}-\d{6}"))
    order = Order.objects.get()
    buyer.get_by_role("link", name=order.number).click()
    expect_status(buyer, "Placed")
    buyer.screenshot(path=str(artifacts_dir / "order-placed.png"), full_page=True)

    seller = browser_as(world.seller.manager)
    seller.goto("/orders/inbox/")
    seller.get_by_role("link", name=order.number).click()
    seller.get_by_role("button", name="Accept the order").click()
    expect_status(seller, "Accepted")

    operator = browser_as(world.operator.manager)
    open_order(operator, order.number)
    operator.get_by_label("Payment reference").fill("BANK-2026-0042")
    operator.get_by_role("button", name="Mark as paid").click()
    expect_status(operator, "Paid")

    clerk = browser_as(world.seller.clerk)
    open_order(clerk, order.number)
    clerk.get_by_label("Document number").fill("WB-0042")
    clerk.get_by_label("Vehicle (optional)").fill("1234 AB 01")
    clerk.get_by_role("button", name="Record the dispatch").click()
    expect_status(clerk, "Dispatched")
    expect(clerk.get_by_role("link", name="Invoice (PDF)")).to_be_visible()

    receiver = browser_as(world.buyer.clerk)
    open_order(receiver, order.number)
    receiver.get_by_label(re.compile("Kilograms received")).fill("1995")
    receiver.get_by_label("Inspection notes").fill("20 bags, dry, intact")
    receiver.get_by_role("button", name="Record the receipt").click()
    expect_status(receiver, "Delivered")
    expect(receiver.locator("#amount-due")).to_have_text(f"{shown(3_000_000)}")
    expect(receiver.locator(".settlement")).to_contain_text("within the 0.5 % weight tolerance")

    buyer.reload()
    expect_status(buyer, "Delivered")
    buyer.get_by_role("button", name="Complete the order").click()
    expect_status(buyer, "Completed")
    expect(buyer.locator(".history li")).to_have_count(6)
    pdf = buyer.request.get(f"/orders/{order.number}/documents/invoice.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    buyer.screenshot(path=str(artifacts_dir / "order-completed.png"), full_page=True)
    assert Order.objects.get(pk=order.pk).status == "completed"


def test_a_dispute_with_a_photo_is_settled_at_the_operators_desk(browser_as):
    world = make_world(lot_grams=5 * TONNE)
    order = advance(world, place(world, 2 * TONNE), "delivered")

    buyer = browser_as(world.buyer.manager)
    open_order(buyer, order.number)
    buyer.get_by_label("What is wrong").fill("A third of the bags are mouldy")
    buyer.set_input_files(
        "#evidence", files=[{"name": "mould.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"0" * 64}]
    )
    buyer.get_by_role("button", name="Open a dispute").click()
    expect_status(buyer, "Disputed")
    expect(buyer.get_by_role("link", name="mould.png")).to_be_visible()

    operator = browser_as(world.operator.manager)
    operator.goto("/orders/disputes/")
    operator.get_by_role("link", name=order.number).click()
    operator.get_by_label("Decision", exact=True).select_option("partial_refund")
    operator.get_by_label(re.compile("Refund")).fill("500000")
    operator.get_by_label("Reasons for the decision").fill("The photos show mould on a third of the bags")
    operator.get_by_role("button", name="Record the decision").click()
    expect_status(operator, "Resolved")
    expect(operator.locator("#decision")).to_contain_text(f"{shown(500_000)}")


def test_a_stranger_cannot_open_the_order_page(browser_as):
    world = make_world(lot_grams=5 * TONNE)
    order = place(world)
    stranger = browser_as(world.stranger.manager)
    answer = stranger.goto(f"/orders/{order.number}/")
    assert answer.status == 404
    stranger.goto("/orders/inbox/")
    expect(stranger.get_by_text(order.number)).to_have_count(0)
