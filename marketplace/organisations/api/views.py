"""The organisations API: parse the request, call one selector or service, render.

Selectors scope every read by the viewer and services check every write, so an id of another
organisation's object answers 404 whatever the endpoint.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from marketplace.core.api.schema import error_responses
from marketplace.organisations import selectors, services
from marketplace.organisations.api import serializers as s
from marketplace.organisations.api.filters import MemberFarmerFilter, OrganisationFilter
from marketplace.organisations.csv_import import COLUMNS, MemberRegisterRejected
from marketplace.organisations.models import Organisation

ERROR_DESCRIPTIONS = {
    400: "The input is invalid; `message` and `fields` say what to fix.",
    403: "Your role in the organisation does not allow this.",
    404: "No such object, or it belongs to an organisation you cannot see.",
    409: "The object's state does not allow this (e.g. a transition that is not allowed).",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERROR_DESCRIPTIONS, *codes)


# --- Me ---------------------------------------------------------------------------------


class MeView(APIView):
    @extend_schema(
        summary="The signed-in user and their memberships",
        responses={200: s.MeSerializer},
        tags=["me"],
    )
    def get(self, request):
        memberships = list(selectors.membership_list_for_user(viewer=request.user))
        user = request.user
        me = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "preferred_language": user.preferred_language,
            "is_operator": any(m.organisation.kind == Organisation.Kind.OPERATOR for m in memberships),
            "memberships": memberships,
        }
        return Response(s.MeSerializer(me).data)


# --- Organisations ----------------------------------------------------------------------


class OrganisationListView(mixins.ListModelMixin, GenericAPIView):
    serializer_class = s.OrganisationSerializer
    filterset_class = OrganisationFilter
    search_fields = ["legal_name", "display_name"]
    ordering_fields = ["legal_name", "country", "created_at"]
    ordering = ["legal_name"]

    def get_queryset(self):
        return selectors.organisation_list(viewer=self.request.user)

    @extend_schema(
        summary="List organisations",
        description="The platform operator sees every organisation; everyone else the organisations they "
        "belong to. `search` matches the legal and display names.",
        tags=["organisations"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Onboard an organisation (platform operator)",
        description="Creates the organisation, pending verification. With `admin_email`, also invites that "
        "person as its first admin, in the same transaction; the email is sent once it is saved.",
        request=s.OrganisationCreateSerializer,
        responses={201: s.OrganisationSerializer, **errors(400, 403)},
        tags=["organisations"],
    )
    def post(self, request):
        payload = s.OrganisationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        organisation = services.organisation_onboard(actor=request.user, **payload.validated_data)
        return Response(s.OrganisationSerializer(organisation).data, status=status.HTTP_201_CREATED)


class OrganisationDetailView(APIView):
    @extend_schema(
        summary="An organisation",
        description="For its members and the platform operator.",
        responses={200: s.OrganisationSerializer, **errors(404)},
        tags=["organisations"],
    )
    def get(self, request, pk: int):
        organisation = selectors.organisation_get(viewer=request.user, organisation_id=pk)
        return Response(s.OrganisationSerializer(organisation).data)

    @extend_schema(
        summary="Change an organisation's details (its admins, or the platform operator)",
        description="Kind and verification status cannot be changed here.",
        request=s.OrganisationUpdateSerializer,
        responses={200: s.OrganisationSerializer, **errors(400, 403, 404)},
        tags=["organisations"],
    )
    def patch(self, request, pk: int):
        payload = s.OrganisationUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        organisation = services.organisation_update(actor=request.user, organisation_id=pk, **payload.validated_data)
        return Response(s.OrganisationSerializer(organisation).data)


class OrganisationVerificationView(APIView):
    @extend_schema(
        summary="Verify, reject or suspend an organisation (platform operator)",
        description="Allowed: pending → verified | rejected; rejected → pending; verified → suspended; "
        "suspended → verified. Rejecting and suspending need a reason. Every change is audited.",
        request=s.OrganisationVerificationSerializer,
        responses={200: s.OrganisationSerializer, **errors(400, 403, 404, 409)},
        tags=["organisations"],
    )
    def post(self, request, pk: int):
        payload = s.OrganisationVerificationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        organisation = services.organisation_verification_transition(
            actor=request.user,
            organisation_id=pk,
            to_status=payload.validated_data["status"],
            reason=payload.validated_data["reason"],
        )
        return Response(s.OrganisationSerializer(organisation).data)


# --- Memberships ------------------------------------------------------------------------


class OrganisationMembershipListView(mixins.ListModelMixin, GenericAPIView):
    serializer_class = s.MembershipSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.membership_list(viewer=self.request.user, organisation_id=self.kwargs["organisation_id"])

    @extend_schema(
        summary="The users of an organisation and their roles",
        responses={200: s.MembershipSerializer(many=True), **errors(404)},
        tags=["memberships"],
    )
    def get(self, request, organisation_id: int):
        return self.list(request)


class MembershipDetailView(APIView):
    @extend_schema(
        summary="Change a user's role (admins)",
        description="An organisation keeps at least one admin.",
        request=s.MembershipUpdateSerializer,
        responses={200: s.MembershipSerializer, **errors(400, 403, 404, 409)},
        tags=["memberships"],
    )
    def patch(self, request, pk: int):
        payload = s.MembershipUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            actor=request.user, membership_id=pk, role=payload.validated_data["role"]
        )
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(
        summary="Remove a user from the organisation (admins)",
        description="An organisation keeps at least one admin.",
        responses={204: None, **errors(403, 404, 409)},
        tags=["memberships"],
    )
    def delete(self, request, pk: int):
        services.membership_remove(actor=request.user, membership_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Invitations ------------------------------------------------------------------------


class OrganisationInvitationListView(mixins.ListModelMixin, GenericAPIView):
    serializer_class = s.InvitationSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.invitation_list(viewer=self.request.user, organisation_id=self.kwargs["organisation_id"])

    @extend_schema(
        summary="The organisation's invitations (admins and managers)",
        responses={200: s.InvitationSerializer(many=True), **errors(403, 404)},
        tags=["invitations"],
    )
    def get(self, request, organisation_id: int):
        return self.list(request)

    @extend_schema(
        summary="Invite someone by email (admins and managers)",
        description="Managers may invite up to manager; only admins invite admins. The email with the link "
        f"is sent once the invitation is saved; the link is valid {settings.INVITATION_VALID_DAYS} days.",
        request=s.InvitationCreateSerializer,
        responses={201: s.InvitationSerializer, **errors(400, 403, 404, 409)},
        tags=["invitations"],
    )
    def post(self, request, organisation_id: int):
        payload = s.InvitationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            actor=request.user, organisation_id=organisation_id, **payload.validated_data
        )
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationRevokeView(APIView):
    @extend_schema(
        summary="Revoke an open invitation (admins and managers)",
        request=None,
        responses={200: s.InvitationSerializer, **errors(403, 404, 409)},
        tags=["invitations"],
    )
    def post(self, request, pk: int):
        invitation = services.invitation_revoke(actor=request.user, invitation_id=pk)
        return Response(s.InvitationSerializer(invitation).data)


class InvitationAcceptView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        summary="Accept an invitation",
        description="Signed in, accepts as that user (the invitation's email must be theirs). Otherwise "
        "creates the account with `password` and `full_name`; then get a token from /api/v1/auth/token/. "
        "Revoked, expired and already accepted invitations answer 409.",
        request=s.InvitationAcceptSerializer,
        responses={201: s.MyMembershipSerializer, **errors(400, 403, 409)},
        tags=["invitations"],
    )
    def post(self, request):
        payload = s.InvitationAcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.invitation_accept(
            token=payload.validated_data["token"],
            user=request.user if request.user.is_authenticated else None,
            password=payload.validated_data.get("password", ""),
            full_name=payload.validated_data["full_name"],
        )
        return Response(s.MyMembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


# --- Member farmers ---------------------------------------------------------------------


class FarmerListView(mixins.ListModelMixin, GenericAPIView):
    serializer_class = s.FarmerSerializer
    filterset_class = MemberFarmerFilter
    search_fields = ["name", "member_number", "phone", "village"]
    ordering_fields = ["member_number", "name", "village", "joined_on", "birth_year", "created_at"]
    ordering = ["organisation_id", "member_number"]

    def get_queryset(self):
        return selectors.member_farmer_list(viewer=self.request.user)

    @extend_schema(
        summary="List member farmers",
        description="The members of the cooperatives you belong to. `search` matches name, member number, "
        "phone and village.",
        tags=["farmers"],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Register a member farmer (clerks and above)",
        request=s.FarmerCreateSerializer,
        responses={201: s.FarmerSerializer, **errors(400, 403, 404)},
        tags=["farmers"],
    )
    def post(self, request):
        payload = s.FarmerCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        farmer = services.member_farmer_create(
            actor=request.user, organisation_id=fields.pop("organisation", None), **fields
        )
        return Response(s.FarmerSerializer(farmer).data, status=status.HTTP_201_CREATED)


class FarmerDetailView(APIView):
    @extend_schema(summary="A member farmer", responses={200: s.FarmerSerializer, **errors(404)}, tags=["farmers"])
    def get(self, request, pk: int):
        return Response(s.FarmerSerializer(selectors.member_farmer_get(viewer=request.user, farmer_id=pk)).data)

    @extend_schema(
        summary="Change a member farmer's details (clerks and above)",
        description="Status changes go through POST /api/v1/farmers/{id}/status/.",
        request=s.FarmerUpdateSerializer,
        responses={200: s.FarmerSerializer, **errors(400, 403, 404)},
        tags=["farmers"],
    )
    def patch(self, request, pk: int):
        payload = s.FarmerUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        farmer = services.member_farmer_update(actor=request.user, farmer_id=pk, **payload.validated_data)
        return Response(s.FarmerSerializer(farmer).data)


class FarmerStatusView(APIView):
    @extend_schema(
        summary="Suspend, reactivate or record the departure of a member (managers and admins)",
        request=s.FarmerStatusChangeSerializer,
        responses={200: s.FarmerSerializer, **errors(400, 403, 404, 409)},
        tags=["farmers"],
    )
    def post(self, request, pk: int):
        payload = s.FarmerStatusChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        farmer = services.member_farmer_status_transition(
            actor=request.user,
            farmer_id=pk,
            to_status=payload.validated_data["status"],
            reason=payload.validated_data["reason"],
        )
        return Response(s.FarmerSerializer(farmer).data)


class FarmerImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import a member register from CSV (managers and admins)",
        description=(
            "Upload the register as `file` (multipart/form-data). UTF-8, with or without a byte-order mark; "
            "comma or semicolon separated; the first row names the columns in any case: "
            f"{', '.join(COLUMNS)} (member_number and name required; others ignored and listed in "
            "`ignored_columns`). Phones may be local to the cooperative's country and are stored in "
            "E.164; gender is female, male or other (F/M); birth_year four digits; joined_on YYYY-MM-DD "
            "(today if empty). A row whose member number exists updates that member with its non-empty "
            "cells; other rows add members. The same member number twice in the file is an error.\n\n"
            "Every row is checked first; if any is wrong nothing is imported and the 400 answer lists "
            'every bad row: `error.code` is `invalid_rows`, `error.rows` is `[{"row": 3, "fields": '
            '{"phone": ["..."]}}]` (the header is row 1) and `error.fields` holds the same messages '
            "under `rows.<row>.<column>`. A file that cannot be read at all (not CSV, not UTF-8, "
            f"empty, more than {settings.MEMBER_IMPORT_MAX_ROWS} rows) answers 400 with code "
            "`invalid_file` and the message under `fields.file`."
        ),
        request={"multipart/form-data": s.FarmerImportSerializer},
        responses={
            200: s.FarmerImportResultSerializer,
            400: OpenApiResponse(s.MemberImportErrorSerializer, description="The file or some rows are wrong."),
            **errors(403, 404, 409),
        },
        tags=["farmers"],
    )
    def post(self, request):
        payload = s.FarmerImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        result = services.member_farmer_import(
            actor=request.user,
            organisation_id=payload.validated_data.get("organisation"),
            file=upload,
            file_name=upload.name,
        )
        return Response(s.FarmerImportResultSerializer(result).data)

    def get_exception_handler(self):
        handler = super().get_exception_handler()

        def handle(exc, context):
            response = handler(exc, context)
            if isinstance(exc, MemberRegisterRejected) and response is not None:
                response.data["error"]["rows"] = exc.rows
            return response

        return handle


# --- Plots ------------------------------------------------------------------------------


class FarmerPlotListView(mixins.ListModelMixin, GenericAPIView):
    serializer_class = s.PlotSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.farmer_plot_list(viewer=self.request.user, farmer_id=self.kwargs["farmer_id"])

    @extend_schema(
        summary="A member farmer's plots",
        responses={200: s.PlotSerializer(many=True), **errors(404)},
        tags=["plots"],
    )
    def get(self, request, farmer_id: int):
        return self.list(request)

    @extend_schema(
        summary="Add a plot to a member farmer (clerks and above)",
        request=s.PlotCreateSerializer,
        responses={201: s.PlotSerializer, **errors(400, 403, 404)},
        tags=["plots"],
    )
    def post(self, request, farmer_id: int):
        payload = s.PlotCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        plot = services.plot_create(actor=request.user, farmer_id=farmer_id, **payload.validated_data)
        return Response(s.PlotSerializer(plot).data, status=status.HTTP_201_CREATED)


class PlotDetailView(APIView):
    @extend_schema(summary="A plot", responses={200: s.PlotSerializer, **errors(404)}, tags=["plots"])
    def get(self, request, pk: int):
        return Response(s.PlotSerializer(selectors.plot_get(viewer=request.user, plot_id=pk)).data)

    @extend_schema(
        summary="Change a plot (clerks and above)",
        request=s.PlotUpdateSerializer,
        responses={200: s.PlotSerializer, **errors(400, 403, 404)},
        tags=["plots"],
    )
    def patch(self, request, pk: int):
        payload = s.PlotUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        plot = services.plot_update(actor=request.user, plot_id=pk, **payload.validated_data)
        return Response(s.PlotSerializer(plot).data)


class PlotOverlapListView(APIView):
    @extend_schema(
        summary="Where a plot overlaps plots of other members of its cooperative",
        responses={200: s.PlotOverlapSerializer(many=True), **errors(404)},
        tags=["plots"],
    )
    def get(self, request, pk: int):
        rows = selectors.plot_overlap_list(viewer=request.user, plot_id=pk)
        return Response(s.PlotOverlapSerializer(rows, many=True).data)


class OrganisationPlotOverlapListView(APIView):
    @extend_schema(
        summary="Every overlap between plots of different members of a cooperative",
        responses={200: s.PlotOverlapSerializer(many=True), **errors(404)},
        tags=["plots"],
    )
    def get(self, request, organisation_id: int):
        rows = selectors.plot_overlap_list(viewer=request.user, organisation_id=organisation_id)
        return Response(s.PlotOverlapSerializer(rows, many=True).data)
