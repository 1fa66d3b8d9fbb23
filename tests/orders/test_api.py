"""The orders API end to end: the buyer's and the seller's flows, the operator's desk, the error shape, a
constant number of queries for lists, and no way into another organisation's orders."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from catalogue.models import Listing
from orders.models import Order, Purchase
from tests.orders.factories import TONNE, advance, place

PDF = b"%PDF-1.4\n%%EOF\n"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_the_whole_flow_through_the_api(world):
    buyer, seller, operator = (client_for(world.buyer.manager), client_for(world.seller.manager),
                               client_for(world.operator.manager))  # fmt: skip
    answer = buyer.post(
        "/api/v1/purchases/",
        {"organisation": world.buyer.organisation.pk, "note": "Pick-up Monday",
         "lines": [{"listing": world.listing.pk, "quantity": 2 * TONNE, "grade_prices": {str(world.grade_2.pk): 1300}},
                   {"offer": world.offer.pk, "quantity": 10}]},
        format="json",
    )  # fmt: skip
    assert answer.status_code == 201, answer.json()
    purchase = answer.json()
    assert purchase["reference"].startswith("PU-") and len(purchase["orders"]) == 2
    produce = next(o for o in purchase["orders"] if o["kind"] == "produce")
    number = produce["number"]
    assert produce["total_amount"] == 3_000_000 and produce["total_display"] == "3,000,000 XOF"
    assert buyer.get(f"/api/v1/purchases/{purchase['reference']}/").json()["reference"] == purchase["reference"]

    detail = seller.get(f"/api/v1/orders/{number}/").json()
    assert detail["moves"] == ["accepted", "rejected"]
    assert detail["lines"][0]["grade_prices"][0]["unit_price_amount"] == 1300
    assert seller.post(f"/api/v1/orders/{number}/accept/", {}, format="json").status_code == 200
    paid = operator.post(f"/api/v1/orders/{number}/mark-paid/", {"payment_reference": "BANK-1"}, format="json")
    assert paid.json()["status"] == "paid"
    line_id = detail["lines"][0]["id"]
    dispatched = client_for(world.seller.clerk).post(
        f"/api/v1/orders/{number}/dispatch/",
        {"document_number": "WB-7", "vehicle": "AB 123", "lines": [{"line": line_id, "quantity": 2 * TONNE}]},
        format="json",
    )
    assert dispatched.status_code == 200, dispatched.json()
    assert dispatched.json()["invoice"]["number"].startswith("INV-")
    assert set(dispatched.json()["documents"]) == {"purchase-order", "delivery-note", "invoice"}
    received = client_for(world.buyer.clerk).post(
        f"/api/v1/orders/{number}/receipt/",
        {"lines": [{"line": line_id, "quantity": 2 * TONNE, "grade": world.grade_2.pk}], "inspection_notes": "Wet"},
        format="json",
    )
    assert received.status_code == 200, received.json()
    body = received.json()
    assert body["amount_due"] == 2_600_000 and body["amount_due_display"] == "2,600,000 XOF"
    assert any("price agreed for" in reason for reason in body["lines"][0]["settlement"]["reasons"])
    disputed = buyer.post(
        f"/api/v1/orders/{number}/dispute/",
        {"reason": "Beans are wet", "evidence": [SimpleUploadedFile("report.pdf", PDF, "application/pdf")]},
        format="multipart",
    )
    assert disputed.status_code == 200, disputed.json()
    evidence = disputed.json()["dispute"]["evidence"][0]
    file = operator.get(f"/api/v1/orders/{number}/evidence/{evidence['id']}/")
    assert file.status_code == 200 and b"".join(file.streaming_content) == PDF
    desk = operator.get("/api/v1/disputes/").json()
    assert [o["number"] for o in desk["results"]] == [number]
    resolved = operator.post(
        f"/api/v1/orders/{number}/resolve/",
        {"decision": "partial_refund", "refund_amount": 200_000, "reason": "Moisture 9 % on the report"},
        format="json",
    )
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "resolved" and resolved.json()["dispute"]["refund_amount"] == 200_000
    pdf = buyer.get(f"/api/v1/orders/{number}/documents/invoice/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    events = buyer.get(f"/api/v1/orders/{number}/").json()["events"]
    assert [e["to_status"] for e in events] == ["placed", "accepted", "paid", "dispatched", "delivered", "disputed",
                                                "resolved"]  # fmt: skip


def error_of(answer, status):
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


def test_bad_purchases_get_a_clear_4xx_and_nothing_is_written(world):
    buyer = client_for(world.buyer.manager)
    url = "/api/v1/purchases/"
    org = world.buyer.organisation.pk
    cases = [
        ({"organisation": org, "lines": [{"listing": world.listing.pk, "quantity": 1000}]}, 400, "lines.0.quantity"),
        ({"organisation": org, "lines": [{"listing": world.listing.pk, "quantity": 99 * TONNE}]}, 400,
         "lines.0.quantity"),
        ({"organisation": org, "lines": [{"listing": world.listing.pk}]}, 400, "lines.0.quantity"),
        ({"organisation": org, "lines": []}, 400, "lines"),
        ({"organisation": world.stranger.organisation.pk, "lines": [{"listing": world.listing.pk, "quantity": TONNE}]},
         404, None),
    ]  # fmt: skip
    for payload, status, field in cases:
        error = error_of(buyer.post(url, payload, format="json"), status)
        if field:
            assert field in error["fields"], error
    error_of(client_for(world.buyer.clerk).post(url, cases[0][0] | {"lines": [{"listing": world.listing.pk,
             "quantity": TONNE}]}, format="json"), 403)  # fmt: skip
    assert Purchase.objects.count() == 0 and Order.objects.count() == 0
    assert Listing.objects.get(pk=world.listing.pk).quantity_reserved_grams == 0


def test_moves_out_of_order_and_bad_receipts_get_a_clear_4xx(world):
    order = place(world)
    seller, buyer = client_for(world.seller.manager), client_for(world.buyer.manager)
    error = error_of(
        seller.post(f"/api/v1/orders/{order.number}/dispatch/", {"document_number": "X"}, format="json"), 409
    )
    assert error["code"] == "invalid_transition" and "accepted, rejected" in error["message"]
    error_of(buyer.post(f"/api/v1/orders/{order.number}/accept/", {}, format="json"), 403)
    error_of(seller.post(f"/api/v1/orders/{order.number}/reject/", {}, format="json"), 400)
    order = advance(world, order, "dispatched")
    line = order.lines.get()
    for quantity in (-5, 2 * TONNE + 1):
        error = error_of(
            buyer.post(f"/api/v1/orders/{order.number}/receipt/", {"lines": [{"line": line.pk, "quantity": quantity}]},
                       format="json"), 400,
        )  # fmt: skip
        assert f"lines.{line.pk}.quantity" in error["fields"]
    assert Order.objects.get(pk=order.pk).status == "dispatched"
    order = advance(world, order, "delivered")
    Order.objects.filter(pk=order.pk).update(dispute_until=order.created_at)
    error = error_of(buyer.post(f"/api/v1/orders/{order.number}/dispute/", {"reason": "late"}, format="json"), 409)
    closed = f"{order.created_at:%Y-%m-%d %H:%M}"
    assert error["code"] == "dispute_window_closed" and f"closed on {closed} UTC" in error["message"]
    # In French, the whole sentence: the closing date is not wrapped in English words.
    error = error_of(buyer.post(f"/api/v1/orders/{order.number}/dispute/", {"reason": "late"}, format="json",
                                headers={"Accept-Language": "fr"}), 409)  # fmt: skip
    assert error["message"] == (
        f"Le délai de litige de la commande {order.number} est clos depuis le {closed} UTC ; les litiges s'ouvrent "
        f"dans un délai de {settings.ORDER_DISPUTE_WINDOW_HOURS} heures suivant la réception."
    )


def test_order_lists_filter_by_side_and_status_in_a_constant_number_of_queries(world):
    buyer = client_for(world.buyer.manager)
    for _ in range(2):
        place(world, TONNE)

    def count_queries(url):
        with CaptureQueriesContext(connection) as queries:
            answer = buyer.get(url)
        assert answer.status_code == 200
        return len(queries), answer.json()

    few, body = count_queries("/api/v1/orders/?side=buying&status=placed")
    assert body["count"] == 2
    for _ in range(8):
        advance(world, place(world, TONNE), "accepted")
    many, body = count_queries("/api/v1/orders/?side=buying")
    assert body["count"] == 10 and few == many
    assert count_queries("/api/v1/orders/?status=accepted,paid")[1]["count"] == 8
    selling = client_for(world.seller.viewer).get("/api/v1/orders/?side=selling&status=accepted").json()
    assert selling["count"] == 8
    assert client_for(world.seller.viewer).get("/api/v1/orders/?side=buying").json()["count"] == 0
    error_of(buyer.get("/api/v1/orders/?status=shipped"), 400)


ENDPOINTS = [
    ("get", "/api/v1/orders/{number}/", None),
    ("get", "/api/v1/purchases/{reference}/", None),
    ("post", "/api/v1/orders/{number}/accept/", {}),
    ("post", "/api/v1/orders/{number}/reject/", {"reason": "x"}),
    ("post", "/api/v1/orders/{number}/cancel/", {"reason": "x"}),
    ("post", "/api/v1/orders/{number}/mark-paid/", {"payment_reference": "x"}),
    ("post", "/api/v1/orders/{number}/dispatch/", {"document_number": "x"}),
    ("post", "/api/v1/orders/{number}/receipt/", {"lines": []}),
    ("post", "/api/v1/orders/{number}/complete/", {}),
    ("post", "/api/v1/orders/{number}/dispute/", {"reason": "x"}),
    ("post", "/api/v1/orders/{number}/resolve/", {"decision": "release", "reason": "x"}),
    ("get", "/api/v1/orders/{number}/documents/purchase-order/", None),
    ("get", "/api/v1/orders/{number}/evidence/{evidence}/", None),
]


@pytest.mark.parametrize("method, url, payload", ENDPOINTS)
def test_another_organisation_cannot_see_or_act_on_an_order(world, method, url, payload):
    order = advance(world, place(world), "disputed")
    from orders.models import DisputeEvidence

    evidence = DisputeEvidence.objects.create(
        dispute=order.dispute, file=SimpleUploadedFile("e.pdf", PDF), original_name="e.pdf",
        content_type="application/pdf", size=len(PDF), uploaded_by=world.buyer.manager,
    )  # fmt: skip
    stranger = client_for(world.stranger.admin)
    address = url.format(number=order.number, reference=order.purchase.reference, evidence=evidence.pk)
    answer = (
        getattr(stranger, method)(address, payload, format="json") if payload is not None else stranger.get(address)
    )
    error = error_of(answer, 404)
    assert order.number not in error["message"]
    assert Order.objects.get(pk=order.pk).status == "disputed"
    lists = [stranger.get("/api/v1/orders/").json(), stranger.get("/api/v1/disputes/").json()]
    assert all(body["count"] == 0 for body in lists)
    assert APIClient().get(address).status_code in (401, 403)


@pytest.mark.parametrize(
    ("language", "start", "allowed"),
    [
        ("en", "Order {number} is ", "; it cannot become dispatched. From placed it can become: accepted, rejected"),
        ("fr", "La commande {number} est ", ". Depuis passée, elle peut devenir : acceptée, refusée"),
        ("sw", "Agizo {number} liko ", "; haliwezi kuwa iliyotumwa. Kutoka imewekwa linaweza kuwa: imekubaliwa"),
    ],
)
def test_an_order_transition_conflict_is_told_in_the_language_asked(world, language, start, allowed):
    order = place(world)
    seller = client_for(world.seller.manager)
    response = seller.post(
        f"/api/v1/orders/{order.number}/dispatch/",
        {"document_number": "X"},
        format="json",
        headers={"Accept-Language": language},
    )
    message = error_of(response, 409)["message"]
    assert message.startswith(start.format(number=order.number)), message
    assert allowed in message, message
