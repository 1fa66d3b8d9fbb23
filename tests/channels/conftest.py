"""Fixtures for the farmers' channel: the catalogue's cooperative and members, PINs, and a client that posts to the
gateway callbacks exactly as Africa's Talking does (form-encoded, its own field names)."""

import datetime
import itertools

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.channels.services import farmer_channel_update
from payments.models import Account
from payments.payouts.models import PayoutBatch, PayoutLine
from tests.catalogue.conftest import *  # noqa: F403  (the cooperative, members, deliveries, lots and listings)
from tests.factories import MemberFarmerFactory, PlotFactory

SECRET = "test-callback-secret"
PIN = "2580"
_sessions = itertools.count(1)


@pytest.fixture(autouse=True)
def _channel_settings(settings):
    settings.CHANNELS_CALLBACK_SECRET = SECRET
    settings.SMS_BACKEND = "marketplace.channels.backends.GatewaySmsBackend"
    settings.AFRICASTALKING_API_KEY = ""  # the console gateway, unless a test points at the fake server


@pytest.fixture
def gateway_client() -> Client:
    return Client(enforce_csrf_checks=True)


class Ussd:
    """One USSD session driven as the gateway drives it: every post carries the whole path typed so far."""

    def __init__(self, client: Client, phone: str, secret: str = SECRET) -> None:
        self.client = client
        self.phone = phone
        self.secret = secret
        self.session_id = f"ATUid_{next(_sessions):08d}"
        self.inputs: list[str] = []
        self.responses = []

    def post(self, text: str):
        response = self.client.post(
            f"/channels/africastalking/{self.secret}/ussd/",
            {
                "sessionId": self.session_id,
                "serviceCode": "*384*1234#",
                "phoneNumber": self.phone,
                "networkCode": "63902",
                "text": text,
            },
        )
        self.responses.append(response)
        return response

    def dial(self) -> str:
        self.inputs = []
        return self.screen(self.post(""))

    def press(self, value: str) -> str:
        self.inputs.append(value)
        return self.screen(self.post("*".join(self.inputs)))

    @staticmethod
    def screen(response) -> str:
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain")
        body = response.content.decode()
        assert body.startswith(("CON ", "END ")), body
        assert len(body) <= 182, (len(body), body)
        return body


@pytest.fixture
def ussd(gateway_client):
    def start(phone) -> Ussd:
        return Ussd(gateway_client, str(phone))

    return start


@pytest.fixture
def sms_in(gateway_client):
    ids = itertools.count(1)

    def post(phone, text: str, message_id: str | None = None):
        return gateway_client.post(
            f"/channels/africastalking/{SECRET}/sms/inbound/",
            {
                "id": message_id or f"ATXid_in_{next(ids):06d}",
                "text": text,
                "from": str(phone),
                "to": "21525",
                "date": "2026-12-06 10:00:00",
                "linkId": "SampleLinkId123",
            },
        )

    return post


@pytest.fixture
def with_pin(clerk):
    def set_pin(farmer, pin: str = PIN):
        farmer_channel_update(actor=clerk, farmer_id=farmer.pk, pin=pin, pin_again=pin)
        return farmer

    return set_pin


@pytest.fixture
def english_farmer(coop):
    farmer = MemberFarmerFactory(organisation=coop, member_number="NAW-0100", name="Grace Wanjiru", language="en")
    PlotFactory(farmer=farmer)
    return farmer


@pytest.fixture
def paid_farmer(farmer, coop):
    """The farmer with money owed, an executed payout and input credit (rows as the payout services leave them)."""
    batch = PayoutBatch.objects.create(
        organisation=coop, currency="XOF", status=PayoutBatch.Status.EXECUTED, levy_bp=200,
        proceeds_amount=1_234_567, levy_amount=24_691, credit_amount=100_000, net_amount=1_109_876,
        approved_at=timezone.now(), executed_at=timezone.make_aware(datetime.datetime(2026, 12, 1, 9, 0)),
    )  # fmt: skip
    PayoutLine.objects.create(
        batch=batch, farmer=farmer, gross_amount=1_234_567, levy_amount=24_691, credit_amount=100_000,
        net_amount=1_109_876, paid_at=timezone.make_aware(datetime.datetime(2026, 12, 1, 9, 5)),
    )  # fmt: skip
    Account.objects.create(kind=Account.Kind.MEMBER_PAYABLE, currency="XOF", organisation=coop, farmer=farmer,
                           balance=45_000)  # fmt: skip
    Account.objects.create(kind=Account.Kind.MEMBER_INPUT_CREDIT, currency="XOF", organisation=coop, farmer=farmer,
                           balance=12_500)  # fmt: skip
    return farmer
