"""The clerk's page: set a member's PIN and language. Isolation, bad input, and the link from the member's page."""

import pytest

from marketplace.channels.hashers import PIN_HASHER
from marketplace.channels.models import FarmerPin
from marketplace.core.models import AuditEvent
from marketplace.organisations.roles import Role

pytestmark = pytest.mark.django_db


def url(farmer) -> str:
    return f"/channels/members/{farmer.pk}/"


def test_a_clerk_sets_the_pin_and_language(login, clerk, farmer):
    client = login(clerk)
    page = client.get(url(farmer))
    assert page.status_code == 200
    assert "non défini" in page.content.decode() or "not set" in page.content.decode()
    response = client.post(url(farmer), {"pin": "2580", "pin_again": "2580", "language": "sw"})
    assert response.status_code == 302
    pin = FarmerPin.objects.get(farmer=farmer)
    assert pin.pin_hash.startswith("pin_pbkdf2_sha256$100000$") and "2580" not in pin.pin_hash
    assert PIN_HASHER.verify("2580", pin.pin_hash) and not PIN_HASHER.verify("2581", pin.pin_hash)
    assert pin.set_by == clerk
    farmer.refresh_from_db()
    assert farmer.language == "sw"
    event = AuditEvent.objects.get(action="farmer_pin.set")
    assert "2580" not in str(event.data)


def test_a_new_pin_unlocks(login, clerk, farmer, with_pin):
    with_pin(farmer)
    FarmerPin.objects.filter(farmer=farmer).update(failed_attempts=5, locked_at="2026-12-01T00:00:00Z")
    assert login(clerk).post(url(farmer), {"pin": "4827", "pin_again": "4827"}).status_code == 302
    pin = FarmerPin.objects.get(farmer=farmer)
    assert pin.locked_at is None and pin.failed_attempts == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pin": "12", "pin_again": "12"}, "Enter 4 digits."),
        ({"pin": "abcd", "pin_again": "abcd"}, "Enter 4 digits."),
        ({"pin": "1111", "pin_again": "1111"}, "Too easy to guess."),
        ({"pin": "2580", "pin_again": "2581"}, "Type the same PIN again."),
        ({"language": "de"}, "de"),
    ],
)
def test_bad_input_is_400_with_a_message(login, clerk, farmer, data, message):
    response = login(clerk).post(url(farmer), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not FarmerPin.objects.exists()


def test_another_cooperative_gets_404(login, outsider, farmer):
    client = login(outsider)
    assert client.get(url(farmer)).status_code == 404
    assert client.post(url(farmer), {"pin": "2580", "pin_again": "2580"}).status_code == 404
    assert not FarmerPin.objects.exists()


def test_a_viewer_cannot_set_pins(login, member_of, coop, farmer):
    client = login(member_of(coop, Role.VIEWER))
    assert client.get(url(farmer)).status_code == 404
    assert client.post(url(farmer), {"pin": "2580", "pin_again": "2580"}).status_code == 404


def test_signed_out_is_sent_to_sign_in(client, farmer):
    response = client.get(url(farmer))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_member_page_links_here_for_staff_who_record(login, clerk, farmer):
    page = login(clerk).get(f"/members/{farmer.pk}/").content.decode()
    assert url(farmer) in page


def test_the_page_shows_recent_messages_with_bounded_queries(login, clerk, farmer, django_assert_max_num_queries):
    from marketplace.channels.services import sms_enqueue

    for i in range(8):
        sms_enqueue(
            to=str(farmer.phone), body=f"Message {i}", farmer_id=farmer.pk, organisation_id=farmer.organisation_id
        )
    client = login(clerk)
    with django_assert_max_num_queries(15):
        page = client.get(url(farmer))
    assert "Message 7" in page.content.decode()


def test_the_admin_lists_the_message_log_read_only(client, farmer, django_assert_max_num_queries):
    from marketplace.channels.services import sms_enqueue
    from tests.factories import UserFactory

    admin = UserFactory(is_staff=True, is_superuser=True)
    sms_enqueue(to=str(farmer.phone), body="Hello", farmer_id=farmer.pk)
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    for name in ("message", "deliveryreport", "ussdsession", "farmerpin"):
        response = client.get(f"/admin/channels/{name}/")
        assert response.status_code == 200, name
    assert client.get("/admin/channels/message/add/").status_code == 403
