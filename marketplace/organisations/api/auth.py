from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from marketplace.core.errors import DomainError
from marketplace.organisations import services
from marketplace.organisations.api.serializers import ErrorSerializer


class AuthTokenCredentialsSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class AuthTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class LockedOut(DomainError):
    status_code = 429
    default_code = "locked_out"


def _cool_off_minutes(request) -> int:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 15


class AuthTokenView(APIView):
    """Exchange email and password for an API token. Failed attempts count towards the login lock-out."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        summary="Get an API token",
        description=f"After {settings.AXES_FAILURE_LIMIT} failed attempts for an email from one address, sign-in "
        "is locked for a while (429), even with the right password.",
        request=AuthTokenCredentialsSerializer,
        responses={
            200: AuthTokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Wrong email or password (code invalid_credentials)."),
            429: OpenApiResponse(ErrorSerializer, description="Locked out (code locked_out) or throttled."),
        },
        tags=["auth"],
    )
    def post(self, request):
        payload = AuthTokenCredentialsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=payload.validated_data["email"],
            password=payload.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            # Answer in the API's error shape: without this, AxesMiddleware swaps in its HTML lock-out page.
            request._request.axes_locked_out = False
            raise LockedOut(
                f"Too many failed sign-in attempts. Wait {_cool_off_minutes(request._request)} minutes, then try again."
            )
        if user is None or not user.is_active:
            raise DomainError("The email or password is wrong.", code="invalid_credentials", fields={
                "password": "Check the email and password."})  # fmt: skip
        return Response({"token": services.auth_token_issue(user=user)}, status=status.HTTP_200_OK)
