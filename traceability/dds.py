"""Due-diligence statements in the structure of the EU Information System's submission (DDS V3, `submitDds`).

The shape and the field rules follow the Commission's operator API reference (EUDR Information System, V3):
`SubmitDdsRequestType` = `operatorRole` + `statement` (`DueDiligenceStatementBaseType`), whose `commodities` are
`DdsCommodityType` entries (`descriptors`, `hsHeading`, `producers`), each producer a `DdsProducerType` (`country`,
`name`, `geometryGeojson` as base64 GeoJSON). The Information System takes SOAP/XML; we keep its element names in
JSON so that a submitting client maps them one to one.

Everything here is pure: `statement_errors` checks a document against the field rules, `split_producers` cuts a
list of producers to the Commission's limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

OPERATOR_ROLES = ("OPERATOR", "REPRESENTATIVE_OPERATOR")
ACTIVITY_TYPES = ("IMPORT", "EXPORT", "DOMESTIC")
IDENTIFIER_TYPES = ("eori", "vat", "gln", "tin", "cbr", "cin", "duns", "comp_num", "comp_reg", "oni")
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)
GEOMETRY_TYPES = ("Point", "MultiPoint", "Polygon", "MultiPolygon", "GeometryCollection")

# The Commission's limits for one statement.
MAX_STATEMENT_BYTES = 25 * 1024 * 1024
MAX_PRODUCERS_PER_COMMODITY = 1_000
MAX_PRODUCERS_PER_STATEMENT = 10_000

COUNTRY = re.compile(r"^[a-zA-Z]{2}$")
HS_HEADING = re.compile(r"^[0-9]{2,6}$")
EMAIL = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")

LENGTHS = {  # field: (min, max)
    "internalReferenceNumber": (1, 35),
    "comment": (0, 2000),
    "descriptionOfGoods": (1, 150),
    "operatorName": (1, 200),
    "operatorEmail": (1, 200),
    "operatorPhone": (1, 50),
    "identifierValue": (1, 80),
    "street": (1, 300),
    "postalCode": (1, 80),
    "city": (1, 200),
    "fullAddress": (1, 250),
    "name": (1, 500),  # producer name
    "referenceNumber": (1, 14),
    "verificationNumber": (5, 35),
}


@dataclass(frozen=True)
class Producer:
    """One producer of a commodity: a country (ISO alpha-2), a name and a GeoJSON FeatureCollection of plots."""

    country: str
    name: str
    geojson: dict

    def encoded(self) -> str:
        return encode_geojson(self.geojson)


def encode_geojson(document: dict) -> str:
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode("ascii")


def _decimal_16_6(value: Any) -> bool:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return False
    if not number.is_finite() or number < 0:
        return False
    _, digits, exponent = number.as_tuple()
    fraction = max(0, -int(exponent))
    return fraction <= 6 and len(digits) <= 16


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def text(self, node: dict, key: str, path: str, *, required: bool, rule: str | None = None) -> None:
        value = node.get(key)
        if value in (None, ""):
            if required:
                self.add(f"{path}.{key}", "is required")
            return
        if not isinstance(value, str):
            self.add(f"{path}.{key}", "must be a string")
            return
        low, high = LENGTHS[rule or key]
        if not low <= len(value) <= high:
            self.add(f"{path}.{key}", f"must be {low} to {high} characters long (it has {len(value)})")

    def pattern(self, node: dict, key: str, path: str, regex: re.Pattern, *, required: bool, what: str) -> None:
        value = node.get(key)
        if value in (None, ""):
            if required:
                self.add(f"{path}.{key}", "is required")
            return
        if not isinstance(value, str) or not regex.match(value):
            self.add(f"{path}.{key}", f"must be {what} (got {value!r})")

    def choice(self, node: dict, key: str, path: str, choices: Iterable[str], *, required: bool) -> None:
        value = node.get(key)
        if value in (None, ""):
            if required:
                self.add(f"{path}.{key}", "is required")
            return
        if value not in choices:
            self.add(f"{path}.{key}", f"must be one of {', '.join(sorted(choices))} (got {value!r})")


def _check_operator(check: _Checker, operator: Any, path: str) -> None:
    if not isinstance(operator, dict):
        check.add(path, "must be an object")
        return
    check.text(operator, "operatorName", path, required=True)
    check.pattern(operator, "operatorEmail", path, EMAIL, required=False, what="an e-mail address")
    check.text(operator, "operatorPhone", path, required=False)
    reference = operator.get("operatorReferenceNumber")
    if reference is not None:
        check.choice(reference, "identifierType", f"{path}.operatorReferenceNumber", IDENTIFIER_TYPES, required=True)
        check.text(reference, "identifierValue", f"{path}.operatorReferenceNumber", required=True)
    address = operator.get("operatorAddress")
    if address is not None:
        where = f"{path}.operatorAddress"
        check.pattern(address, "country", where, COUNTRY, required=True, what="an ISO 3166-1 alpha-2 code")
        for key in ("street", "postalCode", "city"):
            check.text(address, key, where, required=True)
        check.text(address, "fullAddress", where, required=False)


def _check_geometry(check: _Checker, encoded: Any, path: str) -> int:
    """Check one base64 GeoJSON; return its size in bytes."""
    if not isinstance(encoded, str) or not encoded:
        check.add(path, "is required (base64-encoded GeoJSON)")
        return 0
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        check.add(path, "is not base64-encoded JSON")
        return len(encoded)
    geometries = []
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        geometries = [feature.get("geometry") or {} for feature in document.get("features") or []]
        if not geometries:
            check.add(path, "holds a FeatureCollection with no feature")
    elif isinstance(document, dict) and document.get("type") == "Feature":
        geometries = [document.get("geometry") or {}]
    else:
        geometries = [document]
    for geometry in geometries:
        if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
            check.add(path, f"holds a geometry that is not one of {', '.join(GEOMETRY_TYPES)}")
            break
    return len(encoded)


def _check_commodity(check: _Checker, commodity: Any, path: str, activity: Any) -> tuple[int, int]:
    """Check one commodity; return (producers, geometry bytes)."""
    if not isinstance(commodity, dict):
        check.add(path, "must be an object")
        return 0, 0
    descriptors = commodity.get("descriptors")
    if not isinstance(descriptors, dict):
        check.add(f"{path}.descriptors", "is required")
    else:
        check.text(descriptors, "descriptionOfGoods", f"{path}.descriptors", required=True)
        measure = descriptors.get("goodsMeasure")
        if not isinstance(measure, dict):
            check.add(f"{path}.descriptors.goodsMeasure", "is required")
        else:
            weight = measure.get("netWeight")
            if weight in (None, ""):
                if activity in ("IMPORT", "EXPORT"):
                    check.add(f"{path}.descriptors.goodsMeasure.netWeight", "is required for IMPORT and EXPORT")
            elif not _decimal_16_6(weight):
                check.add(
                    f"{path}.descriptors.goodsMeasure.netWeight",
                    "must be a kilogram figure of at most 16 digits, 6 after the point",
                )
    check.pattern(commodity, "hsHeading", path, HS_HEADING, required=True, what="2 to 6 digits")
    producers = commodity.get("producers") or []
    if not isinstance(producers, list):
        check.add(f"{path}.producers", "must be a list")
        return 0, 0
    if len(producers) > MAX_PRODUCERS_PER_COMMODITY:
        check.add(f"{path}.producers", f"has {len(producers)} producers; at most {MAX_PRODUCERS_PER_COMMODITY}")
    size = 0
    for index, producer in enumerate(producers):
        where = f"{path}.producers[{index}]"
        if not isinstance(producer, dict):
            check.add(where, "must be an object")
            continue
        check.pattern(producer, "country", where, COUNTRY, required=True, what="an ISO 3166-1 alpha-2 code")
        check.text(producer, "name", where, required=False)
        size += _check_geometry(check, producer.get("geometryGeojson"), f"{where}.geometryGeojson")
    return len(producers), size


def operator_errors(operator: Any, path: str = "$.operator") -> list[str]:
    """The field rules an EconomicOperatorIdentificationType breaks."""
    check = _Checker()
    _check_operator(check, operator, path)
    return check.errors


def statement_errors(request: Any) -> list[str]:
    """Every field rule a `submitDds` request breaks, as "path: what is wrong"; empty when it may be submitted."""
    check = _Checker()
    if not isinstance(request, dict):
        return ["$: must be an object"]
    check.choice(request, "operatorRole", "$", OPERATOR_ROLES, required=True)
    statement = request.get("statement")
    if not isinstance(statement, dict):
        check.add("$.statement", "is required")
        return check.errors
    path = "$.statement"
    check.text(statement, "internalReferenceNumber", path, required=False)
    check.choice(statement, "activityType", path, ACTIVITY_TYPES, required=True)
    check.choice(statement, "countryOfActivity", path, EU_COUNTRIES, required=False)
    check.choice(statement, "borderCrossCountry", path, EU_COUNTRIES, required=False)
    check.text(statement, "comment", path, required=False)
    if not isinstance(statement.get("geoLocationConfidential"), bool):
        check.add(f"{path}.geoLocationConfidential", "is required (true or false)")
    if request.get("operatorRole") == "REPRESENTATIVE_OPERATOR" or statement.get("representedOperator") is not None:
        if statement.get("representedOperator") is None:
            check.add(f"{path}.representedOperator", "is required when operatorRole is REPRESENTATIVE_OPERATOR")
        else:
            _check_operator(check, statement["representedOperator"], f"{path}.representedOperator")
    for index, reference in enumerate(statement.get("groupedDeclarations") or []):
        where = f"{path}.groupedDeclarations[{index}]"
        if not isinstance(reference, dict):
            check.add(where, "must be an object")
            continue
        check.text(reference, "referenceNumber", where, required=True)
        check.text(reference, "verificationNumber", where, required=True)
    commodities = statement.get("commodities")
    if not isinstance(commodities, list) or not commodities:
        check.add(f"{path}.commodities", "needs at least one commodity")
        return check.errors
    producers = size = 0
    for index, commodity in enumerate(commodities):
        count, bytes_ = _check_commodity(
            check, commodity, f"{path}.commodities[{index}]", statement.get("activityType")
        )
        producers += count
        size += bytes_
    if producers > MAX_PRODUCERS_PER_STATEMENT:
        check.add(f"{path}.commodities", f"name {producers} producers; at most {MAX_PRODUCERS_PER_STATEMENT}")
    if size > MAX_STATEMENT_BYTES:
        check.add(f"{path}.commodities", f"carry {size} bytes of geolocation; at most {MAX_STATEMENT_BYTES}")
    return check.errors


def split_producers(
    producers: Sequence[Producer],
    *,
    per_statement: int | None = None,
    max_bytes: int | None = None,
) -> list[list[Producer]]:
    """Cut one commodity's producers into consecutive parts, each within the producer and size limits.

    One commodity per statement here, so the per-commodity limit (1,000) binds before the per-statement one."""
    per_statement = per_statement or MAX_PRODUCERS_PER_COMMODITY
    max_bytes = max_bytes or MAX_STATEMENT_BYTES
    parts: list[list[Producer]] = []
    current: list[Producer] = []
    size = 0
    for producer in producers:
        encoded = len(producer.encoded())
        if encoded > max_bytes:
            raise ValueError(f"The geolocation of producer {producer.name!r} alone exceeds {max_bytes} bytes.")
        if current and (len(current) >= per_statement or size + encoded > max_bytes):
            parts.append(current)
            current, size = [], 0
        current.append(producer)
        size += encoded
    if current:
        parts.append(current)
    return parts
