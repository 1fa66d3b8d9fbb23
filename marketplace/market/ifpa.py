"""The Indicator of Food Price Anomalies (IFPA), after FAO GIEWS (Baquedano, 2015).

For a monthly price series p_t:

    CQGR_t = (p_t / p_{t-3}) ** (1/3) - 1      compound quarterly growth rate (per month)
    CAGR_t = (p_t / p_{t-12}) ** (1/12) - 1    compound annual growth rate (per month)
    z(x_t) = (x_t - mean(x)) / sd(x)           over every value of that growth rate in the series
    IFPA_t = 0.4 z(CQGR_t) + 0.6 z(CAGR_t)

An IFPA of 1 or more is abnormally high (a warning); 0.5 to 1 is moderately high. A month with no price (no
published price point), or whose price 3 or 12 months before is missing, has no IFPA. A growth rate needs at least
`MIN_VALUES` values with some spread for its z-score. GIEWS standardises each growth rate within its calendar month
across years; our series are young, so the whole series is the reference (docs/market.md).
"""

import math
from collections.abc import Mapping
from datetime import date

QUARTERLY_WEIGHT = 0.4
ANNUAL_WEIGHT = 0.6
WARNING_THRESHOLD = 1.0
MIN_VALUES = 3
MAX_AGE_MONTHS = 2


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _growth(prices: Mapping[int, int], lag: int) -> dict[int, float]:
    return {
        month: (price / prices[month - lag]) ** (1 / lag) - 1
        for month, price in prices.items()
        if month - lag in prices and prices[month - lag] > 0 and price > 0
    }


def _zscores(values: dict[int, float]) -> dict[int, float]:
    if len(values) < MIN_VALUES:
        return {}
    mean = sum(values.values()) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values.values()) / len(values))
    if sd < 1e-12:
        return {}
    return {month: (v - mean) / sd for month, v in values.items()}


def ifpa_series(prices: Mapping[date, int]) -> dict[date, float | None]:
    """The IFPA of every month of a monthly series given as {first day of the month: price}."""
    by_index = {month_index(day): price for day, price in prices.items()}
    quarterly = _zscores(_growth(by_index, 3))
    annual = _zscores(_growth(by_index, 12))
    result: dict[date, float | None] = {}
    for day in prices:
        index = month_index(day)
        if index in quarterly and index in annual:
            result[day] = QUARTERLY_WEIGHT * quarterly[index] + ANNUAL_WEIGHT * annual[index]
        else:
            result[day] = None
    return result


def is_warning(ifpa: float | None, month: date, today: date) -> bool:
    """A warning is shown when the IFPA is 1 or more and the month is at most two months old."""
    return (
        ifpa is not None
        and ifpa >= WARNING_THRESHOLD
        and 0 <= month_index(today) - month_index(month) <= MAX_AGE_MONTHS
    )
