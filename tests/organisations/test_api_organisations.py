import pytest
from django.core import mail

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import Invitation, Membership, Organisation
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

ORGS = "/api/v1/organisations/"


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error
    return error


def new_organisation(**overrides) -> dict:
    return {
        "kind": "cooperative",
        "legal_name": "Coopérative Agricole de Soubré",
        "display_name": "CA Soubré",
        "country": "CI",
        "region": "Nawa",
        "registration_number": "CI-SBR-2019-B-123",
        "currency": "XOF",
        "preferred_language": "fr",
        "phone": "+225 27 34 72 00 00",
        "latitude": "5.785000",
        "longitude": "-6.605000",
        **overrides,
    }


# --- list ---------------------------------------------------------------------------


def test_members_see_their_own_organisations_the_operator_sees_all(as_user, make_member, operator_user):
    coop = OrganisationFactory(legal_name="Alpha")
    OrganisationFactory(legal_name="Beta")
    MemberFarmerFactory.create_batch(2, organisation=coop)
    clerk = make_member(Role.CLERK, organisation=coop)
    mine = as_user(clerk).get(ORGS).json()
    assert [o["id"] for o in mine["results"]] == [coop.pk]
    assert mine["results"][0]["member_farmer_count"] == 2
    assert mine["results"][0]["country"] == "CI"
    everyone = as_user(operator_user).get(ORGS).json()
    assert everyone["count"] == Organisation.objects.count() == 3


def test_list_filters_and_search(as_user, operator_user):
    OrganisationFactory(legal_name="Kawa Coffee Cooperative", country="RW", currency="RWF")
    OrganisationFactory(legal_name="Soubré Cocoa", verification_status="pending")
    OrganisationFactory(legal_name="Choco Buyers", kind="buyer", display_name="ChocoBuy", country="NL", currency="EUR")
    client = as_user(operator_user)

    def names(query: str) -> set[str]:
        response = client.get(ORGS + query)
        assert response.status_code == 200, response.content
        return {o["legal_name"] for o in response.json()["results"]}

    assert names("?kind=buyer") == {"Choco Buyers"}
    assert names("?country=RW") == {"Kawa Coffee Cooperative"}
    assert names("?verification_status=pending") == {"Soubré Cocoa"}
    assert names("?search=cocoa") == {"Soubré Cocoa"}
    assert names("?search=chocobuy") == {"Choco Buyers"}
    assert_error(client.get(ORGS + "?country=XX"), 400, "country")


def test_list_query_count_is_constant(as_user, operator_user, django_assert_max_num_queries):
    for org in OrganisationFactory.create_batch(20):
        MemberFarmerFactory.create_batch(2, organisation=org)
    with django_assert_max_num_queries(3):
        response = as_user(operator_user).get(ORGS)
    assert response.json()["count"] == 21


# --- create -------------------------------------------------------------------------


def test_operator_onboards_an_organisation_and_invites_its_admin(
    as_user, operator_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(operator_user).post(ORGS, new_organisation(admin_email="Chair@Soubre.example"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["verification_status"] == "pending"
    assert body["phone"] == "+2252734720000"
    assert body["name"] == "CA Soubré"
    assert "admin_email" not in body
    organisation = Organisation.objects.get(pk=body["id"])
    invitation = Invitation.objects.get(organisation=organisation)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "chair@soubre.example",
        "admin",
        operator_user,
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["chair@soubre.example"]
    actions = set(AuditEvent.objects.filter(organisation_id=organisation.pk).values_list("action", flat=True))
    assert actions == {"organisation.created", "invitation.created"}


def test_onboarding_without_admin_email_sends_nothing(as_user, operator_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(operator_user).post(ORGS, new_organisation())
    assert response.status_code == 201
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.VIEWER])
def test_non_operators_cannot_create_organisations(as_user, make_member, role):
    user = make_member(role)
    count = Organisation.objects.count()
    error = assert_error(as_user(user).post(ORGS, new_organisation()), 403)
    assert error["code"] == "permission_denied"
    assert Organisation.objects.count() == count


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"country": "XX"}, "country", "ISO 3166-1"),
        ({"country": "Ivory Coast"}, "country", "ISO 3166-1"),
        ({"currency": "CFA"}, "currency", "ISO 4217"),
        ({"preferred_language": "xx"}, "preferred_language", "ISO 639-1"),
        ({"gln": "1234567890123"}, "gln", "check digit"),
        ({"phone": "0712345678"}, "phone", "international format"),
        ({"latitude": "95"}, "latitude", "90"),
        ({"kind": "bank"}, "kind", "valid choice"),
        ({"legal_name": ""}, "legal_name", "blank"),
        ({"admin_email": "not-an-email"}, "admin_email", "email"),
    ],
)
def test_bad_organisation_input_gets_a_400_naming_the_field(as_user, operator_user, overrides, field, fragment):
    count = Organisation.objects.count()
    error = assert_error(as_user(operator_user).post(ORGS, new_organisation(**overrides)), 400, field)
    assert fragment.lower() in " ".join(error["fields"][field]).lower()
    assert field in error["message"]
    assert Organisation.objects.count() == count


def test_currency_is_accepted_in_lower_case(as_user, operator_user):
    response = as_user(operator_user).post(ORGS, new_organisation(currency="xof"))
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "XOF"


def test_duplicate_registration_number_in_a_country_is_a_400(as_user, operator_user):
    OrganisationFactory(country="CI", registration_number="CI-SBR-2019-B-123")
    assert_error(as_user(operator_user).post(ORGS, new_organisation()), 400, "registration_number")


# --- detail and update --------------------------------------------------------------


def test_a_member_reads_the_organisation(as_user, make_member):
    coop = OrganisationFactory()
    viewer = make_member(Role.VIEWER, organisation=coop)
    response = as_user(viewer).get(f"{ORGS}{coop.pk}/")
    assert response.status_code == 200
    assert response.json()["registration_number"] == coop.registration_number


def test_an_admin_edits_the_organisation_and_it_is_audited(as_user, make_member):
    coop = OrganisationFactory(region="Nawa")
    admin = make_member(Role.ADMIN, organisation=coop)
    response = as_user(admin).patch(f"{ORGS}{coop.pk}/", {"region": "Gbôklé", "email": "info@coop.example"})
    assert response.status_code == 200, response.content
    coop.refresh_from_db()
    assert (coop.region, coop.email) == ("Gbôklé", "info@coop.example")
    event = AuditEvent.objects.get(action="organisation.updated", subject_id=str(coop.pk))
    assert event.data["before"]["region"] == "Nawa"
    assert event.actor == admin


def test_the_operator_edits_any_organisation(as_user, operator_user):
    coop = OrganisationFactory()
    assert as_user(operator_user).patch(f"{ORGS}{coop.pk}/", {"display_name": "New"}).json()["name"] == "New"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_admins_edit_the_organisation(as_user, make_member, role):
    coop = OrganisationFactory(region="Nawa")
    user = make_member(role, organisation=coop)
    assert_error(as_user(user).patch(f"{ORGS}{coop.pk}/", {"region": "Other"}), 403)
    coop.refresh_from_db()
    assert coop.region == "Nawa"


def test_kind_and_verification_status_are_not_editable(as_user, make_member):
    coop = OrganisationFactory(verification_status="pending")
    admin = make_member(Role.ADMIN, organisation=coop)
    response = as_user(admin).patch(f"{ORGS}{coop.pk}/", {"kind": "buyer", "verification_status": "verified"})
    assert response.status_code == 200
    coop.refresh_from_db()
    assert (coop.kind, coop.verification_status) == ("cooperative", "pending")


def test_patch_to_an_unknown_country_is_a_400(as_user, make_member):
    coop = OrganisationFactory()
    admin = make_member(Role.ADMIN, organisation=coop)
    assert_error(as_user(admin).patch(f"{ORGS}{coop.pk}/", {"country": "QQ"}), 400, "country")


# --- verification -------------------------------------------------------------------


def test_operator_verifies_an_organisation(as_user, operator_user):
    coop = OrganisationFactory(verification_status="pending")
    response = as_user(operator_user).post(f"{ORGS}{coop.pk}/verification/", {"status": "verified"})
    assert response.status_code == 200, response.content
    assert response.json()["verification_status"] == "verified"
    assert response.json()["verified_at"]


def test_rejecting_needs_a_reason(as_user, operator_user):
    coop = OrganisationFactory(verification_status="pending")
    assert_error(as_user(operator_user).post(f"{ORGS}{coop.pk}/verification/", {"status": "rejected"}), 400, "reason")


def test_an_unknown_verification_status_is_a_400(as_user, operator_user):
    coop = OrganisationFactory(verification_status="pending")
    assert_error(as_user(operator_user).post(f"{ORGS}{coop.pk}/verification/", {"status": "approved"}), 400, "status")


def test_a_member_cannot_verify_its_own_organisation(as_user, make_member):
    coop = OrganisationFactory(verification_status="pending")
    admin = make_member(Role.ADMIN, organisation=coop)
    assert_error(as_user(admin).post(f"{ORGS}{coop.pk}/verification/", {"status": "verified"}), 403)
    coop.refresh_from_db()
    assert coop.verification_status == "pending"


# --- memberships --------------------------------------------------------------------


@pytest.fixture
def coop_with_people(make_member):
    coop = OrganisationFactory()
    admin = make_member(Role.ADMIN, organisation=coop)
    clerk = make_member(Role.CLERK, organisation=coop)
    return coop, admin, clerk


def test_members_list_the_memberships(as_user, coop_with_people, django_assert_max_num_queries):
    coop, admin, clerk = coop_with_people
    MembershipFactory.create_batch(10, organisation=coop, role=Role.VIEWER)
    with django_assert_max_num_queries(3):
        response = as_user(clerk).get(f"{ORGS}{coop.pk}/memberships/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 12
    assert {m["user"]["email"] for m in body["results"]} >= {admin.email, clerk.email}


def test_an_admin_changes_a_role_and_removes_a_member(as_user, coop_with_people):
    _coop, admin, clerk = coop_with_people
    membership = Membership.objects.get(user=clerk)
    client = as_user(admin)
    response = client.patch(f"/api/v1/memberships/{membership.pk}/", {"role": "manager"})
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "manager"
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert (event.from_status, event.to_status) == ("clerk", "manager")
    assert client.delete(f"/api/v1/memberships/{membership.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed").exists()


def test_the_last_admin_cannot_step_down_or_be_removed(as_user, coop_with_people):
    _coop, admin, _clerk = coop_with_people
    membership = Membership.objects.get(user=admin)
    client = as_user(admin)
    assert_error(client.patch(f"/api/v1/memberships/{membership.pk}/", {"role": "viewer"}), 409)
    assert_error(client.delete(f"/api/v1/memberships/{membership.pk}/"), 409)
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_an_unknown_role_is_a_400(as_user, coop_with_people):
    _coop, admin, clerk = coop_with_people
    membership = Membership.objects.get(user=clerk)
    assert_error(as_user(admin).patch(f"/api/v1/memberships/{membership.pk}/", {"role": "owner"}), 400, "role")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_admins_change_roles(as_user, coop_with_people, make_member, role):
    coop, _admin, clerk = coop_with_people
    user = make_member(role, organisation=coop)
    membership = Membership.objects.get(user=clerk)
    assert_error(as_user(user).patch(f"/api/v1/memberships/{membership.pk}/", {"role": "admin"}), 403)
    assert_error(as_user(user).delete(f"/api/v1/memberships/{membership.pk}/"), 403)
    membership.refresh_from_db()
    assert membership.role == "clerk"
