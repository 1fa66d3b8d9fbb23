from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.core.errors import DomainError


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class AuthTokenView(APIView):
    """Exchange email and password for an API token. Failed attempts count towards the login lock-out."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"

    def get_throttles(self):
        from rest_framework.throttling import ScopedRateThrottle

        return [ScopedRateThrottle()]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer}, tags=["auth"])
    def post(self, request):
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=payload.validated_data["email"],
            password=payload.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            # Answer in the API's error shape: without this, AxesMiddleware swaps in its HTML lock-out page.
            request._request.axes_locked_out = False
            raise LockedOut("Too many failed sign-in attempts. Wait 15 minutes, then try again.")
        if user is None or not user.is_active:
            raise DomainError("The email or password is wrong.", code="invalid_credentials", fields={
                "password": "Check the email and password."})  # fmt: skip
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


class LockedOut(DomainError):
    status_code = 429
    default_code = "locked_out"
