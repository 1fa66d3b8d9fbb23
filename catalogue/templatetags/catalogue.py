"""Template filters for quantities and money stored as integers."""

from django import template
from django.utils.formats import number_format

from marketplace.core.money import Money, minor_unit_exponent
from marketplace.core.quantities import from_base_units

register = template.Library()


@register.filter
def kg(grams: int | None) -> str:
    """Integer grams as kilograms with thousands separators: 1234500 -> 1,234.5."""
    if grams is None:
        return "—"
    value = from_base_units(grams, "KGM").normalize()
    places = max(0, -value.as_tuple().exponent)
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def money(value: Money | None) -> str:
    if value is None:
        return "—"
    amount = number_format(
        value.to_decimal(), decimal_pos=minor_unit_exponent(value.currency), use_l10n=True, force_grouping=True
    )
    return f"{amount} {value.currency}"


@register.filter
def minor(amount: int | None, currency: str) -> str:
    """Minor units of `currency` as money: {{ tier.unit_price_amount|minor:offer.currency }}."""
    return "—" if amount is None else money(Money(amount, currency))
