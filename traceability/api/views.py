from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.organisations.selectors import member_farmer_get, plot_get
from traceability import identifiers
from traceability.api.serializers import (
    BackwardQuerySerializer,
    EPCISQuerySerializer,
    ForwardQuerySerializer,
    TraceSerializer,
)
from traceability.epcis import epcis_document
from traceability.selectors import epcis_events, lot_trace_backward, lot_trace_forward


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


class EPCISExportView(APIView):
    """A GS1 EPCIS 2.0 JSON-LD document of your organisations' events.

    `lot` or `order`: its history back to the member deliveries (with error declarations and corrections);
    `since`: every event recorded from then on. Another organisation's events are never included: a lot or
    order only they know is "not found".
    """

    renderer_classes = [JSONLDRenderer, JSONRenderer]

    @extend_schema(
        tags=["traceability"],
        operation_id="traceability_epcis_export",
        parameters=[EPCISQuerySerializer],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="An EPCISDocument (JSON-LD).")},
    )
    def get(self, request):
        query = EPCISQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = epcis_events(
            viewer=request.user,
            lot=query.validated_data.get("lot"),
            order=query.validated_data.get("order"),
            since=query.validated_data.get("since"),
            organisation_id=query.validated_data.get("organisation"),
        )
        return Response(epcis_document(events))


class TraceBackwardView(APIView):
    """Trace a lot or an order back to its source lots, member deliveries, farmers and plots, with grams."""

    @extend_schema(
        tags=["traceability"],
        operation_id="traceability_trace_backward",
        parameters=[BackwardQuerySerializer],
        responses={200: TraceSerializer},
    )
    def get(self, request):
        query = BackwardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        identifier = data.get("lot") or f"{identifiers.ORDER_PREFIX}{data['order'].removeprefix('order:')}"
        trace = lot_trace_backward(viewer=request.user, identifier=identifier, organisation_id=data.get("organisation"))
        return Response(TraceSerializer(trace).data)


class TraceForwardView(APIView):
    """Trace a delivery, a member farmer or a plot forward to every lot and order that used its produce."""

    @extend_schema(
        tags=["traceability"],
        operation_id="traceability_trace_forward",
        parameters=[ForwardQuerySerializer],
        responses={200: TraceSerializer},
    )
    def get(self, request):
        query = ForwardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if data.get("farmer") is not None:
            identifier = identifiers.farmer_uri(member_farmer_get(viewer=request.user, farmer_id=data["farmer"]))
        elif data.get("plot") is not None:
            identifier = identifiers.plot_uri(plot_get(viewer=request.user, plot_id=data["plot"]))
        else:
            identifier = data["identifier"]
        trace = lot_trace_forward(viewer=request.user, identifier=identifier, organisation_id=data.get("organisation"))
        return Response(TraceSerializer(trace).data)
