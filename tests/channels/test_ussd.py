"""The USSD callback driven as Africa's Talking drives it: form posts with sessionId, serviceCode, phoneNumber,
networkCode and the whole path typed so far in `text`."""

import pytest
from django.utils import translation

from marketplace.channels.models import FarmerPin, UssdSession
from marketplace.core.models import AuditEvent
from tests.channels.conftest import PIN, SECRET
from tests.factories import MemberFarmerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def test_the_main_menu_lists_every_entry_in_the_members_language(ussd, farmer):
    screen = ussd(farmer.phone).dial()
    assert screen.startswith("CON Coopérative Agricole de la Nawa\n")  # the cooperative's language: French
    assert "1. Mon solde et dernier paiement" in screen
    assert "2. Mes dernières livraisons" in screen
    assert "3. Prix du jour de mes cultures" in screen
    assert "4. Mon crédit intrants" in screen
    assert "5. Aide" in screen


def test_balance_needs_the_pin_and_shows_the_last_payout(ussd, paid_farmer, with_pin):
    with_pin(paid_farmer)
    paid_farmer.language = "en"
    paid_farmer.save()
    session = ussd(paid_farmer.phone)
    session.dial()
    assert session.press("1") == "CON Enter your 4-digit PIN:"
    screen = session.press(PIN)
    assert screen.startswith("END Owed to you: 45,000 XOF.\n")
    assert "Last payout PB" in screen and "paid 1,109,876 XOF" in screen and "01/12/2026" in screen


def test_balance_without_any_payout(ussd, english_farmer, with_pin):
    with_pin(english_farmer)
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("1")
    assert session.press(PIN) == "END Nothing owed to you now. No payout yet."


def test_last_deliveries_need_no_pin(ussd, farmer, plot, record, english_farmer):
    record(farmer, net_grams=250_000)
    record(farmer, net_grams=187_500)
    session = ussd(farmer.phone)
    session.dial()
    screen = session.press("2")
    assert screen.startswith("END Vos dernières livraisons :")
    assert "187.5 kg" in screen and "250 kg" in screen
    other = ussd(english_farmer.phone)
    other.dial()
    assert other.press("2") == "END No delivery recorded for you yet."


def test_todays_prices_for_the_crops_the_member_delivers(ussd, farmer, plot, record, make_lot, make_listing):
    record(farmer)
    make_listing(make_lot(), price=__import__("marketplace.core.money", fromlist=["Money"]).Money(1500, "XOF"))
    session = ussd(farmer.phone)
    session.dial()
    screen = session.press("3")
    assert screen.startswith("END Prix du jour à Coopérative Agricole de la Nawa")
    assert "1,500 XOF/kg" in screen


def test_no_prices_when_the_cooperative_posted_none(ussd, english_farmer):
    session = ussd(english_farmer.phone)
    session.dial()
    assert session.press("3").startswith("END No price posted today by Coopérative Agricole de la Nawa")


def test_input_credit_needs_the_pin(ussd, paid_farmer, with_pin):
    with_pin(paid_farmer)
    session = ussd(paid_farmer.phone)
    session.dial()
    session.press("4")
    assert session.press(PIN).startswith("END Crédit intrants à rembourser : 12,500 XOF.")


def test_help_lists_the_sms_keywords(ussd, english_farmer):
    session = ussd(english_farmer.phone)
    session.dial()
    assert session.press("5") == (
        "END Send BAL PIN, DEL, PRICES, CREDIT PIN, ALERT, HELP. PIN: your 4 digits from the clerk."
    )


@pytest.mark.parametrize("bad", ["9", "0", "x", " ", "1a", "12", "#"])
def test_an_unknown_option_or_letters_show_the_menu_again(ussd, english_farmer, bad):
    session = ussd(english_farmer.phone)
    session.dial()
    screen = session.press(bad)
    assert screen.startswith("CON Not an option. Coopérative")
    assert "1. My balance and last payout" in screen
    assert session.press("2") == "END No delivery recorded for you yet."  # the menu still works after the mistake


def test_letters_where_the_pin_is_due_do_not_count_as_a_try(ussd, english_farmer, with_pin):
    with_pin(english_farmer)
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("1")
    assert session.press("abcd") == "CON The PIN is 4 digits. Enter your 4-digit PIN:"
    assert FarmerPin.objects.get(farmer=english_farmer).failed_attempts == 0
    assert session.press(PIN).startswith("END Nothing owed to you now.")


def test_wrong_pins_lock_after_five_tries_and_a_replay_counts_once(ussd, english_farmer, with_pin, clerk):
    with_pin(english_farmer)
    for left in (4, 3, 2, 1):
        session = ussd(english_farmer.phone)
        session.dial()
        session.press("1")
        assert session.press("9999") == f"END Wrong PIN. {left} tries left."
        # the gateway retries the same request: same screen, the try is not counted again
        assert session.screen(session.post("1*9999")) == f"END Wrong PIN. {left} tries left."
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("1")
    assert session.press("9999").startswith("END Your PIN is locked after 5 wrong tries.")
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("1")
    assert session.press(PIN).startswith("END Your PIN is locked")  # even the right PIN, once locked
    pin = FarmerPin.objects.get(farmer=english_farmer)
    assert pin.failed_attempts == 5 and pin.locked_at is not None
    assert AuditEvent.objects.filter(action="farmer_pin.locked", subject_id=str(pin.pk)).count() == 1
    with_pin(english_farmer, "4827")  # the clerk sets a new PIN: unlocked
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("1")
    assert session.press("4827").startswith("END Nothing owed")


def test_a_right_pin_resets_the_count(ussd, english_farmer, with_pin):
    with_pin(english_farmer)
    for pin in ("1111", PIN):
        session = ussd(english_farmer.phone)
        session.dial()
        session.press("1")
        session.press(pin)
    assert FarmerPin.objects.get(farmer=english_farmer).failed_attempts == 0


def test_no_pin_yet(ussd, english_farmer):
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("4")
    assert session.press("1234") == ("END You have no PIN yet. Ask the clerk at your collection point to set one.")


def test_replaying_the_same_request_gives_the_same_screen(ussd, english_farmer, plot, record):
    session = ussd(english_farmer.phone)
    first = session.dial()
    assert session.screen(session.post("")) == first
    second = session.press("2")
    record(english_farmer)  # the data changes, but a replay is answered from the session
    assert session.screen(session.post("2")) == second
    assert session.screen(session.post("")) == first


@pytest.mark.parametrize("path", [["3*4"], ["1", "1*2", "3"], ["1", "2"], ["2", "2*1"]])
def test_a_session_that_jumps_ends(ussd, english_farmer, path):
    session = ussd(english_farmer.phone)
    session.dial()
    responses = [session.screen(session.post(text)) for text in path]
    assert responses[-1] == "END This session is out of step. Please dial again."
    assert UssdSession.objects.get(session_id=session.session_id).ended


def test_a_session_must_start_empty(ussd, english_farmer):
    session = ussd(english_farmer.phone)
    assert session.screen(session.post("1")) == "END This session is out of step. Please dial again."


def test_another_phone_cannot_continue_or_replay_a_session(ussd, english_farmer, farmer, with_pin, paid_farmer):
    with_pin(paid_farmer)
    session = ussd(paid_farmer.phone)
    session.dial()
    session.press("1")
    assert session.press(PIN).startswith("END On vous doit : 45,000 XOF.")
    session.phone = str(english_farmer.phone)
    assert session.screen(session.post(f"1*{PIN}")) == "END This session is out of step. Please dial again."
    session = ussd(english_farmer.phone)
    session.dial()
    session.phone = str(paid_farmer.phone)
    assert session.press("2") == "END This session is out of step. Please dial again."


def test_an_unknown_number_gets_a_polite_end_with_a_contact(ussd, coop):
    operator = OrganisationFactory(kind="operator", legal_name="CoopMarket", phone="+254711000111", country="KE")
    assert operator
    screen = ussd("+254700999888").dial()
    assert screen == (
        "END Sorry, this number is not registered with a cooperative. Please contact CoopMarket +254711000111."
    )


def test_a_member_who_left_is_pointed_to_the_cooperative(ussd, coop):
    coop.phone = "+22527000000"
    coop.save()
    MemberFarmerFactory(organisation=coop, phone="+2250700000777", status="left")
    screen = ussd("+2250700000777").dial()
    assert screen.startswith("END Sorry, this number is not registered")
    assert "Coopérative Agricole de la Nawa +22527000000" in screen


@pytest.mark.parametrize("phone", ["not-a-number", "+1", ""])
def test_a_malformed_number_is_unknown(ussd, phone):
    response = ussd(phone).post("")
    if phone == "":
        assert response.content.decode().startswith("END Sorry")
    else:
        assert response.content.decode().startswith("END Sorry")


def test_a_number_shared_by_two_cooperatives_asks_which(ussd, coop, other_coop):
    mine = MemberFarmerFactory(organisation=coop, phone="+2250701020304", member_number="NAW-7", language="en")
    theirs = MemberFarmerFactory(organisation=other_coop, phone="+2250701020304", member_number="BET-9")
    session = ussd("+2250701020304")
    screen = session.dial()
    assert screen.startswith("CON This number is with several cooperatives. Which one?")
    assert "1. Coopérative Agricole de la Nawa (NAW-7)" in screen
    assert "2. Société Coopérative Beta (BET-9)" in screen
    assert session.press("x").startswith("CON Not an option. This number")
    menu = session.press("2")
    assert menu.startswith("CON Société Coopérative Beta\n1. Mon solde")  # Beta's member, in Beta's language
    assert UssdSession.objects.get(session_id=session.session_id).farmer == theirs
    assert mine != theirs


def test_no_farmer_reads_another_farmers_data(ussd, paid_farmer, english_farmer, with_pin):
    """The caller is the number's member; no input names another member, and another member's PIN opens nothing."""
    with_pin(paid_farmer)
    with_pin(english_farmer, "4827")
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("1")
    screen = session.press(PIN)  # the other member's PIN
    assert screen == "END Wrong PIN. 4 tries left."
    session = ussd(english_farmer.phone)
    session.dial()
    session.press("1")
    screen = session.press("4827")
    assert "45,000" not in screen and "1,109,876" not in screen
    assert screen == "END Nothing owed to you now. No payout yet."


def test_a_wrong_secret_is_404_and_answers_nothing(gateway_client, english_farmer):
    for secret in ("wrong", SECRET + "x", "demo-callback"):
        response = gateway_client.post(
            f"/channels/africastalking/{secret}/ussd/",
            {"sessionId": "s1", "phoneNumber": str(english_farmer.phone), "text": ""},
        )
        assert response.status_code == 404
    assert not UssdSession.objects.exists()


def test_no_secret_configured_means_no_callback(gateway_client, settings, english_farmer):
    settings.CHANNELS_CALLBACK_SECRET = ""
    response = gateway_client.post("/channels/africastalking//ussd/", {"sessionId": "s1", "phoneNumber": "+1"})
    assert response.status_code == 404


def test_bad_forms_are_400_and_get_is_405(gateway_client):
    url = f"/channels/africastalking/{SECRET}/ussd/"
    response = gateway_client.post(url, {"phoneNumber": "+254700000000"})
    assert response.status_code == 400
    assert "sessionId" in response.content.decode()
    assert gateway_client.get(url).status_code == 405


def test_queries_per_screen_are_bounded(ussd, paid_farmer, with_pin, django_assert_max_num_queries):
    with_pin(paid_farmer)
    session = ussd(paid_farmer.phone)
    # One query more per screen than before the inputs entry: whether an ordering window is open for the member.
    with django_assert_max_num_queries(13):
        session.dial()
    with django_assert_max_num_queries(13):
        session.press("1")
    with django_assert_max_num_queries(17):
        session.press(PIN)


@pytest.mark.parametrize("language", ["en", "fr", "sw"])
def test_every_screen_fits_in_182_characters_in_every_language(
    ussd, coop, language, paid_farmer, with_pin, plot, record, make_lot, make_listing
):
    coop.legal_name = "Coopérative des Producteurs Agricoles Unis de la Région de la Nawa et Environs"
    coop.save()
    paid_farmer.language = language
    paid_farmer.save()
    with_pin(paid_farmer)
    for _ in range(4):
        record(paid_farmer)
    make_listing(make_lot())
    with translation.override(language):
        paths = [[], ["1"], ["1", PIN], ["2"], ["3"], ["4"], ["4", PIN], ["5"], ["x"], ["1", "ab"], ["1", "9999"]]
        for path in paths:
            session = ussd(paid_farmer.phone)
            session.dial()
            for value in path:
                session.press(value)  # Ussd.screen asserts <= 182 characters
    assert "…" not in "".join(r.content.decode() for r in session.responses)
