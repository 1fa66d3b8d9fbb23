"""The purchase order, delivery note and invoice as PDF; notifications to both sides, sent once."""

import base64
import re
import threading
import zlib

import pytest
from django.core import mail
from django.db import connection
from django.utils import translation

from marketplace.core.errors import NotFound
from orders.models import Notification, Order
from orders.selectors import order_document
from orders.services import order_transition
from orders.tasks import send_order_notifications
from tests.orders.factories import TONNE, advance, make_world, place


def pdf_text(pdf: bytes) -> bytes:
    """The page content streams, decoded (ReportLab writes them ASCII85 + Flate)."""
    text = []
    for head, body in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        if b"ASCII85Decode" in head:
            body = base64.a85decode(body.strip(), adobe=True)
        if b"FlateDecode" in head:
            body = zlib.decompress(body)
        text.append(body)
    return b"\n".join(text)


def test_documents_exist_as_the_order_moves_and_carry_both_sides_legal_details(world):
    # Documents are drawn in the language of the organisation they are for (tests/channels/test_translations.py).
    for side in (world.seller, world.buyer):
        side.organisation.preferred_language = "en"
        side.organisation.save()
    order = place(world, 2 * TONNE)
    name, raw = order_document(viewer=world.buyer.viewer, number=order.number, kind="purchase-order")
    assert name == f"purchase-order-{order.number}.pdf" and raw.startswith(b"%PDF-")
    pdf = pdf_text(raw)
    assert order.number.encode() in pdf
    assert world.seller.organisation.registration_number.encode() in pdf
    assert world.buyer.organisation.registration_number.encode() in pdf
    for kind in ("delivery-note", "invoice"):
        with pytest.raises(NotFound, match="once the order"):
            order_document(viewer=world.buyer.viewer, number=order.number, kind=kind)
    # Each missing document is one whole sentence in the reader's language, with no English left in it.
    missing = {
        "delivery-note": "Le bon de livraison existe une fois la commande expédiée.",
        "invoice": "La facture existe une fois la commande expédiée et facturée.",
    }
    for kind, text in missing.items():
        with translation.override("fr"), pytest.raises(NotFound) as refused:
            order_document(viewer=world.buyer.viewer, number=order.number, kind=kind)
        assert refused.value.message == text
    order = advance(world, order, "completed")
    name, raw_invoice = order_document(viewer=world.seller.clerk, number=order.number, kind="invoice")
    invoice = pdf_text(raw_invoice)
    assert name == f"invoice-{order.invoice.number}.pdf"
    assert order.invoice.number.encode() in invoice and b"Amount due after receipt" in invoice
    note = pdf_text(order_document(viewer=world.operator.viewer, number=order.number, kind="delivery-note")[1])
    assert order.dispatch.document_number.encode() in note
    # The same order gives the same bytes.
    assert order_document(viewer=world.seller.clerk, number=order.number, kind="invoice")[1] == raw_invoice


def test_strangers_get_no_documents(world):
    order = place(world)
    with pytest.raises(NotFound):
        order_document(viewer=world.stranger.manager, number=order.number, kind="purchase-order")
    with pytest.raises(NotFound):
        order_document(viewer=world.buyer.manager, number=order.number, kind="receipt")


def test_every_move_notifies_both_sides_by_email_and_sms(world, sms_outbox, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order = place(world)
        order_transition(actor=world.seller.manager, order_id=order.pk, to_status="rejected", reason="Lot promised")
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count(f"Order {order.number}: placed") == 8
    assert subjects.count(f"Order {order.number}: rejected") == 8
    assert any("Reason: Lot promised" in m.body for m in mail.outbox)
    assert len(sms_outbox) == 4
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_a_notification_task_that_runs_twice_notifies_once(world, sms_outbox):
    order = place(world)  # on_commit never fires inside the test transaction: the rows wait, unsent
    event = order.events.get()
    assert Notification.objects.filter(event=event, sent_at__isnull=True).count() == 10
    mail.outbox.clear()
    assert send_order_notifications.apply(args=[event.pk]).result == 10
    assert send_order_notifications.apply(args=[event.pk]).result == 0
    assert len(mail.outbox) == 8 and len(sms_outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_event_at_once_notify_once(sms_outbox):
    world = make_world(lot_grams=5 * TONNE)
    order = place(world)
    event = order.events.get()
    Notification.objects.filter(event=event).update(sent_at=None)
    mail.outbox.clear()
    sms_outbox.clear()
    start = threading.Barrier(4)
    sent = []

    def work():
        try:
            start.wait()
            sent.append(send_order_notifications.apply(args=[event.pk]).result)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(sent) == 10
    assert len(mail.outbox) == 8 and len(sms_outbox) == 2
    assert Order.objects.get(pk=order.pk).status == "placed"
