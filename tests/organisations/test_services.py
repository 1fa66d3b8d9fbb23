import pytest
from django.contrib.auth.models import AnonymousUser

from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.organisations import selectors, services
from marketplace.organisations.csv_import import MemberRegisterRejected
from marketplace.organisations.models import Invitation, MemberFarmer, Organisation
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory, UserFactory

pytestmark = pytest.mark.django_db

ORGANISATION = {
    "kind": Organisation.Kind.COOPERATIVE,
    "legal_name": "Kawa Maraba",
    "country": "RW",
    "registration_number": "RCA-123",
    "currency": "RWF",
}


# --- onboarding -------------------------------------------------------------------------


def test_onboarding_invites_the_admin_in_the_same_transaction(operator_user):
    organisation = services.organisation_onboard(actor=operator_user, admin_email="Chair@Kawa.example", **ORGANISATION)
    invitation = Invitation.objects.get(organisation=organisation)
    assert (invitation.email, invitation.role) == ("chair@kawa.example", Role.ADMIN)


def test_onboarding_is_all_or_nothing(operator_user):
    too_long = "a" * 250 + "@kawa.example"  # the invitation cannot be saved, so neither is the organisation
    with pytest.raises(ValidationFailed) as caught:
        services.organisation_onboard(actor=operator_user, admin_email=too_long, **ORGANISATION)
    assert "email" in caught.value.fields
    assert not Organisation.objects.filter(legal_name="Kawa Maraba").exists()
    assert not AuditEvent.objects.filter(action="organisation.created").exists()


def test_only_the_operator_onboards(make_member):
    with pytest.raises(PermissionDenied):
        services.organisation_onboard(actor=make_member(Role.ADMIN), **ORGANISATION)


# --- verification: outsiders learn nothing ------------------------------------------------


def test_verification_by_an_outsider_is_not_found_and_by_a_member_is_denied(make_member):
    organisation = OrganisationFactory(verification_status="pending")
    with pytest.raises(NotFound):
        services.organisation_verification_transition(
            actor=make_member(Role.ADMIN), organisation_id=organisation.pk, to_status="verified"
        )
    with pytest.raises(PermissionDenied):
        services.organisation_verification_transition(
            actor=make_member(Role.ADMIN, organisation=organisation),
            organisation_id=organisation.pk,
            to_status="verified",
        )


# --- member farmers: the default cooperative ---------------------------------------------


def test_member_farmer_create_defaults_to_the_only_cooperative(make_member):
    coop = OrganisationFactory()
    clerk = make_member(Role.CLERK, organisation=coop)
    MembershipFactory(user=clerk, organisation=OrganisationFactory(kind=Organisation.Kind.BUYER))  # not a cooperative
    farmer = services.member_farmer_create(actor=clerk, member_number="M-1", name="Awa")
    assert farmer.organisation == coop


@pytest.mark.parametrize("cooperatives", [0, 2])
def test_member_farmer_create_needs_an_organisation_unless_there_is_exactly_one(cooperatives):
    user = UserFactory()
    for _ in range(cooperatives):
        MembershipFactory(user=user, role=Role.ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        services.member_farmer_create(actor=user, member_number="M-1", name="Awa")
    assert "organisation" in caught.value.fields
    assert not MemberFarmer.objects.exists()


# --- invitations --------------------------------------------------------------------------


def test_accepting_when_already_a_member_is_a_conflict(make_member):
    coop = OrganisationFactory()
    admin = make_member(Role.ADMIN, organisation=coop)
    invitee = UserFactory(email="invitee@example.org")
    invitation = services.invitation_create(
        actor=admin, organisation_id=coop.pk, email="invitee@example.org", role=Role.VIEWER
    )
    MembershipFactory(user=invitee, organisation=coop, role=Role.CLERK)  # joined some other way meanwhile
    with pytest.raises(Conflict):
        services.invitation_accept(token=services.invitation_token(invitation), user=invitee)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_revoking_another_organisations_invitation_is_not_found(make_member):
    coop = OrganisationFactory()
    admin = make_member(Role.ADMIN, organisation=coop)
    invitation = services.invitation_create(actor=admin, organisation_id=coop.pk, email="x@example.org", role="clerk")
    with pytest.raises(NotFound, match="No such invitation"):
        services.invitation_revoke(actor=make_member(Role.ADMIN), invitation_id=invitation.pk)


def test_changing_another_organisations_membership_is_not_found(make_member):
    membership = MembershipFactory(role=Role.CLERK)
    with pytest.raises(NotFound, match="No such membership"):
        services.membership_change_role(actor=make_member(Role.ADMIN), membership_id=membership.pk, role="admin")


# --- import -------------------------------------------------------------------------------


def test_import_service_takes_bytes_and_reports_counts(make_member):
    coop = OrganisationFactory(country="CI")
    manager = make_member(Role.MANAGER, organisation=coop)
    MemberFarmerFactory(organisation=coop, member_number="M-1", name="Old")
    result = services.member_farmer_import(
        actor=manager, organisation_id=coop.pk, file=b"member_number,name,phone\nM-1,New,\nM-2,Two,0712345678\n"
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert str(MemberFarmer.objects.get(member_number="M-2").phone) == "+2250712345678"


def test_import_rejection_carries_every_row(make_member):
    coop = OrganisationFactory()
    manager = make_member(Role.MANAGER, organisation=coop)
    with pytest.raises(MemberRegisterRejected) as caught:
        services.member_farmer_import(
            actor=manager, organisation_id=coop.pk, file=b"member_number,name,gender\nM-1,,\nM-2,B,Q\n"
        )
    assert caught.value.rows == [
        {"row": 2, "fields": {"name": ["Required: every member needs a name."]}},
        {"row": 3, "fields": {"gender": ["'Q' is not a gender this register knows: use female, male or other (F/M)."]}},
    ]
    assert caught.value.code == "invalid_rows"
    assert not MemberFarmer.objects.exists()


# --- selectors ----------------------------------------------------------------------------


def test_selectors_give_anonymous_viewers_nothing():
    OrganisationFactory()
    anonymous = AnonymousUser()
    assert list(selectors.organisation_list(viewer=anonymous)) == []
    assert list(selectors.member_farmer_list(viewer=anonymous)) == []
    assert selectors.cooperatives_of(viewer=anonymous) == []


def test_farmer_plot_list_is_not_found_for_an_invisible_farmer(make_member):
    plot = PlotFactory()
    with pytest.raises(NotFound):
        selectors.farmer_plot_list(viewer=make_member(Role.ADMIN), farmer_id=plot.farmer_id)
    member = make_member(Role.VIEWER, organisation=plot.organisation)
    assert list(selectors.farmer_plot_list(viewer=member, farmer_id=plot.farmer_id)) == [plot]
