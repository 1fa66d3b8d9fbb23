"""The core transition helper: lock, check the table, apply, save, audit — or change nothing."""

import pytest

from marketplace.core.errors import InvalidTransition, NotFound
from marketplace.core.models import AuditEvent
from marketplace.core.transitions import TransitionTable, transition
from marketplace.organisations.models import MemberFarmer
from tests.factories import MemberFarmerFactory

TABLE = TransitionTable("farmer_test", {"active": {"inactive"}, "inactive": {"active"}})


def test_the_table_answers_from_its_literal_pairs():
    assert TABLE.allows("active", "inactive")
    assert not TABLE.allows("active", "active")
    assert not TABLE.allows("unknown", "active")
    assert TABLE.next_of("inactive") == ["active"]
    assert TABLE.next_of("nowhere") == []
    assert TABLE.pairs() == {("active", "inactive"), ("inactive", "active")}
    assert TABLE.statuses() == {"active", "inactive"}


def test_a_refused_move_names_the_moves_that_are_allowed():
    with pytest.raises(InvalidTransition) as refused:
        TABLE.check("active", "archived")
    assert "From active it can become: inactive." in refused.value.message
    assert refused.value.status_code == 409


@pytest.mark.django_db
def test_an_allowed_move_saves_applies_and_audits_in_one_go():
    farmer = MemberFarmerFactory(status="active")
    seen = []

    def apply(locked):
        seen.append(locked.status)
        return {"checked": True}

    moved = transition(
        model=MemberFarmer, pk=farmer.pk, table=TABLE, to_status="inactive", actor=None,
        reason="left the village", organisation_id=farmer.organisation_id, data={"by": "test"}, apply=apply,
    )  # fmt: skip

    assert seen == ["active"]  # apply runs before the status changes, under the lock
    assert moved.status == "inactive"
    farmer.refresh_from_db()
    assert farmer.status == "inactive"
    event = AuditEvent.objects.get(action="farmer_test.inactive")
    assert (event.from_status, event.to_status, event.reason) == ("active", "inactive", "left the village")
    assert event.data == {"by": "test", "checked": True}
    assert event.subject_id == str(farmer.pk)


@pytest.mark.django_db
def test_a_refused_move_changes_nothing_and_runs_no_effect():
    farmer = MemberFarmerFactory(status="inactive")
    with pytest.raises(InvalidTransition):
        transition(
            model=MemberFarmer, pk=farmer.pk, table=TABLE, to_status="inactive", actor=None,
            apply=lambda _: pytest.fail("an effect ran for a refused move"),
        )  # fmt: skip
    assert not AuditEvent.objects.filter(action__startswith="farmer_test.").exists()


@pytest.mark.django_db
def test_an_effect_that_fails_rolls_the_move_back():
    farmer = MemberFarmerFactory(status="active")

    def apply(_):
        raise InvalidTransition("not now")

    with pytest.raises(InvalidTransition):
        transition(model=MemberFarmer, pk=farmer.pk, table=TABLE, to_status="inactive", actor=None, apply=apply)
    farmer.refresh_from_db()
    assert farmer.status == "active"
    assert not AuditEvent.objects.filter(action="farmer_test.inactive").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("pk", [0, "x", None, "1 OR 1=1"])
def test_a_missing_or_malformed_id_is_not_found(pk):
    with pytest.raises(NotFound):
        transition(model=MemberFarmer, pk=pk, table=TABLE, to_status="inactive", actor=None)


@pytest.mark.django_db
def test_a_queryset_scopes_what_can_be_moved():
    farmer = MemberFarmerFactory(status="active")
    elsewhere = MemberFarmer.objects.exclude(organisation_id=farmer.organisation_id)
    with pytest.raises(NotFound):
        transition(model=MemberFarmer, pk=farmer.pk, table=TABLE, to_status="inactive", actor=None, queryset=elsewhere)
