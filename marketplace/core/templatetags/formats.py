"""Numbers, money and dates in the reader's language: `{% load formats %}`.

{{ order.total_amount|money:order.currency }}   minor units + ISO 4217 code -> "1 500 000 F CFA" (fr)
{{ listing.price|money }}                        a Money value
{{ order.created_at|day }}                       "3 déc. 2026" / "3 Dec 2026": never 03/12/2026
{{ order.created_at|day_time }}                  "3 déc. 2026, 14:05"
{{ delivery.delivered_on|iso_date }}             the value of an <input type="date">: always YYYY-MM-DD
"""

from __future__ import annotations

import datetime
import re

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import timezone
from django.utils.translation import get_language, to_locale

from marketplace.core.money import Money

register = template.Library()

EMPTY = "—"


def current_locale() -> str:
    return to_locale(get_language() or "en")


# CLDR's currency spacing (which Babel does not apply): a no-break space between a symbol that ends or
# starts with a letter and the digits next to it, so "RWF1,500" reads "RWF 1,500" and "€1,500" stays.
_SPACING_BEFORE = re.compile(r"(?<=[^\W\d_])(?=[-\u2212]?\d)")
_SPACING_AFTER = re.compile(r"(?<=\d)(?=[^\W\d_])")


def format_money(value: Money, locale: str | None = None) -> str:
    """A Money value in the reader's format. Babel knows each currency's symbol and decimals (CLDR:
    XOF, RWF and UGX have none, the same as our minor-unit table)."""
    text = format_currency(value.to_decimal(), value.currency, locale=locale or current_locale())
    return _SPACING_AFTER.sub("\u00a0", _SPACING_BEFORE.sub("\u00a0", text))


@register.filter
def money(value, currency: str | None = None) -> str:
    """`{{ amount|money:currency }}` for integer minor units, or `{{ money_value|money }}`."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, Money):
        return format_money(value)
    if not currency:
        return EMPTY
    try:
        return format_money(Money(int(value), str(currency)))
    except (TypeError, ValueError):
        return EMPTY


@register.filter
def number(value, decimals: int | None = None) -> str:
    """A number with the reader's grouping and decimal mark: 1500000 -> "1 500 000" (fr)."""
    if value is None or value == "":
        return EMPTY
    if decimals is None:
        return format_decimal(value, locale=current_locale())
    pattern = "#,##0." + "0" * int(decimals) if int(decimals) else "#,##0"
    return format_decimal(value, format=pattern, locale=current_locale())


@register.filter
def day(value) -> str:
    """A date with its month in words: "3 Dec 2026", "3 déc. 2026"."""
    if not value:
        return EMPTY
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return format_date(value, format="medium", locale=current_locale())


@register.filter
def day_time(value) -> str:
    """A moment with its month in words and the time: "3 déc. 2026, 14:05"."""
    if not value:
        return EMPTY
    if not isinstance(value, datetime.datetime):
        return day(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    locale = current_locale()
    return f"{format_date(value, format='medium', locale=locale)}, {format_time(value, format='short', locale=locale)}"


@register.filter
def iso_date(value) -> str:
    """The value of an <input type="date">: YYYY-MM-DD in every language."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


@register.filter
def kg_input(grams) -> str:
    """Grams as the plain kilogram figure an <input type="number"> takes: 1500 -> "1.5" in every language."""
    if grams in (None, ""):
        return ""
    whole, rest = divmod(int(grams), 1000)
    return f"{whole}" if not rest else f"{whole}.{rest:03d}".rstrip("0")
