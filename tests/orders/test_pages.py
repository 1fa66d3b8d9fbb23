"""The order pages through Django's test client: the basket, the buyer's and seller's lists, the order page
and its moves, documents, the dispute desk; refusals answer 4xx and change nothing; strangers get 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalogue.models import Listing
from orders.models import DisputeEvidence, Order, Purchase
from tests.formats import shown
from tests.orders.factories import TONNE, advance, place

BACKEND = "django.contrib.auth.backends.ModelBackend"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def test_the_buyer_fills_a_basket_and_places_the_order(world):
    buyer = signed_in(world.buyer.manager)
    page = buyer.get("/orders/basket/")
    assert page.status_code == 200 and world.listing.title in page.text
    answer = buyer.post("/orders/basket/add/", {"listing": world.listing.pk, "quantity_kg": "2500"})
    assert answer.status_code == 302
    page = buyer.get("/orders/basket/")
    assert "2,500 kg" in page.text and f"{shown(3_750_000)}" in page.text
    answer = buyer.post("/orders/basket/place/", {"note": "Monday"}, follow=True)
    purchase = Purchase.objects.get()
    assert answer.status_code == 200 and purchase.reference in answer.text
    order = purchase.orders.get()
    assert order.number in answer.text and order.lines.get().quantity == 2_500_000
    assert "2,500 kg" not in buyer.get("/orders/basket/").text  # emptied
    assert order.number in buyer.get("/orders/?side=buying").text


def test_a_basket_below_the_minimum_is_refused_with_the_reason_and_nothing_is_ordered(world):
    buyer = signed_in(world.buyer.manager)
    buyer.post("/orders/basket/add/", {"listing": world.listing.pk, "quantity_kg": "10"})
    answer = buyer.post("/orders/basket/place/")
    assert answer.status_code == 400
    assert "minimum order" in answer.text and "Nothing was ordered" in answer.text
    assert not Order.objects.exists()
    assert buyer.post("/orders/basket/add/", {"listing": world.listing.pk, "quantity_kg": "-3"}).status_code == 400
    assert buyer.post("/orders/basket/add/", {"listing": 999999, "quantity_kg": "3"}).status_code == 404


def test_the_seller_accepts_from_the_inbox_and_dispatches(world):
    order = place(world)
    seller = signed_in(world.seller.manager)
    inbox = seller.get("/orders/inbox/?status=placed")
    assert order.number in inbox.text
    page = seller.get(f"/orders/{order.number}/")
    assert "Accept the order" in page.text and "Reject the order" in page.text
    refused = seller.post(f"/orders/{order.number}/move/rejected/", {"reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.text
    assert seller.post(f"/orders/{order.number}/move/accepted/").status_code == 302
    signed_in(world.operator.manager).post(f"/orders/{order.number}/move/paid/", {"payment_reference": "BANK-3"})
    clerk = signed_in(world.seller.clerk)
    line = order.lines.get()
    too_much = clerk.post(f"/orders/{order.number}/move/dispatched/",
                          {"document_number": "WB-9", f"line-{line.pk}": "2500"})  # fmt: skip
    assert too_much.status_code == 400 and "more than the" in too_much.text
    assert Order.objects.get(pk=order.pk).status == "paid"
    done = clerk.post(f"/orders/{order.number}/move/dispatched/",
                      {"document_number": "WB-9", "vehicle": "AB 1", f"line-{line.pk}": "1500.5"})  # fmt: skip
    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).lines.get().quantity_dispatched == 1_500_500


def test_the_buyer_records_receipt_sees_the_adjusted_amount_and_why_then_disputes(world):
    order = advance(world, place(world, 2 * TONNE), "dispatched")
    line = order.lines.get()
    clerk = signed_in(world.buyer.clerk)
    bad = clerk.post(f"/orders/{order.number}/move/delivered/", {f"line-{line.pk}": "2100"})
    assert bad.status_code == 400 and "more than the" in bad.text
    answer = clerk.post(
        f"/orders/{order.number}/move/delivered/",
        {f"line-{line.pk}": "1900", f"grade-{line.pk}": world.grade_2.pk, "inspection_notes": "Some mould"},
        follow=True,
    )
    assert answer.status_code == 200
    assert (
        f"{shown(2_850_000)}" in answer.text
        and "weight tolerance" in answer.text
        and "no price was agreed" in answer.text
    )
    manager = signed_in(world.buyer.manager)
    photo = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, content_type="image/png")
    disputed = manager.post(f"/orders/{order.number}/move/disputed/", {"reason": "Mould", "evidence": photo})
    assert disputed.status_code == 302
    order.refresh_from_db()
    assert order.status == "disputed" and order.dispute.evidence.count() == 1
    operator = signed_in(world.operator.manager)
    desk = operator.get("/orders/disputes/")
    assert order.number in desk.text
    decision = {"decision": "partial_refund", "refund": "150000", "reason": "Photos"}
    resolved = operator.post(f"/orders/{order.number}/move/resolved/", decision, follow=True)
    assert resolved.status_code == 200 and f"{shown(150_000)}" in resolved.text
    assert Order.objects.get(pk=order.pk).dispute.refund_amount == 150_000


def test_documents_are_served_as_pdf(world):
    order = advance(world, place(world), "dispatched")
    client = signed_in(world.buyer.viewer)
    for kind in ("purchase-order", "delivery-note", "invoice"):
        answer = client.get(f"/orders/{order.number}/documents/{kind}.pdf")
        assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"


def test_lists_run_a_constant_number_of_queries(world):
    client = signed_in(world.seller.viewer)
    place(world, TONNE)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/orders/inbox/").status_code == 200
        return len(captured)

    few = queries()
    for _ in range(6):
        advance(world, place(world, TONNE), "accepted")
    assert queries() == few


def test_only_the_operator_sees_the_dispute_desk(world):
    assert signed_in(world.buyer.admin).get("/orders/disputes/").status_code == 403
    assert signed_in(world.operator.viewer).get("/orders/disputes/").status_code == 200


PAGES = [
    ("get", "/orders/{number}/"),
    ("get", "/orders/purchases/{reference}/"),
    ("get", "/orders/{number}/documents/purchase-order.pdf"),
    ("get", "/orders/{number}/evidence/{evidence}/"),
    *[("post", f"/orders/{{number}}/move/{to}/") for to in
      ("accepted", "rejected", "cancelled", "paid", "dispatched", "delivered", "completed", "disputed", "resolved")],
]  # fmt: skip


@pytest.mark.parametrize("method, url", PAGES)
def test_another_organisation_cannot_see_or_act_on_an_order_page(world, method, url):
    order = advance(world, place(world), "disputed")
    evidence = DisputeEvidence.objects.create(
        dispute=order.dispute, file=SimpleUploadedFile("e.pdf", b"%PDF-1.4"), original_name="e.pdf",
        content_type="application/pdf", size=8, uploaded_by=world.buyer.manager,
    )  # fmt: skip
    address = url.format(number=order.number, reference=order.purchase.reference, evidence=evidence.pk)
    stranger = signed_in(world.stranger.admin)
    answer = getattr(stranger, method)(address, {"reason": "x", "decision": "release", "payment_reference": "x"})
    assert answer.status_code == 404
    assert order.number not in stranger.get("/orders/?side=buying").text
    assert order.number not in stranger.get("/orders/inbox/").text
    assert Order.objects.get(pk=order.pk).status == "disputed"
    assert Client().get(address).status_code == 302  # anonymous: to the sign-in page
    assert Listing.objects.get(pk=world.listing.pk).quantity_sold_grams == 2 * TONNE
