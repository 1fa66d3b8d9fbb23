import pytest
from rest_framework.test import APIClient

from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_member():
    """Create a user with a role in an organisation (a new cooperative unless given)."""

    def make(role: str = Role.MANAGER, organisation: Organisation | None = None, **org_fields):
        organisation = organisation or OrganisationFactory(**org_fields)
        return MembershipFactory(role=role, organisation=organisation).user

    return make


@pytest.fixture
def operator_user(make_member):
    return make_member(Role.ADMIN, kind=Organisation.Kind.OPERATOR, country="FR", currency="EUR")


@pytest.fixture
def as_user(api_client):
    def login(user) -> APIClient:
        api_client.force_authenticate(user=user)
        return api_client

    return login
