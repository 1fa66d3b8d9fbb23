"""OpenAPI documentation of the one error shape that marketplace.core.api.errors writes."""

from collections.abc import Mapping

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
