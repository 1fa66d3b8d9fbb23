"""The group order API: windows, requests and the plan; isolation, bad input, 409 after closing, query counts."""

import datetime

import pytest
from django.utils import timezone

from orders.group_models import MemberRequest, OrderingWindow
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory
from tests.orders.group_factories import ask, make_group_world

pytestmark = pytest.mark.django_db
BASE = "/api/v1/group/windows/"


def test_a_manager_creates_and_opens_a_window_and_a_clerk_records_requests(as_user):
    world = make_group_world()
    now = timezone.now()
    client = as_user(world.manager)
    answer = client.post(BASE, {"organisation": world.coop.pk, "name": "Short rains", "opens_at": now.isoformat(),
                                "closes_at": (now + datetime.timedelta(days=3)).isoformat(),
                                "products": [world.products[0].pk], "allocation_rule": "pro_rata",
                                "on_credit": True, "moq_action": "cancel"}, format="json")  # fmt: skip
    assert answer.status_code == 201, answer.json()
    window_id = answer.json()["id"]
    assert answer.json()["status"] == "draft" and answer.json()["on_credit"] is True
    assert client.post(f"{BASE}{window_id}/move/", {"status": "open"}, format="json").json()["status"] == "open"
    client = as_user(world.clerk)
    answer = client.post(f"{BASE}{window_id}/requests/", {"member_number": world.farmers[0].member_number,
                         "product": world.products[0].pk, "quantity_delta": 75_000, "tolerance_delta": 25_000},
                         format="json")  # fmt: skip
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["quantity"], answer.json()["tolerance"]) == (75_000, 25_000)
    assert client.post(f"{BASE}{window_id}/move/", {"status": "closed"}, format="json").status_code == 403


def test_bad_input_is_400_and_after_closing_409(as_user):
    world = make_group_world()
    client = as_user(world.clerk)
    url = f"{BASE}{world.window.pk}/requests/"
    answer = client.post(url, {"member_number": "nobody", "product": world.products[0].pk, "quantity_delta": 5},
                         format="json")  # fmt: skip
    assert answer.status_code == 400 and "member_number" in answer.json()["error"]["fields"]
    assert client.post(url, {"product": "x"}, format="json").status_code == 400
    as_user(world.manager).post(f"{BASE}{world.window.pk}/move/", {"status": "closed"}, format="json")
    given = {"member_number": world.farmers[0].member_number, "product": world.products[0].pk, "quantity_delta": 5}
    answer = as_user(world.clerk).post(url, given, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "window_closed"
    answer = as_user(world.manager).post(f"{BASE}{world.window.pk}/move/", {"status": "completed"}, format="json")
    assert answer.status_code == 409


def test_the_plan_shows_packs_shortfall_tier_and_the_single_supplier_choice(as_user):
    world = make_group_world()
    npk, urea = world.products
    for farmer in world.farmers:
        ask(world, farmer, npk, 100_000, 10_000)  # 5 x 100 kg = 500 kg = 10 bags of 50 kg
        ask(world, farmer, urea, 30_000, 0)  # 150 kg = 6 bags of 25 kg
    answer = as_user(world.manager).get(f"{BASE}{world.window.pk}/plan/")
    assert answer.status_code == 200
    data = answer.json()
    lines = {line["product"]: line for line in data["lines"]}
    # NPK: supplier 0 reaches its 10-bag tier at 18,000 (cheaper than supplier 1's 19,000)
    assert (lines[npk.pk]["packs"], lines[npk.pk]["unit_price"], lines[npk.pk]["offer"]) == (
        10,
        18_000,
        world.offers[(0, 0)].pk,
    )
    # 50 kg of tolerance in all: 1 g more completes an 11th bag
    assert lines[npk.pk]["shortfall_to_next_pack"] == 1
    assert (lines[urea.pk]["packs"], lines[urea.pk]["unit_price"]) == (6, 14_000)
    assert data["plan"]["cost"] == 10 * 18_000 + 6 * 14_000
    # alone, supplier 1 (274,000) is cheaper than supplier 0 (276,000)
    assert data["single_supplier"]["cost"] == 10 * 19_000 + 6 * 14_000
    assert data["saving"] == 10 * 1_000
    # the manager overrides the urea line
    answer = as_user(world.manager).post(f"{BASE}{world.window.pk}/products/{urea.pk}/offer/",
                                         {"offer": world.offers[(0, 1)].pk}, format="json")  # fmt: skip
    assert answer.status_code == 200
    line = next(line for line in answer.json()["lines"] if line["product"] == urea.pk)
    assert (line["offer"], line["unit_price"], line["overridden"]) == (world.offers[(0, 1)].pk, 16_000, True)
    answer = as_user(world.manager).post(f"{BASE}{world.window.pk}/products/{urea.pk}/offer/",
                                         {"offer": world.offers[(0, 0)].pk}, format="json")  # fmt: skip
    assert answer.status_code == 400
    assert as_user(world.clerk).post(f"{BASE}{world.window.pk}/products/{urea.pk}/offer/", {"offer": None},
                                     format="json").status_code == 403  # fmt: skip


def test_offers_outside_the_delivery_region_are_not_planned(as_user):
    world = make_group_world()
    world.coop.region = "Bas-Sassandra"
    world.coop.save()
    ask(world, world.farmers[0], world.products[0], 100_000)
    lines = as_user(world.manager).get(f"{BASE}{world.window.pk}/plan/").json()["lines"]
    line = next(line for line in lines if line["product"] == world.products[0].pk)
    assert line["offer"] == world.offers[(0, 0)].pk  # supplier 1 delivers only to Nawa


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("post", "move/", {"status": "closed"}),
        ("get", "requests/", None),
        ("post", "requests/", {"member_number": "M1", "product": 1, "quantity_delta": 5}),
        ("get", "plan/", None),
        ("post", "products/1/offer/", {"offer": None}),
    ],
)
def test_another_organisation_gets_404_on_every_window_endpoint(as_user, method, path, body):
    world = make_group_world()
    ask(world, world.farmers[0], world.products[0], 50_000)
    for outsider in (MembershipFactory(organisation=OrganisationFactory()).user, world.supplier_users[0]):
        client = as_user(outsider)
        answer = getattr(client, method)(f"{BASE}{world.window.pk}/{path}", body, format="json")
        assert answer.status_code == 404, (outsider, answer.content)
    assert OrderingWindow.objects.get(pk=world.window.pk).status == "open"
    assert MemberRequest.objects.get().quantity == 50_000
    assert as_user(world.supplier_users[0]).get(BASE, {"organisation": world.coop.pk}).status_code == 404


def test_lists_run_a_constant_number_of_queries(as_user, django_assert_max_num_queries):
    world = make_group_world(farmers=30)
    for farmer in world.farmers:
        ask(world, farmer, world.products[0], 60_000, 5_000)
        ask(world, farmer, world.products[1], 20_000)
    MemberFarmerFactory(organisation=world.coop)
    client = as_user(world.manager)
    with django_assert_max_num_queries(8):
        assert len(client.get(f"{BASE}{world.window.pk}/requests/").json()) == 60
    with django_assert_max_num_queries(8):
        assert client.get(BASE, {"organisation": world.coop.pk}).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(f"{BASE}{world.window.pk}/plan/").status_code == 200


def test_a_cooperative_in_a_sub_region_gets_the_offers_of_its_region(as_user):
    world = make_group_world()
    world.coop.region = "Nawa, Soubré"
    world.coop.save()
    ask(world, world.farmers[0], world.products[0], 100_000)
    lines = as_user(world.manager).get(f"{BASE}{world.window.pk}/plan/").json()["lines"]
    line = next(line for line in lines if line["product"] == world.products[0].pk)
    assert line["offer"] == world.offers[(1, 0)].pk  # supplier 1's Nawa offer is cheaper
