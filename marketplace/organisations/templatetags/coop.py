"""Small template helpers for the pages."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def current(context, *url_names: str) -> str:
    """`aria-current="page"` on a navigation link when the page shown is one of `url_names`."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in url_names:
        return mark_safe('aria-current="page"')
    return ""


@register.filter
def hectares(value) -> str:
    """An area without trailing zeros, in the reader's number format: 2.5000 -> "2.5" (fr: "2,5")."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value)).quantize(Decimal("0.0001")).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    if number == number.to_integral():
        number = number.quantize(Decimal(1))
    return number_format(number, use_l10n=True)
