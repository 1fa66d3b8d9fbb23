import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import PASSWORD, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def test_token_for_email_and_password_authenticates_later_requests(api_client):
    user = UserFactory(email="awa@example.org")
    response = api_client.post(TOKEN, {"email": "Awa@Example.org", "password": PASSWORD})
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert token == Token.objects.get(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "awa@example.org"


def test_wrong_password_is_a_400_with_the_error_shape(api_client):
    UserFactory(email="awa@example.org")
    response = api_client.post(TOKEN, {"email": "awa@example.org", "password": "wrong"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_credentials"
    assert error["message"] == "The email or password is wrong."
    assert "password" in error["fields"]


def test_missing_fields_are_a_400_naming_them(api_client):
    response = api_client.post(TOKEN, {"email": "not-an-email"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email", "password"}


def test_inactive_user_gets_no_token(api_client):
    UserFactory(email="gone@example.org", is_active=False)
    assert api_client.post(TOKEN, {"email": "gone@example.org", "password": PASSWORD}).status_code == 400


def test_after_five_failures_the_user_is_locked_out_even_with_the_right_password(api_client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="awa@example.org")
    statuses = [
        api_client.post(TOKEN, {"email": "awa@example.org", "password": f"wrong-{i}"}).status_code for i in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 429]
    response = api_client.post(TOKEN, {"email": "awa@example.org", "password": PASSWORD})
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "locked_out"
    assert error["message"] == "Too many failed sign-in attempts. Wait 15 minutes, then try again."
    assert not Token.objects.exists()


def test_me_lists_memberships(as_user):
    membership = MembershipFactory(role=Role.CLERK)
    other = MembershipFactory(
        user=membership.user, role=Role.ADMIN, organisation=OrganisationFactory(kind=Organisation.Kind.BUYER)
    )
    MembershipFactory(role=Role.ADMIN)  # someone else's
    response = as_user(membership.user).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == membership.user.email
    assert body["is_operator"] is False
    got = {
        (m["organisation"]["id"], m["organisation"]["name"], m["organisation"]["kind"], m["role"])
        for m in body["memberships"]
    }
    assert got == {
        (membership.organisation_id, membership.organisation.name, "cooperative", "clerk"),
        (other.organisation_id, other.organisation.name, "buyer", "admin"),
    }


def test_me_says_whether_the_user_is_the_operator(as_user, operator_user):
    assert as_user(operator_user).get("/api/v1/me/").json()["is_operator"] is True


def test_me_needs_authentication(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"
