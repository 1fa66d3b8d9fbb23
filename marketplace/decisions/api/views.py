"""The decisions API: parse, call one selector or service, render. Another cooperative's decision is a 404."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from marketplace.core.api.schema import error_responses
from marketplace.decisions import selectors, services
from marketplace.decisions.api import serializers as s
from marketplace.decisions.models import Decision, DecisionDefaults, Kind

ERRORS = {
    400: "The input is invalid; `message` and `fields` say what to fix.",
    403: "Your role in the cooperative does not allow this.",
    404: "No such decision, or it belongs to a cooperative you cannot see.",
    409: "The decision's state does not allow this (e.g. voting after closing).",
}
TAGS = ["decisions"]


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERRORS, *codes)


class DecisionListView(GenericAPIView):
    serializer_class = s.DecisionSerializer
    queryset = Decision.objects.none()  # for the schema; reads go through the selector

    @extend_schema(summary="Decisions of your cooperatives", responses={200: s.DecisionSerializer(many=True)},
                   tags=TAGS)  # fmt: skip
    def get(self, request):
        page = self.paginate_queryset(selectors.decision_list(viewer=request.user).prefetch_related("options"))
        return self.get_paginated_response(s.DecisionSerializer(page, many=True).data)

    @extend_schema(
        summary="Put a question to the members (a draft until it opens)",
        request=s.DecisionCreateSerializer,
        responses={201: s.DecisionSerializer, **errors(400, 403, 404)},
        tags=TAGS,
    )
    def post(self, request):
        data = s.DecisionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        organisation_id = fields.pop("organisation")
        decision = services.decision_create(
            actor=request.user, organisation_id=organisation_id, data=services.DecisionInput(**fields)
        )
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class DecisionDetailView(GenericAPIView):
    serializer_class = s.DecisionSerializer

    @extend_schema(summary="A decision", responses={200: s.DecisionSerializer, **errors(404)}, tags=TAGS)
    def get(self, request, pk: int):
        return Response(s.DecisionSerializer(selectors.decision_get(viewer=request.user, decision_id=pk)).data)


class DecisionTransitionView(GenericAPIView):
    serializer_class = s.TransitionSerializer

    @extend_schema(
        summary="Open, close (count the votes) or cancel a decision",
        request=s.TransitionSerializer,
        responses={200: s.DecisionSerializer, **errors(400, 403, 404, 409)},
        tags=TAGS,
    )
    def post(self, request, pk: int):
        data = s.TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.decision_transition(
            actor=request.user, decision_id=pk, to_status=data.validated_data["status"],
            reason=data.validated_data["reason"],
        )  # fmt: skip
        return Response(s.DecisionSerializer(selectors.decision_get(viewer=request.user, decision_id=pk)).data)


class VoteView(GenericAPIView):
    serializer_class = s.VoteSerializer

    @extend_schema(
        summary="Record a member's vote at the assembly (a clerk); a later vote replaces the earlier one",
        request=s.VoteSerializer,
        responses={204: None, **errors(400, 403, 404, 409)},
        tags=TAGS,
    )
    def post(self, request, pk: int):
        data = s.VoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.vote_cast(
            actor=request.user, decision_id=pk, farmer_id=data.validated_data["farmer"],
            option_id=data.validated_data["option"],
        )  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


# ShowOfHandsSerializer as the schema states it: JSON only (the counts are nested) and at least one count, which
# drf-spectacular does not derive from a nested serializer's allow_empty=False.
SHOW_OF_HANDS = {
    "type": "object",
    "required": ["counts"],
    "properties": {
        "counts": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["option", "count"],
                "properties": {
                    "option": {"type": "integer", "minimum": 1, "maximum": s.MAX_ID},
                    "count": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                },
            },
        }
    },
}


class ShowOfHandsView(GenericAPIView):
    serializer_class = s.ShowOfHandsSerializer

    @extend_schema(
        summary="Record the votes counted at the meeting, per option (members who did not vote by phone)",
        request={"application/json": SHOW_OF_HANDS},
        responses={204: None, **errors(400, 403, 404, 409)},
        tags=TAGS,
    )
    def post(self, request, pk: int):
        data = s.ShowOfHandsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        counts = {row["option"]: row["count"] for row in data.validated_data["counts"]}
        services.show_of_hands_record(actor=request.user, decision_id=pk, counts=counts)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResultsView(GenericAPIView):
    serializer_class = s.ResultsSerializer

    @extend_schema(summary="Counts and turnout by gender and age group", responses={200: s.ResultsSerializer,
                   **errors(404)}, tags=TAGS)  # fmt: skip
    def get(self, request, pk: int):
        results = selectors.decision_results(viewer=request.user, decision_id=pk)
        body = {
            "visible": results.visible,
            "eligible": results.eligible,
            "voted": results.voted,
            "per_option": [list(row) for row in results.per_option],
            "turnout_by_gender": [{"group": g, "voted": v, "eligible": n}
                                  for g, (v, n) in results.turnout_by_gender.items()],
            "turnout_by_age": [{"group": g, "voted": v, "eligible": n} for g, (v, n) in results.turnout_by_age.items()],
        }  # fmt: skip
        return Response(s.ResultsSerializer(body).data)


DEFAULT_FIELDS = ["quorum_bp", "threshold_bp", "duration_days", "anonymous", "results_before_close", "notice_days",
                  "vote_above_amount", "vote_above_kg"]  # fmt: skip


class DefaultsListView(GenericAPIView):
    serializer_class = s.DefaultsSerializer
    queryset = DecisionDefaults.objects.none()  # for the schema; reads go through the selector
    pagination_class = None  # one row per kind: a plain list, as the schema says

    @extend_schema(summary="A cooperative's defaults for each kind of decision",
                   responses={200: s.DefaultsSerializer(many=True), **errors(404)}, tags=TAGS)  # fmt: skip
    def get(self, request, organisation_id: int):
        rows = selectors.decision_defaults(viewer=request.user, organisation_id=organisation_id)
        return Response(s.DefaultsSerializer(rows, many=True).data)


class DefaultsDetailView(GenericAPIView):
    serializer_class = s.DefaultsSerializer
    queryset = DecisionDefaults.objects.none()

    @extend_schema(
        summary="Set a cooperative's defaults for one kind of decision (its managers)",
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(Kind.values))],
        request=s.DefaultsSerializer,
        responses={200: s.DefaultsSerializer, **errors(400, 403, 404)},
        tags=TAGS,
    )
    def put(self, request, organisation_id: int, kind: str):
        data = s.DefaultsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {name: data.validated_data[name] for name in DEFAULT_FIELDS}
        row = services.decision_defaults_set(actor=request.user, organisation_id=organisation_id, kind=kind, **values)
        return Response(s.DefaultsSerializer(row).data)
