"""Every (from, to) pair of each status table, allowed and forbidden, through the API."""

from itertools import product

import pytest

from marketplace.core.models import AuditEvent
from marketplace.organisations import services
from marketplace.organisations.models import MemberFarmer, Organisation
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

V = Organisation.Verification
VERIFICATION_ALLOWED = {
    (V.PENDING, V.VERIFIED),
    (V.PENDING, V.REJECTED),
    (V.REJECTED, V.PENDING),
    (V.VERIFIED, V.SUSPENDED),
    (V.SUSPENDED, V.VERIFIED),
}
VERIFICATION_PAIRS = list(product(V.values, V.values))


def test_the_verification_table_is_the_one_tested_here():
    pairs = {(a, b) for a, targets in services.VERIFICATION_TRANSITIONS.items() for b in targets}
    assert pairs == VERIFICATION_ALLOWED


@pytest.mark.parametrize(
    ("from_status", "to_status"), VERIFICATION_PAIRS, ids=[f"{a}->{b}" for a, b in VERIFICATION_PAIRS]
)
def test_verification_transition(as_user, operator_user, from_status, to_status):
    organisation = OrganisationFactory(verification_status=from_status)
    response = as_user(operator_user).post(
        f"/api/v1/organisations/{organisation.pk}/verification/", {"status": to_status, "reason": "Checked the papers"}
    )
    organisation.refresh_from_db()
    events = AuditEvent.objects.filter(action="organisation.verification", subject_id=str(organisation.pk))
    if (from_status, to_status) in VERIFICATION_ALLOWED:
        assert response.status_code == 200, response.content
        assert response.json()["verification_status"] == to_status
        assert organisation.verification_status == to_status
        event = events.get()
        assert (event.from_status, event.to_status, event.reason) == (from_status, to_status, "Checked the papers")
        assert event.actor == operator_user
        assert event.organisation_id == organisation.pk
        assert event.subject_type == "organisations.organisation"
        if to_status == V.VERIFIED:
            assert organisation.verified_at is not None
    else:
        assert response.status_code == 409, response.content
        error = response.json()["error"]
        assert error["code"] == "invalid_transition"
        assert f"from {from_status} to {to_status}" in error["message"]
        assert "status" in error["fields"]
        assert organisation.verification_status == from_status
        assert not events.exists()


S = MemberFarmer.Status
FARMER_ALLOWED = {
    (S.ACTIVE, S.SUSPENDED),
    (S.ACTIVE, S.LEFT),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.LEFT),
    (S.LEFT, S.ACTIVE),
}
FARMER_PAIRS = list(product(S.values, S.values))


def test_the_member_status_table_is_the_one_tested_here():
    pairs = {(a, b) for a, targets in services.FARMER_TRANSITIONS.items() for b in targets}
    assert pairs == FARMER_ALLOWED


@pytest.mark.parametrize(("from_status", "to_status"), FARMER_PAIRS, ids=[f"{a}->{b}" for a, b in FARMER_PAIRS])
def test_member_status_transition(as_user, make_member, from_status, to_status):
    coop = OrganisationFactory()
    manager = make_member(Role.MANAGER, organisation=coop)
    farmer = MemberFarmerFactory(organisation=coop, status=from_status)
    response = as_user(manager).post(
        f"/api/v1/farmers/{farmer.pk}/status/", {"status": to_status, "reason": "AGM vote"}
    )
    farmer.refresh_from_db()
    events = AuditEvent.objects.filter(action="member_farmer.status", subject_id=str(farmer.pk))
    if (from_status, to_status) in FARMER_ALLOWED:
        assert response.status_code == 200, response.content
        assert farmer.status == to_status
        event = events.get()
        assert (event.from_status, event.to_status, event.reason, event.actor) == (
            from_status,
            to_status,
            "AGM vote",
            manager,
        )
        assert event.organisation_id == coop.pk
    else:
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "invalid_transition"
        assert farmer.status == from_status
        assert not events.exists()
