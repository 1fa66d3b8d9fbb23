"""What reaches people in their language: the delivery receipt SMS (the member's language, with the segments each
language takes), API error messages (by Accept-Language: DRF's own messages and ours) and the order PDFs (the
language of the organisation each document is for)."""

import pytest
from rest_framework.test import APIClient

from catalogue.services.deliveries import receipt_sms_body
from marketplace.core.sms_segments import sms_segments
from orders.selectors import order_document
from tests.factories import MembershipFactory
from tests.orders.factories import TONNE, advance, make_world, place
from tests.orders.test_documents_and_notifications import pdf_text

pytestmark = pytest.mark.django_db


# --- Delivery receipt SMS -----------------------------------------------------------------------------------------

# (language, start of the receipt, encoding, segments). The cooperative's name "Coopérative Agricole de la Nawa" is
# in GSM-7 (é is one of its characters); French's "reçu" and "humidité" are not, so the French receipt is UCS-2.
RECEIPTS = [
    ("en", "Coopérative Agricole de la Nawa: receipt ", "GSM-7", 1),
    ("fr", "Coopérative Agricole de la Nawa : reçu ", "UCS-2", 3),
    ("sw", "Coopérative Agricole de la Nawa: risiti ", "GSM-7", 1),
]
REVERSALS = [
    ("en", "cancels", "GSM-7", 1),
    ("fr", "annule", "UCS-2", 2),
    ("sw", "inafuta", "GSM-7", 1),
]


@pytest.fixture
def delivery_in(farmer, plot, record):
    def make(language: str, **fields):
        farmer.language = language
        farmer.save()
        return record(farmer, net_grams=187_500, **fields)

    return make


@pytest.mark.parametrize(("language", "start", "encoding", "segments"), RECEIPTS)
def test_the_receipt_sms_is_in_the_members_language(delivery_in, language, start, encoding, segments):
    delivery = delivery_in(language)
    body = receipt_sms_body(delivery)
    assert body.startswith(start), body
    assert "187.5 kg" in body and delivery.receipt_number in body
    counted = sms_segments(body)
    assert (counted.encoding, counted.count) == (encoding, segments), (len(body), body)


@pytest.mark.parametrize(("language", "word", "encoding", "segments"), REVERSALS)
def test_the_reversal_receipt_is_in_the_members_language(delivery_in, clerk, language, word, encoding, segments):
    from catalogue.services import delivery_reverse

    delivery = delivery_in(language)
    reversal = delivery_reverse(actor=clerk, delivery_id=delivery.pk, reason="Mauvais poids")
    body = receipt_sms_body(reversal)
    assert word in body and delivery.receipt_number in body
    counted = sms_segments(body)
    assert (counted.encoding, counted.count) == (encoding, segments), (len(body), body)


def test_without_a_language_the_receipt_follows_the_cooperative(delivery_in, coop):
    coop.preferred_language = "sw"
    coop.save()
    assert " risiti " in receipt_sms_body(delivery_in(""))


# --- API error messages -----------------------------------------------------------------------------------------

ANONYMOUS = {
    "en": "Authentication credentials were not provided.",
    "fr": "Informations d'authentification non fournies.",
    "sw": "Vitambulisho vya uthibitishaji havikutolewa.",
}
REQUIRED = {"en": "This field is required.", "fr": "Ce champ est obligatoire.", "sw": "Sehemu hii inahitajika."}
NO_SUCH_FARMER = {
    "en": "No such member farmer.",
    "fr": "Ce membre n'existe pas.",
    "sw": "Hakuna mkulima mwanachama kama huyo.",
}


@pytest.mark.parametrize("language", ["en", "fr", "sw"])
def test_api_errors_follow_accept_language(clerk, language):
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/api/v1/farmers/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["message"] == ANONYMOUS[language]
    client.force_authenticate(user=clerk)
    response = client.post("/api/v1/farmers/", {"name": "Yao"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["member_number"] == [REQUIRED[language]]
    assert response["Content-Language"] == language
    response = client.get("/api/v1/farmers/999999999/")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == NO_SUCH_FARMER[language]


def test_an_api_error_of_ours_in_french(clerk):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_authenticate(user=clerk)
    response = client.post("/api/v1/farmers/", b'{"a": "\\u0000"}', content_type="application/json")
    assert response.status_code == 400
    assert "ne peuvent pas contenir le caractère NUL" in response.json()["error"]["message"]


# --- Order documents ----------------------------------------------------------------------------------------------

DOCUMENT_WORDS = {
    "en": {"purchase-order": b"Purchase order", "invoice": b"Invoice", "delivery-note": b"Delivery note"},
    "fr": {"purchase-order": b"Bon de commande", "invoice": b"Facture", "delivery-note": b"Bon de livraison"},
    "sw": {"purchase-order": b"Agizo la ununuzi", "invoice": b"Ankara", "delivery-note": b"Hati ya uwasilishaji"},
}
OTHER_WORDS = {
    "en": [b"Seller", b"Buyer"],
    "fr": [b"Vendeur", b"Acheteur"],
    "sw": [b"Muuzaji", b"Mnunuzi"],
}


@pytest.mark.parametrize("language", ["en", "fr", "sw"])
def test_order_documents_are_in_the_language_of_the_organisation_they_are_for(language):
    world = make_world()
    seller, buyer = world.seller.organisation, world.buyer.organisation
    seller.preferred_language = language
    seller.save()
    buyer.preferred_language = {"en": "fr", "fr": "sw", "sw": "en"}[language]  # another language on purpose
    buyer.save()
    order = advance(world, place(world, 2 * TONNE), "completed")
    purchase_order = pdf_text(order_document(viewer=world.buyer.viewer, number=order.number, kind="purchase-order")[1])
    assert DOCUMENT_WORDS[language]["purchase-order"] in purchase_order
    assert all(word in purchase_order for word in OTHER_WORDS[language])
    for kind in ("invoice", "delivery-note"):
        pdf = pdf_text(order_document(viewer=world.seller.clerk, number=order.number, kind=kind)[1])
        assert DOCUMENT_WORDS[buyer.preferred_language][kind] in pdf, kind
        assert DOCUMENT_WORDS[language][kind] not in pdf or language == buyer.preferred_language
    # Whoever downloads it gets the same bytes.
    again = order_document(viewer=world.buyer.viewer, number=order.number, kind="purchase-order")[1]
    assert again == order_document(viewer=world.seller.clerk, number=order.number, kind="purchase-order")[1]


def test_an_unsupported_language_falls_back_to_english(db):
    world = make_world()
    world.seller.organisation.preferred_language = "de"
    world.seller.organisation.save()
    order = place(world, 2 * TONNE)
    assert b"Purchase order" in pdf_text(order_document(viewer=world.buyer.viewer, number=order.number,
                                                        kind="purchase-order")[1])  # fmt: skip


def test_a_stranger_still_gets_no_document(db):
    world = make_world()
    order = place(world, 2 * TONNE)
    stranger = MembershipFactory().user
    from marketplace.core.errors import NotFound

    with pytest.raises(NotFound):
        order_document(viewer=stranger, number=order.number, kind="purchase-order")
