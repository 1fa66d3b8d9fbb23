"""The dashboard's figures are cached per organisation under its data version (marketplace.core.versions), which the
commit of every change replaces: each kind of change shows on the next dashboard, a change shows only once it has
committed, one organisation's figures are never served to another, and a cached request runs fewer queries."""

import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue import services as catalogue
from marketplace.core.errors import NotFound
from marketplace.core.versions import VERSION_KEY, organisation_changed, organisation_version
from marketplace.market.dashboard import dashboard_cached
from marketplace.organisations.services import member_farmer_create
from orders.services import group_windows
from orders.services.group_orders import group_order_transition, window_place_orders
from payments.models import Account
from payments.payouts.services import payout_batch_propose, payout_batch_transition
from payments.services.ledger import account_get_or_create, ledger_post
from tests.factories import MembershipFactory
from tests.market.test_dashboard import sign_in
from tests.orders.factories import TONNE, advance, make_lot, make_side, place
from tests.orders.group_factories import ask, make_group_world
from tests.payments.conftest import input_order, pay
from tests.payouts.factories import release

pytestmark = pytest.mark.django_db
K = Account.Kind


@pytest.fixture(autouse=True)
def _offline_payments_on(settings):
    settings.OFFLINE_PAYMENTS = True


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what follows the commit of the block (the version change, the tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def dashboard(client) -> str:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode().split("<main", 1)[1]


def is_cached(user, organisation) -> bool:
    membership = user.memberships.select_related("organisation").get(organisation=organisation)
    return dashboard_cached(viewer=user, membership=membership)[1]


def active_members(html: str) -> int:
    return int(re.search(r'stat-value">(\d+)</span> <span class="stat-label">active members', html)[1])


def deliveries_this_week(html: str) -> str:
    return re.findall(r'<td class="num">([\d.]+)</td></tr>', html)[-1]


# --- Served from the cache, and how many queries -------------------------------------------------------------


def test_an_unchanged_organisation_is_served_from_the_cache_with_fewer_queries(
    client, world, django_assert_max_num_queries
):
    sign_in(client, world.seller.manager)
    with CaptureQueriesContext(connection) as uncached, django_assert_max_num_queries(13):
        first = dashboard(client)
    # session, user and memberships, as for any page: the figures come from the cache
    with CaptureQueriesContext(connection) as cached, django_assert_max_num_queries(3):
        second = dashboard(client)
    assert len(cached) < len(uncached)
    assert re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", first) == re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"', "", second
    )
    assert is_cached(world.seller.manager, world.seller.organisation)


def test_a_change_shows_only_after_its_commit(client, world, django_capture_on_commit_callbacks):
    sign_in(client, world.seller.manager)
    assert "order to accept" not in dashboard(client)
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        place(world)
    # Not committed yet: the cached figures stand (a reader may not cache the change before it commits).
    assert "order to accept" not in dashboard(client)
    for callback in after_commit:
        callback()
    assert "1 order to accept or reject" in dashboard(client)


# --- Each kind of change shows on the next dashboard ---------------------------------------------------------


def test_order_moves_show_on_both_sides(client, world, committed):
    seller, buyer = sign_in(client, world.seller.manager), sign_in(Client(), world.buyer.manager)
    assert "order to accept" not in dashboard(seller)
    with committed():
        order = place(world)
    assert "1 order to accept or reject" in dashboard(seller)
    assert "accepted order to pay" not in dashboard(buyer)
    with committed():
        advance(world, order, "accepted")  # by the seller: the buyer's dashboard changes too
    assert "order to accept" not in dashboard(seller)
    assert "1 accepted order to pay" in dashboard(buyer)


def test_a_payment_into_escrow_shows_on_both_sides(client, world, committed):
    with committed():
        order = advance(world, place(world, 2 * TONNE), "accepted")
    seller, buyer = sign_in(client, world.seller.manager), sign_in(Client(), world.buyer.manager)
    assert "held in escrow" not in dashboard(seller)
    assert "we hold in escrow" not in dashboard(buyer)
    with committed():
        pay(world, order)
    html = dashboard(seller)
    assert "3,000,000 XOF" in html and "held in escrow for our sales" in html and "1 paid order to dispatch" in html
    assert "3,000,000 XOF" in dashboard(buyer)


def test_a_ledger_posting_alone_shows_what_is_owed(client, world, committed):
    """A posting with no order move (a correction, input credit): the owners of the accounts it moves."""
    sign_in(client, world.seller.manager)
    assert "owed to us" not in dashboard(client) and "owed to our members" not in dashboard(client)
    farmer = world.seller.organisation.member_farmers.first()
    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency="XOF")
    payable = account_get_or_create(kind=K.ORGANISATION_PAYABLE, currency="XOF",
                                    organisation_id=world.seller.organisation.pk)  # fmt: skip
    member = account_get_or_create(kind=K.MEMBER_PAYABLE, currency="XOF", farmer_id=farmer.pk)
    with committed():
        ledger_post(actor=None, kind="test", idempotency_key="dashboard-cache-test",
                    lines=[(clearing, 7_000), (payable, -5_000), (member, -2_000)])  # fmt: skip
    html = dashboard(client)
    assert '5,000 XOF</span> <span class="stat-label">owed to us' in html
    assert '2,000 XOF</span> <span class="stat-label">owed to our members' in html


def test_deliveries_and_their_reversal_show(client, world, committed):
    sign_in(client, world.seller.manager)
    assert deliveries_this_week(dashboard(client)) == "30.00"
    farmer = world.seller.organisation.member_farmers.first()
    with committed():
        delivery = catalogue.delivery_record(
            actor=world.seller.clerk, organisation_id=world.seller.organisation.pk,
            collection_point_id=world.extra["collection_point"].pk, farmer_id=farmer.pk,
            plot_id=farmer.plots.first().pk, commodity_id=world.grade_1.commodity_id, grade_id=world.grade_1.pk,
            moisture_pct=Decimal("7.0"), net_grams=2_500_000,
        )  # fmt: skip
    assert deliveries_this_week(dashboard(client)) == "32.50"
    with committed():
        catalogue.delivery_reverse(actor=world.seller.clerk, delivery_id=delivery.pk, reason="Weighed twice")
    assert deliveries_this_week(dashboard(client)) == "30.00"


def test_a_new_lot_shows_in_the_stock(client, world, committed):
    sign_in(client, world.seller.manager)
    assert "open lot not listed" not in dashboard(client)
    with committed():
        make_lot(world.seller, grams=5 * TONNE, grade=world.grade_2, warehouse=world.warehouse,
                 collection_point=world.extra["collection_point"])  # fmt: skip
    html = dashboard(client)
    assert "1 open lot not listed for sale" in html and "5.0 t" in html


def test_payout_batches_proposed_and_approved_show(client, world, committed, settings):
    settings.ORDER_EVENT_SUBSCRIBERS = []  # the batch is proposed below, not by the task that follows a release
    order = advance(world, place(world, 2 * TONNE), "accepted")
    pay(world, order)
    advance(world, order, "completed")
    release(order)
    sign_in(client, world.seller.manager)
    assert "payout batch to approve" not in dashboard(client)
    with committed():
        batch = payout_batch_propose(actor=world.seller.manager, organisation_id=world.seller.organisation.pk)
    html = dashboard(client)
    assert "1 payout batch to approve" in html and f"Batch {batch.pk} proposed" in html
    with committed():
        payout_batch_transition(actor=world.seller.manager, batch_id=batch.pk, to_status="approved")
    assert "payout batch to approve" not in dashboard(client)


def test_a_group_order_accepted_by_the_supplier_shows_for_the_cooperative(client, committed):
    group = make_group_world()
    npk, _urea = group.products
    for farmer in group.farmers:
        ask(group, farmer, npk, 100_000)
    group_windows.window_transition(actor=group.manager, window_id=group.window.pk, to_status="closed")
    group_order = next(o for o in window_place_orders(actor=group.manager, window_id=group.window.pk)
                       if o.supplier_id == group.suppliers[0].pk)  # fmt: skip
    group_order_transition(actor=group.manager, group_order_id=group_order.pk, to_status="submitted")
    sign_in(client, group.manager)
    assert "accepted order to pay" not in dashboard(client)
    with committed():
        group_order_transition(actor=group.supplier_users[0], group_order_id=group_order.pk, to_status="accepted")
    assert "1 accepted order to pay" in dashboard(client)


def test_an_input_order_shows_for_the_supplier(client, world, committed):
    sign_in(client, world.supplier.manager)
    assert "order to accept" not in dashboard(client)
    with committed():
        input_order(world, packs=5)
    assert "1 order to accept or reject" in dashboard(client)


def test_a_new_member_shows_in_the_member_figures(client, world, committed):
    sign_in(client, world.seller.manager)
    before = active_members(dashboard(client))
    with committed():
        member_farmer_create(
            actor=world.seller.manager, organisation_id=world.seller.organisation.pk, member_number="CACHE-1",
            name="Awa Koné", phone="+2250799990001", gender="female", birth_year=1990,
        )  # fmt: skip
    assert active_members(dashboard(client)) == before + 1


# --- Isolation -----------------------------------------------------------------------------------------------


def test_another_organisation_is_never_served_the_cached_figures(client, world, committed):
    with committed():
        pay(world, advance(world, place(world, 2 * TONNE), "accepted"))
    sign_in(client, world.seller.manager)
    assert "held in escrow for our sales" in dashboard(client)  # cached now
    other = make_side(legal_name="Other Coop", currency="XOF", country="CI")
    html = sign_in(client, other.manager).get(reverse("dashboard")).content.decode()
    assert "3,000,000" not in html and "held in escrow" not in html and "paid order to dispatch" not in html
    # another user's membership of the cached organisation is refused before the cache is read
    assert is_cached(world.seller.manager, world.seller.organisation)
    membership = world.seller.manager.memberships.get(organisation=world.seller.organisation)
    with pytest.raises(NotFound):
        dashboard_cached(viewer=other.manager, membership=membership)


def test_a_member_of_two_organisations_gets_each_ones_figures(client, world, committed):
    with committed():
        pay(world, advance(world, place(world, 2 * TONNE), "accepted"))
    user = world.seller.viewer
    MembershipFactory(user=user, organisation=world.stranger.organisation)
    assert "held in escrow for our sales" in dashboard(sign_in(client, user, world.seller.organisation))
    html = dashboard(sign_in(client, user, world.stranger.organisation))
    assert "held in escrow" not in html and "paid order to dispatch" not in html
    assert "held in escrow for our sales" in dashboard(sign_in(client, user, world.seller.organisation))


def test_a_change_of_one_organisation_leaves_the_others_cached(client, world, committed):
    other = make_side(legal_name="Other Coop", currency="XOF", country="CI")
    for side in (world.seller, other):
        dashboard(sign_in(client, side.manager))
    with committed():
        place(world)  # the seller and the buyer change; the other cooperative does not
    assert is_cached(other.manager, other.organisation)
    assert not is_cached(world.seller.manager, world.seller.organisation)


# --- The version -------------------------------------------------------------------------------------------


def test_the_version_changes_after_the_commit_only(world, django_capture_on_commit_callbacks):
    a, b = world.seller.organisation.pk, world.buyer.organisation.pk
    before = organisation_version(a), organisation_version(b)
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        organisation_changed(a)
        organisation_changed(a, b, None)
    assert (organisation_version(a), organisation_version(b)) == before
    for hook in hooks:
        hook()
    assert organisation_version(a) != before[0] and organisation_version(b) != before[1]


def test_a_hook_rolled_back_with_its_savepoint_is_registered_again(world, django_capture_on_commit_callbacks):
    a = world.seller.organisation.pk
    before = organisation_version(a)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            organisation_changed(a)
            raise RuntimeError("rolled back")
        organisation_changed(a)
    assert organisation_version(a) != before


def test_a_lost_version_is_never_an_old_one(world):
    from django.core.cache import cache

    a = world.seller.organisation.pk
    before = organisation_version(a)
    cache.delete(VERSION_KEY.format(a))
    assert organisation_version(a) != before
    assert organisation_version(a) == organisation_version(a)
