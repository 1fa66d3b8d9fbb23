"""Isolation of id-taking URLs that had no test with a user of another organisation: guessing an id gives that user
a 404 (or 403) and changes nothing.

Covered here:
- a paused (not live) supplier offer: its API quote and its public page are 404 for signed-in users of other
  organisations (and for anonymous visitors), while its own supplier still sees both;
- the supplier's offer form (POST) for another supplier's offer;
- an order's EUDR page (GET and POST) and its statement download for organisations that are neither the seller
  nor the buyer;
- placing a closed ordering window's group orders (page, POST) as another cooperative or a supplier of the plan;
- retrying a payout batch's failed payments (page, POST) as another cooperative's manager, a buyer or a supplier;
- editing a member, adding a plot and editing a plot (GET and POST) as another cooperative's manager;
- editing a buyer's request (POST) as another buyer or a cooperative.

Every case also checks that the owner gets a 200 or 302 on the same URL, so that a wrong URL cannot pass as a 404.
"""

import datetime

import pytest
from django.test import Client

from catalogue import services as catalogue_services
from catalogue.models import SupplierOffer
from marketplace.core.models import AuditEvent
from marketplace.matching.models import BuyerRequest
from marketplace.organisations.models import MemberFarmer, Organisation, Plot
from marketplace.organisations.roles import Role
from orders.group_models import GroupOrder, OrderingWindow
from payments.models import LedgerTransaction
from payments.payouts import services as payout_services
from payments.payouts.models import PayoutBatch, PayoutLine
from payments.payouts.provider import OfflinePayoutProvider, PayoutUnavailable
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory
from tests.matching.factories import make_market, post_request
from tests.matching.test_pages import form as request_form
from tests.orders.factories import make_side, make_world, mapped_and_dispatched
from tests.orders.test_group_orders import closed_world
from tests.payouts.test_execution import _approved
from traceability.models import StatementReference

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def _cooperative_manager():
    return MembershipFactory(organisation=OrganisationFactory(), role=Role.MANAGER).user


def _supplier_manager():
    supplier = OrganisationFactory(kind=Organisation.Kind.INPUT_SUPPLIER, country="CI", currency="XOF")
    return MembershipFactory(organisation=supplier, role=Role.MANAGER).user


# --- 1, 2. A paused supplier offer: quote (API) and page -------------------------------------------------------


def test_a_paused_offer_is_not_found_by_other_organisations(api_client):
    world = make_world()
    offer = world.offer
    quote, page = f"/api/v1/offers/{offer.pk}/quote/", f"/catalogue/offers/{offer.pk}/"
    strangers = [world.stranger.manager, world.seller.manager, _supplier_manager()]
    # While live, the offer is public: the URLs are right.
    api_client.force_authenticate(world.stranger.manager)
    assert api_client.get(quote, {"packs": 10}).status_code == 200
    assert signed_in(world.stranger.manager).get(page).status_code == 200

    catalogue_services.supplier_offer_status_transition(
        actor=world.supplier.manager, offer_id=offer.pk, to_status="paused"
    )
    for user in strangers:
        api_client.force_authenticate(user)
        assert api_client.get(quote, {"packs": 10}).status_code == 404, user
        client = signed_in(user)
        assert client.get(page).status_code == 404, user
        assert client.get(page, {"packs": 10}).status_code == 404, user
    api_client.force_authenticate(None)
    assert api_client.get(quote, {"packs": 10}).status_code == 404
    assert Client().get(page).status_code == 404

    # Its own supplier still reads both.
    api_client.force_authenticate(world.supplier.viewer)
    answer = api_client.get(quote, {"packs": 10})
    assert answer.status_code == 200 and answer.json()["packs"] == 10
    assert signed_in(world.supplier.viewer).get(page, {"packs": 10}).status_code == 200
    assert SupplierOffer.objects.get(pk=offer.pk).status == "paused"


# --- 6a. The supplier's offer form, POST, by another supplier ----------------------------------------------------


def _offer_state(offer_id: int) -> tuple:
    offer = SupplierOffer.objects.get(pk=offer_id)
    return (
        offer.status,
        offer.stock_packs,
        offer.lead_time_days,
        offer.valid_until,
        offer.notes,
        list(offer.tiers.order_by("min_packs").values_list("min_packs", "unit_price_amount")),
        list(offer.regions.order_by("pk").values_list("country", "region")),
    )


def test_another_supplier_cannot_change_an_offer_from_the_form():
    world = make_world()
    offer = world.offer
    url = f"/catalogue/supplier/offers/{offer.pk}/"
    data = {
        "stock_packs": 7,
        "lead_time_days": 2,
        "valid_until": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
        "notes": "Changed",
        "country": "CI",
        "regions": "Nawa",
        "tier_0_min": 1,
        "tier_0_max": 4,
        "tier_0_price": "1",
        "tier_1_min": 5,
        "tier_1_max": "",
        "tier_1_price": "1",
    }
    before = _offer_state(offer.pk)
    for user in (_supplier_manager(), world.stranger.admin, world.seller.admin):
        assert signed_in(user).post(url, data).status_code == 404, user
    assert _offer_state(offer.pk) == before

    answer = signed_in(world.supplier.manager).post(url, data)
    assert answer.status_code == 302
    after = _offer_state(offer.pk)
    assert after != before and (after[1], after[4]) == (7, "Changed")


# --- 3. An order's EUDR page and statement ----------------------------------------------------------------------


def test_an_orders_eudr_page_and_statement_are_not_found_by_other_organisations(settings):
    settings.ORDER_EVENT_SUBSCRIBERS = []
    world, order = mapped_and_dispatched()
    page, statement = f"/catalogue/eudr/orders/{order.number}/", f"/catalogue/eudr/orders/{order.number}/statement.json"
    body = {"reference_number": "25CI77", "verification_number": "ABCDE1"}
    owner = signed_in(world.buyer.clerk)
    assert owner.get(page).status_code == 200
    assert owner.get(statement).status_code == 200
    assert signed_in(world.seller.viewer).get(statement).status_code == 200

    audits = AuditEvent.objects.count()
    for user in (world.stranger.admin, _cooperative_manager(), world.supplier.admin):
        client = signed_in(user)
        assert client.get(page).status_code == 404, user
        assert client.get(statement).status_code == 404, user
        assert client.post(page, body).status_code == 404, user
    assert not StatementReference.objects.exists()
    assert AuditEvent.objects.count() == audits

    assert owner.post(page, body).status_code == 302
    assert StatementReference.objects.count() == 1


# --- 4. Placing a window's group orders (page) --------------------------------------------------------------------


def test_another_cooperative_cannot_place_a_windows_group_orders():
    world = closed_world()
    url = f"/orders/group/windows/{world.window.pk}/place-orders/"
    for user in (_cooperative_manager(), world.supplier_users[0]):
        assert signed_in(user).post(url).status_code == 404, user
    assert not GroupOrder.objects.exists()
    assert OrderingWindow.objects.get(pk=world.window.pk).status == "closed"

    assert signed_in(world.manager).post(url).status_code == 302
    assert GroupOrder.objects.filter(window=world.window).count() == 2
    assert OrderingWindow.objects.get(pk=world.window.pk).status == "ordered"


# --- 5. Retrying a batch's failed payouts (page) -------------------------------------------------------------------


class SilentProvider(OfflinePayoutProvider):
    def pay(self, instructions):
        raise PayoutUnavailable("Timed out.")


class FindsNothingProvider(OfflinePayoutProvider):
    def find(self, instructions):
        return []


def _lines_state(batch) -> list:
    return list(
        PayoutLine.objects.filter(batch=batch)
        .order_by("pk")
        .values_list("status", "retries", "failed_at", "sent_at", "payout_transaction")
    )


def test_other_organisations_cannot_retry_a_batchs_failed_payouts(settings, django_capture_on_commit_callbacks):
    settings.OFFLINE_PAYMENTS = True
    world = make_world()
    batch = _approved(world)
    settings.PAYOUT_PROVIDER = f"{__name__}.SilentProvider"
    with django_capture_on_commit_callbacks(execute=True):
        payout_services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    settings.PAYOUT_PROVIDER = f"{__name__}.FindsNothingProvider"
    with django_capture_on_commit_callbacks(execute=True):
        payout_services.payout_batch_settle(batch_id=batch.pk)
    batch.refresh_from_db()
    failed = list(
        PayoutLine.objects.filter(batch=batch, status="failed", net_amount__gt=0).values_list("pk", flat=True)
    )
    assert batch.status == "executed" and failed

    url = f"/payouts/{batch.pk}/retry-failed/"
    before = (_lines_state(batch), LedgerTransaction.objects.count(), AuditEvent.objects.count())
    for user in (make_side().manager, world.buyer.manager, world.supplier.manager, world.stranger.admin):
        client = signed_in(user)
        assert client.post(url, {"reason": "Numbers fixed"}).status_code == 404, user
        assert client.post(url, {"reason": ""}).status_code == 404, user  # a bad reason reveals nothing either
    assert (_lines_state(batch), LedgerTransaction.objects.count(), AuditEvent.objects.count()) == before
    assert PayoutBatch.objects.get(pk=batch.pk).status == "executed"

    assert signed_in(world.seller.manager).post(url, {"reason": "Numbers fixed"}).status_code == 302
    assert set(PayoutLine.objects.filter(pk__in=failed).values_list("retries", flat=True)) == {1}


# --- 6b, 6c, 7. A member and its plots (pages) ---------------------------------------------------------------------


def _member_state(farmer_id: int) -> tuple:
    farmer = MemberFarmer.objects.get(pk=farmer_id)
    plots = list(Plot.objects.filter(farmer_id=farmer_id).order_by("pk").values_list("pk", "name", "area_hectares"))
    return (farmer.member_number, farmer.name, str(farmer.phone), farmer.village, plots)


def test_another_cooperative_cannot_edit_a_member_or_its_plots():
    coop = OrganisationFactory()
    farmer = MemberFarmerFactory(organisation=coop, name="Awa Kone", village="Soubré")
    plot = PlotFactory(farmer=farmer, name="Cacao", area_hectares="2.5")
    other = OrganisationFactory()
    stranger = MembershipFactory(organisation=other, role=Role.MANAGER).user
    own_farmer = MemberFarmerFactory(organisation=other)  # the stranger's own member, to mix ids with
    member_edit, plot_add = f"/members/{farmer.pk}/edit/", f"/members/{farmer.pk}/plots/add/"
    plot_edit = f"/members/{farmer.pk}/plots/{plot.pk}/edit/"
    member_data = {"member_number": farmer.member_number, "name": "Changed", "phone": "07 01 02 03 04",
                   "village": "Méagui"}  # fmt: skip
    plot_data = {"name": "Changed", "area_hectares": "9.5", "country": "CI", "geometry": ""}
    owner = signed_in(MembershipFactory(organisation=coop, role=Role.MANAGER).user)
    for url in (member_edit, plot_add, plot_edit):
        assert owner.get(url).status_code == 200, url

    before = (_member_state(farmer.pk), _member_state(own_farmer.pk), AuditEvent.objects.count())
    client = signed_in(stranger)
    assert client.get(plot_edit).status_code == 404
    assert client.post(member_edit, member_data).status_code == 404
    assert client.post(plot_add, plot_data).status_code == 404
    assert client.post(plot_edit, plot_data).status_code == 404
    mixed = f"/members/{own_farmer.pk}/plots/{plot.pk}/edit/"  # its own member, the other cooperative's plot
    assert client.get(mixed).status_code == 404
    assert client.post(mixed, plot_data).status_code == 404
    assert (_member_state(farmer.pk), _member_state(own_farmer.pk), AuditEvent.objects.count()) == before

    assert owner.post(member_edit, member_data).status_code == 302
    assert owner.post(plot_edit, plot_data).status_code == 302
    assert owner.post(plot_add, {**plot_data, "name": "New"}).status_code == 302
    farmer.refresh_from_db()
    plot.refresh_from_db()
    assert (farmer.name, plot.name, Plot.objects.filter(farmer=farmer).count()) == ("Changed", "Changed", 2)


# --- 6d. A buyer's request (page, POST) ----------------------------------------------------------------------------


def _request_state(request_id: int) -> tuple:
    return tuple(
        BuyerRequest.objects.filter(pk=request_id).values_list(
            "status", "quantity_grams", "max_price_per_tonne_minor", "delivery_place", "window_end", "max_distance_km"
        )[0]
    )


def test_another_buyer_cannot_edit_a_request():
    market = make_market()
    request = post_request(market)
    url = f"/matching/requests/{request.pk}/edit/"
    data = request_form(market, quantity_t="25", delivery_place="Somewhere else")
    before = _request_state(request.pk)
    for user in (market.stranger_buyer.manager, market.stranger_coop.manager, market.coop_a.manager):
        assert signed_in(user).post(url, data).status_code == 404, user
    assert _request_state(request.pk) == before

    assert signed_in(market.buyer.manager).post(url, data).status_code == 302
    request.refresh_from_db()
    assert (request.quantity_grams, request.delivery_place) == (25_000_000, "Somewhere else")
