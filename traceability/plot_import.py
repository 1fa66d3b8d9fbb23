"""Bulk plot import: a GeoJSON FeatureCollection or a KML file, one plot per feature, all or nothing.

Each feature names its member by the property `member_number` (KML: an ExtendedData `Data` or `SimpleData` of that
name) and its plot by `name` (GeoJSON: or `ProductionPlace`; KML: the Placemark's `<name>`). Optional properties:
`area_hectares` (or the Commission's `Area`; required for points, computed on the WGS84 ellipsoid for polygons when
absent), `country` (or `ProducerCountry`, the cooperative's by default) and `established_on` (YYYY-MM-DD, the EUDR
cut-off evidence). Coordinates are WGS84 longitude, latitude (EPSG:4326); a GeoJSON `crs` naming anything else is
refused. Every geometry must pass the Commission's rules (`traceability.eudr`), so an imported plot is EUDR-valid.

Every feature is checked before anything is written, and the answer names each bad feature by its index (from 0)
and name, with what to fix. KML is parsed by defusedxml with DTDs forbidden: no entity expansion, no external
entities (XXE), no network access.
"""

from __future__ import annotations

import datetime
import json
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import ParseError

import pycountry
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring
from django.conf import settings

from marketplace.core.errors import ValidationFailed
from marketplace.organisations.models import Plot, User
from marketplace.organisations.services import PlotImportRow, plot_import
from traceability.eudr import _as_floats, geodesic_area_hectares, geometry_check

MEMBER_KEYS = ("member_number", "MemberNumber")
NAME_KEYS = ("name", "ProductionPlace")
AREA_KEYS = ("area_hectares", "Area")
COUNTRY_KEYS = ("country", "ProducerCountry")
WGS84_CRS = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
}
_HA = Decimal("0.0001")


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_file", fields={"file": message})


# --- Reading the two formats into (name, properties, geometry) ---------------------------------------


def _geojson_features(data: bytes) -> list[tuple[dict, Any]]:
    try:
        document = json.loads(data.decode("utf-8-sig"), parse_float=Decimal, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise _file_error("The file is not UTF-8 text: save the GeoJSON as UTF-8.") from None
    except (ValueError, RecursionError) as error:
        raise _file_error(f"The file is not valid JSON ({error}): export it again as GeoJSON.") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise _file_error('The file must be a GeoJSON FeatureCollection ({"type": "FeatureCollection", ...}).')
    crs = document.get("crs")
    if crs is not None:
        name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
        if name not in WGS84_CRS:
            raise _file_error(
                f"The file's coordinates are in {name or 'an unknown system'}; plots need WGS84 longitude and "
                "latitude (EPSG:4326): reproject the file."
            )
    features = document.get("features")
    if not isinstance(features, list):
        raise _file_error("The FeatureCollection has no features list.")
    out = []
    for feature in features:
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            out.append(({}, _NOT_A_FEATURE))
            continue
        properties = feature.get("properties")
        out.append((properties if isinstance(properties, dict) else {}, feature.get("geometry")))
    return out


def _no_constant(value: str):
    raise ValueError(f"{value} is not a number")


_NOT_A_FEATURE = object()


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child.tag) == name]


def _descendants(element, name: str) -> list:
    return [child for child in element.iter() if _local(child.tag) == name]


def _kml_positions(text: str | None) -> list[list[Decimal]] | None:
    positions = []
    for chunk in (text or "").split():
        parts = chunk.split(",")
        if len(parts) < 2:
            return None
        try:
            positions.append([Decimal(parts[0]), Decimal(parts[1])])
        except InvalidOperation:
            return None
    return positions or None


def _kml_geometry(placemark) -> Any:
    polygons, points = [], []
    for element in placemark.iter():
        kind = _local(element.tag)
        if kind == "Point":
            coordinates = _descendants(element, "coordinates")
            positions = _kml_positions(coordinates[0].text) if coordinates else None
            if positions is None or len(positions) != 1:
                return {"type": "Point", "coordinates": None}
            points.append(positions[0])
        elif kind == "Polygon":
            rings = []
            for boundary in ("outerBoundaryIs", "innerBoundaryIs"):
                for part in _children(element, boundary):
                    coordinates = _descendants(part, "coordinates")
                    positions = _kml_positions(coordinates[0].text) if coordinates else None
                    if positions is None:
                        return {"type": "Polygon", "coordinates": None}
                    rings.append(positions)
            polygons.append(rings)
        elif kind == "LineString":
            return {"type": "LineString", "coordinates": []}  # refused with the EUDR rule's message
    if polygons and points:
        return {"type": "GeometryCollection", "geometries": []}
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    if polygons:
        return {"type": "MultiPolygon", "coordinates": polygons}
    if len(points) == 1:
        return {"type": "Point", "coordinates": points[0]}
    if points:
        return {"type": "MultiPoint", "coordinates": points}
    return None


def _kml_features(data: bytes) -> list[tuple[dict, Any]]:
    try:
        root = xml_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _file_error(
            "The KML file declares a DTD or entities, which are not accepted: export it again without them."
        ) from None
    except ParseError as error:
        raise _file_error(f"The file is not well-formed XML ({error}): export it again as KML.") from None
    if _local(root.tag) != "kml":
        raise _file_error("The file is not KML: its root element must be <kml>.")
    out = []
    for placemark in _descendants(root, "Placemark"):
        properties: dict[str, Any] = {}
        names = _children(placemark, "name")
        if names and (names[0].text or "").strip():
            properties["name"] = names[0].text.strip()
        for data_element in _descendants(placemark, "Data"):
            values = _children(data_element, "value")
            if data_element.get("name") and values:
                properties[data_element.get("name")] = (values[0].text or "").strip()
        for simple in _descendants(placemark, "SimpleData"):
            if simple.get("name"):
                properties[simple.get("name")] = (simple.text or "").strip()
        out.append((properties, _kml_geometry(placemark)))
    return out


# --- Checking each feature ---------------------------------------------------------------------------


def _first(properties: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in properties and properties[key] not in (None, ""):
            return properties[key]
    return None


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    return str(value).strip()


def _row(index: int, properties: dict, geometry: Any, problems: list[str]) -> PlotImportRow | None:
    member = _first(properties, MEMBER_KEYS)
    if member is None:
        problems.append("The member_number property is missing: name the member who farms this plot.")
    name = _first(properties, NAME_KEYS)
    if name is None:
        problems.append("The name property is missing: give the plot a name (KML: the Placemark's <name>).")
    elif len(_text(name)) > Plot._meta.get_field("name").max_length:
        problems.append("The name is longer than 100 characters: shorten it.")
    if geometry is _NOT_A_FEATURE:
        problems.append('This item is not a GeoJSON Feature ({"type": "Feature", "geometry": ..., "properties": ...}).')
        return None
    area_value = _first(properties, AREA_KEYS)
    area: Decimal | None = None
    if area_value is not None:
        try:
            area = Decimal(_text(area_value)) if not isinstance(area_value, bool) else None
        except InvalidOperation:
            area = None
        if area is None or not area.is_finite() or area <= 0 or area > Decimal("1000000"):
            problems.append(f"The area {area_value!r} is not a number of hectares above 0.")
            area = None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    issues = geometry_check(geometry, area=float(area) if area is not None else None, area_given=area is not None)
    problems.extend(f"{rule}: {message}" for rule, message in issues)
    if area is None and kind in ("Point", "MultiPoint") and not issues and area_value is None:
        problems.append("A point needs its area: add the area_hectares property (in hectares).")
    if not issues and area is None and kind in ("Polygon", "MultiPolygon"):
        area = Decimal(str(geodesic_area_hectares(geometry))).quantize(_HA, rounding=ROUND_HALF_EVEN)
        if area <= 0:
            problems.append("The polygon has no area.")
    country = _first(properties, COUNTRY_KEYS)
    if country is not None and not (
        isinstance(country, str) and len(country) == 2 and pycountry.countries.get(alpha_2=country.upper())
    ):
        problems.append(f"The country {country!r} is not an ISO 3166-1 alpha-2 code such as CI.")
    established = _first(properties, ("established_on",))
    day = None
    if established is not None:
        try:
            day = datetime.date.fromisoformat(_text(established))
        except ValueError:
            problems.append(f"established_on {established!r} is not a date written YYYY-MM-DD.")
        else:
            if day > datetime.date.today():
                problems.append("established_on is in the future: give the day the land was planted or cleared.")
    if problems or member is None or name is None or area is None:
        return None
    return PlotImportRow(
        index=index,
        member_number=_text(member),
        name=_text(name),
        area_hectares=area.quantize(_HA, rounding=ROUND_HALF_EVEN),
        geometry=_as_floats(geometry),
        country=country.upper() if isinstance(country, str) else "",
        established_on=day,
    )


def read_plot_file(
    data: bytes, *, file_name: str = ""
) -> tuple[list[PlotImportRow], dict[int, list[str]], dict[int, str]]:
    """The rows of a plot file, the problems of each feature (by index) and each feature's name (for messages).
    A file that cannot be read at all raises ValidationFailed with code `invalid_file`."""
    limit = settings.PLOT_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise _file_error(f"The file is {len(data):,} bytes; at most {limit:,} are accepted: split it in parts.")
    if not data.strip():
        raise _file_error("The file is empty: upload a GeoJSON FeatureCollection or a KML file.")
    lowered = file_name.lower()
    head = data.lstrip()[:1]
    if lowered.endswith(".kml") or (not lowered.endswith((".json", ".geojson")) and head == b"<"):
        features = _kml_features(data)
    else:
        features = _geojson_features(data)
    if not features:
        raise _file_error("The file holds no feature (no Placemark in KML): there is nothing to import.")
    most = settings.PLOT_IMPORT_MAX_FEATURES
    if len(features) > most:
        raise _file_error(f"The file holds {len(features):,} features; at most {most:,} per file: split it in parts.")
    rows: list[PlotImportRow] = []
    errors: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    seen_names: dict[tuple[str, str], int] = {}
    seen_shapes: dict[str, int] = {}
    for index, (properties, geometry) in enumerate(features):
        name = _first(properties, NAME_KEYS)
        if name is not None:
            names[index] = _text(name)[:100]
        problems: list[str] = []
        row = _row(index, properties, geometry, problems)
        if row is not None:
            key = (row.member_number, row.name)
            shape_key = json.dumps(row.geometry, sort_keys=True)
            if key in seen_names:
                problems.append(
                    f"Feature {seen_names[key]} already gives member {row.member_number} a plot named {row.name!r}: "
                    "remove the duplicate or rename one."
                )
            elif shape_key in seen_shapes:
                problems.append(
                    f"Feature {seen_shapes[shape_key]} has exactly the same geometry: remove the duplicate."
                )
            else:
                seen_names[key] = index
                seen_shapes[shape_key] = index
                rows.append(row)
        if problems:
            errors[index] = problems
    return rows, errors, names


def plots_import(*, actor: User, organisation_id: int | None = None, data: bytes, file_name: str = "") -> list[Plot]:
    """Read a plot file and create its plots, all or nothing (see the module's description)."""
    rows, errors, names = read_plot_file(data, file_name=file_name)
    return plot_import(
        actor=actor, organisation_id=organisation_id, rows=rows, errors=errors, names=names, file_name=file_name
    )
