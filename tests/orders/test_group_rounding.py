import pytest

from orders.services.group_rounding import packs_for, rounded_line, shortfall_to_next_pack, tier_price


@pytest.mark.parametrize(
    ("q", "t", "expected"),
    [(0, 5, 0), (2, 2, 1), (5, 3, 2), (4, 0, 1), (5, 0, 1), (8, 0, 2), (7, 1, 2), (6, 1, 1), (1, 3, 1), (1, 2, 0)],
)
def test_rounding_to_pack_size_unit_4(q, t, expected):
    assert packs_for(q, t, 4) == expected


def test_tolerance_never_fills_a_pack_by_itself():
    assert packs_for(0, 100, 4) == 0
    assert packs_for(4, 100, 4) == 1  # no remainder: nothing to complete


@pytest.mark.parametrize(
    ("q", "t", "moq_packs", "expected"),
    [
        (10, 1, 3, 0),  # q + t = 11 < MOQ 12: the line is 0
        (10, 2, 3, 3),  # q 10 < 12 <= q + t 12: the MOQ
        (9, 5, 3, 3),  # q < MOQ <= q + t
        (12, 0, 3, 3),  # exactly the MOQ
        (13, 3, 3, 4),  # above the MOQ: the usual rounding
        (13, 2, 3, 3),
        (0, 20, 3, 0),  # nobody asked
    ],
)
def test_rounding_with_a_supplier_minimum(q, t, moq_packs, expected):
    assert packs_for(q, t, 4, moq_packs=moq_packs) == expected


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        packs_for(1, 0, 0)
    with pytest.raises(ValueError):
        packs_for(-1, 0, 4)


@pytest.mark.parametrize(("q", "t", "short"), [(5, 0, 3), (5, 3, 4), (2, 2, 4), (0, 0, 4), (8, 1, 3), (1, 1, 2)])
def test_shortfall_to_next_pack(q, t, short):
    packs = packs_for(q, t, 4)
    assert shortfall_to_next_pack(q, t, 4) == short
    assert packs_for(q + short, t, 4) == packs + 1
    assert packs_for(q + short - 1, t, 4) == packs


def test_tier_price_is_all_units_at_the_tier_reached():
    tiers = [(10, 500), (1, 700), (50, 450)]
    assert tier_price(tiers, 0) is None
    assert tier_price(tiers, 9) == 700
    assert tier_price(tiers, 10) == 500
    assert tier_price(tiers, 60) == 450
    line = rounded_line(41 * 4 - 2, 3, 4, tiers)
    assert (line.packs, line.unit_price, line.total) == (41, 500, 41 * 500)
    assert rounded_line(5, 0, 4, [(3, 100)]).packs == 0  # below the offer's minimum
