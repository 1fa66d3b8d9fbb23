"""Amounts as the pages print them (Babel, through the `money` template filter)."""

from marketplace.core.money import Money
from marketplace.core.templatetags.formats import format_money


def shown(amount: int, currency: str = "XOF", locale: str = "en") -> str:
    """`shown(3_000_000)` -> "F CFA 3,000,000" (with the no-break spaces the page has)."""
    return format_money(Money(amount, currency), locale)
