"""Prices per tonne and in the unit people quote: per kilogram, or per 90 kg bag for maize in Kenya."""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils.translation import gettext_lazy as _

from marketplace.core.money import Money


@dataclass(frozen=True)
class QuotedUnit:
    code: str
    label: str
    grams: int


PER_KG = QuotedUnit("kg", _("per kg"), 1_000)
PER_BAG_90KG = QuotedUnit("bag90", _("per 90 kg bag"), 90_000)
PER_TONNE_GRAMS = 1_000_000

# (country, commodity code prefix) -> the unit prices are quoted in there.
QUOTED_UNITS = {("KE", "maize"): PER_BAG_90KG}


def quoted_unit(country: str, commodity_code: str) -> QuotedUnit:
    for (where, prefix), unit in QUOTED_UNITS.items():
        if country == where and commodity_code.startswith(prefix):
            return unit
    return PER_KG


def price_for(total_amount: int, total_grams: int, grams: int) -> int:
    """The price of `grams` at the average of total_amount over total_grams, rounded half-even once."""
    exact = Decimal(total_amount) * grams / Decimal(total_grams)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def money(amount: int, currency: str) -> Money:
    return Money(amount, currency)
