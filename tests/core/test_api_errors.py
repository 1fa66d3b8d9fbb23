"""Every error leaves the API as {"error": {"code", "message", "fields"}}."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers

from marketplace.core.api.errors import error_body, exception_handler
from marketplace.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tests.factories import UserFactory


def handle(exc):
    return exception_handler(exc, {})


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (ValidationFailed("Bad."), 400, "invalid"),
        (PermissionDenied("No."), 403, "permission_denied"),
        (NotFound("Gone."), 404, "not_found"),
        (Conflict("Busy."), 409, "conflict"),
        (InvalidTransition("Not from here."), 409, "invalid_transition"),
        (DomainError("Custom.", code="invalid_credentials"), 400, "invalid_credentials"),
    ],
)
def test_domain_errors_keep_their_status_code_and_message(exc, status, code):
    response = handle(exc)
    assert response.status_code == status
    assert response.data == error_body(code, exc.message)


def test_domain_error_fields_are_lists_of_strings():
    response = handle(ValidationFailed("Fix it.", fields={"phone": "Invalid.", "name": ["Too long.", "Blank."]}))
    assert response.data["error"]["fields"] == {"phone": ["Invalid."], "name": ["Too long.", "Blank."]}


class Line(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class Order(serializers.Serializer):
    buyer = serializers.CharField()
    lines = Line(many=True)

    def validate(self, attrs):
        raise serializers.ValidationError("Never valid.")


def test_drf_validation_errors_are_flattened_with_dotted_paths():
    order = Order(data={"lines": [{"quantity": 2}, {"quantity": 0}]})
    assert not order.is_valid()
    response = handle(exceptions.ValidationError(order.errors))
    assert response.status_code == 400
    error = response.data["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "buyer": ["This field is required."],
        "lines.1.quantity": ["Ensure this value is greater than or equal to 1."],
    }
    assert (
        error["message"]
        == "buyer: This field is required.; lines.1.quantity: Ensure this value is greater than or equal to 1."
    )


def test_non_field_errors_read_plainly():
    response = handle(exceptions.ValidationError(["Pick a day in the future."]))
    assert response.data["error"]["message"] == "Pick a day in the future."
    assert response.data["error"]["fields"] == {"non_field_errors": ["Pick a day in the future."]}


def test_django_validation_errors_become_400():
    response = handle(DjangoValidationError({"gln": ["Wrong check digit."]}))
    assert response.status_code == 400
    assert response.data["error"]["fields"] == {"gln": ["Wrong check digit."]}
    assert response.data["error"]["message"] == "gln: Wrong check digit."
    plain = handle(DjangoValidationError("Nope."))
    assert plain.data["error"]["fields"] == {"non_field_errors": ["Nope."]}


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Http404(), 404, "not_found"),
        (DjangoPermissionDenied(), 403, "permission_denied"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.Throttled(wait=30), 429, "throttled"),
        (exceptions.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
    ],
)
def test_framework_errors_get_the_same_shape(exc, status, code):
    response = handle(exc)
    assert response.status_code == status
    error = response.data["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["fields"] == {}


def test_unexpected_errors_are_left_to_django_as_a_500():
    assert handle(RuntimeError("bug")) is None


@pytest.mark.django_db
def test_an_api_404_has_the_shape_end_to_end(client):
    client.force_login(UserFactory())
    response = client.get("/api/v1/farmers/999999999/")
    assert response.status_code == 404
    assert response.json() == error_body("not_found", "No such member farmer.")
