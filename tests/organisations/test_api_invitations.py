import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.core.models import AuditEvent
from marketplace.organisations import services
from marketplace.organisations.models import Invitation, Membership, User
from marketplace.organisations.roles import Role
from marketplace.organisations.tasks import send_invitation_email
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCEPT = "/api/v1/invitations/accept/"
NEW_PASSWORD = "cocoa-harvest-2024!"


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error
    return error


@pytest.fixture
def coop():
    return OrganisationFactory(legal_name="Coopérative de Soubré")


@pytest.fixture
def manager(make_member, coop):
    return make_member(Role.MANAGER, organisation=coop)


@pytest.fixture
def invite(as_user, manager, coop, django_capture_on_commit_callbacks):
    def make(email: str = "new.clerk@example.org", role: str = Role.CLERK) -> tuple[dict, str]:
        """Invite through the API; return the invitation and the token from the emailed link."""
        with django_capture_on_commit_callbacks(execute=True):
            response = as_user(manager).post(
                f"/api/v1/organisations/{coop.pk}/invitations/", {"email": email, "role": role}
            )
        assert response.status_code == 201, response.content
        message = mail.outbox[-1]
        match = re.search(r"https?://\S+/invitations/(\S+)/", message.body)
        assert match, message.body
        return response.json(), match.group(1)

    return make


def test_invitation_end_to_end_creates_the_account_and_membership(invite, coop, settings):
    invitation, token = invite("New.Clerk@Example.org")
    assert invitation["status"] == "open"
    assert invitation["email"] == "new.clerk@example.org"
    message = mail.outbox[0]
    assert message.to == ["new.clerk@example.org"]
    assert coop.name in message.subject
    assert settings.SITE_BASE_URL in message.body
    assert Invitation.objects.get(pk=invitation["id"]).sent_at is not None

    response = APIClient().post(ACCEPT, {"token": token, "password": NEW_PASSWORD, "full_name": "Awa Koné"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organisation"]["id"] == coop.pk
    assert body["role"] == "clerk"
    user = User.objects.get(email="new.clerk@example.org")
    assert user.full_name == "Awa Koné"
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.filter(user=user, organisation=coop, role=Role.CLERK).exists()
    assert AuditEvent.objects.filter(action="membership.created", actor=user).exists()
    token_response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": NEW_PASSWORD})
    assert token_response.status_code == 200


def test_a_signed_in_user_accepts_as_themselves(invite, coop, as_user):
    existing = UserFactory(email="buyer.person@example.org")
    _, token = invite("buyer.person@example.org", Role.VIEWER)
    response = as_user(existing).post(ACCEPT, {"token": token})
    assert response.status_code == 201, response.content
    assert Membership.objects.get(user=existing, organisation=coop).role == Role.VIEWER


def test_a_signed_in_user_cannot_accept_someone_elses_invitation(invite, coop, as_user):
    _, token = invite("intended@example.org")
    intruder = UserFactory(email="intruder@example.org")
    assert_error(as_user(intruder).post(ACCEPT, {"token": token}), 403)
    assert not Membership.objects.filter(user=intruder).exists()


def test_an_anonymous_accept_for_an_existing_account_asks_to_sign_in(invite):
    UserFactory(email="known@example.org")
    _, token = invite("known@example.org")
    error = assert_error(APIClient().post(ACCEPT, {"token": token, "password": NEW_PASSWORD}), 409)
    assert "sign in" in error["message"]


def test_a_used_invitation_is_rejected(invite):
    _, token = invite()
    assert APIClient().post(ACCEPT, {"token": token, "password": NEW_PASSWORD}).status_code == 201
    error = assert_error(APIClient().post(ACCEPT, {"token": token, "password": NEW_PASSWORD}), 409)
    assert "accepted" in error["message"]
    assert Membership.objects.filter(user__email="new.clerk@example.org").count() == 1


def test_a_revoked_invitation_is_rejected(invite, as_user, manager):
    invitation, token = invite()
    revoked = as_user(manager).post(f"/api/v1/invitations/{invitation['id']}/revoke/")
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["status"] == "revoked"
    assert AuditEvent.objects.filter(action="invitation.revoked", subject_id=str(invitation["id"])).exists()
    error = assert_error(APIClient().post(ACCEPT, {"token": token, "password": NEW_PASSWORD}), 409)
    assert "revoked" in error["message"]
    assert not User.objects.filter(email="new.clerk@example.org").exists()
    # and cannot be revoked twice
    assert_error(as_user(manager).post(f"/api/v1/invitations/{invitation['id']}/revoke/"), 409)


def test_an_expired_invitation_is_rejected(invite):
    invitation, token = invite()
    Invitation.objects.filter(pk=invitation["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    error = assert_error(APIClient().post(ACCEPT, {"token": token, "password": NEW_PASSWORD}), 409)
    assert "expired" in error["message"]
    assert not User.objects.filter(email="new.clerk@example.org").exists()


def test_a_forged_token_is_a_400():
    assert_error(APIClient().post(ACCEPT, {"token": "1:forged", "password": NEW_PASSWORD}), 400, "token")


@pytest.mark.parametrize(("password", "fragment"), [("", "Choose a password"), ("123", "too short")])
def test_a_new_account_needs_a_good_password(invite, password, fragment):
    _, token = invite()
    error = assert_error(APIClient().post(ACCEPT, {"token": token, "password": password}), 400, "password")
    assert fragment in error["message"]
    assert not User.objects.filter(email="new.clerk@example.org").exists()
    assert Invitation.objects.get().status == "open"


def test_the_sending_task_is_idempotent(coop, manager):
    invitation = services.invitation_create(
        actor=manager, organisation_id=coop.pk, email="twice@example.org", role=Role.CLERK
    )  # the on-commit send never runs inside the test transaction
    assert mail.outbox == []
    assert send_invitation_email(invitation.pk) is True
    assert send_invitation_email(invitation.pk) is False
    assert len(mail.outbox) == 1


def test_the_sending_task_skips_revoked_and_missing_invitations(coop, manager):
    invitation = services.invitation_create(
        actor=manager, organisation_id=coop.pk, email="late@example.org", role=Role.CLERK
    )
    services.invitation_revoke(actor=manager, invitation_id=invitation.pk)
    assert send_invitation_email(invitation.pk) is False
    assert send_invitation_email(10**9) is False
    assert mail.outbox == []


def test_the_list_shows_invitations_with_a_constant_query_count(
    invite, as_user, manager, coop, django_assert_max_num_queries
):
    for n in range(5):
        invite(f"person{n}@example.org")
    with django_assert_max_num_queries(4):
        response = as_user(manager).get(f"/api/v1/organisations/{coop.pk}/invitations/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert {i["status"] for i in body["results"]} == {"open"}
    assert body["results"][0]["invited_by"]["email"] == manager.email


def test_a_second_open_invitation_for_the_same_email_is_a_409(invite, as_user, manager, coop):
    invite("dup@example.org")
    response = as_user(manager).post(
        f"/api/v1/organisations/{coop.pk}/invitations/", {"email": "DUP@example.org", "role": "clerk"}
    )
    assert_error(response, 409, "email")
    assert Invitation.objects.count() == 1


def test_inviting_an_existing_member_is_a_409(as_user, manager, coop):
    member = MembershipFactory(organisation=coop, role=Role.CLERK).user
    response = as_user(manager).post(
        f"/api/v1/organisations/{coop.pk}/invitations/", {"email": member.email, "role": "viewer"}
    )
    assert_error(response, 409, "email")


@pytest.mark.parametrize(
    ("payload", "field"), [({"email": "x", "role": "clerk"}, "email"), ({"email": "a@b.org", "role": "boss"}, "role")]
)
def test_bad_invitation_input_is_a_400(as_user, manager, coop, payload, field):
    assert_error(as_user(manager).post(f"/api/v1/organisations/{coop.pk}/invitations/", payload), 400, field)
    assert not Invitation.objects.exists()


def test_an_admin_may_invite_an_admin(as_user, make_member, coop):
    admin = make_member(Role.ADMIN, organisation=coop)
    response = as_user(admin).post(
        f"/api/v1/organisations/{coop.pk}/invitations/", {"email": "second.admin@example.org", "role": "admin"}
    )
    assert response.status_code == 201
