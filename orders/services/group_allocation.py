"""Sharing what arrived among the members who asked for it (pure functions on integers; no database).

Each request is a list of quantity segments and tolerance segments in the order they were asked (a removal takes
from the latest segments first, so what was asked early keeps its place, as in Foodsoft).

- first come: quantities in time order, then tolerances in time order, until what arrived is used up;
- pro rata: if less arrived than was asked, it is shared in proportion to the quantities asked; otherwise every
  member gets the quantity asked and the rest is shared in proportion to the tolerances; both by the largest
  remainder (ties to the earlier request), so the shares sum exactly to what is shared.

Every member gets between 0 and quantity + tolerance; the allocations sum to what arrived (up to the total of
quantities and tolerances; anything above that is returned as `left`); the same input gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Change:
    at: datetime | int
    quantity: int
    tolerance: int


@dataclass
class Ask:
    request_id: int
    quantity_segments: list[tuple[object, int]] = field(default_factory=list)  # (when, amount)
    tolerance_segments: list[tuple[object, int]] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(amount for _, amount in self.quantity_segments)

    @property
    def tolerance(self) -> int:
        return sum(amount for _, amount in self.tolerance_segments)


def _apply(segments: list[tuple[object, int]], at, delta: int) -> None:
    if delta > 0:
        segments.append((at, delta))
        return
    take = -delta
    while take and segments:  # remove from the latest first
        when, amount = segments[-1]
        if amount <= take:
            segments.pop()
            take -= amount
        else:
            segments[-1] = (when, amount - take)
            take = 0


def ask_from_changes(request_id: int, changes: Iterable[Change]) -> Ask:
    ask = Ask(request_id)
    for change in changes:
        if change.quantity:
            _apply(ask.quantity_segments, change.at, change.quantity)
        if change.tolerance:
            _apply(ask.tolerance_segments, change.at, change.tolerance)
    return ask


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` (ties to the earlier weight); sums exactly to `total`."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[index] += 1
    return shares


@dataclass(frozen=True)
class Allocation:
    shares: dict[int, int]  # request id -> quantity allocated
    left: int  # what arrived beyond every quantity and tolerance


def allocate(received: int, asks: Sequence[Ask], rule: str) -> Allocation:
    if received < 0:
        raise ValueError("What arrived cannot be negative.")
    asks = list(asks)
    total_q = sum(a.quantity for a in asks)
    total_t = sum(a.tolerance for a in asks)
    usable = min(received, total_q + total_t)
    shares = dict.fromkeys((a.request_id for a in asks), 0)
    if rule == "first_come":
        remaining = usable
        for attribute in ("quantity_segments", "tolerance_segments"):
            segments = [(when, n, a.request_id, amount) for n, a in enumerate(asks)
                        for when, amount in getattr(a, attribute)]  # fmt: skip
            for _when, _n, request_id, amount in sorted(segments, key=lambda s: (s[0], s[1])):
                take = min(amount, remaining)
                shares[request_id] += take
                remaining -= take
    elif rule == "pro_rata":
        if usable <= total_q:
            for a, share in zip(asks, largest_remainder(usable, [a.quantity for a in asks]), strict=True):
                shares[a.request_id] = share
        else:
            extras = largest_remainder(usable - total_q, [a.tolerance for a in asks])
            for a, extra in zip(asks, extras, strict=True):
                shares[a.request_id] = a.quantity + extra
    else:
        raise ValueError(f"Unknown allocation rule {rule!r}.")
    return Allocation(shares, received - usable)
