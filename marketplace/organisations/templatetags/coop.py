"""Small template helpers for the pages."""

from django import template
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
