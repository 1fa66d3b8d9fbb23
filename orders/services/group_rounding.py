"""Rounding a group's total to the supplier's pack size, with the members' tolerance and the supplier's
minimum order quantity (MOQ). Pure functions on integers; no database.

`q` is the group's requested quantity and `t` its total tolerance (how much more the members accept so a pack
can be filled), both in the packaging's base unit; `unit` is one pack's content in that unit.

- packs = floor(q / unit), plus one more when the remainder is above 0 and remainder + t >= unit: tolerance
  can complete the last pack, never fill one by itself (q 0 with any t is 0 packs).
- With an MOQ of m packs (M = m * unit): if q + t < M the line is 0; if q < M <= q + t it is m packs.
"""

from collections.abc import Sequence
from dataclasses import dataclass


def packs_for(q: int, t: int, unit: int, *, moq_packs: int = 0) -> int:
    if unit <= 0:
        raise ValueError("The pack size must be positive.")
    if q < 0 or t < 0 or moq_packs < 0:
        raise ValueError("Quantities, tolerance and the minimum cannot be negative.")
    if q == 0:
        return 0
    packs, remainder = divmod(q, unit)
    if remainder > 0 and remainder + t >= unit:
        packs += 1
    if moq_packs:
        moq = moq_packs * unit
        if q + t < moq:
            return 0
        if q < moq:
            return moq_packs
    return packs


def shortfall_to_next_pack(q: int, t: int, unit: int) -> int:
    """How much more must be requested (on top of q, with the same tolerance) for one more pack."""
    packs = packs_for(q, t, unit)
    return packs * unit + max(1, unit - t) - q


def tier_price(tiers: Sequence[tuple[int, int]], packs: int) -> int | None:
    """The all-units price per pack that `packs` reaches: the tier with the largest breakpoint <= packs.
    `tiers` are (min_packs, unit_price) pairs. None below the first breakpoint (the supplier's minimum)."""
    price = None
    for min_packs, unit_price in sorted(tiers):
        if packs >= min_packs:
            price = unit_price
    return price


@dataclass(frozen=True)
class RoundedLine:
    quantity: int
    tolerance: int
    unit: int
    packs: int
    shortfall: int  # to the next pack
    unit_price: int | None  # at the tier the packs reach (None: below the minimum, or no offer)
    total: int | None

    @property
    def filled(self) -> int:
        return self.packs * self.unit

    @property
    def tolerance_used(self) -> int:
        return max(0, self.filled - self.quantity)


def rounded_line(q: int, t: int, unit: int, tiers: Sequence[tuple[int, int]] = ()) -> RoundedLine:
    """A product's line against one offer's tiers (its MOQ is the first breakpoint)."""
    moq = min((m for m, _ in tiers), default=0)
    packs = packs_for(q, t, unit, moq_packs=moq)
    price = tier_price(tiers, packs) if packs and tiers else None
    return RoundedLine(q, t, unit, packs, shortfall_to_next_pack(q, t, unit), price,
                       None if price is None else price * packs)  # fmt: skip
