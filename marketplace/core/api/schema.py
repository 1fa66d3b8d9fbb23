"""OpenAPI documentation of the one error shape that marketplace.core.api.errors writes."""

from collections.abc import Mapping

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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
