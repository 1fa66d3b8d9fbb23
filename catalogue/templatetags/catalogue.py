"""Template filters for quantities and money stored as integers."""

from django import template
from django.utils.formats import number_format

from marketplace.core.quantities import from_base_units
from marketplace.core.templatetags.formats import money

register = template.Library()


@register.filter
def kg(grams: int | None) -> str:
    """Integer grams as kilograms with thousands separators: 1234500 -> 1,234.5."""
    if grams is None:
        return "—"
    value = from_base_units(grams, "KGM").normalize()
    places = max(0, -value.as_tuple().exponent)
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


# One money format everywhere: `{% load formats %}` (marketplace/core/templatetags/formats.py); kept as aliases.
register.filter("money", money)
register.filter("minor", money)
