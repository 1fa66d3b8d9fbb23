"""Voting by USSD in an open decision of the member's cooperative."""

import datetime

import pytest
from django.utils import timezone

from marketplace.decisions.models import Decision, DecisionOption, Eligibility, Vote
from tests.channels.conftest import PIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def decision(coop, english_farmer, manager):
    now = timezone.now()
    decision = Decision.objects.create(
        organisation=coop, kind="motion", question="Buy a second drying shed?", status="open", created_by=manager,
        opens_at=now - datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(days=2), quorum_bp=0,
        threshold_bp=5000, eligible_count=1,
    )  # fmt: skip
    DecisionOption.objects.create(decision=decision, position=1, label="Yes")
    DecisionOption.objects.create(decision=decision, position=2, label="No")
    Eligibility.objects.create(decision=decision, farmer=english_farmer)
    return decision


def test_an_eligible_member_votes_with_the_pin(ussd, english_farmer, with_pin, decision):
    with_pin(english_farmer)
    session = ussd(english_farmer.phone)
    assert "5. Vote\n6. Help" in session.dial()
    assert session.press("5") == "CON Enter your 4-digit PIN:"
    assert session.press(PIN) == "CON Vote on:\n1. Buy a second drying shed?"
    assert session.press("7") == "CON Not an option. Vote on:\n1. Buy a second drying shed?"
    assert session.press("1") == "CON Buy a second drying shed?\n1. Yes\n2. No"
    screen = session.press("2")
    assert screen.startswith("END Your vote (No) is recorded. You can change it until ")
    vote = Vote.objects.get(decision=decision, farmer=english_farmer)
    assert vote.option.label == "No" and vote.channel == "phone"


def test_a_member_not_on_the_list_sees_no_vote_entry(ussd, farmer, decision):
    assert "Vote" not in ussd(farmer.phone).dial()
