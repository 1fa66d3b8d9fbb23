"""OpenAPI documentation of the one error shape that marketplace.core.api.errors writes."""

import re
from collections.abc import Mapping
from decimal import Decimal

import pycountry
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from marketplace.core.validators import validate_currency, validate_language


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, not_found, permission_denied.")
    message = serializers.CharField(help_text="What went wrong and what to fix, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field; nested fields use dotted paths (items.0.quantity).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_responses(descriptions: Mapping[int, str], *codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an endpoint, each described in the words of its app."""
    return {code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes}


class BlankableEmailFieldExtension(OpenApiSerializerFieldExtension):
    """An email field that may be blank says so: "" is not a valid `format: email`."""

    target_class = serializers.EmailField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if not _may_be_blank(self.target):
            return schema
        outer = {key: value for key, value in schema.items() if key not in {"type", "format", "maxLength"}}
        email = {key: schema[key] for key in ("type", "format", "maxLength") if key in schema}
        return {**outer, "anyOf": [email, {"type": "string", "maxLength": 0}]}


class BlankableChoiceFieldExtension(OpenApiSerializerFieldExtension):
    """A read-only choice of a model field with blank=True can be "" in a response (DRF drops allow_blank from
    read-only fields, so drf-spectacular would leave "" out of the enum)."""

    target_class = serializers.ChoiceField
    match_subclasses = False

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if field.read_only and not field.allow_blank and _may_be_blank(field):
            return {"oneOf": [schema, {"type": "string", "enum": [""]}]}
        return schema


def _code_lists() -> dict:
    """The codes a validator of marketplace.core.validators accepts, as enums (the sorted ISO lists it checks)."""
    return {
        validate_currency: sorted(c.alpha_3 for c in pycountry.currencies),
        validate_language: sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")),
    }


class CodeListFieldExtension(OpenApiSerializerFieldExtension):
    """A text field checked against an ISO code list (currency, language) states the list as its enum: a
    generated or hand-written client then sends a code the server knows."""

    target_class = serializers.CharField
    match_subclasses = True
    priority = -1  # below the fields' own extensions (e-mail, phone number)

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        codes = next((codes for check, codes in _code_lists().items() if check in self.target.validators), None)
        if direction != "request" or codes is None or schema.get("type") != "string":
            return schema
        return {**{k: v for k, v in schema.items() if k not in {"minLength", "maxLength"}}, "enum": codes}


def _may_be_blank(field) -> bool:
    if getattr(field, "allow_blank", False):
        return True
    meta = getattr(getattr(field, "parent", None), "Meta", None)
    model = getattr(meta, "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except Exception:
        return False


# --- How ids are obtained: OpenAPI links -------------------------------------------------------------

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
BODY_FIELD = {"number": "number", "reference": "reference"}  # any other path parameter is an `id`
# Collections with no list of their own: their objects come nested, under a property, in another collection's
# (or, with no property, are that collection's own objects: a cooperative's decision defaults are keyed by its id).
NESTED_IN = {
    "/api/v1/matching/parts/": ("/api/v1/matching/proposals/", "parts"),
    "/api/v1/payments/transfers/": ("/api/v1/payments/organisations/{organisation_id}/money/", "transfers"),
    "/api/v1/decisions/defaults/": ("/api/v1/organisations/", ""),
}


def _properties(schema: dict, components: dict) -> tuple[dict, str]:
    """The properties of a response body and the JSON pointer prefix of one object in it."""
    prefix = ""
    for _ in range(4):
        if "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        elif schema.get("type") == "array":
            schema, prefix = schema.get("items", {}), f"{prefix}/0"
        elif "results" in schema.get("properties", {}):
            schema, prefix = schema["properties"]["results"], f"{prefix}/results"
        else:
            break
    return schema.get("properties", {}), prefix


def _sources(paths: dict, segment: str, parameter: str, prefix: str) -> list[tuple[str, str, str]]:
    """Operations whose response names an object of the collection `segment`: (path, method, status)."""
    candidates = [prefix] if prefix in paths else []
    candidates += [path for path in paths if path.endswith(f"/{segment}/") and path != prefix]
    found = []
    for path in candidates:
        for method, status in (("post", "201"), ("get", "200")):
            if status in paths[path].get(method, {}).get("responses", {}):
                found.append((path, method, status))
    return found


def link_ids(result, generator, request, public):
    """Add OpenAPI `links` from the operations that create or list objects to the operations that take their ids
    in the path, so that a client (or a fuzzer) knows where each id comes from."""
    paths = result.get("paths", {})
    components = result.get("components", {}).get("schemas", {})
    for target_path, operations in paths.items():
        segments = [s for s in target_path.split("/") if s]
        for position, segment in enumerate(segments):
            if not (segment.startswith("{") and position):
                continue
            parameter, collection = segment[1:-1], segments[position - 1]
            field = BODY_FIELD.get(parameter, "id")
            prefix = "/" + "/".join(segments[:position]) + "/"
            earlier = [s[1:-1] for s in segments[:position] if s.startswith("{")]
            if prefix in NESTED_IN:  # the objects come under a property of another collection's
                prefix, nested = NESTED_IN[prefix]
                collection = prefix.rstrip("/").rsplit("/", 1)[-1]
            else:
                nested = ""
            for source_path, method, status in _sources(paths, collection, parameter, prefix):
                response = paths[source_path][method]["responses"][status]
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                properties, pointer = _properties(schema, components)
                if nested:
                    properties, inner = _properties(properties.get(nested, {}), components)
                    pointer = f"{pointer}/{nested}{inner}"
                if field not in properties:
                    continue
                for target_method, operation in operations.items():
                    if target_method not in HTTP_METHODS:
                        continue
                    values = {parameter: f"$response.body#{pointer}/{field}"}
                    source_params = {s[1:-1] for s in source_path.split("/") if s.startswith("{")}
                    values.update({name: f"$request.path.{name}" for name in earlier if name in source_params})
                    response.setdefault("links", {})[f"{operation['operationId']}.{parameter}"] = {
                        "operationId": operation["operationId"],
                        "parameters": values,
                        "description": f"`{parameter}` of {target_method.upper()} {target_path} is the `{field}` "
                        "of an object in this response.",
                    }
    return result


class BoundedDecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal sent as a string states its sign and range in its pattern, as far as a pattern can: no minus sign
    when the minimum is 0 or more; at most as many whole digits as the larger bound has (and max_digits -
    decimal_places allow); 1 to decimal_places decimals. A bound that is a power of ten (100, 10^8 kg) is stated
    exactly; another bound (90) only by its number of digits, the server then says what is too large."""

    target_class = serializers.DecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction != "request" or not isinstance(schema.get("pattern"), str):
            return schema  # responses: what is stored, described by tighten_decimals below
        return {**schema, "pattern": bounded_decimal_pattern(self.target)}


def bounded_decimal_pattern(field: serializers.DecimalField) -> str:
    places = field.decimal_places
    whole = field.max_whole_digits
    bounded = field.min_value is not None and field.max_value is not None  # else one side is open
    top = max(abs(Decimal(field.min_value)), abs(Decimal(field.max_value))) if bounded else None
    exact = ""
    if top is not None and top >= 1 and top == top.to_integral_value():
        digits = len(str(int(top)))
        if top == 10 ** (digits - 1) and digits - 1 <= whole:  # a power of ten: shorter numbers and the bound
            whole, exact = min(whole, digits - 1), str(int(top))
        else:
            whole = min(whole, digits)
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    fraction = rf"(?:\.\d{{1,{places}}})?" if places else ""
    number = rf"\d{{1,{whole}}}{fraction}"
    if exact:
        zeros = rf"(?:\.0{{1,{places}}})?" if places else ""
        number = rf"(?:{number}|{exact}{zeros})"
    return rf"^{sign}{number}$"


DECIMAL_PATTERN = re.compile(r"^\^(-\?)?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


def tighten_decimals(result, generator, request, public):
    """A decimal sent as a string needs a digit: drf-spectacular's pattern (`^-?\\d{0,6}(?:\\.\\d{0,4})?$`) also
    allows "", "-" and ".", which the server refuses; the pattern becomes `^-?\\d{1,6}(?:\\.\\d{1,4})?$`."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("format") == "decimal" and isinstance(node.get("pattern"), str):
                match = DECIMAL_PATTERN.match(node["pattern"])
                if match:
                    sign, whole, places = match.groups()
                    node["pattern"] = rf"^{sign or ''}\d{{1,{whole}}}(?:\.\d{{1,{places}}})?$"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result.get("components", {}))
    walk(result.get("paths", {}))
    return result
