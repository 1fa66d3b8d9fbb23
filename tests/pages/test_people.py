"""The organisation's users: role changes, removal, language preference and invitation previews."""

import pytest
from django.urls import reverse

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import Membership
from marketplace.organisations.roles import Role
from marketplace.organisations.services import invitation_create, invitation_token

pytestmark = pytest.mark.django_db


def test_an_admin_changes_a_role_and_it_is_audited(client, coop, user_in, login):
    admin = user_in(coop, Role.ADMIN)
    clerk = user_in(coop, Role.CLERK)
    membership = clerk.memberships.get()
    login(admin)
    response = client.post(reverse("membership-role", args=[membership.pk]), {"role": Role.MANAGER})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER
    event = AuditEvent.objects.get(action="membership.role_changed", subject_id=str(membership.pk))
    assert (event.from_status, event.to_status, event.actor) == (Role.CLERK, Role.MANAGER, admin)


def test_the_people_page_shows_role_controls_to_admins_only(client, coop, user_in, login):
    user_in(coop, Role.CLERK)
    login(user_in(coop, Role.MANAGER))
    html = client.get(reverse("people")).content.decode()
    assert 'name="role"' in html  # the invitation form has a role field ...
    assert "/role/" not in html  # ... but a manager gets no role-change forms
    client.logout()
    login(user_in(coop, Role.ADMIN))
    assert "/role/" in client.get(reverse("people")).content.decode()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_admins_change_roles(client, coop, user_in, login, role):
    target = user_in(coop, Role.CLERK).memberships.get()
    login(user_in(coop, role))
    response = client.post(reverse("membership-role", args=[target.pk]), {"role": Role.ADMIN})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.role == Role.CLERK


def test_another_organisations_admin_gets_404_and_changes_nothing(client, coop, other_coop, user_in, login):
    target = user_in(coop, Role.CLERK).memberships.get()
    login(user_in(other_coop, Role.ADMIN))
    assert client.post(reverse("membership-role", args=[target.pk]), {"role": Role.ADMIN}).status_code == 404
    assert client.post(reverse("membership-remove", args=[target.pk])).status_code == 404
    target.refresh_from_db()
    assert target.role == Role.CLERK


def test_removing_the_last_admin_is_refused_with_a_message(client, coop, user_in, login):
    admin = user_in(coop, Role.ADMIN)
    login(admin)
    membership = admin.memberships.get()
    response = client.post(reverse("membership-remove", args=[membership.pk]), follow=True)
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_removes_a_user(client, coop, user_in, login):
    login(user_in(coop, Role.ADMIN))
    clerk_membership = user_in(coop, Role.CLERK).memberships.get()
    client.post(reverse("membership-remove", args=[clerk_membership.pk]))
    assert not Membership.objects.filter(pk=clerk_membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed", subject_id=str(clerk_membership.pk)).exists()


def test_a_bad_role_is_refused(client, coop, user_in, login):
    login(user_in(coop, Role.ADMIN))
    target = user_in(coop, Role.CLERK).memberships.get()
    client.post(reverse("membership-role", args=[target.pk]), {"role": "owner"})
    target.refresh_from_db()
    assert target.role == Role.CLERK


def test_the_language_choice_is_remembered_and_used_at_the_next_sign_in(client, coop, user_in, login):
    user = user_in(coop)
    login(user)
    client.post(reverse("language-switch"), {"language": "fr", "next": "/"})
    user.refresh_from_db()
    assert user.preferred_language == "fr"
    client.logout()
    client.cookies.clear()
    response = client.post(reverse("login"), {"username": user.email, "password": "demo-pass-1234"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"


def test_an_unknown_language_changes_nothing(client, coop, user_in, login):
    user = user_in(coop)
    login(user)
    client.post(reverse("language-switch"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.preferred_language == "en"


def test_the_invitation_page_says_who_invites_whom_as_what(client, coop, user_in):
    admin = user_in(coop, Role.ADMIN)
    invitation = invitation_create(actor=admin, organisation_id=coop.pk, email="new@example.org", role=Role.CLERK)
    html = client.get(reverse("invitation-accept", args=[invitation_token(invitation)])).content.decode()
    assert "Coopérative Alpha invites new@example.org to join as Clerk." in html


def test_a_forged_invitation_link_says_so_before_submitting(client):
    html = client.get(reverse("invitation-accept", args=["not-a-real-token"])).content.decode()
    assert "This invitation link is not valid." in html
