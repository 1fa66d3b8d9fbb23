"""The dashboard: a cooperative's stock, orders, money and actions, a buyer's orders and escrow, a supplier's
orders to answer; nothing of another organisation; a bounded number of queries."""

import pytest
from django.urls import reverse

from marketplace.market.dashboard import dashboard_get
from marketplace.organisations.middleware import SESSION_KEY
from tests.factories import MembershipFactory
from tests.orders.factories import TONNE, advance, make_lot, make_side, place
from tests.pages.conftest import LOGIN_BACKEND
from tests.payments.conftest import input_order, pay

pytestmark = pytest.mark.django_db


def sign_in(client, user, organisation=None):
    client.force_login(user, backend=LOGIN_BACKEND)
    if organisation is not None:
        session = client.session
        session[SESSION_KEY] = organisation.pk
        session.save()
    return client


@pytest.fixture
def busy(world):
    """One order waiting for acceptance, one paid (XOF 3,000,000 in escrow), one open lot besides the listed one."""
    waiting = place(world, 1 * TONNE)
    paid = advance(world, place(world, 2 * TONNE), "accepted")
    pay(world, paid)
    make_lot(world.seller, grams=5 * TONNE, grade=world.grade_2, warehouse=world.warehouse,
             collection_point=world.extra["collection_point"])  # fmt: skip
    return {"waiting": waiting, "paid": paid}


def test_the_cooperative_dashboard_shows_stock_orders_money_and_actions(client, world, busy,
                                                                         django_assert_max_num_queries):  # fmt: skip
    board = dashboard_get(viewer=world.seller.viewer, organisation_id=world.seller.organisation.pk)
    assert board.selling == {"placed": 1, "paid": 1}
    assert [str(m.amount) + m.currency for m in board.held] == ["3000000XOF"]
    assert board.owed_to_us == [] and board.owed_to_members == []
    stock = {(row["grade"], status): row[status] for row in board.stock for status in ("open", "listed", "reserved")}
    assert stock[world.grade_2.name, "open"] == {"lots": 1, "tonnes": 5.0}
    assert stock[world.grade_1.name, "listed"]["lots"] == 1
    texts = [action.text for action in board.actions]
    assert "1 order to accept or reject" in texts
    assert "1 paid order to dispatch" in texts
    assert "1 open lot not listed for sale" in texts
    assert sum(tonnes for _, tonnes in board.deliveries) == pytest.approx(35.0)  # 30 t + 5 t delivered this week

    sign_in(client, world.seller.manager)
    # Not cached yet (the cache is emptied before each test): 26 queries before the dashboard was cut to one query
    # per panel; a cached request runs 3 (tests/market/test_dashboard_cache.py).
    with django_assert_max_num_queries(13):
        response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Stock", "Open orders", "held in escrow", "Deliveries per week", "<svg", "1 order to accept"):
        assert text in html


def test_the_number_of_queries_does_not_grow_with_the_data(client, world, django_assert_num_queries):
    """Read from the database each time (the cache emptied: a change's commit has the same effect)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign_in(client, world.seller.manager)
    client.get(reverse("dashboard"))
    cache.clear()
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("dashboard"))
    for _ in range(3):
        order = advance(world, place(world, TONNE), "accepted")
        pay(world, order)
    make_lot(world.seller, grams=2 * TONNE, grade=world.grade_2, warehouse=world.warehouse,
             collection_point=world.extra["collection_point"])  # fmt: skip
    cache.clear()
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("dashboard"))
    assert len(after) == len(before) > 3  # more than a cached request's session, user and memberships


def test_the_buyer_dashboard_shows_its_orders_and_escrow(client, world, busy):
    board = dashboard_get(viewer=world.buyer.viewer, organisation_id=world.buyer.organisation.pk)
    assert board.buying == {"placed": 1, "paid": 1}
    assert [m.amount for m in board.bought_held] == [3_000_000]
    assert board.selling == {} and board.stock == [] and board.held == []
    advance(world, busy["waiting"], "accepted")
    board = dashboard_get(viewer=world.buyer.viewer, organisation_id=world.buyer.organisation.pk)
    assert [a.text for a in board.actions] == ["1 accepted order to pay"]
    html = sign_in(client, world.buyer.viewer).get(reverse("dashboard")).content.decode()
    assert "we hold in escrow for our purchases" in html
    assert "1 accepted order to pay" in html


def test_the_supplier_dashboard_shows_the_orders_to_answer(client, world):
    input_order(world, packs=5)
    board = dashboard_get(viewer=world.supplier.viewer, organisation_id=world.supplier.organisation.pk)
    assert board.selling == {"placed": 1}
    assert [a.text for a in board.actions] == ["1 order to accept or reject"]
    html = sign_in(client, world.supplier.manager).get(reverse("dashboard")).content.decode()
    assert "1 order to accept or reject" in html


def test_no_figure_of_another_organisation(client, world, busy):
    """Another cooperative (and its buyer) see none of the seller's orders, stock or money."""
    other = make_side(legal_name="Other Coop", currency="XOF", country="CI")
    board = dashboard_get(viewer=other.manager, organisation_id=other.organisation.pk)
    assert (board.selling, board.buying, board.held, board.stock, board.actions) == ({}, {}, [], [], [])
    assert sum(t for _, t in board.deliveries) == 0
    html = sign_in(client, other.manager).get(reverse("dashboard")).content.decode()
    assert "3,000,000" not in html and "held in escrow" not in html and "accept or reject" not in html
    # asking for the seller's dashboard by id is refused
    from marketplace.core.errors import NotFound

    with pytest.raises(NotFound):
        dashboard_get(viewer=other.manager, organisation_id=world.seller.organisation.pk)
    # the stranger buyer sees nothing of the buyer's escrow
    board = dashboard_get(viewer=world.stranger.manager, organisation_id=world.stranger.organisation.pk)
    assert board.bought_held == [] and board.buying == {}


def test_a_member_of_two_organisations_sees_the_current_one(client, world, busy):
    user = world.seller.viewer
    MembershipFactory(user=user, organisation=world.stranger.organisation)
    html = sign_in(client, user, world.stranger.organisation).get(reverse("dashboard")).content.decode()
    assert "held in escrow" not in html and "accept or reject" not in html
