"""Input prices from completed group input orders: the settled price per pack, through the order-event
subscription and nightly; the same 3-order/2-supplier rule; public page, API and CSV."""

import csv
import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from io import StringIO

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.market.models import InputPricePoint, InputTrade
from marketplace.market.services import input_price_points_rebuild, market_refresh
from marketplace.market.tasks import market_order_event, market_refresh_all
from marketplace.organisations.models import Organisation
from orders.models import OrderEvent
from orders.services.group_orders import group_order_transition, window_place_orders
from tests.factories import OrganisationFactory
from tests.orders.test_group_orders import closed_world, pay

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)


def complete_group_order(world, django_capture_on_commit_callbacks, *, received: int = 8):
    """The first supplier's group order (10 bags of NPK at XOF 18,000) accepted, paid, dispatched and received
    short (`received` bags), which completes its escrow order."""
    orders = {o.supplier_id: o for o in window_place_orders(actor=world.manager, window_id=world.window.pk)}
    group_order = orders[world.suppliers[0].pk]
    supplier = world.supplier_users[0]
    line = group_order.lines.get()
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    group_order = group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="accepted")
    with django_capture_on_commit_callbacks(execute=True):
        pay(world.manager, group_order.order)
    group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="dispatched",
                           document_number="WB-1")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="received",
                               lines={str(line.pk): received})  # fmt: skip
    return group_order


def test_a_completed_group_order_becomes_an_input_trade_at_its_settled_price(django_capture_on_commit_callbacks):
    world = closed_world()
    group_order = complete_group_order(world, django_capture_on_commit_callbacks, received=8)
    order = group_order.order
    order.refresh_from_db()
    assert (order.kind, order.status) == ("group_inputs", "completed")
    trade = InputTrade.objects.get()  # arrived through the order-event subscriber, on commit
    npk = world.products[0]
    assert (trade.order_id, trade.seller_id, trade.product_id, trade.packaging_id) == (
        order.pk,
        world.suppliers[0].pk,
        npk.pk,
        npk.packaging_id,
    )
    assert (trade.amount, trade.packs, trade.country, trade.region, trade.currency) == (
        8 * 18_000,
        8,
        "CI",
        "Nawa",
        "XOF",
    )
    assert trade.traded_on == order.receipt.received_on
    points = InputPricePoint.objects.filter(product=npk)
    assert {p.period for p in points} == {"week", "month"}
    assert all(not p.visible and p.price_per_pack == 18_000 and p.total_packs == 8 for p in points)
    # at-least-once delivery: the task again changes nothing; the nightly rebuild gives the same figures
    before = list(InputPricePoint.objects.order_by("pk").values_list("period", "trades", "total_amount"))
    event = OrderEvent.objects.get(order=order, to_status="completed")
    market_order_event(event.pk)
    assert list(InputPricePoint.objects.order_by("pk").values_list("period", "trades", "total_amount")) == before
    market_refresh_all()
    assert list(InputPricePoint.objects.order_by("period").values_list("period", "trades", "total_amount")) == sorted(
        before
    )
    assert InputTrade.objects.count() == 1


def test_an_uncompleted_group_order_is_not_an_input_trade(django_capture_on_commit_callbacks):
    world = closed_world()
    orders = {o.supplier_id: o for o in window_place_orders(actor=world.manager, window_id=world.window.pk)}
    group_order = orders[world.suppliers[0].pk]
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    group_order = group_order_transition(actor=world.supplier_users[0], group_order_id=group_order.pk,
                                         to_status="accepted")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        pay(world.manager, group_order.order)
    assert market_refresh()["trades"] == 0
    assert not InputTrade.objects.exists() and not InputPricePoint.objects.exists()


# --- aggregation equals a direct computation ---------------------------------------------------------------------


@pytest.fixture
def input_world(db):
    from tests.orders.group_factories import make_group_world

    world = make_group_world(farmers=1)
    suppliers = [*world.suppliers, OrganisationFactory(kind=Organisation.Kind.INPUT_SUPPLIER, country="CI")]
    return world.products, suppliers


def make_input_trade(*, product, seller, traded_on, amount, packs, region="Nawa", order_id=None, currency="XOF"):
    return InputTrade.objects.create(
        order_id=order_id or next(_ids) + 20_000_000, line_id=next(_ids) + 20_000_000, seller=seller,
        product=product, packaging_id=product.packaging_id, country="CI", region=region, currency=currency,
        traded_on=traded_on, amount=amount, packs=packs,
    )  # fmt: skip


START = date(2025, 1, 1)
trade_sets = st.lists(
    st.tuples(
        st.integers(0, 9),  # order number; its supplier is fixed by it
        st.integers(0, 1),  # product
        st.integers(0, 1),  # region
        st.integers(0, 120),  # day after START
        st.integers(0, 500_000_000),  # settled amount
        st.integers(1, 5_000),  # packs received
    ),
    min_size=1,
    max_size=30,
)


def expected(trades):
    cells = defaultdict(list)
    for t in trades:
        day = t["traded_on"]
        for period, start in (("week", day - timedelta(days=day.weekday())), ("month", day.replace(day=1))):
            cells[(t["product"], t["region"], period, start)].append(t)
    result = set()
    for (product, region, period, start), rows in cells.items():
        amount, packs = sum(r["amount"] for r in rows), sum(r["packs"] for r in rows)
        orders, sellers = len({r["order"] for r in rows}), len({r["seller"] for r in rows})
        price = int((Decimal(amount) / Decimal(packs)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        result.add((product, region, period, start, orders, sellers, amount, packs, price,
                    orders >= 3 and sellers >= 2))  # fmt: skip
    return result


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trade_sets)
def test_input_aggregation_equals_a_direct_computation(input_world, rows):
    products, suppliers = input_world
    regions = ["Nawa", "Gôh"]
    with transaction.atomic():
        trades = []
        for order, product, region, day, amount, packs in rows:
            seller = suppliers[order % len(suppliers)]
            traded_on = START + timedelta(days=day)
            make_input_trade(product=products[product], seller=seller, traded_on=traded_on, amount=amount,
                             packs=packs, region=regions[region], order_id=900_000 + order)  # fmt: skip
            trades.append(
                {
                    "order": order,
                    "seller": seller.pk,
                    "product": products[product].pk,
                    "region": regions[region],
                    "traded_on": traded_on,
                    "amount": amount,
                    "packs": packs,
                }
            )
        input_price_points_rebuild()
        got = set(InputPricePoint.objects.values_list(
            "product_id", "region", "period", "period_start", "trades", "sellers", "total_amount", "total_packs",
            "price_per_pack", "visible"))  # fmt: skip
        assert got == expected(trades)
        transaction.set_rollback(True)


# --- pages, API, CSV -----------------------------------------------------------------------------------------------


@pytest.fixture
def input_market(input_world):
    """NPK in Nawa: three months of 3 orders from 2 suppliers (published); Urea in Nawa: one supplier (hidden)."""
    products, suppliers = input_world
    npk, urea = products
    today = date.today().replace(day=5)
    for months_back, price in ((2, 17_000), (1, 18_000), (0, 19_000)):
        day = (today - timedelta(days=31 * months_back)).replace(day=5)
        for seller in (suppliers[0], suppliers[1], suppliers[0]):
            make_input_trade(product=npk, seller=seller, traded_on=day, amount=price * 10, packs=10)
        for _ in range(3):
            make_input_trade(product=urea, seller=suppliers[2], traded_on=day, amount=123_457 * 4, packs=4)
    input_price_points_rebuild()
    return npk, urea


def test_the_input_price_page_is_public_and_shows_published_cells_only(client, input_market,
                                                                         django_assert_max_num_queries):  # fmt: skip
    npk, urea = input_market
    with django_assert_max_num_queries(6):
        response = client.get(reverse("market:inputs"))
    assert response.status_code == 200
    html = response.content.decode()
    [row] = response.context["rows"]
    assert (row.product.pk, row.region, row.latest.per_pack.amount, row.latest.sellers) == (npk.pk, "Nawa", 19_000, 2)
    assert npk.name in html and urea.name not in html and "123" not in html
    assert client.get(reverse("market:inputs"), {"kind": "nonsense", "country": "ZZZZ"}).status_code == 200


def test_the_input_series_page_csv_and_api(client, input_market, django_assert_max_num_queries):
    npk, urea = input_market
    url = reverse("market:input-detail", args=[npk.pk])
    with django_assert_max_num_queries(6):
        response = client.get(url, {"country": "CI"})
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html and "<table" in html
    assert html.count("<tr>") == 1 + 3
    with django_assert_max_num_queries(6):
        assert client.get(url, {"period": "week"}).status_code == 200
    # the hidden product: a page without figures, and nothing in the CSV or the API
    hidden = client.get(reverse("market:input-detail", args=[urea.pk]))
    assert hidden.status_code == 200 and "123" not in hidden.content.decode()
    assert client.get(reverse("market:input-detail", args=[987654321])).status_code == 404
    assert client.get(f"/market/inputs/{'9' * 30}/").status_code == 404
    rows = list(csv.DictReader(StringIO(client.get(reverse("market:input-csv", args=[npk.pk])).content.decode())))
    assert [(r["region"], r["price_per_pack"], r["trades"]) for r in rows][-1] == ("Nawa", "19000", "3")
    assert len(rows) == 3
    hidden_csv = client.get(reverse("market:input-csv", args=[urea.pk])).content.decode()
    assert list(csv.DictReader(StringIO(hidden_csv))) == []
    api = reverse("api-market-input-prices")
    with django_assert_max_num_queries(6):
        body = client.get(api, {"product": npk.pk, "country": "CI"}).json()
    [series] = body
    assert (series["region"], series["pack"], len(series["points"])) == ("Nawa", npk.packaging.code, 3)
    assert series["points"][-1]["price_per_pack"] == 19_000
    assert client.get(api, {"product": urea.pk}).json() == []
    for bad in (
        {},
        {"product": "x"},
        {"product": npk.pk, "period": "fortnight"},
        {"product": 10**20},
        {"product": npk.pk, "country": "CIV"},
    ):
        response = client.get(api, bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["message"]
    assert client.get(api, {"product": 987654321}).status_code == 404
