"""The group order pages through Django's test client: windows, the clerk's no-script form, the plan."""

import pytest
from django.test import Client

from marketplace.organisations.middleware import SESSION_KEY
from orders.group_models import MemberRequest, OrderingWindow
from tests.factories import MembershipFactory, OrganisationFactory
from tests.orders.group_factories import ask, make_group_world

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


def signed_in(user, organisation=None) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    if organisation is not None:
        session = client.session
        session[SESSION_KEY] = organisation.pk
        session.save()
    return client


def test_a_manager_creates_a_window_from_the_page():
    world = make_group_world()
    client = signed_in(world.manager, world.coop)
    page = client.get("/orders/group/windows/")
    assert page.status_code == 200 and world.window.name in page.content.decode()
    answer = client.post("/orders/group/windows/", {
        "name": "Short rains", "opens_at": "2030-01-01T08:00", "closes_at": "2030-01-10T18:00",
        "products": [world.products[0].pk], "allocation_rule": "first_come", "moq_action": "extend", "extend_days": 7,
    })  # fmt: skip
    assert answer.status_code == 302
    window = OrderingWindow.objects.get(name="Short rains")
    answer = client.post("/orders/group/windows/", {"name": "", "opens_at": "2030-01-10T08:00",
                                                    "closes_at": "2030-01-01T18:00", "extend_days": 7})  # fmt: skip
    assert answer.status_code == 400
    answer = client.post(f"/orders/group/windows/{window.pk}/move/open/")
    assert answer.status_code == 302
    assert OrderingWindow.objects.get(pk=window.pk).status == "open"


def test_the_clerk_records_a_request_in_kilograms_without_script():
    world = make_group_world()
    client = signed_in(world.clerk, world.coop)
    url = f"/orders/group/windows/{world.window.pk}/request/"
    page = client.get(url)
    assert page.status_code == 200 and "<script" not in page.content.decode()
    answer = client.post(url, {"member_number": world.farmers[0].member_number, "product": world.products[0].pk,
                               "action": "add", "quantity": "75", "tolerance": "25"})  # fmt: skip
    assert answer.status_code == 302
    request = MemberRequest.objects.get()
    assert (request.quantity, request.tolerance) == (75_000, 25_000)
    answer = client.post(url, {"member_number": world.farmers[0].member_number, "product": world.products[0].pk,
                               "action": "remove", "quantity": "100"})  # fmt: skip
    assert answer.status_code == 400 and "no more than that can be removed" in answer.content.decode()
    answer = client.post(url, {"member_number": "nobody", "product": world.products[0].pk, "action": "add",
                               "quantity": "5"})  # fmt: skip
    assert answer.status_code == 400
    client_manager = signed_in(world.manager, world.coop)
    client_manager.post(f"/orders/group/windows/{world.window.pk}/move/closed/")
    answer = client.post(url, {"member_number": world.farmers[0].member_number, "product": world.products[0].pk,
                               "action": "add", "quantity": "5"})  # fmt: skip
    assert answer.status_code == 409 and "closed" in answer.content.decode()
    assert MemberRequest.objects.get().quantity == 75_000


def test_window_and_plan_pages_show_packs_and_the_override(django_assert_max_num_queries):
    world = make_group_world(farmers=30)
    for farmer in world.farmers:
        ask(world, farmer, world.products[0], 60_000, 5_000)
    client = signed_in(world.manager, world.coop)
    with django_assert_max_num_queries(25):
        page = client.get(f"/orders/group/windows/{world.window.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1,800 kg" in html and "36" in html  # 30 x 60 kg in 36 bags of 50 kg
    with django_assert_max_num_queries(25):
        page = client.get(f"/orders/group/windows/{world.window.pk}/plan/")
    assert page.status_code == 200 and 'id="plan-cost"' in page.content.decode()
    answer = client.post(f"/orders/group/windows/{world.window.pk}/plan/",
                         {"product": world.products[0].pk, "offer": world.offers[(1, 0)].pk})  # fmt: skip
    assert answer.status_code == 302
    assert world.window.products.get(product=world.products[0]).chosen_offer_id == world.offers[(1, 0)].pk
    assert signed_in(world.clerk, world.coop).post(f"/orders/group/windows/{world.window.pk}/plan/",
                                                   {"product": world.products[0].pk}).status_code == 403  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("get", "request/"), ("post", "request/"), ("get", "plan/"), ("post", "plan/"),
     ("post", "move/closed/")],
)  # fmt: skip
def test_another_organisation_gets_404_on_every_window_page(method, path):
    world = make_group_world()
    other = OrganisationFactory()
    stranger = MembershipFactory(organisation=other).user
    for user, organisation in ((stranger, other), (world.supplier_users[0], world.suppliers[0])):
        answer = getattr(signed_in(user, organisation), method)(f"/orders/group/windows/{world.window.pk}/{path}")
        assert answer.status_code == 404
    assert OrderingWindow.objects.get(pk=world.window.pk).status == "open"
    assert signed_in(world.supplier_users[0], world.suppliers[0]).get("/orders/group/windows/").status_code == 404


def test_the_pages_are_translated_into_french():
    from django.utils import translation

    with translation.override("fr"):
        assert translation.gettext("Input ordering windows") == "Fenêtres de commande d'intrants"
        assert translation.gettext("Record an input request") == "Enregistrer une demande d'intrants"
    world = make_group_world()
    client = signed_in(world.clerk, world.coop)
    page = client.get(f"/orders/group/windows/{world.window.pk}/request/", HTTP_ACCEPT_LANGUAGE="fr")
    assert (
        "Enregistrer une demande d&#x27;intrants" in page.content.decode()
        or "Numéro de membre" in page.content.decode()
    )
