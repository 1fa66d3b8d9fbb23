"""The price points equal a direct computation over the trades; hidden cells stay hidden everywhere."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.market import selectors
from marketplace.market.models import PricePoint, Trade
from marketplace.market.services import price_points_rebuild
from tests.market.conftest import make_trade

pytestmark = pytest.mark.django_db

START = date(2025, 1, 1)

trade_sets = st.lists(
    st.tuples(
        st.integers(0, 11),  # order number; the order's seller is fixed by it
        st.integers(0, 1),  # grade
        st.integers(0, 150),  # day after START
        st.integers(0, 5_000_000_000),  # settled amount, XOF
        st.integers(1, 40_000_000),  # grams received
    ),
    min_size=1,
    max_size=40,
)


def expected_points(trades: list[dict]) -> set[tuple]:
    """The aggregation written out in Python, independently of the SQL."""
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for trade in trades:
        day = trade["traded_on"]
        for period, start in (("week", day - timedelta(days=day.weekday())), ("month", day.replace(day=1))):
            key = (trade["grade"], trade["region"], trade["currency"], period, start)
            cells[key].append(trade)
    result = set()
    for (grade, region, currency, period, start), rows in cells.items():
        amount = sum(r["amount"] for r in rows)
        grams = sum(r["grams"] for r in rows)
        orders = len({r["order"] for r in rows})
        sellers = len({r["seller"] for r in rows})
        price = int((Decimal(amount) * 1_000_000 / Decimal(grams)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        visible = orders >= 3 and sellers >= 2
        result.add((grade, region, currency, period, start, orders, sellers, amount, grams, price, visible))
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trade_sets)
def test_aggregation_equals_a_direct_computation(cocoa, sellers, rows):
    with transaction.atomic():  # each example in its own savepoint, rolled back
        _check_aggregation(cocoa, sellers, rows)
        transaction.set_rollback(True)


def _check_aggregation(cocoa, sellers, rows):
    _, grades = cocoa
    Trade.objects.all().delete()
    trades = []
    for order, grade_index, day, amount, grams in rows:
        seller = sellers[order % len(sellers)]
        traded_on = START + timedelta(days=day)
        grade = grades[grade_index]
        make_trade(seller=seller, grade=grade, traded_on=traded_on, amount=amount, grams=grams, order_id=order + 1)
        trades.append({"order": order, "seller": seller.pk, "grade": grade.pk, "region": seller.region,
                       "currency": "XOF", "traded_on": traded_on, "amount": amount, "grams": grams})  # fmt: skip
    price_points_rebuild()
    stored = set(
        PricePoint.objects.values_list(
            "grade_id", "region", "currency", "period", "period_start", "trades", "sellers", "total_amount",
            "total_grams", "price_per_tonne", "visible",
        )
    )  # fmt: skip
    assert stored == expected_points(trades)


def test_a_cell_needs_three_trades_from_two_sellers(cocoa, sellers):
    """Three trades from one seller, or two trades from two sellers, stay hidden; three from two are shown."""
    _, (grade, _) = cocoa
    nawa_1, nawa_2, sassandra_1, sassandra_2 = sellers
    day = date(2025, 3, 12)
    for _ in range(3):  # Nawa, March: one seller only
        make_trade(seller=nawa_1, grade=grade, traded_on=day, amount=1_500_000, grams=1_000_000)
    make_trade(seller=sassandra_1, grade=grade, traded_on=day, amount=1_400_000, grams=1_000_000)
    make_trade(seller=sassandra_2, grade=grade, traded_on=day, amount=1_450_000, grams=1_000_000)
    price_points_rebuild()
    hidden = PricePoint.objects.filter(period="month", visible=False)
    assert set(hidden.values_list("region", "trades", "sellers")) == {("Nawa", 3, 1), ("Haut-Sassandra", 2, 2)}
    assert not PricePoint.objects.filter(visible=True).exists()
    assert selectors.market_overview() == []
    assert selectors.market_series(commodity_code="cocoa-beans", country="CI") == []

    make_trade(seller=nawa_2, grade=grade, traded_on=day, amount=1_700_000, grams=1_000_000)  # 4 trades, 2 sellers
    price_points_rebuild()
    shown = PricePoint.objects.get(period="month", visible=True)
    assert (shown.region, shown.trades, shown.sellers, shown.price_per_tonne) == ("Nawa", 4, 2, 1_550_000)
    [series] = selectors.market_series(commodity_code="cocoa-beans", country="CI")
    assert series.region == "Nawa"
    assert [str(p.per_unit) for p in series.grades[0].points] == [str(p.per_unit) for p in series.grades[0].points]
    assert series.grades[0].points[0].per_unit.amount == 1_550  # per kg
    # the hidden Haut-Sassandra cell is still hidden
    assert not PricePoint.objects.filter(region="Haut-Sassandra", visible=True).exists()


def test_kenyan_maize_is_quoted_per_90_kg_bag(db):
    from marketplace.market.units import PER_BAG_90KG, PER_KG, price_for, quoted_unit

    assert quoted_unit("KE", "maize-white") == PER_BAG_90KG
    assert quoted_unit("UG", "maize-white") == PER_KG
    assert quoted_unit("KE", "coffee-arabica-parchment") == PER_KG
    # KES 42,000.00 per tonne is KES 3,780.00 per 90 kg bag
    assert price_for(4_200_000, 1_000_000, PER_BAG_90KG.grams) == 378_000
