"""The IFPA on the worked example of docs/market.md, and the warning's freshness rule."""

from datetime import date

import pytest

from marketplace.market import selectors
from marketplace.market.ifpa import ifpa_series, is_warning
from marketplace.market.models import PricePoint
from marketplace.market.services import price_points_rebuild
from tests.market.conftest import make_trade

# Monthly prices, January 2024 to June 2025 (docs/market.md, "A worked example").
PRICES = [1000, 1010, 1000, 990, 1000, 1020, 1000, 1010, 990, 1000, 1010, 1000,
          1000, 1020, 1010, 1050, 1200, 1400]  # fmt: skip
MONTHS = [date(2024 + i // 12, i % 12 + 1, 1) for i in range(len(PRICES))]


def test_ifpa_on_the_worked_example():
    result = ifpa_series(dict(zip(MONTHS, PRICES, strict=True)))
    # no annual growth before the 13th month
    assert all(result[month] is None for month in MONTHS[:12])
    # June 2025: CQGR = (1400/1050)^(1/3) - 1 = 0.10064, z = 3.30504 (mean 0.01292, sd 0.03088 over 15 values);
    # CAGR = (1400/1000)^(1/12) - 1 = 0.02844, z = 1.89395 (mean 0.00810, sd 0.00984 over 6 values);
    # IFPA = 0.4 x 3.30504 + 0.6 x 1.89395 = 2.45839
    assert result[date(2025, 6, 1)] == pytest.approx(2.45839, abs=1e-5)
    # May 2025: 0.4 x 1.38428 + 0.6 x 0.73235 = 0.99312, just under the warning threshold
    assert result[date(2025, 5, 1)] == pytest.approx(0.99312, abs=1e-5)
    assert result[date(2025, 1, 1)] == pytest.approx(-0.66134, abs=1e-5)


def test_a_series_without_spread_or_history_has_no_ifpa():
    flat = dict.fromkeys(MONTHS, 1000)
    assert set(ifpa_series(flat).values()) == {None}
    assert set(ifpa_series(dict(zip(MONTHS[:12], PRICES[:12], strict=True))).values()) == {None}
    # a missing month breaks the growth rates that need it
    gappy = dict(zip(MONTHS, PRICES, strict=True))
    del gappy[date(2024, 6, 1)]
    assert ifpa_series(gappy)[date(2025, 6, 1)] is None


@pytest.mark.parametrize(
    ("today", "shown"),
    [(date(2025, 6, 30), True), (date(2025, 7, 15), True), (date(2025, 8, 31), True), (date(2025, 9, 1), False),
     (date(2025, 5, 31), False)],
)  # fmt: skip
def test_a_warning_is_shown_only_while_the_point_is_at_most_two_months_old(today, shown):
    assert is_warning(2.45, date(2025, 6, 1), today) is shown
    assert is_warning(0.99, date(2025, 6, 1), date(2025, 6, 30)) is False
    assert is_warning(None, date(2025, 6, 1), date(2025, 6, 30)) is False


@pytest.mark.django_db
def test_the_refresh_stores_the_ifpa_and_the_series_shows_the_warning(cocoa, sellers, monkeypatch):
    _, (grade, _) = cocoa
    nawa_1, nawa_2 = sellers[:2]
    for month, price in zip(MONTHS, PRICES, strict=True):
        for seller in (nawa_1, nawa_2, nawa_1):
            make_trade(seller=seller, grade=grade, traded_on=month.replace(day=10), amount=price * 1000,
                       grams=1_000_000)  # fmt: skip
    price_points_rebuild()
    june = PricePoint.objects.get(period="month", period_start=date(2025, 6, 1))
    assert june.price_per_tonne == 1_400_000
    assert june.ifpa == pytest.approx(2.45839, abs=1e-5)
    assert PricePoint.objects.filter(period="week", ifpa__isnull=False).count() == 0
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2025, 7, 20))
    [series] = selectors.market_series(commodity_code="cocoa-beans", country="CI", region="Nawa")
    assert [g.grade.pk for g in series.warnings] == [grade.pk]
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2025, 9, 2))
    [series] = selectors.market_series(commodity_code="cocoa-beans", country="CI", region="Nawa")
    assert series.warnings == []
