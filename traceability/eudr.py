"""EUDR geolocation: checks plot GeoJSON against the European Commission's rules and builds the due-diligence file.

Sources: the Commission's "EUDR GeoJSON File Description" v1.3 and "API and UI validation rules" v1.3, and the
operator API reference for API V3 (2026), which lowers the smallest point area to 0.0001 ha and says
coordinates are truncated to 6 decimals. Every problem is reported with a stable rule code and a message
that says what to fix:

    FILE_TOO_LARGE              the geolocation data is over 25 MB
    NOT_FEATURE_COLLECTION      the file is not a GeoJSON FeatureCollection (or Feature)
    FEATURE_INVALID             a feature is not a GeoJSON Feature with a geometry
    GEOMETRY_MISSING            a plot has no geometry
    GEOMETRY_TYPE               not Point, MultiPoint, Polygon or MultiPolygon (LineString is refused)
    COORDINATES_MALFORMED       coordinates are not numbers in the nesting the type needs
    COORDINATE_OUT_OF_RANGE     longitude outside [-180, 180] or latitude outside [-90, 90]
    LAT_LON_SWAPPED             positions look like [latitude, longitude]; GeoJSON wants [longitude, latitude]
    COORDINATE_PRECISION        coordinates carry fewer than 6 decimals
    POLYGON_NOT_CLOSED          a ring's first and last positions differ
    POLYGON_TOO_FEW_POSITIONS   a ring has fewer than 4 positions
    POLYGON_HAS_HOLE            a polygon has interior rings (holes are not supported; use two polygons)
    POLYGON_SELF_INTERSECTION   the outline crosses or touches itself (figure eight, fold)
    POLYGON_INVALID             another invalid shape: zero area (a straight line), overlapping parts
    DUPLICATE_VERTEX            two successive positions become the same after truncation to 6 decimals
    AREA_NOT_A_NUMBER           the Area property is not a JSON number (for example "3" in quotes)
    POINT_AREA_TOO_SMALL        a point's area is under 0.0001 ha
    POINT_AREA_OVER_4HA         a point stands for more than 4 ha: plots over 4 ha need a polygon (cattle excepted)
    AREA_MISMATCH               the declared area disagrees with the polygon's geodesic area beyond the tolerance
    PRODUCER_COUNTRY            ProducerCountry is not an ISO 3166-1 alpha-2 code
    PROPERTY_NAME               a property is a miscased ProducerName/ProducerCountry/ProductionPlace/Area

Areas of polygons are geodesic, on the WGS84 ellipsoid (pyproj.Geod); validity is judged by shapely on the
coordinates as the Commission's system will store them (truncated to 6 decimals).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import pycountry
from django.core.cache import cache
from django.utils.translation import gettext
from pyproj import Geod
from shapely.geometry import MultiPolygon, shape
from shapely.validation import explain_validity

from marketplace.core.errors import ValidationFailed

ALLOWED_TYPES = ("Point", "MultiPoint", "Polygon", "MultiPolygon")
PROPERTIES = ("ProducerName", "ProducerCountry", "ProductionPlace", "Area")
MIN_DECIMALS = 6
POINT_MIN_HA = Decimal("0.0001")
POINT_MAX_HA = Decimal(4)
DEFAULT_AREA_TOLERANCE = 0.10  # the declared area may differ from the geodesic area by 10 %
MAX_FILE_BYTES = 25 * 1024 * 1024
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class GeoIssue:
    rule: str
    message: str
    feature: int | None = None  # index in the FeatureCollection
    feature_id: str | None = None

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _decimals(value: int | float | Decimal) -> int:
    """Decimals as written: a Decimal parsed from the file keeps trailing zeros; a float shows its shortest form."""
    if isinstance(value, int):
        return 0
    text = value if isinstance(value, Decimal) else Decimal(repr(value))
    exponent = text.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


_STEP = Decimal(1).scaleb(-MIN_DECIMALS)


def _truncate(value: int | float | Decimal) -> Decimal:
    """The coordinate as the EU system stores it: cut (not rounded) to 6 decimals."""
    exact = (
        value if isinstance(value, Decimal) else Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    )
    return exact.quantize(_STEP, rounding=ROUND_DOWN)


class _Geometry:
    """Walks one GeoJSON geometry and collects its issues."""

    def __init__(self, geometry: Any) -> None:
        self.geometry = geometry
        self.issues: list[tuple[str, str]] = []

    def add(self, rule: str, message: str) -> None:
        if rule not in {r for r, _ in self.issues}:
            self.issues.append((rule, message))

    # -- structure --
    def _position(self, value: Any) -> tuple[Any, Any] | None:
        if (
            not isinstance(value, (list, tuple))
            or len(value) < 2
            or not all(_is_number(v) and math.isfinite(float(v)) for v in value)
        ):
            return None
        return value[0], value[1]

    def _positions(self, value: Any, depth: int) -> list | None:
        """Nested lists of positions, `depth` levels deep (0 = one position)."""
        if depth == 0:
            return self._position(value)  # type: ignore[return-value]
        if not isinstance(value, (list, tuple)) or not value:
            return None
        result = []
        for item in value:
            inner = self._positions(item, depth - 1)
            if inner is None:
                return None
            result.append(inner)
        return result

    def check(self) -> list[tuple[str, str]]:
        geometry = self.geometry
        if not isinstance(geometry, dict) or not geometry.get("type"):
            self.add("GEOMETRY_MISSING", "There is no geometry: draw the plot or record its centre point.")
            return self.issues
        kind = geometry["type"]
        if kind not in ALLOWED_TYPES:
            self.add(
                "GEOMETRY_TYPE",
                f"{kind} is not accepted: use Point, MultiPoint, Polygon or MultiPolygon"
                + (" (a line does not describe a plot of land)." if "Line" in str(kind) else "."),
            )
            return self.issues
        depth = {"Point": 0, "MultiPoint": 1, "Polygon": 2, "MultiPolygon": 3}[kind]
        coordinates = self._positions(geometry.get("coordinates"), depth)
        if coordinates is None:
            hint = (
                " A Point's coordinates are one [longitude, latitude] pair, not a list of pairs." if depth == 0 else ""
            )
            self.add("COORDINATES_MALFORMED", f"The coordinates are not a valid {kind}: numbers expected.{hint}")
            return self.issues
        positions = _flatten(coordinates, depth)
        self._ranges(positions)
        if self.issues:
            return self.issues
        self._precision(positions)
        if kind in ("Polygon", "MultiPolygon"):
            self._polygons([coordinates] if kind == "Polygon" else coordinates)
        return self.issues

    def _ranges(self, positions: list) -> None:
        for lon, lat in positions:
            lon, lat = float(lon), float(lat)
            if -180 <= lon <= 180 and -90 <= lat <= 90:
                continue
            if abs(lat) > 90 and abs(lat) <= 180 and abs(lon) <= 90:
                self.add(
                    "LAT_LON_SWAPPED",
                    f"[{lon}, {lat}] looks like [latitude, longitude]; GeoJSON wants [longitude, latitude].",
                )
            else:
                self.add(
                    "COORDINATE_OUT_OF_RANGE",
                    f"[{lon}, {lat}] is out of range: longitude must be within ±180 and latitude within ±90.",
                )
            return

    def _precision(self, positions: list) -> None:
        most = max(_decimals(v) for position in positions for v in position)
        if most < MIN_DECIMALS:
            self.add(
                "COORDINATE_PRECISION",
                f"Coordinates have at most {most} decimals; record them with at least {MIN_DECIMALS} "
                "(about 10 cm) as the EUDR requires.",
            )

    def _polygons(self, polygons: list) -> None:
        parts = []
        for polygon in polygons:
            if len(polygon) > 1:
                self.add(
                    "POLYGON_HAS_HOLE",
                    "A polygon has a hole, which the EU system does not accept: describe the plot as two polygons.",
                )
            ring = polygon[0]
            if len(ring) < 4:
                self.add(
                    "POLYGON_TOO_FEW_POSITIONS", "A polygon needs at least 4 positions (3 corners and the first again)."
                )
                continue
            if [Decimal(str(v)) for v in ring[0]] != [Decimal(str(v)) for v in ring[-1]]:
                self.add("POLYGON_NOT_CLOSED", "A polygon is open: repeat the first position at the end.")
                continue
            cut = [(_truncate(lon), _truncate(lat)) for lon, lat in ring]
            for index in range(1, len(cut)):
                if cut[index] == cut[index - 1]:
                    self.add(
                        "DUPLICATE_VERTEX",
                        f"Positions {index - 1} and {index} are the same once cut to 6 decimals: remove one.",
                    )
                    break
            figure = shape({"type": "Polygon", "coordinates": [[(float(x), float(y)) for x, y in cut]]})
            if figure.convex_hull.area == 0:
                self.add("POLYGON_INVALID", "The polygon has no area: its positions lie on a straight line.")
            elif not figure.is_valid:
                reason = explain_validity(figure)
                if "Self-intersection" in reason:
                    self.add(
                        "POLYGON_SELF_INTERSECTION",
                        f"The outline crosses itself ({reason}): redraw it without figure-eights or folds.",
                    )
                else:
                    self.add("POLYGON_INVALID", f"The polygon is invalid ({reason}).")
            else:
                parts.append(figure)
        if len(parts) > 1 and len(parts) == len(polygons):
            combined = MultiPolygon(parts)
            if not combined.is_valid:
                self.add(
                    "POLYGON_INVALID",
                    f"The parts of this MultiPolygon overlap ({explain_validity(combined)}): merge or separate them.",
                )


def _flatten(coordinates: Any, depth: int) -> list:
    if depth == 0:
        return [coordinates]
    return [position for item in coordinates for position in _flatten(item, depth - 1)]


def geodesic_area_hectares(geometry: dict) -> float:
    """The area on the WGS84 ellipsoid, in hectares (0 for points)."""
    figure = shape(_as_floats(geometry))
    area, _ = _GEOD.geometry_area_perimeter(figure)
    return abs(area) / 10_000


def _as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_floats(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_as_floats(inner) for inner in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def geometry_check(
    geometry: Any,
    *,
    area: Any = None,
    area_given: bool | None = None,
    cattle: bool = False,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
) -> list[tuple[str, str]]:
    """(rule, message) pairs for one geometry and its declared area in hectares (None when not declared)."""
    checker = _Geometry(geometry)
    issues = checker.check()
    if area_given is None:
        area_given = area is not None
    if not area_given:
        return issues
    if not _is_number(area):
        checker.add(
            "AREA_NOT_A_NUMBER",
            f'Area must be a number of hectares, not {type(area).__name__} {area!r} (write 3, not "3").',
        )
        return checker.issues
    try:
        hectares = Decimal(str(area))
    except InvalidOperation:
        checker.add("AREA_NOT_A_NUMBER", f"Area {area!r} is not a number.")
        return checker.issues
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind in ("Point", "MultiPoint"):
        if hectares < POINT_MIN_HA:
            checker.add("POINT_AREA_TOO_SMALL", f"A point's area must be at least {POINT_MIN_HA} ha; got {hectares}.")
        elif hectares > POINT_MAX_HA and not cattle:
            checker.add(
                "POINT_AREA_OVER_4HA",
                f"A plot of {hectares} ha is over 4 ha, so it must be described by a polygon, not a point.",
            )
    elif kind in ("Polygon", "MultiPolygon") and not checker.issues:
        measured = geodesic_area_hectares(geometry)
        if hectares <= 0 or abs(measured - float(hectares)) > area_tolerance * float(hectares):
            checker.add(
                "AREA_MISMATCH",
                f"The declared area is {hectares} ha but the polygon measures {measured:.4f} ha "
                f"(more than {area_tolerance:.0%} apart): check the area or the polygon.",
            )
    return checker.issues


def _properties_check(properties: Any) -> list[tuple[str, str]]:
    issues = []
    if not isinstance(properties, dict):
        return issues
    for key in properties:
        for name in PROPERTIES:
            if key != name and key.lower() == name.lower():
                issues.append(("PROPERTY_NAME", f"Property {key!r} must be spelt {name!r} exactly."))
    country = properties.get("ProducerCountry")
    if country is not None and not (
        isinstance(country, str)
        and len(country) == 2
        and country.isupper()
        and pycountry.countries.get(alpha_2=country)
    ):
        issues.append(("PRODUCER_COUNTRY", f"ProducerCountry {country!r} is not an ISO 3166-1 alpha-2 code like CI."))
    return issues


def _feature_id(feature: dict) -> str | None:
    if "id" in feature:
        return str(feature["id"])
    properties = feature.get("properties")
    if isinstance(properties, dict) and properties.get("ProductionPlace"):
        return str(properties["ProductionPlace"])
    return None


def feature_check(
    feature: Any, *, index: int | None = None, cattle: bool = False, area_tolerance: float = DEFAULT_AREA_TOLERANCE
) -> list[GeoIssue]:
    """Issues of one GeoJSON Feature (its geometry, its Area and its property names)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return [GeoIssue("FEATURE_INVALID", "Each item of features must be a GeoJSON Feature.", index)]
    feature_id = _feature_id(feature)
    properties = feature.get("properties") or {}
    area_given = isinstance(properties, dict) and "Area" in properties
    pairs = geometry_check(
        feature.get("geometry"),
        area=properties.get("Area") if area_given else None,
        area_given=area_given,
        cattle=cattle,
        area_tolerance=area_tolerance,
    )
    pairs += _properties_check(properties)
    return [GeoIssue(rule, message, index, feature_id) for rule, message in pairs]


def feature_collection_check(
    data: Any, *, cattle: bool = False, area_tolerance: float = DEFAULT_AREA_TOLERANCE
) -> list[GeoIssue]:
    """Issues of a FeatureCollection (a lone Feature is checked as a collection of one)."""
    if isinstance(data, dict) and data.get("type") == "Feature":
        return feature_check(data, index=0, cattle=cattle, area_tolerance=area_tolerance)
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        return [
            GeoIssue("NOT_FEATURE_COLLECTION", "The file must be a GeoJSON FeatureCollection with a features list.")
        ]
    if not data["features"]:
        return [GeoIssue("NOT_FEATURE_COLLECTION", "The FeatureCollection has no features.")]
    issues: list[GeoIssue] = []
    for index, feature in enumerate(data["features"]):
        issues += feature_check(feature, index=index, cattle=cattle, area_tolerance=area_tolerance)
    return issues


def plot_geometry_check(
    plot, *, cattle: bool = False, area_tolerance: float = DEFAULT_AREA_TOLERANCE
) -> list[GeoIssue]:
    """Issues of a Plot's stored geometry against its declared `area_hectares` (empty when EUDR-ready)."""
    geometry = plot.geometry
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    pairs = geometry_check(
        geometry, area=float(plot.area_hectares), area_given=True, cattle=cattle, area_tolerance=area_tolerance
    )
    return [GeoIssue(rule, message, None, str(plot.pk)) for rule, message in pairs]


def plot_geometry_checks(plots: Sequence, *, cattle: bool) -> dict[int, list[GeoIssue]]:
    """`plot_geometry_check` of each plot, remembered in the cache by the plot's content (geometry, area, kind of
    commodity): the EU rules are a pure function of it, so a changed plot is checked afresh and unchanged ones cost
    one cache round trip for all of them."""
    keys = {}
    for plot in plots:
        content = json.dumps([plot.pk, plot.geometry, str(plot.area_hectares), cattle], sort_keys=True, default=str)
        keys[plot.pk] = "plot-eudr:v1:" + hashlib.sha256(content.encode()).hexdigest()
    found = cache.get_many(list(keys.values())) if keys else {}
    results, fresh = {}, {}
    for plot in plots:
        issues = found.get(keys[plot.pk])
        if issues is None:
            issues = fresh[keys[plot.pk]] = plot_geometry_check(plot, cattle=cattle)
        results[plot.pk] = issues
    if fresh:
        cache.set_many(fresh, 24 * 3600)
    return results


EUDR_CUTOFF = datetime.date(2020, 12, 31)


def plot_cutoff_check(plot) -> list[GeoIssue]:
    """The EUDR cut-off rule: produce must come from land not deforested after 31 December 2020, so a plot must
    say when it was established or last cleared, and that day must be on or before the cut-off."""
    day = getattr(plot, "established_on", None)
    if day is None:
        return [
            GeoIssue(
                "CUTOFF_EVIDENCE_MISSING",
                f"Plot {plot.name} does not say when it was established or last cleared; record the day, "
                f"with evidence, to show it was not deforested after {EUDR_CUTOFF:%d %B %Y}.",
                None,
                str(plot.pk),
            )
        ]
    if day > EUDR_CUTOFF:
        return [
            GeoIssue(
                "CLEARED_AFTER_CUTOFF",
                f"Plot {plot.name} was established or cleared on {day:%d %B %Y}, after the EUDR cut-off of "
                f"{EUDR_CUTOFF:%d %B %Y}; its produce cannot be placed on the EU market.",
                None,
                str(plot.pk),
            )
        ]
    return []


def due_diligence_feature_collection(plots: Iterable, *, cattle: bool = False, checked: bool = False) -> dict:
    """The GeoJSON FeatureCollection for a due-diligence statement, one Feature per plot, with the properties
    ProducerName, ProducerCountry, ProductionPlace and Area (hectares, a number), as the Commission spells them.

    Raises ValidationFailed naming every plot whose geometry fails a rule, so no invalid file leaves here.
    Pass plots with their farmer loaded (`select_related("farmer")`). `checked=True` says the caller has just
    checked every plot with `plot_geometry_check` and found nothing, so the check is not run twice.
    """
    features = []
    problems: dict[str, list[str]] = {}
    for plot in plots:
        issues = [] if checked else plot_geometry_check(plot, cattle=cattle)
        if issues:
            problems[f"plot {plot.pk} ({plot.name})"] = [str(issue) for issue in issues]
            continue
        geometry = plot.geometry.get("geometry") if plot.geometry.get("type") == "Feature" else plot.geometry
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "ProducerName": plot.farmer.name,
                    "ProducerCountry": str(plot.country),
                    "ProductionPlace": plot.name,
                    "Area": float(plot.area_hectares),
                },
                "geometry": geometry,
            }
        )
    if problems:
        raise ValidationFailed(
            gettext("%(count)s plot(s) have geolocation the EU system would refuse; fix them first.")
            % {"count": len(problems)},
            fields=problems,
        )
    return {"type": "FeatureCollection", "features": features}


def issues_by_feature(issues: Sequence[GeoIssue]) -> dict[int | None, list[GeoIssue]]:
    grouped: dict[int | None, list[GeoIssue]] = {}
    for issue in issues:
        grouped.setdefault(issue.feature, []).append(issue)
    return grouped
