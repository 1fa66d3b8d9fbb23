from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.core.api.schema import ErrorSerializer
from marketplace.organisations.selectors import member_farmer_get, plot_get
from marketplace.organisations.services import PlotImportRejected
from traceability import identifiers
from traceability.api.serializers import (
    BackwardQuerySerializer,
    EPCISQuerySerializer,
    ForwardQuerySerializer,
    PlotImportErrorSerializer,
    PlotImportResultSerializer,
    PlotImportSerializer,
    TraceSerializer,
)
from traceability.epcis import epcis_document
from traceability.plot_import import plots_import
from traceability.selectors import epcis_events, lot_trace_backward, lot_trace_forward


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


# What `since` takes, as the schema can say it (the serializer field is free text, checked by parse_since).
SINCE = OpenApiParameter(
    "since",
    {"type": "string", "maxLength": 40, "anyOf": [{"format": "date"}, {"format": "date-time"}]},
    description="A date (YYYY-MM-DD) or ISO 8601 date-time: events recorded from then on. Give exactly one of "
    "lot, order or since.",
)


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
        parameters=[EPCISQuerySerializer, SINCE],
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


class PlotImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["plots"],
        operation_id="plots_import",
        summary="Import plots from a GeoJSON FeatureCollection or a KML file (clerks and above), all or nothing",
        description=(
            "Upload the file as `file` (multipart/form-data). One plot per feature (KML: per Placemark). Each "
            "feature names its member with the property `member_number` (KML: ExtendedData Data or SimpleData) "
            "and its plot with `name` (or `ProductionPlace`; KML: the Placemark's name). Optional: `area_hectares` "
            "(or `Area`; required for points, measured for polygons when absent), `country` (or `ProducerCountry`) "
            "and `established_on` (YYYY-MM-DD). Coordinates are WGS84 longitude, latitude; every geometry must "
            "pass the EU Information System's rules. "
            f"At most {settings.PLOT_IMPORT_MAX_FEATURES} features and {settings.PLOT_IMPORT_MAX_BYTES} bytes.\n\n"
            "If any feature is wrong nothing is imported and the 400 answer lists every bad feature: `error.code` "
            '`invalid_features`, `error.features` `[{"feature": 3, "name": "...", "errors": ["..."]}]`. A file that '
            "cannot be read (not JSON or XML, a DTD in the KML, too big, too many features) answers 400 with code "
            "`invalid_file`."
        ),
        request={"multipart/form-data": PlotImportSerializer},
        responses={
            201: PlotImportResultSerializer,
            400: OpenApiResponse(PlotImportErrorSerializer, description="The file or some features are wrong."),
            403: OpenApiResponse(ErrorSerializer, description="Your role may not record plots."),
            404: OpenApiResponse(ErrorSerializer, description="No such cooperative among yours."),
        },
    )
    def post(self, request):
        payload = PlotImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        data = upload.read(settings.PLOT_IMPORT_MAX_BYTES + 1)
        plots = plots_import(
            actor=request.user,
            organisation_id=payload.validated_data.get("organisation"),
            data=data,
            file_name=upload.name or "",
        )
        body = {"created": len(plots), "plots": [plot.pk for plot in plots]}
        return Response(PlotImportResultSerializer(body).data, status=status.HTTP_201_CREATED)

    def get_exception_handler(self):
        handler = super().get_exception_handler()

        def handle(exc, context):
            response = handler(exc, context)
            if isinstance(exc, PlotImportRejected) and response is not None:
                response.data["error"]["features"] = exc.features
            return response

        return handle
