"""Member decisions: who may vote, one member one vote, late votes, quorum and threshold, secrecy, gated actions."""

import datetime
from concurrent.futures import ThreadPoolExecutor
from itertools import product

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.decisions import gates, services
from marketplace.decisions.models import (
    Decision,
    Eligibility,
    Notice,
    Participation,
    SecretBallot,
    Vote,
)
from marketplace.decisions.tasks import decision_notice_send, decisions_due
from marketplace.organisations.models import MemberFarmer
from tests.decisions.conftest import motion
from tests.factories import MemberFarmerFactory

pytestmark = pytest.mark.django_db

# Written out here, not read from the code.
MOVES = {("draft", "open"), ("draft", "cancelled"), ("open", "closed"), ("open", "cancelled")}
STATUSES = ["draft", "open", "closed", "cancelled"]


def test_the_table_is_the_one_written_here():
    assert services.DECISION_TRANSITIONS.pairs() == MOVES


@pytest.mark.parametrize(("from_status", "to_status"), list(product(STATUSES, STATUSES)))
def test_every_pair_of_statuses(make_decision, manager, members, from_status, to_status):
    decision = make_decision(open_it=False)
    Decision.objects.filter(pk=decision.pk).update(status=from_status)
    call = {"actor": manager, "decision_id": decision.pk, "to_status": to_status, "reason": "test"}
    if (from_status, to_status) in MOVES:
        services.decision_transition(**call)
        assert Decision.objects.get(pk=decision.pk).status == to_status
        assert AuditEvent.objects.filter(action=f"decision.{to_status}", subject_id=str(decision.pk)).exists()
    else:
        with pytest.raises(InvalidTransition):
            services.decision_transition(**call)
        assert Decision.objects.get(pk=decision.pk).status == from_status


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"options": ["Yes"]}, "options"),
        ({"options": ["Yes", "yes"]}, "options"),
        ({"options": ["Yes", ""]}, "options"),
        ({"question": "  "}, "question"),
        ({"kind": "referendum"}, "kind"),
        ({"closes_at": timezone.now() - datetime.timedelta(days=1)}, "closes_at"),
        ({"quorum_bp": 10001}, "quorum_bp"),
        ({"threshold_bp": 0}, "threshold_bp"),
        (
            {"kind": "assembly", "description": "Agenda", "meeting_at": timezone.now() + datetime.timedelta(days=3)},
            "meeting_at",
        ),
        ({"kind": "assembly", "meeting_at": timezone.now() + datetime.timedelta(days=20)}, "description"),
        ({"kind": "proposal", "subject": ""}, "subject"),
        ({"kind": "proposal", "subject": "proposal:12"}, "subject"),  # no such proposal
    ],
)
def test_bad_decisions_are_refused_with_the_field_to_fix(manager, coop, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        services.decision_create(actor=manager, organisation_id=coop.pk, data=motion(**changes))
    assert field in refused.value.fields
    assert not Decision.objects.exists()


def test_an_assembly_is_called_at_least_the_notice_period_ahead(manager, coop):
    data = motion(
        kind="assembly", description="1. Accounts 2. Board", meeting_at=timezone.now() + datetime.timedelta(days=16)
    )
    decision = services.decision_create(actor=manager, organisation_id=coop.pk, data=data)
    assert decision.kind == "assembly"


def test_only_the_cooperatives_managers_create_and_move(clerk, outsider, coop, make_decision):
    with pytest.raises(PermissionDenied):
        services.decision_create(actor=clerk, organisation_id=coop.pk, data=motion())
    with pytest.raises(NotFound):
        services.decision_create(actor=outsider, organisation_id=coop.pk, data=motion())
    decision = make_decision(open_it=False)
    with pytest.raises(NotFound):
        services.decision_transition(actor=outsider, decision_id=decision.pk, to_status="open")
    with pytest.raises(NotFound):  # a clerk records votes but does not open or close
        services.decision_transition(actor=clerk, decision_id=decision.pk, to_status="open")


def test_who_may_vote_is_the_active_members_when_it_opens(make_decision, members, coop, clerk):
    members[0].status = MemberFarmer.Status.LEFT
    members[0].save()
    decision = make_decision()
    assert decision.eligible_count == 9
    assert set(Eligibility.objects.filter(decision=decision).values_list("farmer_id", flat=True)) == {
        m.pk for m in members[1:]
    }
    newcomer = MemberFarmerFactory(organisation=coop)
    MemberFarmer.objects.filter(pk=members[1].pk).update(status=MemberFarmer.Status.LEFT)  # leaves after opening
    yes = decision.options.get(position=1)
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[1].pk, option_id=yes.pk)
    with pytest.raises(ValidationFailed, match="only the members active when it opened"):
        services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=newcomer.pk, option_id=yes.pk)
    with pytest.raises(ValidationFailed):
        services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=yes.pk)


def test_one_member_one_vote_and_the_latest_counts(make_decision, members, clerk, manager):
    decision = make_decision()
    yes, no = decision.options.all()
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=yes.pk)
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=yes.pk)
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=no.pk)
    assert list(Vote.objects.filter(decision=decision).values_list("farmer_id", "option_id", "recorded_by")) == [
        (members[0].pk, no.pk, clerk.pk)
    ]
    assert AuditEvent.objects.filter(action="decision.vote", subject_id=str(decision.pk)).count() == 3
    for member in members[1:3]:
        services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=member.pk, option_id=yes.pk)
    closed = services.decision_close(actor=manager, decision_id=decision.pk)
    assert (closed.votes_cast, closed.quorum_met, closed.winning_option_id) == (3, True, yes.pk)


def test_a_vote_after_closing_is_refused_with_a_clear_message(make_decision, members, clerk):
    decision = make_decision()
    yes = decision.options.get(position=1)
    Decision.objects.filter(pk=decision.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(Conflict, match="no vote is taken after closing"):
        services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=yes.pk)
    assert not Vote.objects.exists()


def test_an_option_of_another_decision_is_refused(make_decision, members, clerk):
    first, second = make_decision(), make_decision(question="Another?")
    with pytest.raises(ValidationFailed):
        services.vote_cast(actor=clerk, decision_id=first.pk, farmer_id=members[0].pk,
                           option_id=second.options.first().pk)  # fmt: skip


def test_another_cooperatives_clerk_cannot_vote(make_decision, members, make_member):
    from marketplace.organisations.roles import Role

    decision = make_decision()
    stranger = make_member(Role.CLERK)
    with pytest.raises(NotFound):
        services.vote_cast(actor=stranger, decision_id=decision.pk, farmer_id=members[0].pk,
                           option_id=decision.options.first().pk)  # fmt: skip


@pytest.mark.parametrize(
    ("yes", "no", "quorum_met", "decided"),
    [
        (3, 0, True, True),  # 3 of 10 = 30 %, above a 30 % quorum... equal counts as met
        (2, 0, False, False),  # 20 % below the quorum
        (2, 2, True, False),  # a tie: no option reaches the threshold
        (3, 2, True, True),  # 60 % of votes cast, above a 60 % threshold (equal counts)
        (3, 3, True, False),
    ],
)
def test_quorum_and_threshold_edges(make_decision, members, clerk, manager, yes, no, quorum_met, decided):
    decision = make_decision(quorum_bp=3000, threshold_bp=6000)
    yes_option, no_option = decision.options.all()
    voters = iter(members)
    for option, count in ((yes_option, yes), (no_option, no)):
        for _ in range(count):
            services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=next(voters).pk, option_id=option.pk)
    closed = services.decision_close(actor=manager, decision_id=decision.pk)
    assert closed.quorum_met is quorum_met
    assert (closed.winning_option_id == yes_option.pk) is decided
    with pytest.raises(InvalidTransition):  # computed once
        services.decision_close(actor=manager, decision_id=decision.pk)


def test_a_secret_ballot_keeps_no_path_from_a_member_to_a_choice(make_decision, members, clerk, manager):
    decision = make_decision(anonymous=True)
    yes, no = decision.options.all()
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=yes.pk)
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=no.pk)  # changes
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[1].pk, option_id=yes.pk)
    assert not Vote.objects.exists()
    assert SecretBallot.objects.filter(decision=decision).count() == 2
    assert Participation.objects.filter(decision=decision).count() == 2
    ballot_fields = {f.name for f in SecretBallot._meta.get_fields()}
    assert "farmer" not in ballot_fields and not {"cast_at", "created_at"} & ballot_fields
    assert "option" not in {f.name for f in Participation._meta.get_fields()}
    for event in AuditEvent.objects.filter(action="decision.vote"):
        assert "option" not in event.data and "farmer" not in event.data
    with connection.cursor() as cursor:  # no column of the ballots table names a member
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                       [SecretBallot._meta.db_table])  # fmt: skip
        assert {row[0] for row in cursor.fetchall()} == {"id", "decision_id", "voter_key", "option_id"}
    closed = services.decision_close(actor=manager, decision_id=decision.pk)
    assert closed.votes_cast == 2 and closed.winning_option_id is None  # 1 yes, 1 no


def test_hands_counted_at_the_meeting_add_up_but_never_exceed_the_members(make_decision, members, clerk, manager):
    decision = make_decision()
    yes, no = decision.options.all()
    services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=members[0].pk, option_id=no.pk)
    services.show_of_hands_record(actor=clerk, decision_id=decision.pk, counts={yes.pk: 6, no.pk: 2})
    with pytest.raises(Conflict, match="more than the 10 members"):
        services.show_of_hands_record(actor=clerk, decision_id=decision.pk, counts={yes.pk: 8})
    with pytest.raises(ValidationFailed):
        services.show_of_hands_record(actor=clerk, decision_id=decision.pk, counts={yes.pk: -1})
    closed = services.decision_close(actor=manager, decision_id=decision.pk)
    assert (closed.votes_cast, closed.winning_option_id) == (9, yes.pk)


@pytest.mark.django_db(transaction=True)
def test_a_hundred_members_voting_at_once_lose_nothing(manager, clerk, coop):
    members = [MemberFarmerFactory(organisation=coop) for _ in range(100)]
    decision = services.decision_create(actor=manager, organisation_id=coop.pk, data=motion())
    services.decision_transition(actor=manager, decision_id=decision.pk, to_status="open")
    yes, no = decision.options.all()
    errors = []

    def vote(member, option):
        try:
            services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=member.pk, option_id=option.pk)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    # 100 votes from 10 connections at once (the test database allows only so many clients).
    with ThreadPoolExecutor(max_workers=10) as pool:
        for i, member in enumerate(members):
            pool.submit(vote, member, yes if i % 3 else no)
    assert errors == []
    assert Vote.objects.filter(decision=decision).count() == 100
    closed = services.decision_close(actor=manager, decision_id=decision.pk)
    assert closed.votes_cast == 100


def test_a_gated_action_is_taken_or_refused_through_its_gate(make_decision, members, clerk, manager, monkeypatch):
    taken = []
    gate = gates.Gate(
        exists=lambda organisation_id, pk: pk == 7,
        approve=lambda pk: taken.append(("approve", pk)) or "Proposal 7 accepted.",
        refuse=lambda pk: taken.append(("refuse", pk)) or "Proposal 7 declined.",
    )
    monkeypatch.setitem(gates.GATES, "proposal", gate)
    approved = make_decision(kind="proposal", subject="proposal:7", question="Sell lot 3 to Amstel?")
    for member in members[:5]:
        services.vote_cast(actor=clerk, decision_id=approved.pk, farmer_id=member.pk,
                           option_id=approved.options.get(position=1).pk)  # fmt: skip
    assert services.decision_close(actor=manager, decision_id=approved.pk).gate_result == "Proposal 7 accepted."
    refused = make_decision(kind="proposal", subject="proposal:7", question="Sell lot 4 to Amstel?")
    assert services.decision_close(actor=manager, decision_id=refused.pk).gate_result == "Proposal 7 declined."
    assert taken == [("approve", 7), ("refuse", 7)]


def test_the_beat_task_opens_closes_and_reminds_once(make_decision, members, clerk, sms_outbox):
    draft = make_decision(open_it=False)
    assert decisions_due() == {"opened": 1, "closed": 0, "reminded": 0}
    Decision.objects.filter(pk=draft.pk).update(closes_at=timezone.now() + datetime.timedelta(hours=5))
    assert decisions_due()["reminded"] == 1
    assert decisions_due()["reminded"] == 0
    Decision.objects.filter(pk=draft.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))
    assert decisions_due()["closed"] == 1
    assert decisions_due() == {"opened": 0, "closed": 0, "reminded": 0}
    assert Decision.objects.get(pk=draft.pk).status == "closed"


def test_members_are_told_once_per_notice(make_decision, members, sms_outbox):
    decision = make_decision()
    assert decision_notice_send(decision.pk, "opened") == 10
    assert decision_notice_send(decision.pk, "opened") == 0
    assert Notice.objects.filter(decision=decision, what="opened").count() == 10
    assert len(sms_outbox) == 10
    assert decision.question in sms_outbox[0].body
