"""Fixtures for the server-rendered pages, driven through Django's test client."""

import pytest
from django.test import Client

from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def coop():
    return OrganisationFactory(legal_name="Coopérative Alpha", kind=Organisation.Kind.COOPERATIVE)


@pytest.fixture
def other_coop():
    return OrganisationFactory(legal_name="Cooperative Beta", kind=Organisation.Kind.COOPERATIVE)


@pytest.fixture
def user_in():
    """A user with `role` in `organisation`."""

    def make(organisation, role: str = Role.MANAGER):
        return MembershipFactory(organisation=organisation, role=role).user

    return make


@pytest.fixture
def login(client: Client):
    """Sign a user in on the test client (axes needs a request, so no password round trip here)."""

    def sign_in(user) -> Client:
        client.force_login(user, backend=LOGIN_BACKEND)
        return client

    return sign_in


@pytest.fixture
def operator(user_in):
    operator_org = OrganisationFactory(legal_name="CoopMarket Operations", kind=Organisation.Kind.OPERATOR)
    return user_in(operator_org, Role.ADMIN)
