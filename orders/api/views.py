"""The orders API: parse the request, call one selector or service, render.

Selectors scope every read by the viewer and `order_transition` checks every move, so an order of another
organisation answers 404 whatever the endpoint.
"""

from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.core.api.parsers import SafeJSONParser
from marketplace.core.api.schema import error_responses
from marketplace.core.idempotency import IDEMPOTENCY_KEY, KEY_REUSED, idempotent
from orders import selectors, services
from orders.api import serializers as s
from orders.documents import KINDS
from orders.models import Order

ERROR_DESCRIPTIONS = {
    400: "The input is invalid; `message` and `fields` say what to fix. Nothing was written.",
    403: "Your side or your role on this order does not allow this move.",
    404: "No such order, or it belongs to organisations you cannot see.",
    409: "The order's state does not allow this (a move out of order, stock taken by someone else, a dispute "
    "window that closed).",
    422: KEY_REUSED,
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERROR_DESCRIPTIONS, *codes)


def order_response(request, order: Order, status_code: int = status.HTTP_200_OK) -> Response:
    order = selectors.order_get(viewer=request.user, number=order.number)
    moves = selectors.order_moves(viewer=request.user, order=order)
    return Response(s.OrderSerializer(order, context={"moves": moves}).data, status=status_code)


# --- Purchases ---------------------------------------------------------------------------------


class PurchaseListView(APIView):
    @extend_schema(
        summary="Place a purchase",
        description="One POST with every basket line. One order is created per selling organisation, linked by "
        "the purchase reference, and every quantity is reserved at once: if any line cannot be served (below the "
        "listing's minimum, more than is available, another currency than the rest of the basket, ...) nothing "
        "is written and the answer names every line to fix. A 409 means another buyer took the stock first. "
        "Send an `Idempotency-Key` so that a retry after a lost answer replays the first purchase instead of "
        "placing a second one.",
        request={"application/json": s.PurchaseInputSerializer},  # nested lines: JSON only
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.PurchaseSerializer, **errors(400, 403, 404, 409, 422)},
        tags=["orders"],
    )
    @idempotent()
    def post(self, request):
        given = s.PurchaseInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        lines = [
            services.LineInput(
                quantity=line["quantity"],
                listing_id=line.get("listing"),
                offer_id=line.get("offer"),
                grade_prices={int(k): v for k, v in (line.get("grade_prices") or {}).items()},
            )
            for line in data["lines"]
        ]
        purchase = services.purchase_place(
            actor=request.user, buyer_id=data["organisation"], lines=lines, note=data.get("note", "")
        )
        return Response(s.placed_purchase_data(purchase), status=status.HTTP_201_CREATED)


class PurchaseDetailView(APIView):
    @extend_schema(
        summary="A purchase and its orders",
        responses={200: s.PurchaseSerializer, **errors(404)},
        tags=["orders"],
    )
    def get(self, request, reference: str):
        return Response(s.PurchaseSerializer(selectors.purchase_get(viewer=request.user, reference=reference)).data)


# --- Orders ------------------------------------------------------------------------------------


class OrderListView(GenericAPIView):
    serializer_class = s.OrderSummarySerializer
    filter_backends: list = []

    def get_queryset(self):
        given = s.OrderListQuerySerializer(data=self.request.query_params)
        given.is_valid(raise_exception=True)
        params = given.validated_data
        statuses = [v for value in self.request.query_params.getlist("status") for v in value.split(",") if v]
        return selectors.order_list(
            viewer=self.request.user,
            side=params.get("side", ""),
            status=statuses,
            organisation_id=params.get("organisation"),
            search=params.get("search", ""),
        )

    @extend_schema(
        summary="List orders",
        description="The orders of your organisations (the operator sees all), newest first, in a constant "
        "number of queries.",
        parameters=[s.OrderListQuerySerializer],
        responses={200: s.OrderSummarySerializer(many=True), **errors(400)},
        tags=["orders"],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class OrderDetailView(APIView):
    @extend_schema(
        summary="An order",
        description="Lines (with the amount due after receipt and why), moves so far, dispatch, receipt, "
        "dispute, invoice, the moves you may make now and the documents that exist.",
        responses={200: s.OrderSerializer, **errors(404)},
        tags=["orders"],
    )
    def get(self, request, number: str):
        return order_response(request, selectors.order_get(viewer=request.user, number=number))


class TransitionView(APIView):
    """POST moves the order to `to_status` through order_transition."""

    to_status = ""
    input_serializer: type = s.ReasonInputSerializer

    def details(self, data: dict) -> dict:
        return dict(data)

    def post(self, request, number: str):
        order = selectors.order_get(viewer=request.user, number=number)
        given = self.input_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        details = self.details(given.validated_data)
        reason = details.pop("reason", "")
        order = services.order_transition(
            actor=request.user, order_id=order.pk, to_status=self.to_status, reason=reason, **details
        )
        return order_response(request, order)


def transition_schema(summary: str, description: str, request, codes=(400, 403, 404, 409)):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: s.OrderSerializer, **errors(*codes)},
        tags=["orders"],
    )


class OrderAcceptView(TransitionView):
    to_status = Order.Status.ACCEPTED
    input_serializer = s.AcceptInputSerializer

    def details(self, data):
        details = dict(data)
        if not details.get("grade_prices"):
            details.pop("grade_prices", None)
        return details

    @transition_schema(
        "Accept an order (seller's manager)",
        "Optionally agree prices for other grades, per line.",
        s.AcceptInputSerializer,
    )
    def post(self, request, number):
        return super().post(request, number)


class OrderRejectView(TransitionView):
    to_status = Order.Status.REJECTED

    @transition_schema("Reject an order (seller's manager)", "The reason is required.", s.RequiredReasonSerializer)
    def post(self, request, number):
        return super().post(request, number)


class OrderCancelView(TransitionView):
    to_status = Order.Status.CANCELLED

    @transition_schema(
        "Cancel an order",
        "The buyer's manager before payment; the seller's manager before dispatch; the operator after payment. "
        "The reason is required. The reserved stock is released.",
        s.RequiredReasonSerializer,
    )
    def post(self, request, number):
        return super().post(request, number)


class OrderMarkPaidView(APIView):
    @extend_schema(
        summary="Mark an order paid (platform operator)",
        description="Records a payment received into escrow until the payments app does it. Repeating it with "
        "the same reference changes nothing.",
        request=s.PaidInputSerializer,
        responses={200: s.OrderSerializer, **errors(400, 403, 404, 409)},
        tags=["orders"],
    )
    def post(self, request, number: str):
        order = selectors.order_get(viewer=request.user, number=number)
        given = s.PaidInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        order = services.order_mark_paid(
            actor=request.user, order_id=order.pk, payment_reference=given.validated_data["payment_reference"]
        )
        return order_response(request, order)


class OrderDispatchView(TransitionView):
    to_status = Order.Status.DISPATCHED
    input_serializer = s.DispatchInputSerializer

    def details(self, data):
        details = dict(data)
        lines = details.pop("lines", None)
        if lines:
            details["quantities"] = {line["line"]: line["quantity"] for line in lines}
        return details

    @transition_schema(
        "Record the dispatch (seller's clerk and above)",
        "The date, the document number, the vehicle and driver (optional) and the quantity dispatched per line "
        "(default: everything ordered). What is not dispatched goes back on sale.",
        {"application/json": s.DispatchInputSerializer},
    )
    def post(self, request, number):
        return super().post(request, number)


class OrderReceiptView(TransitionView):
    to_status = Order.Status.DELIVERED
    input_serializer = s.ReceiptInputSerializer

    def details(self, data):
        details = dict(data)
        details["lines"] = {
            line["line"]: {"quantity": line["quantity"], "grade": line.get("grade")} for line in details["lines"]
        }
        return details

    @transition_schema(
        "Record the receipt (buyer's clerk and above)",
        "The quantity received per line (at most what was dispatched), the grade on arrival and inspection "
        "notes. The answer shows the amount due and why; the dispute window opens.",
        {"application/json": s.ReceiptInputSerializer},
    )
    def post(self, request, number):
        return super().post(request, number)


class OrderCompleteView(TransitionView):
    to_status = Order.Status.COMPLETED

    @transition_schema(
        "Complete an order now (buyer's manager)",
        "Waives the rest of the dispute window; otherwise the order completes on its own once the window passes.",
        s.ReasonInputSerializer,
    )
    def post(self, request, number):
        return super().post(request, number)


class OrderDisputeView(TransitionView):
    to_status = Order.Status.DISPUTED
    input_serializer = s.DisputeInputSerializer
    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]

    def details(self, data):
        details = dict(data)
        if not details.get("evidence"):
            details.pop("evidence", None)
        return details

    @extend_schema(
        summary="Open a dispute (buyer's manager)",
        description="Within the dispute window after receipt: a reason and, optionally, evidence files.",
        request={"multipart/form-data": s.DisputeInputSerializer, "application/json": s.DisputeInputSerializer},
        responses={200: s.OrderSerializer, **errors(400, 403, 404, 409)},
        tags=["orders"],
    )
    def post(self, request, number):
        return super().post(request, number)


class OrderResolveView(TransitionView):
    to_status = Order.Status.RESOLVED
    input_serializer = s.ResolveInputSerializer

    def details(self, data):
        details = dict(data)
        if details.get("refund_amount") is None:
            details.pop("refund_amount", None)
        return details

    @transition_schema(
        "Resolve a dispute (platform operator)",
        "A full release to the seller, a partial refund of a stated amount (minor units, less than the amount "
        "due) or a full refund, with the reasons. The payments app acts on the decision.",
        s.ResolveInputSerializer,
    )
    def post(self, request, number):
        return super().post(request, number)


class OrderDocumentView(APIView):
    @extend_schema(
        summary="An order document as PDF",
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(KINDS))],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **errors(404)},
        tags=["orders"],
    )
    def get(self, request, number: str, kind: str):
        name, pdf = selectors.order_document(viewer=request.user, number=number, kind=kind)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response


class DisputeEvidenceView(APIView):
    @extend_schema(
        summary="A dispute's evidence file",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **errors(404)},
        tags=["orders"],
    )
    def get(self, request, number: str, evidence_id: int):
        evidence = selectors.dispute_evidence_get(viewer=request.user, number=number, evidence_id=evidence_id)
        return FileResponse(
            evidence.file.open("rb"), content_type=evidence.content_type, filename=evidence.original_name
        )


class DisputeListView(GenericAPIView):
    serializer_class = s.DisputeDeskSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.dispute_list(
            viewer=self.request.user, open_only=self.request.query_params.get("all") not in ("1", "true")
        )

    @extend_schema(
        summary="The dispute desk (platform operator)",
        description="Open disputes, oldest first; `all=true` adds the resolved ones. Empty for anyone else.",
        parameters=[OpenApiParameter("all", bool)],
        responses={200: s.DisputeDeskSerializer(many=True)},
        tags=["orders"],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
