"""Quantities are integers in a base unit (grams for mass) with a UN/ECE Rec 20 code for display (house rule 6)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum


class UnitCode(StrEnum):
    GRAM = "GRM"
    KILOGRAM = "KGM"
    TONNE = "TNE"
    LITRE = "LTR"
    MILLILITRE = "MLT"
    PIECE = "H87"


# Base unit per dimension: grams for mass, millilitres for volume, pieces for counts.
_TO_BASE = {
    UnitCode.GRAM: 1,
    UnitCode.KILOGRAM: 1_000,
    UnitCode.TONNE: 1_000_000,
    UnitCode.MILLILITRE: 1,
    UnitCode.LITRE: 1_000,
    UnitCode.PIECE: 1,
}
_DIMENSION = {
    UnitCode.GRAM: "mass",
    UnitCode.KILOGRAM: "mass",
    UnitCode.TONNE: "mass",
    UnitCode.MILLILITRE: "volume",
    UnitCode.LITRE: "volume",
    UnitCode.PIECE: "count",
}


def to_base_units(value: Decimal | int | str, unit: UnitCode | str) -> int:
    """Convert a display quantity into integer base units, rounding half-even."""
    unit = UnitCode(unit)
    base = (Decimal(value) * _TO_BASE[unit]).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(base)


def from_base_units(base: int, unit: UnitCode | str) -> Decimal:
    unit = UnitCode(unit)
    return Decimal(base) / _TO_BASE[unit]


def dimension(unit: UnitCode | str) -> str:
    return _DIMENSION[UnitCode(unit)]


@dataclass(frozen=True, slots=True)
class Quantity:
    base: int
    unit: UnitCode  # display unit

    def display(self) -> Decimal:
        return from_base_units(self.base, self.unit).normalize()

    def __str__(self) -> str:
        return f"{self.display():,f} {self.unit.value}"
