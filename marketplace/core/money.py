"""Money as integer minor units plus an ISO 4217 currency (house rule 5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 minor-unit exponents that differ from 2. Zero-decimal currencies include
# Stripe's list (BIF, CLP, DJF, GNF, JPY, KMF, KRW, MGA, PYG, RWF, UGX, VND, VUV, XAF, XOF, XPF).
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "MGA": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0,
    "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def is_zero_decimal(currency: str) -> bool:
    return minor_unit_exponent(currency) == 0


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an integer number of minor units")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"{self.currency!r} is not an ISO 4217 currency code")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str) -> Money:
        """Convert a major-unit amount, rounding half-even to the currency's minor unit."""
        exponent = minor_unit_exponent(currency)
        minor = (Decimal(value) * (Decimal(10) ** exponent)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return cls(int(minor), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-minor_unit_exponent(self.currency))

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def multiply(self, factor: Decimal | int | str) -> Money:
        """Multiply and round half-even once, here."""
        product = (Decimal(self.amount) * Decimal(factor)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return Money(int(product), self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split pro rata to integer weights; parts always sum back to the whole (largest remainder)."""
        return [Money(part, self.currency) for part in allocate_largest_remainder(self.amount, weights)]

    def __str__(self) -> str:
        exponent = minor_unit_exponent(self.currency)
        return f"{self.to_decimal():,.{exponent}f} {self.currency}"


def allocate_largest_remainder(total: int, weights: list[int]) -> list[int]:
    if not weights:
        raise ValueError("need at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    floors = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    shortfall = magnitude - sum(floors)
    # Ties go to the earlier index, so the result is deterministic.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:shortfall]:
        floors[i] += 1
    return [sign * part for part in floors]
