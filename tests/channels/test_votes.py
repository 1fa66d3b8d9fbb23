"""Voting by phone, confirmed by a one-time code sent by SMS to the member's phone; driven through the gateway's
callback URLs exactly as Africa's Talking posts them (USSD sessions and inbound SMS)."""

import datetime
import re

import pytest
from django.utils import timezone

from marketplace.channels.models import Message
from marketplace.decisions.models import (
    Decision,
    DecisionOption,
    Eligibility,
    Participation,
    PhoneVoteCode,
    SecretBallot,
    Vote,
)
from tests.factories import MemberFarmerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_open(coop, english_farmer, manager):
    def make(question="Buy a second drying shed?", anonymous=False, voters=(english_farmer,)):
        now = timezone.now()
        decision = Decision.objects.create(
            organisation=coop, kind="motion", question=question, status="open", created_by=manager,
            opens_at=now - datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(days=2), quorum_bp=0,
            threshold_bp=5000, eligible_count=len(voters), anonymous=anonymous,
        )  # fmt: skip
        DecisionOption.objects.create(decision=decision, position=1, label="Yes")
        DecisionOption.objects.create(decision=decision, position=2, label="No")
        for voter in voters:
            Eligibility.objects.create(decision=decision, farmer=voter)
        return decision

    return make


@pytest.fixture
def decision(make_open):
    return make_open()


def codes_sent(phone) -> list[str]:
    bodies = Message.objects.filter(direction="out", phone=str(phone), body__contains="is your code").order_by("pk")
    return [re.match(r"(\d{6}) is your code", m.body).group(1) for m in bodies]


def reply_to(phone) -> str:
    return (
        Message.objects.filter(direction="out", phone=str(phone))
        .exclude(body__contains="is your code")
        .latest("pk")
        .body
    )


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_vote_by_ussd_is_recorded_only_when_the_code_sent_by_sms_is_entered(ussd, english_farmer, decision):
    session = ussd(english_farmer.phone)
    assert "5. Vote\n6. Help" in session.dial()
    assert session.press("5") == "CON Vote on:\n1. Buy a second drying shed?"  # no PIN: the code confirms
    assert session.press("7") == "CON Not an option. Vote on:\n1. Buy a second drying shed?"
    assert session.press("1") == "CON Buy a second drying shed?\n1. Yes\n2. No"
    assert session.press("2") == "CON We sent you a code by SMS. Enter it to confirm your vote (No):"
    [code] = codes_sent(english_farmer.phone)
    assert not Vote.objects.exists()
    assert session.press("12") == "CON The code is the 6 digits sent to you by SMS. Enter the code:"  # not a try
    assert session.press(other_code(code)) == "CON Wrong code. 2 tries left. Enter the code:"
    screen = session.press(code)
    assert screen.startswith("END Your vote (No) is recorded. You can change it until ")
    vote = Vote.objects.get(decision=decision, farmer=english_farmer)
    assert vote.option.label == "No" and vote.channel == "phone" and vote.recorded_by is None
    row = PhoneVoteCode.objects.get()
    assert row.used_at is not None and row.wrong_tries == 1


def test_the_code_is_stored_hashed_and_sent_through_the_gateway_to_the_members_phone(
    ussd, english_farmer, decision, django_capture_on_commit_callbacks
):
    session = ussd(english_farmer.phone)
    session.dial(), session.press("5"), session.press("1")
    with django_capture_on_commit_callbacks(execute=True):
        session.press("1")
    message = Message.objects.get(direction="out", body__contains="is your code")
    assert message.phone == str(english_farmer.phone) and message.farmer == english_farmer
    assert message.status == "sent" and message.gateway == "console"  # sent by the outbox task after commit
    code = codes_sent(english_farmer.phone)[0]
    row = PhoneVoteCode.objects.get()
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
    assert (row.expires_at - row.created_at).total_seconds() == pytest.approx(600, abs=2)


def test_a_replayed_post_sends_no_second_code(ussd, english_farmer, decision):
    session = ussd(english_farmer.phone)
    session.dial(), session.press("5"), session.press("1"), session.press("1")
    again = session.post("5*1*1")
    assert again.content.decode() == session.responses[-2].content.decode()
    assert len(codes_sent(english_farmer.phone)) == 1 and PhoneVoteCode.objects.count() == 1


def test_three_wrong_codes_void_the_code(ussd, sms_in, english_farmer, decision):
    session = ussd(english_farmer.phone)
    session.dial(), session.press("5"), session.press("1"), session.press("1")
    [code] = codes_sent(english_farmer.phone)
    wrong = other_code(code)
    assert session.press(wrong).endswith("2 tries left. Enter the code:")
    assert session.press(wrong).endswith("1 tries left. Enter the code:")
    assert session.press(wrong) == "END Wrong code 3 times: this code no longer works. Ask for a new code."
    sms_in(english_farmer.phone, f"VOTE {code} 1")  # the right code, too late
    assert reply_to(english_farmer.phone) == "Wrong code 3 times: this code no longer works. Ask for a new code."
    assert not Vote.objects.exists()


def test_an_expired_code_is_refused(ussd, english_farmer, decision):
    session = ussd(english_farmer.phone)
    session.dial(), session.press("5"), session.press("1"), session.press("2")
    [code] = codes_sent(english_farmer.phone)
    PhoneVoteCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert session.press(code) == "END This code has expired (codes last 10 minutes). Ask for a new code."
    assert not Vote.objects.exists()


def test_a_vote_by_sms_and_a_changed_vote_each_need_a_new_code(sms_in, english_farmer, decision, make_open):
    make_open(question="Elect Amina treasurer?")
    phone = english_farmer.phone
    sms_in(phone, "VOTE")
    assert reply_to(phone) == (
        "Votes open: 1 Buy a second drying shed? 2 Elect Amina treasurer?. Send VOTE and the number for a code, "
        "for example: VOTE 1"
    )
    sms_in(phone, "vote 1")
    assert reply_to(phone).startswith("Code sent by SMS. Reply VOTE, the code and your choice (1 Yes, 2 No)")
    [code] = codes_sent(phone)
    sms_in(phone, f"VOTE {code}")
    assert reply_to(phone) == f"Send VOTE, the code and your choice, for example: VOTE {code} 1"
    sms_in(phone, f"VOTE {code} 7")
    assert reply_to(phone) == "Not an option. Choose: 1 Yes, 2 No"
    sms_in(phone, f"VOTE {code} 1")
    assert reply_to(phone).startswith("Your vote (Yes) is recorded.")
    assert Vote.objects.get(decision=decision, farmer=english_farmer).option.label == "Yes"
    sms_in(phone, f"VOTE {code} 2")  # the same code again
    assert reply_to(phone) == "This code was already used. Ask for a new code to vote again."
    sms_in(phone, "VOTE 1")
    second = codes_sent(phone)[-1]
    sms_in(phone, f"VOTER {second} 2")  # French keyword
    assert Vote.objects.get(decision=decision, farmer=english_farmer).option.label == "No"
    assert Vote.objects.filter(farmer=english_farmer).count() == 1


def test_asking_again_voids_the_earlier_code(sms_in, english_farmer, decision):
    phone = english_farmer.phone
    sms_in(phone, "VOTE 1")
    sms_in(phone, "VOTE 1")
    first, second = codes_sent(phone)
    if first != second:
        sms_in(phone, f"VOTE {first} 1")
        assert reply_to(phone).startswith("Wrong code.")
    sms_in(phone, f"VOTE {second} 1")
    assert reply_to(phone).startswith("Your vote (Yes) is recorded.")


def test_a_code_answered_after_closing_is_refused_with_a_clear_message(sms_in, english_farmer, decision):
    phone = english_farmer.phone
    sms_in(phone, "VOTE 1")
    [code] = codes_sent(phone)
    Decision.objects.filter(pk=decision.pk).update(closes_at=timezone.now() - datetime.timedelta(minutes=1))
    sms_in(phone, f"VOTE {code} 1")
    assert reply_to(phone).startswith("Voting on “Buy a second drying shed?” closed on ")
    assert not Vote.objects.exists()
    assert PhoneVoteCode.objects.get().used_at is None


def test_at_most_five_codes_an_hour(sms_in, english_farmer, decision):
    for _ in range(5):
        sms_in(english_farmer.phone, "VOTE 1")
    sms_in(english_farmer.phone, "VOTE 1")
    assert reply_to(english_farmer.phone) == "Too many codes asked for in the last hour. Please try again later."
    assert len(codes_sent(english_farmer.phone)) == 5


def test_a_secret_ballot_by_phone_keeps_the_choice_apart_from_the_member(sms_in, english_farmer, make_open):
    decision = make_open(anonymous=True)
    sms_in(english_farmer.phone, "VOTE 1")
    [code] = codes_sent(english_farmer.phone)
    sms_in(english_farmer.phone, f"VOTE {code} 2")
    assert not Vote.objects.exists()
    assert Participation.objects.get(decision=decision).farmer == english_farmer
    assert SecretBallot.objects.get(decision=decision).option.label == "No"
    assert {f.name for f in PhoneVoteCode._meta.get_fields()}.isdisjoint({"option", "option_id"})


def test_a_member_not_on_the_list_sees_no_vote_entry_and_gets_no_code(ussd, sms_in, farmer, decision):
    assert "Vote" not in ussd(farmer.phone).dial()
    sms_in(farmer.phone, "VOTE 1")
    assert reply_to(farmer.phone) == "Aucun vote ouvert pour vous."  # this member reads French
    assert not PhoneVoteCode.objects.exists()


def test_another_cooperatives_member_cannot_confirm_with_this_members_code(
    sms_in, english_farmer, decision, other_coop
):
    stranger = MemberFarmerFactory(organisation=other_coop, member_number="OTH-1", language="en")
    sms_in(english_farmer.phone, "VOTE 1")
    [code] = codes_sent(english_farmer.phone)
    sms_in(stranger.phone, f"VOTE {code} 1")
    assert not Vote.objects.exists()
    assert PhoneVoteCode.objects.get().used_at is None


def test_the_code_and_the_screens_speak_the_members_language(ussd, farmer, make_open):
    make_open(voters=(farmer,))  # a French-speaking member
    session = ussd(farmer.phone)
    session.dial()
    assert session.press("5") == "CON Voter sur :\n1. Buy a second drying shed?"
    session.press("1")
    assert session.press("1") == "CON Un code vous a été envoyé par SMS. Entrez-le pour confirmer votre vote (Yes) :"
    sent = Message.objects.get(direction="out", body__contains="est votre code")
    code = sent.body[:6]
    assert sent.body == f"{code} est votre code pour confirmer votre vote sur « Buy a second drying shed? ». " \
                        "Valable 10 minutes. Ne le donnez à personne."  # fmt: skip
    assert session.press(code).startswith("END Votre vote (Yes) est enregistré.")
