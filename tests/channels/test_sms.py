"""Inbound SMS keywords and delivery reports, posted as Africa's Talking posts them; the product's own outbound SMS
(receipts, statements) go through the message log."""

import pytest

from marketplace.channels.models import DeliveryReport, Message
from marketplace.channels.services import MESSAGE_TRANSITIONS, message_send
from marketplace.core.sms import send_sms
from tests.channels.conftest import PIN, SECRET
from tests.factories import MemberFarmerFactory

pytestmark = pytest.mark.django_db


def reply_to(phone) -> Message:
    return Message.objects.filter(direction="out", phone=str(phone)).latest("pk")


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("HELP", "Send BAL PIN, DEL, PRICES, CREDIT PIN, ALERT, HELP."),
        ("help", "Send BAL PIN"),
        ("Aide", "Send BAL PIN"),  # a keyword of any language; the answer in the member's
        ("msaada", "Send BAL PIN"),
        ("", "Send BAL PIN"),
        (f"BAL {PIN}", "Owed to you: 45,000 XOF.\nLast payout PB"),
        (f"solde {PIN}", "Owed to you: 45,000 XOF."),
        (f"Relevé {PIN}", "Owed to you: 45,000 XOF."),  # accents optional
        (f"SALIO {PIN}", "Owed to you: 45,000 XOF."),
        (f"crédit {PIN}", "Input credit to repay: 12,500 XOF."),
        (f"MKOPO {PIN}", "Input credit to repay: 12,500 XOF."),
        ("BAL", "Send BAL with your PIN, for example: BAL 1234"),
        ("BAL 9999", "Wrong PIN. 4 tries left."),
        ("BAL 12a4", "Send BAL with your PIN"),
        ("DEL", "No delivery recorded for you yet."),
        ("livraisons", "No delivery recorded for you yet."),
        ("prix", "No price posted today by"),
        ("BEI", "No price posted today by"),
        ("WHATEVER 1", "Unknown request. Send BAL PIN"),
    ],
)
def test_keywords_in_every_language(sms_in, paid_farmer, with_pin, text, start, django_capture_on_commit_callbacks):
    paid_farmer.language = "en"
    paid_farmer.save()
    with_pin(paid_farmer)
    with django_capture_on_commit_callbacks(execute=True):
        response = sms_in(paid_farmer.phone, text)
    assert response.status_code == 200
    reply = reply_to(paid_farmer.phone)
    assert reply.body.startswith(start), reply.body
    assert reply.status == "sent" and reply.gateway == "console"
    assert reply.farmer == paid_farmer and reply.link_id == "SampleLinkId123"
    inbound = Message.objects.get(direction="in")
    assert inbound.status == "answered" and inbound.farmer == paid_farmer and inbound.body == text
    assert reply.in_reply_to == inbound


def test_the_answer_is_in_the_members_language(sms_in, farmer):
    sms_in(farmer.phone, "help")
    assert reply_to(farmer.phone).body.startswith("Envoyez SOLDE PIN, LIV, PRIX, CREDIT PIN, ALERTE, AIDE.")
    farmer.language = "sw"
    farmer.save()
    sms_in(farmer.phone, "help")
    assert reply_to(farmer.phone).body.startswith("Tuma SALIO PIN, MAVUNO, BEI, MKOPO PIN, ARIFA, MSAADA.")


def test_a_repeated_post_is_answered_once(sms_in, english_farmer):
    sms_in(english_farmer.phone, "HELP", message_id="ATXid_same")
    sms_in(english_farmer.phone, "HELP", message_id="ATXid_same")
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1


def test_sms_pin_lock_out(sms_in, english_farmer, with_pin):
    with_pin(english_farmer)
    for _ in range(5):
        sms_in(english_farmer.phone, "BAL 9999")
    assert reply_to(english_farmer.phone).body.startswith("Your PIN is locked after 5 wrong tries.")
    sms_in(english_farmer.phone, f"BAL {PIN}")
    assert reply_to(english_farmer.phone).body.startswith("Your PIN is locked")


def test_an_unknown_number_gets_a_polite_answer(sms_in, coop):
    sms_in("+254700999888", "BAL 1234")
    reply = reply_to("+254700999888")
    assert reply.body.startswith("Sorry, this number is not registered with a cooperative.")
    assert reply.farmer is None


def test_a_shared_number_asks_which_cooperative(sms_in, coop, other_coop, with_pin, paid_farmer):
    other = MemberFarmerFactory(organisation=other_coop, phone=paid_farmer.phone, language="en")
    paid_farmer.language = "en"
    paid_farmer.save()
    with_pin(paid_farmer)
    sms_in(paid_farmer.phone, f"BAL {PIN}")
    body = reply_to(paid_farmer.phone).body
    assert body == (
        "Your number is with 1 Coopérative Agricole de, 2 Société Coopérative Beta. Add the number, for example: "
        "BAL 1234 2"
    )
    assert "45,000" not in body
    sms_in(paid_farmer.phone, f"BAL {PIN} 1")
    assert reply_to(paid_farmer.phone).body.startswith("Owed to you: 45,000 XOF.")
    sms_in(paid_farmer.phone, f"BAL {PIN} 2")  # the other cooperative's member has no PIN: nothing shown
    assert reply_to(paid_farmer.phone).body.startswith("You have no PIN yet.")
    assert other.pk


def test_inbound_without_the_secret_is_404(gateway_client, english_farmer):
    response = gateway_client.post(
        "/channels/africastalking/nope/sms/inbound/", {"id": "x", "from": str(english_farmer.phone), "text": "HELP"}
    )
    assert response.status_code == 404
    assert not Message.objects.exists()


def test_inbound_with_missing_fields_is_400(gateway_client):
    response = gateway_client.post(f"/channels/africastalking/{SECRET}/sms/inbound/", {"text": "HELP"})
    assert response.status_code == 400
    assert "Missing form fields: id, from." in response.content.decode()


# --- Delivery reports -------------------------------------------------------------------------------------------


def report(client, message_id, status, secret=SECRET, **extra):
    return client.post(
        f"/channels/africastalking/{secret}/sms/delivery/",
        {"id": message_id, "status": status, "phoneNumber": "+254711000222", "networkCode": "63902", **extra},
    )


@pytest.fixture
def sent_message(settings):
    message = Message.objects.create(
        direction="out", gateway="africastalking", status="sent", phone="+254711000222", body="Hello",
        encoding="GSM-7", segments=1, idempotency_key="k1", provider_message_id="ATXid_1",
    )  # fmt: skip
    return message


@pytest.mark.parametrize(
    ("statuses", "final"),
    [
        (["Submitted", "Success"], "success"),
        (["Buffered", "Submitted", "Success"], "success"),
        (["Sent", "Failed"], "failed"),  # a repeated "Sent" changes nothing
        (["Rejected"], "rejected"),
        (["Success", "Buffered"], "success"),  # a late report never moves a message back
        (["Failed", "Success"], "failed"),
    ],
)
def test_delivery_reports_are_applied_once_per_message_id(gateway_client, sent_message, statuses, final):
    for status in statuses:
        assert report(gateway_client, "ATXid_1", status).status_code == 200
        assert report(gateway_client, "ATXid_1", status).status_code == 200  # the gateway retries the post
    sent_message.refresh_from_db()
    assert sent_message.status == final
    assert DeliveryReport.objects.filter(provider_message_id="ATXid_1").count() == len(statuses)


def test_a_failure_reason_is_kept(gateway_client, sent_message):
    report(gateway_client, "ATXid_1", "Failed", failureReason="AbsentSubscriber", retryCount="2")
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.failure_reason) == ("failed", "AbsentSubscriber")


def test_a_report_that_arrives_before_the_send_answer_is_applied_after_it(gateway_client, settings):
    from tests.channels.fake_africastalking import API_KEY, FakeAfricasTalking

    with FakeAfricasTalking() as fake:
        settings.AFRICASTALKING_API_KEY = API_KEY
        settings.AFRICASTALKING_USERNAME = "coopmarket"
        settings.AFRICASTALKING_API_BASE = fake.url
        from marketplace.channels.services import sms_enqueue

        message = sms_enqueue(to="+254711000222", body="Hi")
        report(gateway_client, "ATXid_000001", "Success")  # not yet ours: stored
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "success"
    assert DeliveryReport.objects.get(provider_message_id="ATXid_000001").applied_at is not None


@pytest.mark.parametrize(
    ("data", "field"), [({"id": "x", "status": "Delivered"}, "status"), ({"status": "Success"}, "id")]
)
def test_bad_reports_are_400(gateway_client, data, field):
    response = gateway_client.post(f"/channels/africastalking/{SECRET}/sms/delivery/", data)
    assert response.status_code == 400
    assert field in response.content.decode()


def test_reports_without_the_secret_are_404(gateway_client, sent_message):
    assert report(gateway_client, "ATXid_1", "Failed", secret="guess").status_code == 404
    sent_message.refresh_from_db()
    assert sent_message.status == "sent"


# --- Transition table ---------------------------------------------------------------------------------------------

STATUSES = ["queued", "sending", "unknown", "sent", "submitted", "buffered", "success", "failed", "rejected",
            "received", "answered"]  # fmt: skip
REPORTED = {"sent", "submitted", "buffered", "success", "failed", "rejected"}
ALLOWED = {
    ("queued", "sending"), ("queued", "failed"),
    ("sending", "queued"), ("sending", "unknown"), ("sending", "sent"), ("sending", "failed"),
    ("unknown", "sending"), ("unknown", "sent"), ("unknown", "submitted"), ("unknown", "buffered"),
    ("unknown", "success"), ("unknown", "failed"), ("unknown", "rejected"),
    ("sent", "submitted"), ("sent", "buffered"), ("sent", "success"), ("sent", "failed"), ("sent", "rejected"),
    ("submitted", "buffered"), ("submitted", "success"), ("submitted", "failed"), ("submitted", "rejected"),
    ("buffered", "submitted"), ("buffered", "success"), ("buffered", "failed"), ("buffered", "rejected"),
    ("received", "answered"),
}  # fmt: skip


@pytest.mark.parametrize("from_status", STATUSES)
@pytest.mark.parametrize("to_status", STATUSES)
def test_message_transition_table(from_status, to_status):
    assert (to_status in MESSAGE_TRANSITIONS[from_status]) == ((from_status, to_status) in ALLOWED)


# --- The product's outbound SMS --------------------------------------------------------------------------------


def test_send_sms_records_in_the_log_and_sends_after_commit(english_farmer, django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_sms(to=str(english_farmer.phone), body="Receipt R-1: 250 kg cocoa.")
    message = Message.objects.get()
    assert (message.status, message.farmer, message.segments, message.encoding) == (
        "queued", english_farmer, 1, "GSM-7"
    )  # fmt: skip
    assert capsys.readouterr().out == ""  # nothing sent inside the caller's transaction
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.status == "sent"
    assert f"[SMS to {english_farmer.phone}] Receipt R-1: 250 kg cocoa." in capsys.readouterr().out


def test_a_delivery_receipt_goes_through_the_gateway(record, farmer, plot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = record(farmer)
    message = Message.objects.get(direction="out")
    assert message.body.startswith("Coopérative Agricole de la Nawa : reçu")  # the member's language: French
    assert message.status == "sent" and message.farmer == farmer
    assert delivery.receipt_sms.outcome == "sent"
