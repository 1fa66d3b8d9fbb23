"""Display helpers for the order pages: money in minor units and quantities in base units."""

from django import template

from marketplace.core.templatetags.formats import money
from orders.services.pricing import describe_price, describe_quantity

register = template.Library()


# One money format everywhere: `{% load formats %}` (marketplace/core/templatetags/formats.py); kept as an alias.
register.filter("money", money)


@register.filter
def quantity(value, unit: str = "GRM") -> str:
    """`{{ line.quantity|quantity:line.quantity_unit }}` -> "2,000 kg" or "10 packs"."""
    if value is None or value == "":
        return "—"
    return describe_quantity(int(value), unit)


@register.simple_tag
def unit_price(line) -> str:
    return describe_price(line.unit_price_amount, line.order.currency, line.price_unit)


@register.filter
def kg_input(grams) -> str:
    """Grams as a plain kilogram figure for an input's value."""
    if grams is None:
        return ""
    whole, rest = divmod(int(grams), 1000)
    return f"{whole}" if not rest else f"{whole}.{rest:03d}".rstrip("0")
