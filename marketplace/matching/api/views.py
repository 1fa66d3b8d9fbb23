"""The matching API: parse, call one selector or service, render. Selectors scope every read by the viewer, so a
request or proposal of another organisation answers 404 whatever the endpoint."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.core.api.fields import ID_SCHEMA
from marketplace.core.api.schema import error_responses
from marketplace.core.errors import ValidationFailed
from marketplace.core.idempotency import IDEMPOTENCY_KEY, KEY_REUSED, idempotent
from marketplace.matching import selectors, services
from marketplace.matching.api import serializers as s
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import _organisation_ids_with

ERROR_DESCRIPTIONS = {
    400: "The input is invalid, or the request or proposal no longer allows this; `message` says what to fix.",
    403: "Your role in the organisation does not allow this.",
    404: "No such request or proposal, or it belongs to organisations you cannot see.",
    409: "The state changed under you (a move out of order).",
    422: KEY_REUSED,
}
TAGS = ["matching"]


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERROR_DESCRIPTIONS, *codes)


def request_input(data: dict) -> services.RequestInput:
    return services.RequestInput(
        commodity_id=data["commodity"],
        min_grade_id=data.get("min_grade"),
        quantity_grams=data["quantity_grams"],
        min_fill_grams=data["min_fill_grams"],
        min_truckload_grams=data["min_truckload_grams"],
        max_price_per_tonne_minor=data["max_price_per_tonne_minor"],
        currency=data["currency"],
        delivery_place=data.get("delivery_place", ""),
        delivery_latitude=data["delivery_latitude"],
        delivery_longitude=data["delivery_longitude"],
        window_start=data["window_start"],
        window_end=data["window_end"],
        max_distance_km=data["max_distance_km"],
        certifications=tuple(data.get("certifications", [])),
        eudr_required=data.get("eudr_required", False),
    )


def proposal_context(request) -> dict:
    ids = set(_organisation_ids_with(request.user, Capability.VIEW))
    return {
        "parts": lambda p: selectors.visible_parts(viewer=request.user, proposal=p, ids=ids),
        "is_buyer": lambda p: p.buyer_id in ids,
    }


def proposal_response(request, proposal_id: int, code=status.HTTP_200_OK) -> Response:
    proposal = selectors.proposal_get(viewer=request.user, proposal_id=proposal_id)
    return Response(s.ProposalSerializer(proposal, context=proposal_context(request)).data, status=code)


MEDIA_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")  # what the views parse
# BuyerRequestInputSerializer as a new request takes it: the buying organisation named (an edit keeps it).
_REQUEST_CREATE = {"allOf": [{"$ref": "#/components/schemas/BuyerRequestInputRequest"}], "required": ["organisation"]}
REQUEST_CREATE = dict.fromkeys(MEDIA_TYPES, _REQUEST_CREATE)


class BuyerRequestListView(GenericAPIView):
    serializer_class = s.BuyerRequestSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.buyer_request_list(viewer=self.request.user, status=self.request.query_params.get("status"))

    @extend_schema(
        summary="Your buyer requests",
        parameters=[OpenApiParameter("status", str, enum=["open", "filled", "withdrawn", "expired"])],
        responses={200: s.BuyerRequestSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Post a buyer request (RFQ)",
        description="Commodity, lowest grade, quantity and smallest fill, highest price per tonne, delivery point "
        "and window, maximum sourcing distance, certifications, EUDR-ready only, minimum truckload (default 5 t). "
        "The commodity is re-matched shortly after. Send an `Idempotency-Key` so that a retry after a lost answer "
        "replays the first request instead of posting a second one.",
        request=REQUEST_CREATE,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.BuyerRequestSerializer, **errors(400, 403, 404, 422)},
        tags=TAGS,
    )
    @idempotent()
    def post(self, request):
        given = s.BuyerRequestInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        if "organisation" not in given.validated_data:
            raise ValidationFailed("Name the buying organisation.", fields={"organisation": "This field is required."})
        created = services.buyer_request_create(
            actor=request.user, buyer_id=given.validated_data["organisation"], data=request_input(given.validated_data)
        )
        return Response(s.BuyerRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class BuyerRequestDetailView(APIView):
    @extend_schema(summary="A buyer request", responses={200: s.BuyerRequestSerializer, **errors(404)}, tags=TAGS)
    def get(self, request, request_id: int):
        return Response(s.BuyerRequestSerializer(selectors.buyer_request_get(viewer=request.user,
                                                                             request_id=request_id)).data)  # fmt: skip

    @extend_schema(
        summary="Edit an open request",
        description="Its proposals that nobody accepted yet are withdrawn and the commodity re-matched.",
        request=s.BuyerRequestInputSerializer,
        responses={200: s.BuyerRequestSerializer, **errors(400, 403, 404)},
        tags=TAGS,
    )
    def put(self, request, request_id: int):
        selectors.buyer_request_get(viewer=request.user, request_id=request_id)
        given = s.BuyerRequestInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        updated = services.buyer_request_update(
            actor=request.user, request_id=request_id, data=request_input(given.validated_data)
        )
        return Response(s.BuyerRequestSerializer(updated).data)


class BuyerRequestWithdrawView(APIView):
    @extend_schema(
        summary="Withdraw a request",
        request=s.MatchingReasonInputSerializer,
        responses={200: s.BuyerRequestSerializer, **errors(400, 403, 404, 409)},
        tags=TAGS,
    )
    def post(self, request, request_id: int):
        selectors.buyer_request_get(viewer=request.user, request_id=request_id)
        given = s.MatchingReasonInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        withdrawn = services.buyer_request_withdraw(
            actor=request.user, request_id=request_id, reason=given.validated_data["reason"]
        )
        return Response(s.BuyerRequestSerializer(withdrawn).data)


class OpenRequestListView(APIView):
    @extend_schema(
        summary="Open requests your listings could serve",
        description="For one of your cooperatives: the open requests that at least one of its live listings fits "
        "(commodity, currency, grade, distance, certifications, price above ask plus transport).",
        parameters=[OpenApiParameter("organisation", ID_SCHEMA, required=True, description="Your cooperative.")],
        responses={200: s.OpenRequestSerializer(many=True), **errors(403, 404)},
        tags=TAGS,
    )
    def get(self, request):
        rows = selectors.requests_served_by(
            viewer=request.user, organisation_id=request.query_params.get("organisation")
        )
        data = [{"request": r, "your_listings": ids} for r, ids in rows]
        return Response(s.OpenRequestSerializer(data, many=True).data)


class ProposalListView(GenericAPIView):
    serializer_class = s.ProposalSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.proposal_list(viewer=self.request.user, request_id=self.request.query_params.get("request"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **proposal_context(self.request)}

    @extend_schema(
        summary="Proposals to you or naming your listings",
        description="A buyer sees every part of its proposals and the alternatives considered; a cooperative sees "
        "only its own parts.",
        parameters=[OpenApiParameter("request", ID_SCHEMA, description="Only the proposals for this request.")],
        responses={200: s.ProposalSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ProposalDetailView(APIView):
    @extend_schema(summary="A proposal", responses={200: s.ProposalSerializer, **errors(404)}, tags=TAGS)
    def get(self, request, proposal_id: int):
        return proposal_response(request, proposal_id)


class _Action(APIView):
    input_serializer = s.MatchingReasonInputSerializer

    def act(self, request, pk: int, data: dict) -> int:  # returns the proposal id
        raise NotImplementedError

    def post(self, request, pk: int):
        given = self.input_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        return proposal_response(request, self.act(request, pk, given.validated_data))


def _action(summary: str, description: str, serializer=s.MatchingReasonInputSerializer):
    return extend_schema(
        summary=summary, description=description, request=serializer,
        responses={200: s.ProposalSerializer, **errors(400, 403, 404, 409)}, tags=TAGS,
    )  # fmt: skip


class ProposalAcceptView(_Action):
    @_action("Accept a proposal (buyer)", "Once every cooperative has accepted too, the orders are placed as one "
             "consignment and the lots reserved.")  # fmt: skip
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk, data):
        return services.proposal_accept(actor=request.user, proposal_id=pk).pk


class ProposalDeclineView(_Action):
    @_action("Decline a proposal (buyer)", "The request is re-matched.")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk, data):
        return services.proposal_decline(actor=request.user, proposal_id=pk, reason=data["reason"]).pk


# CounterInputSerializer as this action takes it: the part named, and a quantity or a price (or both).
_COUNTER = {
    "allOf": [{"$ref": "#/components/schemas/CounterInputRequest"}],
    "required": ["part"],
    "anyOf": [{"required": ["grams"]}, {"required": ["price_per_tonne_minor"]}],
}
PROPOSAL_COUNTER = dict.fromkeys(MEDIA_TYPES, _COUNTER)


class ProposalCounterView(_Action):
    input_serializer = s.CounterInputSerializer

    @_action("Counter a part's quantity or price (buyer)", "At most 3 rounds, each with a new expiry. Name the "
             "part, and give another quantity, another price or both.", PROPOSAL_COUNTER)  # fmt: skip
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk, data):
        if "part" not in data:
            raise ValidationFailed("Name the part to change.", fields={"part": "This field is required."})
        return services.proposal_counter(actor=request.user, proposal_id=pk, part_id=data["part"],
                                         grams=data.get("grams"),
                                         price_per_tonne_minor=data.get("price_per_tonne_minor")).pk  # fmt: skip


class PartAcceptView(_Action):
    @_action("Accept your part (cooperative)", "Your listing is reserved once everyone has accepted.")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk, data):
        return services.proposal_part_accept(actor=request.user, part_id=pk).pk


class PartDeclineView(_Action):
    @_action("Decline your part (cooperative)", "The proposal is declined and the request re-matched.")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk, data):
        return services.proposal_part_decline(actor=request.user, part_id=pk, reason=data["reason"]).pk


class PartCounterView(_Action):
    input_serializer = s.CounterInputSerializer

    @_action("Counter your part's quantity or price (cooperative)", "At most 3 rounds; the buyer answers next.",
             s.CounterInputSerializer)  # fmt: skip
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, pk, data):
        return services.proposal_part_counter(actor=request.user, part_id=pk, grams=data.get("grams"),
                                              price_per_tonne_minor=data.get("price_per_tonne_minor")).pk  # fmt: skip
