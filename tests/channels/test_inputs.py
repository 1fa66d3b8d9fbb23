"""Asking for inputs in an open ordering window, by USSD and by SMS keyword, driven through the gateway callbacks
exactly as Africa's Talking posts them. The request is recorded by the orders app's service as a timestamped change
made by the member on their phone (no user)."""

import datetime

import pytest
from django.utils import timezone

from marketplace.channels.models import Message
from orders.group_models import MemberRequest, OrderingWindow, RequestChange
from orders.services import group_windows
from tests.catalogue.factories import InputProductFactory, PackagingFactory
from tests.factories import MemberFarmerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(db):
    return [
        InputProductFactory(packaging=PackagingFactory(net_mass_grams=50_000), name="NPK 15-15-15"),
        InputProductFactory(packaging=PackagingFactory(net_mass_grams=25_000), name="Urea 46"),
    ]


@pytest.fixture
def open_window(coop, manager, products):
    def make(organisation=coop, actor=manager, name="Long rains", **fields):
        now = timezone.now()
        window = group_windows.window_create(
            actor=actor, organisation_id=organisation.pk, name=name, product_ids=[p.pk for p in products],
            opens_at=now - datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(days=7), **fields,
        )  # fmt: skip
        return group_windows.window_transition(actor=actor, window_id=window.pk, to_status="open")

    return make


@pytest.fixture
def window(open_window):
    return open_window()


def _menu_number(screen: str, label: str) -> str:
    for line in screen.splitlines():
        if line.endswith(label):
            return line.split(".")[0]
    raise AssertionError(f"{label!r} not in {screen!r}")


def _start(ussd, farmer, label="Order inputs"):
    session = ussd(farmer.phone)
    menu = session.dial()
    session.press(_menu_number(menu, label))
    return session


def test_no_entry_without_an_open_window(ussd, english_farmer):
    assert "Order inputs" not in ussd(english_farmer.phone).dial()


def test_the_whole_path_records_a_change_by_the_member(ussd, english_farmer, window, products):
    session = ussd(english_farmer.phone)
    menu = session.dial()
    assert "5. Order inputs" in menu and menu.endswith("6. Help")
    screen = session.press("5")
    assert screen == "CON Which input?\n1. NPK 15-15-15\n2. Urea 46"
    screen = session.press("1")
    assert screen == "CON NPK 15-15-15, pack of 50 kg. You ask for 0 kg now.\nHow many kg to add? (1-10,000)"
    screen = session.press("120")
    assert screen == "CON How many kg more would you accept to fill a pack? (0-50)"
    screen = session.press("30")
    assert screen.startswith("CON Add 120 kg of NPK 15-15-15, up to 30 kg more to fill a pack, in Long rains?")
    assert screen.endswith("\n1. Confirm\n2. Cancel")
    screen = session.press("1")
    assert screen.startswith("END Recorded. You now ask for 120 kg of NPK 15-15-15, 30 kg extra to fill a pack.")
    request = MemberRequest.objects.get(farmer=english_farmer, window=window)
    assert (request.product_id, request.quantity, request.tolerance) == (products[0].pk, 120_000, 30_000)
    change = RequestChange.objects.get(request=request)
    assert (change.channel, change.recorded_by_id, change.quantity_delta) == ("ussd", None, 120_000)

    # Replaying the last post (the gateway retries) shows the same screen and records nothing more.
    again = session.post("5*1*120*30*1")
    assert again.content.decode() == screen
    assert RequestChange.objects.filter(request=request).count() == 1

    # A second session adds to the request; the quantity screen shows what the member asks for now.
    second = _start(ussd, english_farmer)
    assert "You ask for 120 kg now." in second.press("1")
    second.press("80")
    second.press("0")
    assert "You now ask for 200 kg" in second.press("1")
    assert RequestChange.objects.filter(request=request).count() == 2


def test_cancel_records_nothing(ussd, english_farmer, window):
    session = _start(ussd, english_farmer)
    session.press("2")
    session.press("10")
    session.press("0")
    assert session.press("2") == "END Cancelled. Nothing was recorded."
    assert not RequestChange.objects.exists()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["x"], "CON Not an option. Which input?"),
        (["9"], "CON Not an option. Which input?"),
        (["1", "ten"], "CON Not a valid quantity. NPK 15-15-15"),
        (["1", "0"], "CON Not a valid quantity. NPK 15-15-15"),
        (["1", "10001"], "CON Not a valid quantity. NPK 15-15-15"),
        (["1", "-5"], "CON Not a valid quantity. NPK 15-15-15"),
        (["1", "12.5"], "CON Not a valid quantity. NPK 15-15-15"),
        (["1", "10", "51"], "CON Not a valid quantity. How many kg more"),
        (["2", "10", "26"], "CON Not a valid quantity. How many kg more"),
        (["1", "10", "5", "3"], "CON Not an option. Add 10 kg"),
    ],
)
def test_bad_input_gets_a_clear_screen_and_records_nothing(ussd, english_farmer, window, path, expected):
    session = _start(ussd, english_farmer)
    screen = ""
    for value in path:
        screen = session.press(value)
    assert screen.startswith(expected), screen
    assert not RequestChange.objects.exists()


def test_a_good_value_after_a_bad_one_goes_on(ussd, english_farmer, window):
    session = _start(ussd, english_farmer)
    session.press("1")
    session.press("abc")
    assert session.press("40").startswith("CON How many kg more")


def test_window_closed_meanwhile(ussd, english_farmer, window, manager):
    session = _start(ussd, english_farmer)
    session.press("1")
    session.press("100")
    session.press("0")
    group_windows.window_transition(actor=manager, window_id=window.pk, to_status="closed")
    assert session.press("1") == "END The ordering window Long rains is closed; your request was not recorded."
    assert not RequestChange.objects.exists()
    # A new session within the hour still numbers the product the same way and says the window closed.
    later = ussd(english_farmer.phone)
    menu = later.dial()
    screen = later.press(_menu_number(menu, "Order inputs"))
    assert "1. NPK 15-15-15 - closed" in screen
    assert later.press("1").startswith("END The ordering window Long rains is closed")


def test_closing_time_passed_before_the_beat_closed_it(ussd, english_farmer, window):
    session = _start(ussd, english_farmer)
    session.press("1")
    session.press("100")
    session.press("0")
    OrderingWindow.objects.filter(pk=window.pk).update(
        opens_at=timezone.now() - datetime.timedelta(days=2), closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert session.press("1").startswith("END The ordering window Long rains is closed")
    assert not RequestChange.objects.exists()


def test_another_cooperatives_window_is_never_offered(ussd, english_farmer, open_window, other_coop, outsider):
    open_window(organisation=other_coop, actor=outsider, name="Elsewhere")
    assert "Order inputs" not in ussd(english_farmer.phone).dial()
    from marketplace.core.errors import NotFound

    foreign = OrderingWindow.objects.get(name="Elsewhere")
    with pytest.raises(NotFound):
        group_windows.request_change(actor=None, window_id=foreign.pk, product_id=foreign.products.first().product_id,
                                     farmer_id=english_farmer.pk, quantity_delta=1000, channel="ussd")  # fmt: skip


def test_without_a_user_only_the_phone_channels_record(english_farmer, window, products):
    from marketplace.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        group_windows.request_change(actor=None, window_id=window.pk, product_id=products[0].pk,
                                     farmer_id=english_farmer.pk, quantity_delta=1000, channel="clerk")  # fmt: skip
    with pytest.raises(PermissionDenied):
        group_windows.request_change(actor=None, window_id=window.pk, product_id=products[0].pk,
                                     quantity_delta=1000, channel="sms")  # fmt: skip


def test_two_windows_name_each_product_line(ussd, english_farmer, open_window):
    open_window(name="Long rains")
    open_window(name="Short rains")
    session = _start(ussd, english_farmer)
    screen = session.screen(session.responses[-1])
    assert "1. NPK 15-15-15 (Long rains)" in screen and "4. Urea 46 (Short rains)" in screen


@pytest.mark.parametrize("language", ["en", "fr", "sw"])
def test_every_screen_fits_in_every_language(ussd, coop, window, language):
    farmer = MemberFarmerFactory(organisation=coop, member_number=f"NAW-9{language}", language=language)
    session = ussd(farmer.phone)
    menu = session.dial()
    number = menu.splitlines()[5].split(".")[0]  # the sixth line: the inputs entry after the four built-in ones
    screens = [menu, session.press(number), session.press("1"), session.press("9999"), session.press("50")]
    screens.append(session.press("1"))
    for screen in screens:
        assert len(screen) <= 182 and not screen.endswith("…"), screen  # Ussd.screen checks the length too
    assert screens[-1].startswith("END ")
    assert MemberRequest.objects.get(farmer=farmer).quantity == 9_999_000
    if language != "en":
        assert "Recorded" not in screens[-1]


# --- SMS keyword ------------------------------------------------------------------------------------------------


def _reply(farmer) -> str:
    return Message.objects.filter(direction="out", farmer=farmer).order_by("-pk").first().body


def test_sms_keyword_lists_then_records(sms_in, english_farmer, window, products):
    sms_in(english_farmer.phone, "input")
    listing = _reply(english_farmer)
    assert listing.startswith("Inputs open until ")
    assert "1 NPK 15-15-15 (kg), 2 Urea 46 (kg)" in listing and "Send INPUT 1 100 10" in listing
    sms_in(english_farmer.phone, "INPUT 2 1000 25")  # 1000 is not taken for a PIN
    assert _reply(english_farmer).startswith("Recorded. You now ask for 1,000 kg of Urea 46, 25 kg extra")
    change = RequestChange.objects.get()
    assert (change.channel, change.quantity_delta, change.tolerance_delta, change.recorded_by_id) == (
        "sms", 1_000_000, 25_000, None)  # fmt: skip


def test_the_same_inbound_sms_posted_twice_records_once(sms_in, english_farmer, window):
    sms_in(english_farmer.phone, "INPUT 1 50", message_id="ATXid_same")
    sms_in(english_farmer.phone, "INPUT 1 50", message_id="ATXid_same")
    assert RequestChange.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INPUT 7 100", "No input number 7. Inputs open until"),
        ("INPUT one 100", "Send numbers only, for example: INPUT 1 100 10"),
        ("INPUT 1", "Add the quantity in kg, for example: INPUT 1 100 10"),
        ("INPUT 1 0", "The quantity is from 1 to 10,000 kg."),
        ("INPUT 1 20000", "The quantity is from 1 to 10,000 kg."),
        ("INPUT 1 10 60", "The extra to fill a pack is from 0 to 50 kg."),
        ("INPUT 1 10 5 5", "Send numbers only"),
    ],
)
def test_sms_bad_input(sms_in, english_farmer, window, text, expected):
    sms_in(english_farmer.phone, text)
    assert _reply(english_farmer).startswith(expected)
    assert not RequestChange.objects.exists()


def test_sms_when_no_window_is_open(sms_in, english_farmer):
    sms_in(english_farmer.phone, "Pembejeo 1 10")
    assert _reply(english_farmer) == "No ordering window is open for you now."


def test_sms_after_the_window_closed(sms_in, english_farmer, window, manager):
    group_windows.window_transition(actor=manager, window_id=window.pk, to_status="closed")
    sms_in(english_farmer.phone, "INPUT 1 10")
    assert _reply(english_farmer) == "No ordering window is open for you now."
    assert not RequestChange.objects.exists()


@pytest.mark.parametrize(("language", "keyword"), [("fr", "intrant"), ("sw", "PEMBEJEO"), ("en", "Inputs")])
def test_sms_in_each_language(sms_in, coop, window, language, keyword):
    from marketplace.core.sms_segments import segment_count

    farmer = MemberFarmerFactory(organisation=coop, member_number=f"NAW-8{language}", language=language)
    sms_in(farmer.phone, keyword)
    listing = _reply(farmer)
    assert segment_count(listing) <= 2, listing
    sms_in(farmer.phone, f"{keyword} 1 100 10")
    recorded = _reply(farmer)
    assert segment_count(recorded) <= 2, recorded
    assert MemberRequest.objects.get(farmer=farmer).quantity == 100_000
    if language != "en":
        assert not recorded.startswith("Recorded")


def test_a_shared_number_names_the_cooperative_first(sms_in, coop, other_coop, window, outsider, open_window):
    phone = "+2250701020304"
    mine = MemberFarmerFactory(organisation=coop, member_number="NAW-7001", phone=phone, language="en")
    MemberFarmerFactory(organisation=other_coop, member_number="OTH-7001", phone=phone, language="en")
    sms_in(phone, "INPUT")
    assert "Add the number" in Message.objects.filter(direction="out").order_by("-pk").first().body
    names = sorted([coop.name, other_coop.name])
    position = names.index(coop.name) + 1
    sms_in(phone, f"INPUT {position} 1 100")
    assert _reply(mine).startswith("Recorded. You now ask for 100 kg of NPK 15-15-15")


def test_queries_per_input_screen_are_bounded(ussd, english_farmer, window, django_assert_max_num_queries):
    session = _start(ussd, english_farmer)
    for value, most in (("1", 14), ("100", 14), ("10", 14), ("1", 30)):
        with django_assert_max_num_queries(most):
            session.press(value)
    assert MemberRequest.objects.get(farmer=english_farmer).quantity == 100_000
