"""Group order pages and API: the cooperative and the supplier act from their pages; other organisations get 404;
lists run a bounded number of queries."""

import pytest

from orders.group_models import GroupOrder
from orders.services.group_orders import window_place_orders
from tests.factories import MembershipFactory, OrganisationFactory
from tests.orders.test_group_orders import closed_world
from tests.orders.test_group_pages import signed_in

pytestmark = pytest.mark.django_db


def placed():
    world = closed_world()
    orders = {o.supplier_id: o for o in window_place_orders(actor=world.manager, window_id=world.window.pk)}
    return world, orders[world.suppliers[0].pk]


def test_submit_counter_and_accept_through_the_api(as_user):
    world, group_order = placed()
    url = f"/api/v1/group/orders/{group_order.pk}/"
    assert as_user(world.supplier_users[0]).get(url).status_code == 404  # a draft is not sent yet
    answer = as_user(world.manager).post(f"{url}move/", {"status": "submitted"}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "submitted"
    supplier = as_user(world.supplier_users[0])
    body = supplier.get(url).json()
    assert body["moves"] == ["accepted", "countered", "declined"]
    line = body["lines"][0]["id"]
    answer = supplier.post(f"{url}move/", {"status": "countered", "lines": {str(line): {"unit_price": "x"}}},
                           format="json")  # fmt: skip
    assert answer.status_code == 400
    answer = supplier.post(f"{url}move/", {"status": "countered", "lines": {str(line): {"unit_price": 18_100}}},
                           format="json")  # fmt: skip
    assert answer.status_code == 200 and answer.json()["rounds"] == 1
    answer = as_user(world.manager).post(f"{url}move/", {"status": "accepted"}, format="json")
    assert answer.status_code == 200 and answer.json()["order"]
    assert as_user(world.manager).post(f"{url}move/", {"status": "completed"}, format="json").status_code == 409
    listed = as_user(world.supplier_users[0]).get("/api/v1/group/orders/", {"side": "selling"}).json()
    assert [row["id"] for row in listed] == [group_order.pk]


def test_window_place_orders_endpoint(as_user):
    world = closed_world()
    answer = as_user(world.manager).post(f"/api/v1/group/windows/{world.window.pk}/place-orders/")
    assert answer.status_code == 201 and len(answer.json()) == 2
    assert as_user(world.manager).post(f"/api/v1/group/windows/{world.window.pk}/place-orders/").status_code == 409


@pytest.mark.parametrize(("method", "suffix", "body"), [("get", "", None), ("post", "move/", {"status": "accepted"})])
def test_other_organisations_get_404_on_group_order_endpoints(as_user, method, suffix, body):
    world, group_order = placed()
    as_user(world.manager).post(f"/api/v1/group/orders/{group_order.pk}/move/", {"status": "submitted"},
                                format="json")  # fmt: skip
    for outsider in (MembershipFactory(organisation=OrganisationFactory()).user, world.supplier_users[1]):
        answer = getattr(as_user(outsider), method)(f"/api/v1/group/orders/{group_order.pk}/{suffix}", body,
                                                    format="json")  # fmt: skip
        assert answer.status_code == 404
    assert GroupOrder.objects.get(pk=group_order.pk).status == "submitted"
    stranger = MembershipFactory(organisation=OrganisationFactory()).user
    assert as_user(stranger).get("/api/v1/group/orders/").json() == []
    assert as_user(stranger).post(f"/api/v1/group/windows/{world.window.pk}/place-orders/").status_code == 404


def test_pages_from_submit_to_accept_and_isolation(django_assert_max_num_queries):
    world, group_order = placed()
    manager = signed_in(world.manager, world.coop)
    page = manager.get(f"/orders/group/windows/{world.window.pk}/")
    assert group_order.reference in page.content.decode()
    url = f"/orders/group/orders/{group_order.pk}/"
    assert manager.post(url, {"to": "submitted"}).status_code == 302
    supplier = signed_in(world.supplier_users[0], world.suppliers[0])
    with django_assert_max_num_queries(12):
        inbox = supplier.get("/orders/group/orders/")
    assert group_order.reference in inbox.content.decode()
    line = group_order.lines.get()
    answer = supplier.post(url, {"to": "countered", f"unit_price-{line.pk}": "17500"})
    assert answer.status_code == 302
    assert GroupOrder.objects.get(pk=group_order.pk).total_amount == line.packs * 17_500
    answer = supplier.post(url, {"to": "declined"})
    assert answer.status_code == 409  # only from submitted
    assert manager.post(url, {"to": "accepted"}).status_code == 302
    page = manager.get(url)
    assert 'id="pay-escrow"' in page.content.decode()
    for user, organisation in ((MembershipFactory(organisation=OrganisationFactory()).user, None),
                               (world.supplier_users[1], world.suppliers[1])):  # fmt: skip
        client = signed_in(user, organisation)
        assert client.get(url).status_code == 404
        assert client.post(url, {"to": "cancelled", "reason": "x"}).status_code == 404
    assert GroupOrder.objects.get(pk=group_order.pk).status == "accepted"
