import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from marketplace.organisations.middleware import SESSION_KEY
from marketplace.organisations.models import Invitation, Membership, User
from marketplace.organisations.roles import Role
from marketplace.organisations.services import invitation_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "cocoa-harvest-2024"


@pytest.fixture
def invitation(coop, user_in):
    admin = user_in(coop, Role.ADMIN)
    return Invitation.objects.create(
        organisation=coop,
        email="new.clerk@example.org",
        role=Role.CLERK,
        invited_by=admin,
        expires_at=timezone.now() + datetime.timedelta(days=3),
    )


def _url(invitation) -> str:
    return reverse("invitation-accept", args=[invitation_token(invitation)])


def test_a_newcomer_creates_an_account_and_is_signed_in(client, invitation, coop):
    page = client.get(_url(invitation))
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.content.decode()
    response = client.post(
        _url(invitation), {"full_name": "Nouvelle Commis", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.clerk@example.org")
    assert user.full_name == "Nouvelle Commis"
    assert Membership.objects.get(user=user).role == Role.CLERK
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session[SESSION_KEY] == coop.pk
    dashboard = client.get(response["Location"])
    assert "Welcome to Coopérative Alpha. You are Clerk." in dashboard.content.decode()


@pytest.mark.parametrize(
    ("password", "confirm", "field"),
    [
        ("123", "123", "password"),
        ("12345678901", "12345678901", "password"),
        (NEW_PASSWORD, "other", "password_confirm"),
    ],
)
def test_a_bad_password_is_refused_and_nothing_is_created(client, invitation, password, confirm, field):
    response = client.post(_url(invitation), {"full_name": "N", "password": password, "password_confirm": confirm})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not User.objects.filter(email="new.clerk@example.org").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_forged_link_is_refused(client, invitation):
    response = client.post(
        "/invitations/forged-token/", {"full_name": "N", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "This invitation link is not valid." in response.content.decode()
    assert not User.objects.filter(email="new.clerk@example.org").exists()


def test_the_invited_user_accepts_while_signed_in(client, invitation, coop, login):
    user = UserFactory(email="new.clerk@example.org")
    login(user)
    page = client.get(_url(invitation))
    assert "You are signed in as new.clerk@example.org" in page.content.decode()
    response = client.post(_url(invitation))
    assert response.status_code == 302
    assert Membership.objects.get(user=user, organisation=coop).role == Role.CLERK


def test_someone_else_signed_in_cannot_accept(client, invitation, login):
    login(UserFactory(email="someone.else@example.org"))
    response = client.post(_url(invitation))
    assert response.status_code == 403
    assert "This invitation was sent to another email address." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_existing_account_is_told_to_sign_in(client, invitation):
    UserFactory(email="new.clerk@example.org")
    response = client.post(
        _url(invitation), {"full_name": "N", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 409
    assert "sign in, then open the link again" in response.content.decode()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_invite_people(client, coop, user_in, login, role, django_capture_on_commit_callbacks):
    login(user_in(coop, role))
    page = client.get(reverse("people"))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("people"), {"email": "Field.Clerk@Example.org", "role": Role.CLERK})
    assert response.status_code == 302
    invitation = Invitation.objects.get(organisation=coop)
    assert invitation.email == "field.clerk@example.org"
    assert len(mail.outbox) == 1
    assert "field.clerk@example.org" in client.get(reverse("people")).content.decode()


def test_a_manager_cannot_invite_an_admin(client, coop, user_in, login):
    login(user_in(coop, Role.MANAGER))
    response = client.post(reverse("people"), {"email": "boss@example.org", "role": Role.ADMIN})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLERK])
def test_clerks_and_viewers_cannot_manage_people(client, coop, user_in, login, role):
    login(user_in(coop, role))
    assert client.get(reverse("people")).status_code == 403
    assert client.post(reverse("people"), {"email": "x@example.org", "role": Role.VIEWER}).status_code == 403
    assert not Invitation.objects.exists()


def test_an_open_invitation_is_revoked(client, coop, invitation, login):
    login(invitation.invited_by)
    response = client.post(reverse("invitation-revoke", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    again = client.post(reverse("invitation-revoke", args=[invitation.pk]), follow=True)
    assert "cannot be revoked" in again.content.decode()


def test_another_organisations_invitation_cannot_be_revoked(client, other_coop, invitation, user_in, login):
    login(user_in(other_coop, Role.ADMIN))
    assert client.post(reverse("invitation-revoke", args=[invitation.pk])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
