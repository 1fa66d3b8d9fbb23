"""The outbound client against a local fake of Africa's Talking's HTTP API (a real server thread, not a mock of our
code): accepted, refused, bad credentials, no connection, a timeout and a retry that does not send twice."""

import datetime
import socket

import pytest
from celery.exceptions import Retry
from django.db import transaction
from django.utils import timezone

from marketplace.channels.gateways import GatewayTimeout, GatewayUnavailable
from marketplace.channels.models import Message
from marketplace.channels.services import message_send, sms_enqueue
from marketplace.channels.tasks import sms_send
from marketplace.core.models import AuditEvent
from tests.channels.fake_africastalking import API_KEY, FakeAfricasTalking

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    with FakeAfricasTalking() as server:
        settings.AFRICASTALKING_API_KEY = API_KEY
        settings.AFRICASTALKING_USERNAME = "coopmarket"
        settings.AFRICASTALKING_SENDER_ID = "COOPMKT"
        settings.AFRICASTALKING_API_BASE = server.url
        settings.AFRICASTALKING_TIMEOUT_SECONDS = 10
        yield server


def queued(body="Your PIN is set.", key=None) -> Message:
    return sms_enqueue(to="+254711000222", body=body, key=key)


def test_a_message_is_sent_once_with_our_idempotency_key(fake, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    message.refresh_from_db()
    assert message.gateway == "africastalking"
    assert message.status == "sent"
    assert message.provider_message_id == "ATXid_000001"
    assert (message.cost, message.cost_currency, message.cost_micros) == ("KES 0.8000", "KES", 800_000)
    assert message.attempts == 1
    [request] = fake.requests
    assert request["headers"]["apiKey"] == API_KEY
    assert request["headers"]["Idempotency-Key"] == f"sms-{message.pk}"
    assert request["form"] == {"username": "coopmarket", "to": "+254711000222", "message": "Your PIN is set.",
                               "from": "COOPMKT"}  # fmt: skip
    # the task runs again (a broker redelivery): nothing is sent
    assert sms_send.delay(message.pk).get() == "sent"
    assert len(fake.requests) == 1
    actions = list(AuditEvent.objects.filter(subject_id=str(message.pk), subject_type="channels.message")
                   .order_by("pk").values_list("action", flat=True))  # fmt: skip
    assert actions == ["sms.sending", "sms.sent"]


def test_enqueueing_the_same_key_twice_records_and_sends_once(fake, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queued(key="receipt-42")
        second = queued(key="receipt-42")
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(fake.sent) == 1


def test_a_timeout_is_unknown_then_the_retry_does_not_send_twice(fake, settings):
    settings.AFRICASTALKING_TIMEOUT_SECONDS = 0.5
    fake.delays = [1.5]  # the gateway takes the first request but answers too late
    message = queued()
    with pytest.raises(GatewayTimeout):
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "unknown"  # never "failed": it may have gone
    assert len(fake.sent) == 1
    # the retry (same idempotency key) waits for the first to finish and gets its answer: no second SMS
    assert sms_send.apply(args=[message.pk]).get() == "sent"
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2
    assert len(fake.requests) == 2
    assert {r["headers"]["Idempotency-Key"] for r in fake.requests} == {f"sms-{message.pk}"}
    assert len(fake.sent) == 1 and message.provider_message_id == fake.sent[0]["id"]


def test_the_task_retries_after_a_timeout(fake, settings):
    settings.AFRICASTALKING_TIMEOUT_SECONDS = 0.5
    fake.delays = [1.5]
    message = queued()
    with pytest.raises(Retry):  # the task asks the worker to run it again later
        sms_send.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == "unknown"
    assert sms_send.apply(args=[message.pk]).get() == "sent"  # the worker's retry
    assert len(fake.sent) == 1 and len(fake.requests) == 2


def test_no_connection_goes_back_to_the_queue(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    settings.AFRICASTALKING_API_KEY = API_KEY
    settings.AFRICASTALKING_API_BASE = f"http://127.0.0.1:{port}"
    message = queued()
    with pytest.raises(GatewayUnavailable):
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "queued" and message.failure_reason.startswith("not sent")


def test_a_refused_number_fails_with_the_reason(fake):
    fake.status_code = 403
    message = queued()
    message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed" and message.failure_reason == "403 InvalidPhoneNumber"
    assert fake.sent == []


def test_a_gateway_error_is_retried(fake):
    fake.status_code = 500
    message = queued()
    with pytest.raises(GatewayUnavailable):
        message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "queued"
    fake.status_code = 101
    fake.answers.clear()
    message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "sent"


def test_bad_credentials_fail_without_retry(fake, settings):
    settings.AFRICASTALKING_API_KEY = "wrong"
    message = queued()
    message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed" and "401" in message.failure_reason


# --- Messages stuck in `sending` (the worker died during the call) ------------------------------------------------


def _stuck(message: Message, *, minutes: int, attempts: int = 1, reach_gateway: bool = True) -> Message:
    """Claim the message as the send does, let the gateway take it, then 'crash' before recording the answer."""
    from marketplace.channels.gateways import gateway
    from marketplace.channels.services import message_transition

    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        locked.attempts = attempts
        message_transition(message=locked, to_status="sending")
    if reach_gateway:
        gateway().send_sms(to=locked.phone, body=locked.body, idempotency_key=locked.idempotency_key)
    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=minutes))
    return locked


def test_a_message_stuck_in_sending_is_sent_again_with_the_same_key(fake, django_capture_on_commit_callbacks):
    from marketplace.channels.services.messages import messages_sweep_stuck
    from marketplace.channels.tasks import sms_sweep_stuck

    message = queued()
    _stuck(message, minutes=11)
    assert len(fake.sent) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sms_sweep_stuck.apply().get() == {"resent": 1, "failed": 0}
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2
    assert len(fake.requests) == 2 and len(fake.sent) == 1  # the gateway saw the same key: no second SMS
    assert {r["headers"]["Idempotency-Key"] for r in fake.requests} == {f"sms-{message.pk}"}
    assert message.provider_message_id == fake.sent[0]["id"]
    actions = list(AuditEvent.objects.filter(subject_id=str(message.pk), subject_type="channels.message")
                   .order_by("pk").values_list("action", flat=True))  # fmt: skip
    assert actions == ["sms.sending", "sms.unknown", "sms.sending", "sms.sent"]
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep_stuck() == {"resent": 0, "failed": 0}  # a second sweep finds nothing
    assert len(fake.requests) == 2


def test_a_message_that_never_reached_the_gateway_is_sent_once(fake, django_capture_on_commit_callbacks):
    from marketplace.channels.services.messages import messages_sweep_stuck

    message = queued()
    _stuck(message, minutes=30, reach_gateway=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep_stuck() == {"resent": 1, "failed": 0}
    message.refresh_from_db()
    assert message.status == "sent" and len(fake.sent) == 1


def test_a_send_in_flight_is_left_alone(fake, django_capture_on_commit_callbacks):
    from marketplace.channels.services.messages import messages_sweep_stuck

    message = queued()
    _stuck(message, minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep_stuck() == {"resent": 0, "failed": 0}
    message.refresh_from_db()
    assert message.status == "sending" and len(fake.requests) == 1


def test_after_every_attempt_a_stuck_message_is_marked_failed(fake, django_capture_on_commit_callbacks):
    from marketplace.channels.services.messages import MAX_SEND_ATTEMPTS, messages_sweep_stuck

    message = queued()
    _stuck(message, minutes=11, attempts=MAX_SEND_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep_stuck() == {"resent": 0, "failed": 1}
    message.refresh_from_db()
    assert message.status == "failed" and message.failure_reason.startswith("no answer recorded after 7")
    assert len(fake.requests) == 1


def test_the_sweep_is_on_the_beat_schedule(settings):
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "marketplace.channels.tasks.sms_sweep_stuck" in entries
