"""Prices, line totals and the amount due after receipt: pure functions, rounding half-even once, where a total
is computed (house rule 5)."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from marketplace.core.money import Money
from marketplace.core.quantities import from_base_units

# Base units (grams, packs) per price unit.
BASE_PER_PRICE_UNIT = {"KGM": 1_000, "TNE": 1_000_000, "H87": 1}
PRICE_UNIT_LABEL = {"KGM": "kg", "TNE": "t", "H87": "pack"}


def amount_for(quantity: int, unit_price_amount: int, price_unit: str) -> int:
    """The price of `quantity` base units (grams or packs) at `unit_price_amount` minor units per price unit."""
    exact = Decimal(quantity) * Decimal(unit_price_amount) / Decimal(BASE_PER_PRICE_UNIT[price_unit])
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def describe_quantity(quantity: int, quantity_unit: str) -> str:
    if quantity_unit == "H87":
        return f"{quantity:,} pack{'s' if quantity != 1 else ''}"
    return f"{from_base_units(quantity, 'KGM').normalize():,f} kg"


def describe_price(amount: int, currency: str, price_unit: str) -> str:
    return f"{Money(amount, currency)} per {PRICE_UNIT_LABEL[price_unit]}"


@dataclass(frozen=True)
class GradeInfo:
    id: int
    name: str


@dataclass
class LineSettlement:
    billable: int
    unit_price_amount: int
    amount: int
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "billable_quantity": self.billable,
            "unit_price_amount": self.unit_price_amount,
            "amount": self.amount,
            "reasons": self.reasons,
        }


def settle_line(
    *,
    currency: str,
    quantity_unit: str,
    price_unit: str,
    unit_price_amount: int,
    line_total_amount: int,
    ordered: int,
    dispatched: int,
    received: int,
    listed_grade: GradeInfo | None = None,
    received_grade: GradeInfo | None = None,
    grade_prices: dict[int, int] | None = None,
    tolerance_bp: int = 0,
) -> LineSettlement:
    """What the buyer owes for one line after receipt, and why.

    Quantity: what was received, capped at what was ordered. For goods sold by weight a loss in transit within
    the weight tolerance (basis points of the dispatched weight) is not charged back: the dispatched weight is
    paid. Price: the listed price, or the price agreed on the order for the grade the goods arrived in. The
    amount never exceeds the line total the buyer paid.
    """
    if not 0 <= received <= dispatched <= ordered:
        raise ValueError("need 0 <= received <= dispatched <= ordered")
    reasons: list[str] = []
    show = lambda q: describe_quantity(q, quantity_unit)  # noqa: E731
    if dispatched < ordered:
        reasons.append(f"{show(dispatched)} of the {show(ordered)} ordered were dispatched.")
    if quantity_unit == "GRM":
        loss = dispatched - received
        allowance = dispatched * tolerance_bp // 10_000
        tolerance = f"{Decimal(tolerance_bp) / 100:f} %"
        if loss == 0:
            billable = received
            reasons.append(f"{show(received)} received, as dispatched.")
        elif loss <= allowance:
            billable = dispatched
            reasons.append(
                f"{show(received)} received of {show(dispatched)} dispatched: the difference of {show(loss)} is "
                f"within the {tolerance} weight tolerance ({show(allowance)}), so the dispatched weight is paid."
            )
        else:
            billable = received
            reasons.append(
                f"{show(received)} received of {show(dispatched)} dispatched: the difference of {show(loss)} is "
                f"more than the {tolerance} weight tolerance ({show(allowance)}), so only what was received is paid."
            )
    else:
        billable = received
        if received < dispatched:
            reasons.append(
                f"{show(received)} received of {show(dispatched)} dispatched; the received quantity is paid."
            )
        else:
            reasons.append(f"{show(received)} received, as dispatched.")
    billable = min(billable, ordered)

    price = unit_price_amount
    listed = describe_price(unit_price_amount, currency, price_unit)
    if received_grade is not None and listed_grade is not None and received_grade.id != listed_grade.id:
        agreed = (grade_prices or {}).get(received_grade.id)
        if agreed is not None:
            price = agreed
            reasons.append(
                f"The goods arrived as {received_grade.name}, not {listed_grade.name}: the price agreed for "
                f"{received_grade.name} applies ({describe_price(agreed, currency, price_unit)} instead of {listed})."
            )
        else:
            reasons.append(
                f"The goods arrived as {received_grade.name}, not {listed_grade.name}, and no price was agreed for "
                f"{received_grade.name}: the listed price applies ({listed}). Open a dispute if this is not acceptable."
            )
    amount = amount_for(billable, price, price_unit)
    if amount > line_total_amount:
        reasons.append(
            f"Capped at the line total paid ({Money(line_total_amount, currency)}) "
            f"instead of {Money(amount, currency)}."
        )
        amount = line_total_amount
    reasons.append(
        f"Amount due: {show(billable)} at {describe_price(price, currency, price_unit)} = {Money(amount, currency)}."
    )
    return LineSettlement(billable=billable, unit_price_amount=price, amount=amount, reasons=reasons)
