"""Another organisation's objects answer 404, exactly as ids that do not exist, and are never changed."""

import io
import json

import pytest

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import Invitation, MemberFarmer, Membership, Organisation, Plot
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory, UserFactory

pytestmark = pytest.mark.django_db

MISSING = 10**9


@pytest.fixture
def theirs():
    """A cooperative with one of everything, and its admin."""
    organisation = OrganisationFactory(legal_name="Secret Cooperative", verification_status="pending")
    admin = MembershipFactory(organisation=organisation, role=Role.ADMIN)
    clerk = MembershipFactory(organisation=organisation, role=Role.CLERK)
    farmer = MemberFarmerFactory(organisation=organisation, name="Secret Farmer", member_number="S-1")
    plot = PlotFactory(farmer=farmer, name="Secret Plot")
    invitation = Invitation.objects.create(
        organisation=organisation,
        email="secret.invitee@example.org",
        role=Role.CLERK,
        invited_by=admin.user,
        expires_at="2999-01-01T00:00:00Z",
    )
    return {
        "organisation": organisation.pk,
        "membership": clerk.pk,
        "farmer": farmer.pk,
        "plot": plot.pk,
        "invitation": invitation.pk,
    }


@pytest.fixture
def outsider(make_member):
    """The admin of another cooperative: the strongest role short of the operator."""
    return make_member(Role.ADMIN)


def csv_upload() -> io.BytesIO:
    upload = io.BytesIO(b"member_number,name\nS-1,Renamed\nS-2,Someone\n")
    upload.name = "register.csv"
    return upload


# (method, path template, body, format); {organisation} etc. are filled with the other organisation's ids.
ENDPOINTS = [
    ("get", "/api/v1/organisations/{organisation}/", None, "json"),
    ("patch", "/api/v1/organisations/{organisation}/", {"region": "Hacked"}, "json"),
    ("post", "/api/v1/organisations/{organisation}/verification/", {"status": "verified"}, "json"),
    ("get", "/api/v1/organisations/{organisation}/memberships/", None, "json"),
    ("get", "/api/v1/organisations/{organisation}/invitations/", None, "json"),
    (
        "post",
        "/api/v1/organisations/{organisation}/invitations/",
        {"email": "spy@example.org", "role": "admin"},
        "json",
    ),
    ("patch", "/api/v1/memberships/{membership}/", {"role": "viewer"}, "json"),
    ("delete", "/api/v1/memberships/{membership}/", None, "json"),
    ("post", "/api/v1/invitations/{invitation}/revoke/", None, "json"),
    ("get", "/api/v1/farmers/{farmer}/", None, "json"),
    ("patch", "/api/v1/farmers/{farmer}/", {"name": "Hacked"}, "json"),
    ("post", "/api/v1/farmers/{farmer}/status/", {"status": "left", "reason": "x"}, "json"),
    ("get", "/api/v1/farmers/{farmer}/plots/", None, "json"),
    ("post", "/api/v1/farmers/{farmer}/plots/", {"name": "Hacked", "area_hectares": "1"}, "json"),
    ("get", "/api/v1/plots/{plot}/", None, "json"),
    ("patch", "/api/v1/plots/{plot}/", {"name": "Hacked"}, "json"),
    ("post", "/api/v1/farmers/", {"organisation": "{organisation}", "member_number": "X-1", "name": "Spy"}, "json"),
    ("post", "/api/v1/farmers/import/", {"organisation": "{organisation}", "file": csv_upload}, "multipart"),
]


def fill(value, ids: dict):
    if callable(value):
        return value()
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(inner, ids) for key, inner in value.items()}
    return value


def call(client, method: str, path: str, body, fmt: str, ids: dict):
    return getattr(client, method)(fill(path, ids), fill(body, ids), format=fmt)


def snapshot() -> str:
    rows = [
        list(Organisation.objects.values().order_by("pk")),
        list(Membership.objects.values().order_by("pk")),
        list(Invitation.objects.values().order_by("pk")),
        list(MemberFarmer.objects.values().order_by("pk")),
        list(Plot.objects.values().order_by("pk")),
        AuditEvent.objects.count(),
    ]
    return json.dumps(rows, default=str)


@pytest.mark.parametrize(("method", "path", "body", "fmt"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_another_organisations_object_is_404_and_untouched(as_user, theirs, outsider, method, path, body, fmt):
    client = as_user(outsider)
    before = snapshot()
    response = call(client, method, path, body, fmt, theirs)
    assert response.status_code == 404, response.content
    error = response.json()["error"]
    assert error["code"] == "not_found"
    text = response.content.decode()
    for secret in ("Secret", "secret.invitee", "S-1"):
        assert secret not in text
    assert snapshot() == before

    # Indistinguishable from an id that does not exist.
    missing = call(client, method, path, body, fmt, dict.fromkeys(theirs, MISSING))
    assert missing.status_code == 404
    assert missing.json() == response.json()


def test_lists_never_show_another_organisations_objects(as_user, theirs, outsider):
    client = as_user(outsider)
    for path in (
        "/api/v1/organisations/",
        "/api/v1/farmers/",
        f"/api/v1/farmers/?organisation={theirs['organisation']}",
        "/api/v1/farmers/?search=Secret",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert "Secret" not in response.content.decode(), path
    me = client.get("/api/v1/me/").content.decode()
    assert "Secret" not in me


def test_a_user_with_no_organisation_sees_nothing(as_user, theirs):
    loner = UserFactory()
    client = as_user(loner)
    assert client.get("/api/v1/organisations/").json()["count"] == 0
    assert client.get("/api/v1/farmers/").json()["count"] == 0
    assert client.get(f"/api/v1/farmers/{theirs['farmer']}/").status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "fmt"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_anonymous_requests_are_refused(api_client, theirs, method, path, body, fmt):
    response = call(api_client, method, path, body, fmt, theirs)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "Secret" not in response.content.decode()
