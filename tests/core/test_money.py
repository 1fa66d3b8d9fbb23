from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.money import CurrencyMismatch, Money, allocate_largest_remainder, is_zero_decimal


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [("12.345", "EUR", 1234), ("12.355", "EUR", 1236), ("1500.5", "XOF", 1500), ("1501.5", "XOF", 1502),
     ("0.0005", "KWD", 0), ("3", "RWF", 3), ("19.99", "KES", 1999)],
)  # fmt: skip
def test_from_decimal_rounds_half_even_to_the_currency_minor_unit(value, currency, minor):
    assert Money.from_decimal(Decimal(value), currency).amount == minor


@pytest.mark.parametrize("currency", ["XOF", "XAF", "RWF", "UGX", "BIF", "GNF", "JPY", "KRW"])
def test_zero_decimal_currencies_have_no_minor_unit(currency):
    assert is_zero_decimal(currency)
    assert Money(1500, currency).to_decimal() == Decimal(1500)


def test_amounts_of_different_currencies_never_add():
    with pytest.raises(CurrencyMismatch):
        _ = Money(100, "XOF") + Money(100, "EUR")


def test_money_refuses_floats_and_bad_codes():
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "euro")


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60).filter(any),
)
def test_allocation_always_sums_back_to_the_whole(total, weights):
    parts = allocate_largest_remainder(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / weight_sum
        assert abs(Decimal(part) - exact) < 1


def test_allocation_rejects_all_zero_weights():
    with pytest.raises(ValueError):
        allocate_largest_remainder(100, [0, 0])
