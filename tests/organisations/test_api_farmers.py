import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import MemberFarmer, Organisation, Plot
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory

pytestmark = pytest.mark.django_db

FARMERS = "/api/v1/farmers/"


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
    return OrganisationFactory(kind=Organisation.Kind.COOPERATIVE, country="CI")


@pytest.fixture
def clerk(make_member, coop):
    return make_member(Role.CLERK, organisation=coop)


@pytest.fixture
def manager(make_member, coop):
    return make_member(Role.MANAGER, organisation=coop)


# --- list, search, filters, ordering --------------------------------------------------


def test_list_shows_only_the_viewers_cooperatives(as_user, clerk, coop):
    mine = MemberFarmerFactory(organisation=coop)
    MemberFarmerFactory()  # another cooperative's member
    response = as_user(clerk).get(FARMERS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    farmer = body["results"][0]
    assert farmer["id"] == mine.pk
    assert farmer["organisation"] == coop.pk
    assert farmer["organisation_name"] == coop.name
    assert farmer["phone"] == str(mine.phone)
    assert farmer["plot_count"] == 0


def test_list_filters_searches_and_orders(as_user, clerk, coop):
    awa = MemberFarmerFactory(organisation=coop, name="Awa Koné", village="Soubré", member_number="B2")
    MemberFarmerFactory(organisation=coop, name="Yao Kouassi", gender="male", member_number="A1", village="Méagui")
    MemberFarmerFactory(organisation=coop, name="Fatou Bamba", status="suspended", member_number="C3")
    client = as_user(clerk)

    def ids(query: str) -> list[int]:
        response = client.get(FARMERS + query)
        assert response.status_code == 200, response.content
        return [f["id"] for f in response.json()["results"]]

    assert ids("?search=soubr") == [awa.pk]
    assert ids("?search=B2") == [awa.pk]
    assert ids(f"?search={str(awa.phone)[-6:]}") == [awa.pk]
    assert len(ids("?gender=female")) == 2
    assert len(ids("?status=suspended")) == 1
    assert len(ids(f"?organisation={coop.pk}")) == 3
    assert ids(f"?organisation={coop.pk + 1000}") == []
    numbers = [f["member_number"] for f in client.get(FARMERS + "?ordering=-member_number").json()["results"]]
    assert numbers == ["C3", "B2", "A1"]


def test_list_rejects_an_unknown_filter_value(as_user, clerk):
    assert_error(as_user(clerk).get(FARMERS + "?status=asleep"), 400, "status")


def test_list_query_count_does_not_grow_with_rows(as_user, clerk, coop, django_assert_max_num_queries):
    for farmer in MemberFarmerFactory.create_batch(3, organisation=coop):
        PlotFactory(farmer=farmer)
    client = as_user(clerk)
    with django_assert_max_num_queries(3):
        small = client.get(FARMERS)
    for farmer in MemberFarmerFactory.create_batch(30, organisation=coop):
        PlotFactory.create_batch(2, farmer=farmer)
    with django_assert_max_num_queries(3):
        large = client.get(FARMERS)
    assert small.json()["count"] == 3
    assert large.json()["count"] == 33
    assert {f["plot_count"] for f in large.json()["results"]} == {1, 2}


# --- create ---------------------------------------------------------------------------


def test_clerk_registers_a_member_and_it_is_audited(as_user, clerk, coop):
    response = as_user(clerk).post(
        FARMERS,
        {
            "organisation": coop.pk,
            "member_number": "M-001",
            "name": "Awa Koné",
            "phone": "+225 07 12 34 56 78",
            "gender": "female",
            "birth_year": 1990,
            "village": "Soubré",
            "joined_on": "2021-03-15",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+2250712345678"
    assert body["status"] == "active"
    farmer = MemberFarmer.objects.get(pk=body["id"])
    assert farmer.organisation == coop
    assert str(farmer.joined_on) == "2021-03-15"
    assert AuditEvent.objects.filter(action="member_farmer.created", subject_id=str(farmer.pk), actor=clerk).exists()


def test_create_uses_the_only_cooperative_when_organisation_is_omitted(as_user, clerk, coop):
    response = as_user(clerk).post(FARMERS, {"member_number": "M-9", "name": "Yao"})
    assert response.status_code == 201, response.content
    assert response.json()["organisation"] == coop.pk


def test_create_without_organisation_needs_one_when_in_several_cooperatives(as_user, clerk):
    MembershipFactory(user=clerk, role=Role.CLERK)  # a second cooperative
    error = assert_error(as_user(clerk).post(FARMERS, {"member_number": "M-9", "name": "Yao"}), 400, "organisation")
    assert "several cooperatives" in error["message"]
    assert not MemberFarmer.objects.exists()


def test_create_in_a_buyer_organisation_is_refused(as_user, make_member):
    buyer = OrganisationFactory(kind=Organisation.Kind.BUYER)
    user = make_member(Role.ADMIN, organisation=buyer)
    response = as_user(user).post(FARMERS, {"organisation": buyer.pk, "member_number": "M-1", "name": "Yao"})
    assert_error(response, 400, "organisation")


@pytest.mark.parametrize("phone", ["0712345678", "+225 12", "not a phone", "+1 555 0100"])
def test_invalid_phone_gets_a_helpful_400(as_user, clerk, coop, phone):
    response = as_user(clerk).post(
        FARMERS, {"organisation": coop.pk, "member_number": "M-1", "name": "A", "phone": phone}
    )
    error = assert_error(response, 400, "phone")
    assert error["fields"]["phone"] == ["Enter a valid phone number in international format, e.g. +225 07 12 34 56 78."]
    assert "phone" in error["message"]
    assert not MemberFarmer.objects.exists()


def test_duplicate_member_number_gets_a_400(as_user, clerk, coop):
    MemberFarmerFactory(organisation=coop, member_number="M-1")
    response = as_user(clerk).post(FARMERS, {"organisation": coop.pk, "member_number": "M-1", "name": "Other"})
    error = assert_error(response, 400, "member_number")
    assert "M-1" in error["message"]
    assert MemberFarmer.objects.filter(organisation=coop).count() == 1


def test_the_same_member_number_in_another_cooperative_is_fine(as_user, clerk, coop):
    MemberFarmerFactory(member_number="M-1")  # another cooperative
    response = as_user(clerk).post(FARMERS, {"organisation": coop.pk, "member_number": "M-1", "name": "Awa"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "A"}, "member_number"),
        ({"member_number": "M-1"}, "name"),
        ({"member_number": "M-1", "name": "A", "gender": "f"}, "gender"),
        ({"member_number": "M-1", "name": "A", "birth_year": 1850}, "birth_year"),
        ({"member_number": "M-1", "name": "A", "birth_year": 2999}, "birth_year"),
        ({"member_number": "M-1", "name": "A", "joined_on": "15/03/2021"}, "joined_on"),
        ({"member_number": "x" * 33, "name": "A"}, "member_number"),
    ],
)
def test_bad_farmer_input_gets_400_naming_the_field(as_user, clerk, payload, field):
    assert_error(as_user(clerk).post(FARMERS, payload), 400, field)
    assert not MemberFarmer.objects.exists()


# --- detail, update, status ---------------------------------------------------------


def test_detail_and_partial_update(as_user, clerk, coop):
    farmer = MemberFarmerFactory(organisation=coop, village="Soubré")
    PlotFactory(farmer=farmer)
    client = as_user(clerk)
    detail = client.get(f"{FARMERS}{farmer.pk}/")
    assert detail.status_code == 200
    assert detail.json()["plot_count"] == 1
    response = client.patch(f"{FARMERS}{farmer.pk}/", {"village": "Méagui", "phone": "+225 05 00 00 00 01"})
    assert response.status_code == 200, response.content
    farmer.refresh_from_db()
    assert farmer.village == "Méagui"
    assert str(farmer.phone) == "+2250500000001"
    assert response.json()["plot_count"] == 1
    event = AuditEvent.objects.get(action="member_farmer.updated", subject_id=str(farmer.pk))
    assert event.data["before"]["village"] == "Soubré"


def test_update_cannot_change_status(as_user, clerk, coop):
    farmer = MemberFarmerFactory(organisation=coop)
    response = as_user(clerk).patch(f"{FARMERS}{farmer.pk}/", {"status": "left"})
    assert response.status_code == 200  # unknown fields are ignored, the status is not touched
    farmer.refresh_from_db()
    assert farmer.status == "active"


def test_update_to_a_member_number_in_use_gets_400(as_user, clerk, coop):
    MemberFarmerFactory(organisation=coop, member_number="M-1")
    farmer = MemberFarmerFactory(organisation=coop, member_number="M-2")
    assert_error(as_user(clerk).patch(f"{FARMERS}{farmer.pk}/", {"member_number": "M-1"}), 400, "member_number")
    farmer.refresh_from_db()
    assert farmer.member_number == "M-2"


def test_manager_changes_a_member_status_with_a_reason(as_user, manager, coop):
    farmer = MemberFarmerFactory(organisation=coop)
    response = as_user(manager).post(f"{FARMERS}{farmer.pk}/status/", {"status": "suspended", "reason": "Unpaid dues"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "suspended"
    event = AuditEvent.objects.get(action="member_farmer.status", subject_id=str(farmer.pk))
    assert (event.from_status, event.to_status, event.reason, event.actor) == (
        "active",
        "suspended",
        "Unpaid dues",
        manager,
    )


def test_status_change_needs_a_reason(as_user, manager, coop):
    farmer = MemberFarmerFactory(organisation=coop)
    assert_error(as_user(manager).post(f"{FARMERS}{farmer.pk}/status/", {"status": "left"}), 400, "reason")
    assert_error(
        as_user(manager).post(f"{FARMERS}{farmer.pk}/status/", {"status": "left", "reason": "  "}), 400, "reason"
    )
    farmer.refresh_from_db()
    assert farmer.status == "active"


def test_status_change_not_in_the_table_is_409(as_user, manager, coop):
    farmer = MemberFarmerFactory(organisation=coop)
    error = assert_error(
        as_user(manager).post(f"{FARMERS}{farmer.pk}/status/", {"status": "active", "reason": "x"}), 409, "status"
    )
    assert error["code"] == "invalid_transition"


# --- plots --------------------------------------------------------------------------


def test_plots_list_create_detail_update(as_user, clerk, coop, django_assert_max_num_queries):
    farmer = MemberFarmerFactory(organisation=coop)
    client = as_user(clerk)
    geometry = {"type": "Point", "coordinates": [-6.6, 5.8]}
    created = client.post(
        f"{FARMERS}{farmer.pk}/plots/", {"name": "Cocoa 1", "area_hectares": "2.5", "geometry": geometry}
    )
    assert created.status_code == 201, created.content
    plot = created.json()
    assert plot["country"] == "CI"  # the cooperative's, when omitted
    assert plot["geometry"] == geometry
    assert plot["farmer"] == farmer.pk
    PlotFactory.create_batch(5, farmer=farmer)
    with django_assert_max_num_queries(4):
        listed = client.get(f"{FARMERS}{farmer.pk}/plots/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 6
    assert client.get(f"/api/v1/plots/{plot['id']}/").json()["name"] == "Cocoa 1"
    updated = client.patch(f"/api/v1/plots/{plot['id']}/", {"area_hectares": "3.25"})
    assert updated.status_code == 200, updated.content
    assert updated.json()["area_hectares"] == "3.2500"
    assert AuditEvent.objects.filter(action="plot.updated", subject_id=str(plot["id"])).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "P", "area_hectares": "0"}, "area_hectares"),
        ({"name": "P", "area_hectares": "-1"}, "area_hectares"),
        ({"name": "P", "area_hectares": "1", "country": "ZZ"}, "country"),
        ({"name": "P", "area_hectares": "1", "geometry": {"type": "Circle", "coordinates": [1, 2]}}, "geometry"),
        ({"area_hectares": "1"}, "name"),
    ],
)
def test_bad_plot_input_gets_400(as_user, clerk, coop, payload, field):
    farmer = MemberFarmerFactory(organisation=coop)
    error = assert_error(as_user(clerk).post(f"{FARMERS}{farmer.pk}/plots/", payload, format="json"), 400, field)
    if field == "country":
        assert "ZZ" in error["fields"]["country"][0]
    assert not Plot.objects.exists()


# --- concurrency --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_clerks_creating_the_same_member_number_at_once_make_one_farmer(make_member):
    coop = OrganisationFactory()
    users = [make_member(Role.CLERK, organisation=coop) for _ in range(2)]
    barrier = threading.Barrier(2)
    responses = []

    def create(user):
        client = APIClient()
        client.force_authenticate(user=user)
        try:
            barrier.wait(timeout=10)
            responses.append(
                client.post(FARMERS, {"organisation": coop.pk, "member_number": "M-1", "name": user.email})
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 400]
    rejected = next(r for r in responses if r.status_code == 400)
    assert "member_number" in rejected.json()["error"]["fields"]
    assert MemberFarmer.objects.filter(organisation=coop, member_number="M-1").count() == 1
    assert AuditEvent.objects.filter(action="member_farmer.created").count() == 1
