"""Allocation of what arrived to the members' requests: examples and hypothesis properties."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.services.group_allocation import Ask, Change, allocate, ask_from_changes, largest_remainder


def test_first_come_quantities_in_time_order_then_tolerances():
    a = Ask(1, [(1, 30)], [(5, 10)])
    b = Ask(2, [(2, 30)], [(3, 10)])
    c = Ask(3, [(4, 30)], [])
    assert allocate(70, [a, b, c], "first_come").shares == {1: 30, 2: 30, 3: 10}
    assert allocate(95, [a, b, c], "first_come").shares == {1: 30, 2: 30, 3: 30} | {2: 35}
    assert allocate(200, [a, b, c], "first_come").left == 200 - 110


def test_removals_take_from_the_latest_segments():
    ask = ask_from_changes(1, [Change(1, 50, 0), Change(2, 30, 5), Change(3, -40, -5)])
    assert ask.quantity_segments == [(1, 40)] and ask.tolerance_segments == []


def test_pro_rata_with_largest_remainder():
    asks = [Ask(1, [(1, 10)]), Ask(2, [(2, 20)]), Ask(3, [(3, 30)])]
    assert allocate(31, asks, "pro_rata").shares == {1: 5, 2: 10, 3: 16}
    asks = [Ask(1, [(1, 10)], [(1, 10)]), Ask(2, [(2, 10)], [(2, 30)])]
    assert allocate(30, asks, "pro_rata").shares == {1: 13, 2: 17}  # 2.5 and 7.5: the tie goes to the first
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]


segments = st.lists(st.tuples(st.integers(0, 50), st.integers(1, 500)), max_size=3)
asks_strategy = st.lists(st.tuples(segments, segments), min_size=1, max_size=12).map(
    lambda rows: [Ask(i + 1, sorted(q), sorted(t)) for i, (q, t) in enumerate(rows)]
)


@settings(max_examples=300, deadline=None)
@given(asks=asks_strategy, rule=st.sampled_from(["first_come", "pro_rata"]), data=st.data())
def test_bounds_exact_sum_and_determinism(asks, rule, data):
    cap = sum(a.quantity + a.tolerance for a in asks)
    received = data.draw(st.integers(0, cap + 100))
    result = allocate(received, asks, rule)
    for a in asks:
        assert 0 <= result.shares[a.request_id] <= a.quantity + a.tolerance
    assert sum(result.shares.values()) + result.left == received
    assert result.left == max(0, received - cap)
    assert allocate(received, asks, rule) == result


@settings(max_examples=300, deadline=None)
@given(asks=asks_strategy, data=st.data(), unit_price=st.integers(1, 10_000))
def test_pro_rata_extra_cost_from_tolerance_is_fair_to_one_unit(asks, data, unit_price):
    total_q = sum(a.quantity for a in asks)
    total_t = sum(a.tolerance for a in asks)
    received = data.draw(st.integers(total_q, total_q + total_t))
    result = allocate(received, asks, "pro_rata")
    extra = received - total_q
    for a in asks:
        took = result.shares[a.request_id] - a.quantity
        assert took >= 0
        exact = Fraction(extra * a.tolerance, total_t) if total_t else Fraction(0)
        # each member's extra cost is within one unit price of its exact pro-rata share of the tolerance used
        assert abs(took * unit_price - exact * unit_price) < unit_price
    if total_t:  # members with the same tolerance differ by at most one unit
        by_tolerance = {}
        for a in asks:
            by_tolerance.setdefault(a.tolerance, []).append(result.shares[a.request_id] - a.quantity)
        for extras in by_tolerance.values():
            assert max(extras) - min(extras) <= 1
