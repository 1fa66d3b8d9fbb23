"""The ALERT keyword (ALERTE, ARIFA): member farmers subscribe to market price alerts by SMS, posted to the inbound
callback as the gateway posts it; the alert fires once per crossing with an SMS within 2 segments."""

from datetime import date

import pytest

from catalogue.models import Grade
from marketplace.channels.models import Message
from marketplace.core.sms_segments import segment_count
from marketplace.market.alerts import FARMER_ALERTS_MAX
from marketplace.market.models import PriceAlert, PriceAlertFiring, Trade
from marketplace.market.services import price_points_rebuild
from marketplace.organisations.models import Organisation
from tests.factories import MemberFarmerFactory, OrganisationFactory
from tests.market.conftest import make_trade
from tests.orders.factories import ensure_reference_data

pytestmark = pytest.mark.django_db


def reply(phone) -> str:
    return Message.objects.filter(direction="out", phone=str(phone)).latest("pk").body


@pytest.fixture
def nawa_farmer(coop):
    ensure_reference_data()
    coop.region = "Nawa"
    coop.save()
    return MemberFarmerFactory(organisation=coop, member_number="NAW-0200", name="Aya", language="en")


@pytest.fixture
def kenyan_farmer(db):
    ensure_reference_data()
    coop = OrganisationFactory(kind=Organisation.Kind.COOPERATIVE, country="KE", region="Trans Nzoia",
                               currency="KES", legal_name="Kitale Growers")  # fmt: skip
    return MemberFarmerFactory(organisation=coop, member_number="TN-1", name="Wanjiru", language="sw",
                               phone="+254712345678")  # fmt: skip


def test_subscribe_list_change_and_stop_by_sms(sms_in, nawa_farmer, django_capture_on_commit_callbacks):
    phone = nawa_farmer.phone
    sms_in(phone, "ALERT")
    assert reply(phone).startswith("You have no price alert. Send ALERT CROP PRICE")
    sms_in(phone, "alert maize 3500")
    assert reply(phone) == ("Alert set: we send an SMS when Maize, white in Nawa sells above 3,500 XOF per kg. "
                            "ALERT STOP to stop.")  # fmt: skip
    alert = PriceAlert.objects.get(farmer=nawa_farmer)
    assert (alert.commodity.code, alert.direction, alert.threshold_amount, alert.currency) == (
        "maize-white",
        "above",
        3_500,
        "XOF",
    )
    assert (alert.country, alert.region, alert.channel, alert.phone, alert.user_id, alert.armed) == (
        "CI",
        "Nawa",
        "sms",
        str(phone),
        None,
        True,
    )
    assert alert.grade == Grade.objects.filter(commodity=alert.commodity).order_by("rank").first()
    # the same crop again replaces the threshold; another direction is another alert
    sms_in(phone, "ALERT MAIS 3600")
    sms_in(phone, "Alerte maïs 2000 sous")
    assert reply(phone).startswith("Alert set: we send an SMS when Maize, white in Nawa sells below 2,000 XOF")
    assert sorted(PriceAlert.objects.filter(farmer=nawa_farmer).values_list("direction", "threshold_amount")) == [
        ("above", 3_600),
        ("below", 2_000),
    ]
    sms_in(phone, "ALERT LIST")
    assert reply(phone) == "Your price alerts:\nMaize, white > 3,600 XOF per kg\nMaize, white < 2,000 XOF per kg"
    sms_in(phone, "ALERT STOP MAIZE")
    assert reply(phone) == "Stopped: 2 price alerts."
    assert not PriceAlert.objects.filter(farmer=nawa_farmer).exists()
    sms_in(phone, "ALERT STOP")
    assert reply(phone) == "You have no price alert."


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("ALERT MAIZE", "Send ALERT CROP PRICE, for example: ALERT MAIZE 3500."),
        ("ALERT 3500", "Send ALERT CROP PRICE"),
        ("ALERT MAIZE 0", "Send ALERT CROP PRICE"),
        ("ALERT MAIZE 00000000000000000000000000", "Send ALERT CROP PRICE"),
        ("ALERT MAIZE 99999999999999999999999", "Send ALERT CROP PRICE"),
        ("ALERT BANANA 100", "No crop called BANANA."),
        ("ALERT MA 100", "No crop called MA."),
        ("ALERT STOP BANANA", "No crop called BANANA."),
    ],
)
def test_bad_alert_requests_get_a_helpful_answer(sms_in, nawa_farmer, text, start):
    assert sms_in(nawa_farmer.phone, text).status_code == 200
    assert reply(nawa_farmer.phone).startswith(start), reply(nawa_farmer.phone)
    assert not PriceAlert.objects.exists()


def test_at_most_five_alerts_per_member_and_another_members_alerts_are_untouched(sms_in, nawa_farmer, coop):
    other = MemberFarmerFactory(organisation=coop, member_number="NAW-0201", language="en")
    sms_in(other.phone, "ALERT COCOA 1500")
    for crop in ("MAIZE", "COCOA", "RICE", "SORGHUM", "BEANS"):
        sms_in(nawa_farmer.phone, f"ALERT {crop} 1000")
    sms_in(nawa_farmer.phone, "ALERT CASHEW 1000")
    assert reply(nawa_farmer.phone) == f"You have {FARMER_ALERTS_MAX} alerts already; stop one first."
    assert PriceAlert.objects.filter(farmer=nawa_farmer).count() == FARMER_ALERTS_MAX
    sms_in(nawa_farmer.phone, "ALERT STOP")
    assert reply(nawa_farmer.phone) == "Stopped: 5 price alerts."
    assert PriceAlert.objects.filter(farmer=other).count() == 1


def test_answers_in_french_and_swahili(sms_in, nawa_farmer, kenyan_farmer):
    nawa_farmer.language = "fr"
    nawa_farmer.save()
    sms_in(nawa_farmer.phone, "ALERTE CACAO 1500")
    assert reply(nawa_farmer.phone).startswith("Alerte enregistrée")
    sms_in(kenyan_farmer.phone, "ARIFA MAHINDI 3500")
    text = reply(kenyan_farmer.phone)
    assert text.startswith("Arifa imewekwa") and "3,500 KES" in text, text
    alert = PriceAlert.objects.get(farmer=kenyan_farmer)
    assert (alert.threshold_amount, alert.currency, alert.region) == (350_000, "KES", "Trans Nzoia")
    sms_in(kenyan_farmer.phone, "ARIFA ORODHA")
    assert reply(kenyan_farmer.phone).startswith("Arifa zako za bei")
    for farmer in (nawa_farmer, kenyan_farmer):
        for message in Message.objects.filter(direction="out", phone=str(farmer.phone)):
            assert segment_count(message.body) <= 2, message.body


@pytest.mark.parametrize("language", ["en", "fr", "sw"])
def test_the_alert_fires_once_per_crossing_by_sms(sms_in, kenyan_farmer, language, settings,
                                                  django_capture_on_commit_callbacks):  # fmt: skip
    """Maize in Trans Nzoia is quoted per 90 kg bag: KES 3,600 a bag is 40 KES/kg."""
    kenyan_farmer.language = language
    kenyan_farmer.save()
    sms_in(kenyan_farmer.phone, "ALERT MAIZE 3500")
    alert = PriceAlert.objects.get(farmer=kenyan_farmer)
    coop = kenyan_farmer.organisation
    sellers = [OrganisationFactory(kind=Organisation.Kind.COOPERATIVE, country="KE", region="Trans Nzoia",
                                   currency="KES") for _ in range(2)]  # fmt: skip

    def week_at(per_kg_cents: int) -> None:
        Trade.objects.all().delete()
        for seller in (sellers[0], sellers[1], coop):
            make_trade(seller=seller, grade=alert.grade, traded_on=date.today(), amount=per_kg_cents * 1_000,
                       grams=1_000_000, currency="KES")  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            price_points_rebuild()

    sent = lambda: Message.objects.filter(direction="out", phone=str(kenyan_farmer.phone)).count()  # noqa: E731
    before = sent()
    week_at(4_000)  # 3,600 a bag: above 3,500
    assert sent() == before + 1
    text = reply(kenyan_farmer.phone)
    assert "3,600" in text and "3,500" in text and segment_count(text) <= 2, text
    assert {"en": "above", "fr": "au-dessus", "sw": "juu"}[language] in text, text
    firing = PriceAlertFiring.objects.get()
    assert (firing.price_amount, firing.sent_at is not None) == (360_000, True)
    week_at(4_100)  # still above: no second SMS
    assert sent() == before + 1
    week_at(3_800)  # 3,420 a bag: crossed back, re-armed, silent
    assert sent() == before + 1 and PriceAlert.objects.get(pk=alert.pk).armed
    week_at(4_000)  # crosses again: one more SMS
    assert sent() == before + 2 and PriceAlertFiring.objects.count() == 2
