"""The group input order API: ordering windows, member requests and the plan. Parse, call one selector or
service, render. A window of another cooperative answers 404 on every endpoint."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.core.api.fields import ID_SCHEMA, IdField
from marketplace.core.api.schema import error_responses
from marketplace.core.errors import ValidationFailed
from marketplace.core.idempotency import IDEMPOTENCY_KEY, KEY_REUSED, idempotent
from orders import group_selectors as selectors
from orders.api import group_serializers as s
from orders.group_models import RequestChange
from orders.services import group_windows as services

ERROR_DESCRIPTIONS = {
    400: "The input is invalid; `message` and `fields` say what to fix. Nothing was written.",
    403: "Your role in the cooperative does not allow this.",
    404: "No such window (or product, or member), or it belongs to a cooperative you cannot see.",
    409: "The window's state does not allow this: it is closed, not open yet, in box-fill, or a move out of order.",
    422: KEY_REUSED,
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERROR_DESCRIPTIONS, *codes)


def _window(request, window_id, status_code=status.HTTP_200_OK) -> Response:
    window = selectors.window_get(viewer=request.user, window_id=window_id)
    return Response(s.WindowSerializer(window).data, status=status_code)


def _window_param(request) -> int | None:
    value = request.query_params.get("window", "")
    if not value:
        return None
    try:
        return IdField().run_validation(value)
    except serializers.ValidationError as error:
        raise ValidationFailed("The window is an id.", fields={"window": error.detail}) from None


def _request_change_schema() -> dict:
    """RequestChangeInputSerializer as the schema states it, with what the change needs on top: a quantity or a
    tolerance change that is not zero."""
    fields = s.RequestChangeInputSerializer().fields

    def integer(name: str, bounds: dict) -> dict:
        return {"type": "integer", "format": "int64", "description": str(fields[name].help_text), **bounds}

    def delta(name: str) -> dict:
        field = fields[name]
        return integer(name, {"minimum": field.min_value, "maximum": field.max_value, "default": 0})

    schema = {
        "type": "object",
        "required": ["member_number", "product"],
        "properties": {
            "member_number": {
                "type": "string",
                "minLength": 1,
                "maxLength": fields["member_number"].max_length,
                "description": str(fields["member_number"].help_text),
            },
            "product": integer("product", {"minimum": ID_SCHEMA["minimum"], "maximum": ID_SCHEMA["maximum"]}),
            "quantity_delta": delta("quantity_delta"),
            "tolerance_delta": delta("tolerance_delta"),
        },
        "anyOf": [
            {"required": [name], "properties": {name: {"not": {"enum": [0]}}}}
            for name in ("quantity_delta", "tolerance_delta")
        ],
    }
    return dict.fromkeys(("application/json", "application/x-www-form-urlencoded", "multipart/form-data"), schema)


REQUEST_CHANGE = _request_change_schema()


class WindowListView(APIView):
    @extend_schema(
        summary="List a cooperative's ordering windows",
        parameters=[OpenApiParameter("organisation", ID_SCHEMA, required=True, description="Your cooperative.")],
        responses={200: s.WindowSerializer(many=True), **errors(404)},
        tags=["group orders"],
    )
    def get(self, request):
        windows = selectors.window_list(viewer=request.user, organisation_id=request.query_params.get("organisation"))
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(windows, "products")
        return Response(s.WindowSerializer(windows, many=True).data)

    @extend_schema(
        summary="Create an ordering window (draft)",
        description="The window starts as a draft; open it with the move endpoint. Members' requests are recorded "
        "while it is open, between its opening and closing times.",
        request=s.WindowInputSerializer,
        responses={201: s.WindowSerializer, **errors(400, 403, 404)},
        tags=["group orders"],
    )
    def post(self, request):
        given = s.WindowInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        window = services.window_create(actor=request.user, organisation_id=data.pop("organisation"),
                                        product_ids=data.pop("products"), **data)  # fmt: skip
        return _window(request, window.pk, status.HTTP_201_CREATED)


class WindowDetailView(APIView):
    @extend_schema(summary="An ordering window", responses={200: s.WindowSerializer, **errors(404)},
                   tags=["group orders"])  # fmt: skip
    def get(self, request, window_id: int):
        return _window(request, window_id)


class WindowMoveView(APIView):
    @extend_schema(
        summary="Move an ordering window",
        description="draft → open | cancelled; open → closed | cancelled; closed → open (extended by the window's "
        "extension days) | ordered | cancelled; ordered → completed. Cancelling needs a reason.",
        request=s.WindowMoveInputSerializer,
        responses={200: s.WindowSerializer, **errors(400, 403, 404, 409)},
        tags=["group orders"],
    )
    def post(self, request, window_id: int):
        given = s.WindowMoveInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.window_transition(actor=request.user, window_id=window_id, to_status=given.validated_data["status"],
                                   reason=given.validated_data["reason"])  # fmt: skip
        return _window(request, window_id)


class RequestListView(APIView):
    @extend_schema(
        summary="Members' requests in a window",
        responses={200: s.RequestSerializer(many=True), **errors(404)},
        tags=["group orders"],
    )
    def get(self, request, window_id: int):
        return Response(s.RequestSerializer(selectors.request_list(viewer=request.user, window_id=window_id),
                                            many=True).data)  # fmt: skip

    @extend_schema(
        summary="Record a change of a member's request",
        description="Adds (positive) or removes (negative) quantity and tolerance; each change is timestamped, so "
        "first-come allocation follows the order in which quantities were asked. 409 once the window is closed, "
        "or when a box-fill change would reduce the filled packs. A change is added each time it is sent: send an "
        "`Idempotency-Key` so that a retry after a lost answer is not counted twice.",
        request=REQUEST_CHANGE,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.RequestSerializer, **errors(400, 403, 404, 409, 422)},
        tags=["group orders"],
    )
    @idempotent()
    def post(self, request, window_id: int):
        given = s.RequestChangeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        member_request = services.request_change(
            actor=request.user, window_id=window_id, member_number=data["member_number"], product_id=data["product"],
            quantity_delta=data["quantity_delta"], tolerance_delta=data["tolerance_delta"],
            channel=RequestChange.Channel.API,
        )  # fmt: skip
        member_request = next(r for r in selectors.request_list(viewer=request.user, window_id=window_id)
                              if r.pk == member_request.pk)  # fmt: skip
        return Response(s.RequestSerializer(member_request).data, status=status.HTTP_201_CREATED)


def _summary(plan) -> dict:
    return {"cost": plan.cost, "lines_served": len(plan.lines), "suppliers": sorted(plan.suppliers),
            "unserved": plan.unserved}  # fmt: skip


def plan_data(window, result) -> dict:
    lines = []
    for line in result.lines:
        r = line.rounded
        lines.append({
            "product": line.product.pk, "product_name": line.product.name, "unit": line.unit,
            "quantity": line.quantity, "tolerance": line.tolerance, "members": line.members, "packs": r.packs,
            "shortfall_to_next_pack": r.shortfall, "offer": line.offer.pk if line.offer else None,
            "supplier": str(line.offer.organisation) if line.offer else "", "unit_price": r.unit_price,
            "total": r.total, "overridden": line.window_product.chosen_offer_id is not None,
        })  # fmt: skip
    return {"window": window.pk, "currency": window.currency, "lines": lines, "plan": _summary(result.plan),
            "single_supplier": _summary(result.single), "saving": result.saving}  # fmt: skip


class WindowPlanView(APIView):
    @extend_schema(
        summary="The window's plan",
        description="Each product's group total rounded to the chosen offer's pack size (tolerance, minimum), the "
        "tier price it reaches, and the cheapest plan over all matching offers (an exact MILP) beside the best "
        "single-supplier plan.",
        responses={200: s.WindowPlanSerializer, **errors(404)},
        tags=["group orders"],
    )
    def get(self, request, window_id: int):
        window = selectors.window_get(viewer=request.user, window_id=window_id)
        return Response(plan_data(window, selectors.window_plan(viewer=request.user, window_id=window.pk)))


class WindowOfferChoiceView(APIView):
    @extend_schema(
        summary="Override the plan for one product",
        request=s.OfferChoiceInputSerializer,
        responses={200: s.WindowPlanSerializer, **errors(400, 403, 404, 409)},
        tags=["group orders"],
    )
    def post(self, request, window_id: int, product_id: int):
        given = s.OfferChoiceInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.window_offer_choose(actor=request.user, window_id=window_id, product_id=product_id,
                                     offer_id=given.validated_data["offer"])  # fmt: skip
        window = selectors.window_get(viewer=request.user, window_id=window_id)
        return Response(plan_data(window, selectors.window_plan(viewer=request.user, window_id=window.pk)))


# --- Group orders ----------------------------------------------------------------------------------

from orders.services import group_orders as order_services  # noqa: E402


def _group_order(request, group_order_id, status_code=status.HTTP_200_OK) -> Response:
    group_order = selectors.group_order_get(viewer=request.user, group_order_id=group_order_id)
    moves = selectors.group_order_moves(viewer=request.user, group_order=group_order)
    return Response(s.GroupOrderSerializer(group_order, context={"moves": moves}).data, status=status_code)


class WindowPlaceOrdersView(APIView):
    @extend_schema(
        summary="Place a closed window's orders",
        description="One draft group order per supplier of the plan. If a line's supplier minimum is not met, "
        "nothing is ordered: the window is extended or cancelled (as set when it was opened) and the members are "
        "told by SMS; the answer is then an empty list.",
        request=None,
        responses={201: s.GroupOrderSummarySerializer(many=True), **errors(403, 404, 409)},
        tags=["group orders"],
    )
    def post(self, request, window_id: int):
        orders = order_services.window_place_orders(actor=request.user, window_id=window_id)
        rows = selectors.group_order_list(viewer=request.user, window_id=window_id)
        placed = {o.pk for o in orders}
        return Response(s.GroupOrderSummarySerializer([r for r in rows if r.pk in placed], many=True).data,
                        status=status.HTTP_201_CREATED)  # fmt: skip


class GroupOrderListView(APIView):
    @extend_schema(
        summary="List group orders",
        description="Those your cooperatives buy and those sent to your supplier organisations (drafts are not "
        "sent), newest first.",
        parameters=[
            OpenApiParameter("side", str, enum=["buying", "selling"]),
            OpenApiParameter("window", ID_SCHEMA, description="Only this window's orders."),
        ],
        responses={200: s.GroupOrderSummarySerializer(many=True), **errors(400)},
        tags=["group orders"],
    )
    def get(self, request):
        rows = selectors.group_order_list(viewer=request.user, side=request.query_params.get("side", ""),
                                          window_id=_window_param(request))  # fmt: skip
        return Response(s.GroupOrderSummarySerializer(rows, many=True).data)


class GroupOrderDetailView(APIView):
    @extend_schema(summary="A group order", responses={200: s.GroupOrderSerializer, **errors(404)},
                   tags=["group orders"])  # fmt: skip
    def get(self, request, group_order_id: int):
        return _group_order(request, group_order_id)


class GroupOrderMoveView(APIView):
    @extend_schema(
        summary="Move a group order",
        description="draft → submitted (cooperative); submitted → accepted | countered | declined (supplier); "
        "countered → accepted | submitted (cooperative, answering with its own quantities); accepted → paid "
        "(by the payments app when the escrow order is paid); paid → dispatched (supplier); dispatched → received "
        "(cooperative, packs per line, short allowed: the escrow is released to the supplier for what arrived).",
        request={"application/json": s.GroupOrderMoveSchemaSerializer},  # nested lines: JSON only
        responses={200: s.GroupOrderSerializer, **errors(400, 403, 404, 409)},
        tags=["group orders"],
    )
    def post(self, request, group_order_id: int):
        given = s.GroupOrderMoveInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        to_status, reason = data.pop("status"), data.pop("reason")
        order_services.group_order_transition(
            actor=request.user, group_order_id=group_order_id, to_status=to_status, reason=reason, **data
        )
        return _group_order(request, group_order_id)


class GroupOrderAllocationsView(APIView):
    @extend_schema(
        summary="What each member gets of a distributed group order",
        responses={200: s.AllocationSerializer(many=True), **errors(404)},
        tags=["group orders"],
    )
    def get(self, request, group_order_id: int):
        rows = selectors.allocation_list(viewer=request.user, group_order_id=group_order_id)
        return Response(s.AllocationSerializer(rows, many=True).data)


class AllocationHandOverView(APIView):
    @extend_schema(
        summary="Record that a member collected their inputs",
        description="Sends the member a receipt SMS, records an EPCIS event naming the member and, when the window "
        "is on credit, posts the member's input credit. 409 if already collected or not yet distributed.",
        request=None,
        responses={200: s.AllocationSerializer, **errors(403, 404, 409)},
        tags=["group orders"],
    )
    def post(self, request, allocation_id: int):
        allocation = order_services.allocation_hand_over(actor=request.user, allocation_id=allocation_id)
        rows = selectors.allocation_list(viewer=request.user, group_order_id=allocation.group_order_id)
        return Response(s.AllocationSerializer(next(r for r in rows if r.pk == allocation.pk)).data)
