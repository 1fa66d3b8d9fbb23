"""Template filters for quantities and money stored as integers."""

from django import template
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

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


# What each EUDR rule code means, in words a cooperative manager can act on (the codes: traceability/eudr.py).
EUDR_PROBLEMS = {
    "GEOMETRY_MISSING": _("no boundary or centre point recorded"),
    "GEOMETRY_TYPE": _("the boundary is a line, not an area or a point"),
    "COORDINATES_MALFORMED": _("the boundary's coordinates are not readable"),
    "COORDINATE_OUT_OF_RANGE": _("a coordinate lies outside the globe"),
    "LAT_LON_SWAPPED": _("latitude and longitude look swapped"),
    "COORDINATE_PRECISION": _("coordinates have fewer than 6 decimals"),
    "POLYGON_NOT_CLOSED": _("the boundary does not close"),
    "POLYGON_TOO_FEW_POSITIONS": _("the boundary has fewer than 4 points"),
    "POLYGON_HAS_HOLE": _("the boundary has a hole"),
    "POLYGON_SELF_INTERSECTION": _("the boundary crosses itself"),
    "POLYGON_INVALID": _("the boundary is not a valid area"),
    "DUPLICATE_VERTEX": _("two points of the boundary are the same"),
    "AREA_NOT_A_NUMBER": _("the area is not a number"),
    "POINT_AREA_TOO_SMALL": _("the area is too small for a point"),
    "POINT_AREA_OVER_4HA": _("over 4 ha: a point is not enough, draw the boundary"),
    "AREA_MISMATCH": _("the recorded area does not match the boundary"),
    "PRODUCER_COUNTRY": _("the country is not recorded"),
    "CUTOFF_EVIDENCE_MISSING": _("no date of planting or last clearing recorded"),
    "CLEARED_AFTER_CUTOFF": _("cleared after 31 December 2020: it cannot be sold into the EU"),
    "TRACE_MISSING": _("no member delivery is recorded for it"),
    "TRACE_INCOMPLETE": _("part of the lot cannot be traced back to deliveries"),
}


@register.filter
def eudr_problem(item) -> str:
    """A missing piece of a due-diligence package in words; the code itself never shows."""
    rule = getattr(item, "rule", "") or (item.get("rule", "") if isinstance(item, dict) else "")
    words = EUDR_PROBLEMS.get(rule)
    return str(words) if words is not None else str(getattr(item, "message", "") or rule)


@register.simple_tag
def eudr_fix_url(item, package) -> str:
    """Where to fix a missing piece: the plot's edit page (its member's), else the lot's deliveries."""
    plot = next((p for p in getattr(package, "plots", []) if p.pk == getattr(item, "plot_id", None)), None)
    if plot is not None:
        return reverse("plot-edit", args=[plot.farmer_id, plot.pk])
    return reverse("catalogue-deliveries")
