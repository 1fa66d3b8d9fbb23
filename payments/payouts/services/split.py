"""How a cooperative's net proceeds are split among its members (pure arithmetic, no database).

For each released order:

1. The order's net proceeds (what the release credited to the cooperative, after the platform fee) are shared
   among the order's produce lines in proportion to what the buyer owes for each line (the amount due after
   receipt, or the line total before it).
2. Each line's part is shared among the deliveries that make up the lot sold on that line, in proportion to
   grams × unit price. The unit price is the line's price (the base); a delivery whose grade differs from the
   line's grade is weighted with the price agreed on the order for that grade instead (the order's grade
   price), or with the line's price when none was agreed. A lot bulked from one grade is therefore split pro
   rata to grams; a lot that merges or splits mixed grades pays a member more for a better grade, exactly by
   the agreed price differential.

Then, over the whole batch, for each member:

3. gross = the sum of the member's parts;
4. levy = the cooperative's levy: levy_bp of the batch's proceeds, rounded half-even once, and shared among the
   members in proportion to their gross;
5. credit = the outstanding input credit recovered: at most what is left after the levy;
6. net = gross − levy − credit: what the member is paid.

Every split uses the largest-remainder method, so the parts always sum exactly to the whole: the members'
gross shares sum to the proceeds, and levy + credit + net sum to each member's gross.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from marketplace.core.money import allocate_largest_remainder

BASIS_POINTS = 10_000


@dataclass(frozen=True)
class Contribution:
    """One delivery's grams in the lot sold on a line."""

    farmer_id: int
    delivery_id: int
    lot_id: int
    grade_id: int
    grams: int


@dataclass(frozen=True)
class LineProceeds:
    order_line_id: int
    weight: int  # amount due after receipt (or the line total): how the order's net is shared among its lines
    unit_price: int  # the line's price, for its grade
    grade_id: int | None
    contributions: tuple[Contribution, ...]
    grade_prices: dict[int, int] = field(default_factory=dict)  # prices agreed on the order for other grades

    def price_for(self, grade_id: int) -> int:
        if self.grade_id is None or grade_id == self.grade_id:
            return self.unit_price
        return self.grade_prices.get(grade_id, self.unit_price)


@dataclass(frozen=True)
class OrderProceeds:
    order_id: int
    net: int
    lines: tuple[LineProceeds, ...]


@dataclass(frozen=True)
class Share:
    order_id: int
    order_line_id: int
    contribution: Contribution
    unit_price: int
    amount: int


@dataclass
class MemberSplit:
    farmer_id: int
    gross: int = 0
    levy: int = 0
    credit: int = 0
    net: int = 0
    shares: list[Share] = field(default_factory=list)


@dataclass(frozen=True)
class Split:
    proceeds: int
    levy: int
    credit: int
    net: int
    members: tuple[MemberSplit, ...]


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Largest remainder; when every weight is zero, equal parts."""
    if sum(weights) == 0:
        weights = [1] * len(weights)
    return allocate_largest_remainder(total, weights)


def levy_total(proceeds: int, levy_bp: int) -> int:
    """The batch's levy, rounded half-even once."""
    exact = Decimal(proceeds) * Decimal(levy_bp) / Decimal(BASIS_POINTS)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def split_order(order: OrderProceeds) -> list[Share]:
    """Share one order's net proceeds among the deliveries in the lots it sold (steps 1 and 2)."""
    if order.net < 0:
        raise ValueError("net proceeds cannot be negative")
    lines = [line for line in order.lines if line.contributions]
    if not lines:
        raise ValueError(f"order {order.order_id} has no line with member contributions")
    shares: list[Share] = []
    line_parts = _allocate(order.net, [max(line.weight, 0) for line in lines])
    for line, part in zip(lines, line_parts, strict=True):
        contributions = sorted(line.contributions, key=lambda c: (c.farmer_id, c.delivery_id))
        prices = [line.price_for(c.grade_id) for c in contributions]
        amounts = _allocate(part, [c.grams * price for c, price in zip(contributions, prices, strict=True)])
        shares.extend(
            Share(order.order_id, line.order_line_id, contribution, price, amount)
            for contribution, price, amount in zip(contributions, prices, amounts, strict=True)
        )
    return shares


def split_proceeds(orders: list[OrderProceeds], *, levy_bp: int, credit_available: dict[int, int]) -> Split:
    """Split the net proceeds of `orders` among members (steps 1 to 6). Members with a zero gross share are left
    out. `credit_available` maps a farmer id to their outstanding input credit (minor units)."""
    if not 0 <= levy_bp <= BASIS_POINTS:
        raise ValueError("levy_bp must be between 0 and 10000")
    members: dict[int, MemberSplit] = defaultdict(lambda: MemberSplit(0))
    for order in orders:
        for share in split_order(order):
            member = members[share.contribution.farmer_id]
            member.farmer_id = share.contribution.farmer_id
            member.gross += share.amount
            member.shares.append(share)
    paid = [m for _id, m in sorted(members.items()) if m.gross > 0]
    proceeds = sum(order.net for order in orders)
    levy = levy_total(proceeds, levy_bp)
    if paid:
        for member, member_levy in zip(paid, _allocate(levy, [m.gross for m in paid]), strict=True):
            member.levy = member_levy
            member.credit = max(0, min(credit_available.get(member.farmer_id, 0), member.gross - member.levy))
            member.net = member.gross - member.levy - member.credit
    return Split(
        proceeds=proceeds,
        levy=sum(m.levy for m in paid),
        credit=sum(m.credit for m in paid),
        net=sum(m.net for m in paid),
        members=tuple(paid),
    )
