"""What each role may do; a refused request is a 403 in the error shape and changes nothing."""

import io

import pytest

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import Invitation, MemberFarmer, Organisation, Plot
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coop():
    return OrganisationFactory(verification_status="pending")


@pytest.fixture
def farmer(coop):
    return MemberFarmerFactory(organisation=coop, member_number="M-1")


def register() -> io.BytesIO:
    upload = io.BytesIO(b"member_number,name\nM-1,Renamed\nM-2,New Member\n")
    upload.name = "register.csv"
    return upload


def assert_refused(response, events_before: int) -> None:
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert error["message"]
    assert AuditEvent.objects.count() == events_before


def test_a_clerk_cannot_import_a_register(as_user, make_member, coop, farmer):
    clerk = make_member(Role.CLERK, organisation=coop)
    events = AuditEvent.objects.count()
    response = as_user(clerk).post(
        "/api/v1/farmers/import/", {"organisation": coop.pk, "file": register()}, format="multipart"
    )
    assert_refused(response, events)
    assert "Clerk" in response.json()["error"]["message"]
    assert list(MemberFarmer.objects.values_list("name", flat=True)) == [farmer.name]


def test_a_clerk_cannot_change_a_member_status(as_user, make_member, coop, farmer):
    clerk = make_member(Role.CLERK, organisation=coop)
    events = AuditEvent.objects.count()
    response = as_user(clerk).post(f"/api/v1/farmers/{farmer.pk}/status/", {"status": "left", "reason": "Moved"})
    assert_refused(response, events)
    farmer.refresh_from_db()
    assert farmer.status == "active"


@pytest.mark.parametrize("role", [Role.CLERK, Role.VIEWER])
def test_clerks_and_viewers_cannot_invite_or_see_invitations(as_user, make_member, coop, role):
    user = make_member(role, organisation=coop)
    client = as_user(user)
    events = AuditEvent.objects.count()
    response = client.post(
        f"/api/v1/organisations/{coop.pk}/invitations/", {"email": "x@example.org", "role": "viewer"}
    )
    assert_refused(response, events)
    assert client.get(f"/api/v1/organisations/{coop.pk}/invitations/").status_code == 403
    assert not Invitation.objects.exists()


def test_a_manager_cannot_invite_an_admin_but_can_invite_a_manager(as_user, make_member, coop):
    manager = make_member(Role.MANAGER, organisation=coop)
    client = as_user(manager)
    events = AuditEvent.objects.count()
    url = f"/api/v1/organisations/{coop.pk}/invitations/"
    refused = client.post(url, {"email": "boss@example.org", "role": "admin"})
    assert_refused(refused, events)
    assert "A manager cannot invite an admin" in refused.json()["error"]["message"]
    assert client.post(url, {"email": "peer@example.org", "role": "manager"}).status_code == 201
    assert list(Invitation.objects.values_list("email", flat=True)) == ["peer@example.org"]


def test_a_clerk_cannot_revoke_an_invitation(as_user, make_member, coop):
    admin = make_member(Role.ADMIN, organisation=coop)
    invitation = Invitation.objects.create(
        organisation=coop, email="a@example.org", role=Role.CLERK, invited_by=admin, expires_at="2999-01-01T00:00:00Z"
    )
    clerk = make_member(Role.CLERK, organisation=coop)
    events = AuditEvent.objects.count()
    assert_refused(as_user(clerk).post(f"/api/v1/invitations/{invitation.pk}/revoke/"), events)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_viewer_cannot_create_or_change_members_or_plots(as_user, make_member, coop, farmer):
    viewer = make_member(Role.VIEWER, organisation=coop)
    client = as_user(viewer)
    events = AuditEvent.objects.count()
    assert_refused(
        client.post("/api/v1/farmers/", {"organisation": coop.pk, "member_number": "M-9", "name": "A"}), events
    )
    assert_refused(client.patch(f"/api/v1/farmers/{farmer.pk}/", {"name": "Renamed"}), events)
    assert_refused(client.post(f"/api/v1/farmers/{farmer.pk}/plots/", {"name": "P", "area_hectares": "1"}), events)
    assert MemberFarmer.objects.count() == 1
    assert not Plot.objects.exists()
    # but may read
    assert client.get(f"/api/v1/farmers/{farmer.pk}/").status_code == 200
    assert client.get(f"/api/v1/farmers/{farmer.pk}/plots/").status_code == 200


def test_a_viewer_without_a_named_organisation_still_gets_403_in_their_only_cooperative(as_user, make_member, coop):
    viewer = make_member(Role.VIEWER, organisation=coop)
    assert_refused(as_user(viewer).post("/api/v1/farmers/", {"member_number": "M-9", "name": "A"}), 0)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_members_cannot_create_or_verify_organisations(as_user, make_member, coop, role):
    user = make_member(role, organisation=coop)
    client = as_user(user)
    events = AuditEvent.objects.count()
    assert_refused(client.post(f"/api/v1/organisations/{coop.pk}/verification/", {"status": "verified"}), events)
    payload = {
        "kind": "buyer",
        "legal_name": "Anything",
        "country": "CI",
        "registration_number": "R-1",
        "currency": "XOF",
    }
    assert_refused(client.post("/api/v1/organisations/", payload), events)
    coop.refresh_from_db()
    assert coop.verification_status == "pending"
    assert not Organisation.objects.filter(legal_name="Anything").exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.ADMIN, True), (Role.MANAGER, True), (Role.CLERK, False), (Role.VIEWER, False)],
)
def test_who_may_import_and_change_status(as_user, make_member, coop, farmer, role, allowed):
    user = make_member(role, organisation=coop)
    client = as_user(user)
    imported = client.post("/api/v1/farmers/import/", {"organisation": coop.pk, "file": register()}, format="multipart")
    status = client.post(f"/api/v1/farmers/{farmer.pk}/status/", {"status": "suspended", "reason": "Dues"})
    assert (imported.status_code, status.status_code) == ((200, 200) if allowed else (403, 403))
