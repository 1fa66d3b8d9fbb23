"""Price alerts fire once per crossing, by e-mail or SMS after the commit, and only for their owner."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.core.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.market.alerts import price_alert_create, price_alert_delete, price_alert_send
from marketplace.market.models import PriceAlert, PriceAlertFiring
from marketplace.market.services import price_points_rebuild
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.market.conftest import make_trade
from tests.pages.conftest import LOGIN_BACKEND

pytestmark = pytest.mark.django_db

MONDAY = date(2025, 3, 3)


@pytest.fixture
def buyer_manager():
    buyer = OrganisationFactory(kind=Organisation.Kind.BUYER, country="CI", currency="XOF")
    return MembershipFactory(organisation=buyer, role=Role.MANAGER).user, buyer


def week_of_trades(sellers, grade, week: int, price_per_kg: int) -> None:
    day = MONDAY + timedelta(weeks=week)
    for seller in (sellers[0], sellers[1], sellers[0]):
        make_trade(seller=seller, grade=grade, traded_on=day, amount=price_per_kg * 1_000, grams=1_000_000)


def test_an_alert_fires_once_per_crossing(cocoa, sellers, buyer_manager, django_capture_on_commit_callbacks):
    _, (grade, _) = cocoa
    user, buyer = buyer_manager
    alert = price_alert_create(actor=user, organisation_id=buyer.pk, grade_id=grade.pk, country="ci", region="Nawa",
                               currency="XOF", direction="above", threshold="1500")  # fmt: skip
    fired_weeks = []
    for week, price in enumerate([1_400, 1_600, 1_600, 1_700, 1_450, 1_500, 1_550, 1_800]):
        week_of_trades(sellers, grade, week, price)
        with django_capture_on_commit_callbacks(execute=True):
            price_points_rebuild()
        fired_weeks.extend(
            f.period_start for f in PriceAlertFiring.objects.filter(alert=alert) if f.period_start not in fired_weeks
        )
    # above at week 1 (fires), still above at 2 and 3, back at 4 and 5 (1,500 is not above), above at 6 (fires)
    assert fired_weeks == [MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=6)]
    assert [f.price_amount for f in PriceAlertFiring.objects.filter(alert=alert).order_by("pk")] == [1_600, 1_550]
    assert len(mail.outbox) == 2
    assert mail.outbox[0].to == [user.email]
    assert "1,600" in mail.outbox[0].body or "1600" in mail.outbox[0].body
    # a rerun of the refresh fires nothing more, and a rerun of the send task sends nothing more
    with django_capture_on_commit_callbacks(execute=True):
        price_points_rebuild()
    assert PriceAlertFiring.objects.filter(alert=alert).count() == 2
    assert price_alert_send(firing_id=PriceAlertFiring.objects.first().pk) == "already_sent"
    assert len(mail.outbox) == 2


def test_a_below_alert_by_sms(cocoa, sellers, buyer_manager, sms_outbox, django_capture_on_commit_callbacks):
    _, (grade, _) = cocoa
    user, buyer = buyer_manager
    price_alert_create(actor=user, organisation_id=buyer.pk, grade_id=grade.pk, country="CI", region="Nawa",
                       currency="XOF", direction="below", threshold="1000", channel="sms",
                       phone="+2250701020304")  # fmt: skip
    week_of_trades(sellers, grade, 0, 900)
    with django_capture_on_commit_callbacks(execute=True):
        price_points_rebuild()
    assert len(sms_outbox) == 1
    assert sms_outbox[0].to == "+2250701020304"


def test_hidden_prices_fire_nothing(cocoa, sellers, buyer_manager, django_capture_on_commit_callbacks):
    _, (grade, _) = cocoa
    user, buyer = buyer_manager
    price_alert_create(actor=user, organisation_id=buyer.pk, grade_id=grade.pk, country="CI", region="Nawa",
                       currency="XOF", direction="above", threshold="1")  # fmt: skip
    for _ in range(3):  # one seller: hidden
        make_trade(seller=sellers[0], grade=grade, traded_on=MONDAY, amount=9_000_000, grams=1_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        price_points_rebuild()
    assert not PriceAlertFiring.objects.exists()
    assert mail.outbox == []


def test_who_may_subscribe_and_bad_input(cocoa, buyer_manager):
    _, (grade, _) = cocoa
    user, buyer = buyer_manager
    args = {"grade_id": grade.pk, "country": "CI", "currency": "XOF", "direction": "above", "threshold": "1500"}
    viewer = MembershipFactory(organisation=buyer, role=Role.VIEWER).user
    with pytest.raises(PermissionDenied):
        price_alert_create(actor=viewer, organisation_id=buyer.pk, **args)
    supplier = OrganisationFactory(kind=Organisation.Kind.INPUT_SUPPLIER)
    with pytest.raises(NotFound):
        price_alert_create(actor=MembershipFactory(organisation=supplier).user, organisation_id=supplier.pk, **args)
    stranger = OrganisationFactory(kind=Organisation.Kind.BUYER)
    with pytest.raises(NotFound):
        price_alert_create(actor=user, organisation_id=stranger.pk, **args)
    with pytest.raises(ValidationFailed) as error:
        price_alert_create(
            actor=user,
            organisation_id=buyer.pk,
            **{**args, "threshold": "abc", "country": "C", "direction": "up", "grade_id": "x"},
        )
    assert set(error.value.fields) == {"threshold", "country", "direction", "grade"}
    with pytest.raises(ValidationFailed) as error:
        price_alert_create(actor=user, organisation_id=buyer.pk, **{**args, "currency": "XX"})
    assert set(error.value.fields) == {"currency"}
    with pytest.raises(ValidationFailed) as error:
        price_alert_create(actor=user, organisation_id=buyer.pk, **{**args, "channel": "sms", "phone": "12"})
    assert set(error.value.fields) == {"phone"}
    for no_number in ("", None):  # an SMS alert with no number at all is the same 400, not a crash
        with pytest.raises(ValidationFailed) as error:
            price_alert_create(actor=user, organisation_id=buyer.pk, **{**args, "channel": "sms", "phone": no_number})
        assert set(error.value.fields) == {"phone"}
    with pytest.raises(ValidationFailed):
        price_alert_create(actor=user, organisation_id=buyer.pk, **{**args, "threshold": "-5"})
    assert not PriceAlert.objects.exists()


def test_the_alerts_page_is_the_users_own(client, cocoa, buyer_manager):
    _, (grade, _) = cocoa
    user, buyer = buyer_manager
    client.force_login(user, backend=LOGIN_BACKEND)
    url = reverse("market:alerts")
    assert client.get(url).status_code == 200
    response = client.post(url, {"grade": grade.pk, "country": "CI", "region": "Nawa", "currency": "XOF",
                                 "direction": "above", "threshold": "1500.5", "channel": "email"})  # fmt: skip
    assert response.status_code == 302
    alert = PriceAlert.objects.get()
    assert (alert.threshold_amount, alert.armed) == (1_500, True)  # XOF has no minor unit: rounded half-even
    bad = client.post(url, {"grade": grade.pk, "country": "CI", "currency": "XOF", "direction": "above",
                            "threshold": "", "channel": "email"})  # fmt: skip
    assert bad.status_code == 400 and "threshold" in bad.content.decode()
    # someone else cannot delete it
    other = MembershipFactory(organisation=buyer, role=Role.MANAGER).user
    with pytest.raises(NotFound):
        price_alert_delete(actor=other, alert_id=alert.pk)
    client.force_login(other, backend=LOGIN_BACKEND)
    assert list(client.get(url).context["alerts"]) == []
    assert client.post(url, {"delete": alert.pk}).status_code == 404
    client.force_login(user, backend=LOGIN_BACKEND)
    assert client.post(url, {"delete": alert.pk}).status_code == 302
    assert not PriceAlert.objects.exists()
