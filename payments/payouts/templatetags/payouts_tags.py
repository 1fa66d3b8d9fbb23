"""Display helpers for the payout pages."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def divide_bp(basis_points) -> str:
    """Basis points as a percentage figure: 250 → "2.5", 200 → "2"."""
    if basis_points in (None, ""):
        return ""
    value = Decimal(int(basis_points)) / 100
    return f"{value.normalize():f}" if value else "0"


@register.filter
def kg(grams) -> str:
    """Grams as kilograms: 1500000 → "1,500 kg"; 1250 → "1.25 kg"."""
    if grams in (None, ""):
        return "—"
    value = Decimal(int(grams)) / 1000
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{text} kg"
