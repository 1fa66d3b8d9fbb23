"""The split of net proceeds among members (pure arithmetic): shares always sum to the whole, for any amounts,
any number of members and any currency exponent."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.core.money import Money, minor_unit_exponent
from payments.payouts.services.split import (
    Contribution,
    LineProceeds,
    OrderProceeds,
    levy_total,
    split_order,
    split_proceeds,
)

CURRENCIES = ["XOF", "UGX", "KES", "EUR", "USD", "KWD", "BHD"]  # exponents 0, 2 and 3

contributions = st.lists(
    st.tuples(st.integers(1, 12), st.integers(1, 3), st.integers(1, 50_000_000)),  # farmer, grade, grams
    min_size=1,
    max_size=25,
)


@st.composite
def orders(draw):
    result = []
    delivery = iter(range(1, 10_000))
    for order_id in range(1, draw(st.integers(1, 3)) + 1):
        lines = []
        for line_id in range(draw(st.integers(1, 3))):
            parts = draw(contributions)
            lines.append(
                LineProceeds(
                    order_line_id=order_id * 10 + line_id,
                    weight=draw(st.integers(0, 10**12)),
                    unit_price=draw(st.integers(1, 10**7)),
                    grade_id=1,
                    contributions=tuple(Contribution(f, next(delivery), 1, g, grams) for f, g, grams in parts),
                    grade_prices=draw(st.dictionaries(st.sampled_from([2, 3]), st.integers(1, 10**7))),
                )
            )
        result.append(OrderProceeds(order_id=order_id, net=draw(st.integers(0, 10**13)), lines=tuple(lines)))
    return result


@settings(max_examples=300, deadline=None)
@given(
    orders=orders(),
    levy_bp=st.integers(0, 10_000),
    credit=st.dictionaries(st.integers(1, 12), st.integers(0, 10**12)),
    currency=st.sampled_from(CURRENCIES),
)
def test_every_split_sums_back_to_the_whole(orders, levy_bp, credit, currency):
    split = split_proceeds(orders, levy_bp=levy_bp, credit_available=credit)
    total = sum(o.net for o in orders)
    assert split.proceeds == total
    assert sum(m.gross for m in split.members) == total
    assert split.levy + split.credit + split.net == total
    assert split.levy == levy_total(total, levy_bp)
    for member in split.members:
        assert member.gross > 0
        assert member.levy >= 0 and member.credit >= 0 and member.net >= 0
        assert member.levy + member.credit + member.net == member.gross
        assert member.credit <= credit.get(member.farmer_id, 0)
        # Credit is recovered as far as the share after levy allows.
        assert member.credit == min(credit.get(member.farmer_id, 0), member.gross - member.levy)
        assert sum(s.amount for s in member.shares) == member.gross
    # In money: the same figures in any currency (Money refuses mixing and keeps integers).
    whole = Money(total, currency)
    parts = [Money(m.net, currency) + Money(m.levy, currency) + Money(m.credit, currency) for m in split.members]
    assert sum(parts, Money.zero(currency)) == whole
    assert minor_unit_exponent(currency) in (0, 2, 3)


@settings(max_examples=300, deadline=None)
@given(
    grams=st.lists(st.integers(1, 10**8), min_size=1, max_size=40),
    net=st.integers(0, 10**13),
)
def test_one_grade_is_pro_rata_to_grams_within_one_minor_unit(grams, net):
    line = LineProceeds(1, 1, 1500, 1, tuple(Contribution(i, i, 1, 1, g) for i, g in enumerate(grams, 1)))
    shares = split_order(OrderProceeds(1, net, (line,)))
    assert sum(s.amount for s in shares) == net
    total = sum(grams)
    for share in shares:
        exact = Fraction(net * share.contribution.grams, total)
        assert abs(share.amount - exact) < 1


@settings(max_examples=200, deadline=None)
@given(members=st.integers(1, 200), net=st.integers(0, 10**9), levy_bp=st.integers(0, 10_000))
def test_equal_contributions_differ_by_at_most_one_minor_unit(members, net, levy_bp):
    line = LineProceeds(1, 1, 1500, 1, tuple(Contribution(i, i, 1, 1, 50_000) for i in range(1, members + 1)))
    split = split_proceeds([OrderProceeds(1, net, (line,))], levy_bp=levy_bp, credit_available={})
    grosses = [m.gross for m in split.members]
    if grosses:
        assert max(grosses) - min(grosses) <= 1


def test_a_better_grade_earns_the_agreed_price_differential():
    """Grade 1 listed at 1,500/kg; the order agreed 1,200/kg for grade 2. Two members delivered 1 t each, one
    of each grade: they share 2,700 in the ratio 1,500 : 1,200."""
    line = LineProceeds(
        order_line_id=1, weight=1, unit_price=1500, grade_id=1,
        contributions=(Contribution(1, 1, 9, 1, 1_000_000), Contribution(2, 2, 9, 2, 1_000_000)),
        grade_prices={2: 1200},
    )  # fmt: skip
    split = split_proceeds([OrderProceeds(1, 2_700_000, (line,))], levy_bp=0, credit_available={})
    assert [(m.farmer_id, m.gross) for m in split.members] == [(1, 1_500_000), (2, 1_200_000)]
    assert [s.unit_price for m in split.members for s in m.shares] == [1500, 1200]


def test_a_grade_without_an_agreed_price_is_weighted_with_the_line_price():
    line = LineProceeds(1, 1, 1500, 1, (Contribution(1, 1, 9, 1, 600), Contribution(2, 2, 9, 3, 400)), {2: 1200})
    split = split_proceeds([OrderProceeds(1, 1000, (line,))], levy_bp=0, credit_available={})
    assert [m.gross for m in split.members] == [600, 400]


def test_the_order_net_is_shared_among_lines_by_the_amount_due():
    a = LineProceeds(1, 3_000, 1500, 1, (Contribution(1, 1, 1, 1, 10),))
    b = LineProceeds(2, 1_000, 1500, 1, (Contribution(2, 2, 2, 1, 10),))
    split = split_proceeds([OrderProceeds(1, 1_000, (a, b))], levy_bp=0, credit_available={})
    assert [m.gross for m in split.members] == [750, 250]


def test_levy_and_credit_worked_example():
    """10,000 to two equal members, 2 % levy (200 in all, 100 each), member 1 owes 4,000 of input credit and
    member 2 owes 9,999 (more than their 4,900 after levy)."""
    line = LineProceeds(1, 1, 1500, 1, (Contribution(1, 1, 1, 1, 5), Contribution(2, 2, 1, 1, 5)))
    split = split_proceeds([OrderProceeds(1, 10_000, (line,))], levy_bp=200, credit_available={1: 4_000, 2: 9_999})
    assert [(m.gross, m.levy, m.credit, m.net) for m in split.members] == [
        (5_000, 100, 4_000, 900),
        (5_000, 100, 4_900, 0),
    ]


def test_levy_is_rounded_half_even_once():
    assert levy_total(25, 200) == 0  # 0.5 → 0
    assert levy_total(75, 200) == 2  # 1.5 → 2
    assert levy_total(125, 200) == 2  # 2.5 → 2


def test_an_order_without_member_shares_cannot_be_split():
    with pytest.raises(ValueError):
        split_order(OrderProceeds(1, 100, (LineProceeds(1, 1, 1, 1, ()),)))
    with pytest.raises(ValueError):
        split_proceeds([], levy_bp=10_001, credit_available={})
