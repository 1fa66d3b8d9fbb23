"""The one-time codes that confirm votes by phone, at the service level: the phone flows are tested through the
gateway's callbacks in tests/channels/test_votes.py."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.decisions import services
from marketplace.decisions.models import PhoneVoteCode, Vote
from marketplace.decisions.services import CodeVerdict
from tests.decisions.conftest import motion
from tests.factories import MemberFarmerFactory

pytestmark = pytest.mark.django_db


def code_in(outbox) -> str:
    return re.match(r"(\d{6}) ", outbox[-1].body).group(1)  # first, in every language


def test_a_vote_without_a_clerk_is_refused(make_decision, members):
    decision = make_decision()
    with pytest.raises(PermissionDenied, match="code sent to the member's phone"):
        services.vote_cast(actor=None, decision_id=decision.pk, farmer_id=members[0].pk,
                           option_id=decision.options.first().pk)  # fmt: skip
    assert not Vote.objects.exists()


def test_codes_go_only_to_eligible_members_of_open_decisions(make_decision, members, coop, sms_outbox):
    draft = make_decision(open_it=False)
    with pytest.raises(Conflict, match="not open"):
        services.phone_vote_code_issue(decision_id=draft.pk, farmer_id=members[0].pk)
    decision = make_decision(question="Open one?")
    newcomer = MemberFarmerFactory(organisation=coop)  # joined after it opened
    with pytest.raises(ValidationFailed):
        services.phone_vote_code_issue(decision_id=decision.pk, farmer_id=newcomer.pk)
    stranger = MemberFarmerFactory()  # another cooperative's member
    with pytest.raises(NotFound):
        services.phone_vote_code_issue(decision_id=decision.pk, farmer_id=stranger.pk)
    assert sms_outbox == [] and not PhoneVoteCode.objects.exists()
    services.phone_vote_code_issue(decision_id=decision.pk, farmer_id=members[0].pk)
    assert [m.to for m in sms_outbox] == [str(members[0].phone)]


def test_the_code_is_bound_to_the_member(make_decision, members, sms_outbox):
    decision = make_decision()
    services.phone_vote_code_issue(decision_id=decision.pk, farmer_id=members[0].pk)
    code = code_in(sms_outbox)
    other = services.phone_vote_confirm(farmer_id=members[1].pk, code=code, option_number=1)
    assert other.verdict == CodeVerdict.NONE
    assert services.phone_vote_confirm(farmer_id=members[0].pk, code=code, option_number=0).verdict == "bad_option"
    assert services.phone_vote_confirm(farmer_id=members[0].pk, code=code, option_number=1).verdict == "ok"
    assert Vote.objects.get().farmer == members[0]


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", " 12 34 "])
def test_a_malformed_code_counts_no_try(make_decision, members, sms_outbox, code):
    decision = make_decision()
    services.phone_vote_code_issue(decision_id=decision.pk, farmer_id=members[0].pk)
    assert services.phone_vote_confirm(farmer_id=members[0].pk, code=code, option_number=1).verdict == "malformed"
    assert PhoneVoteCode.objects.get().wrong_tries == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_code_sent_twice_at_once_records_one_vote(manager, coop, sms_outbox):
    members = [MemberFarmerFactory(organisation=coop) for _ in range(10)]
    decision = services.decision_create(actor=manager, organisation_id=coop.pk, data=motion())
    services.decision_transition(actor=manager, decision_id=decision.pk, to_status="open")
    codes = {}
    for member in members:
        services.phone_vote_code_issue(decision_id=decision.pk, farmer_id=member.pk)
        codes[member.pk] = code_in(sms_outbox)
    verdicts, errors = [], []

    def confirm(member):
        try:
            verdicts.append(services.phone_vote_confirm(farmer_id=member.pk, code=codes[member.pk], option_number=1))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        for member in members * 3:  # every code three times, at once
            pool.submit(confirm, member)
    assert errors == []
    assert sorted(v.verdict.value for v in verdicts) == ["ok"] * 10 + ["used"] * 20
    assert Vote.objects.filter(decision=decision).count() == 10
    assert PhoneVoteCode.objects.filter(used_at__isnull=False).count() == 10
