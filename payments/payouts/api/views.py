"""The payouts API: parse the request, call one selector or service, render. Batches and statements of another
organisation answer 404 on every endpoint; clerks and viewers read but do not decide (403)."""

from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.core.api.fields import ID_SCHEMA, IdField
from marketplace.core.api.schema import error_responses
from marketplace.core.errors import ValidationFailed
from marketplace.core.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_REQUIRED, KEY_REUSED, idempotent
from payments.payouts import selectors, services, statements
from payments.payouts.api import serializers as s
from payments.payouts.models import PayoutBatch

TAGS = ["payouts"]
ERROR_DESCRIPTIONS = {
    400: "The input is invalid, or there is nothing to pay; `message` says what to fix. Nothing was written.",
    403: "Your role in the cooperative does not allow this (managers and admins decide payouts).",
    404: "No such batch, member or cooperative, or it belongs to an organisation you cannot see.",
    409: "The batch's state does not allow this (approved twice, executed before approval), or the money "
    "changed since the proposal (input credit repaid, payable already paid out).",
    422: KEY_REUSED,
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERROR_DESCRIPTIONS, *codes)


def _organisation_param(request, *, required: bool) -> int | None:
    value = request.query_params.get("organisation", "")
    if not value:
        if required:
            raise ValidationFailed("Name the cooperative: ?organisation=<id>.", fields={"organisation": "Required."})
        return None
    try:
        return IdField().run_validation(value)
    except serializers.ValidationError as error:
        raise ValidationFailed("The organisation is an id.", fields={"organisation": error.detail}) from None


def batch_response(request, batch: PayoutBatch, status_code: int = status.HTTP_200_OK) -> Response:
    batch = selectors.payout_batch_get(viewer=request.user, batch_id=batch.pk)
    return Response(s.PayoutBatchSerializer(batch).data, status=status_code)


class PayoutBatchListView(GenericAPIView):
    serializer_class = s.PayoutBatchSummarySerializer
    filter_backends: list = []

    def get_queryset(self):
        status_filter = self.request.query_params.get("status", "")
        if status_filter and status_filter not in PayoutBatch.Status.values:
            raise ValidationFailed(
                gettext("Unknown status %(status_filter)s; choose among %(choices)s.")
                % {"status_filter": repr(status_filter), "choices": ", ".join(PayoutBatch.Status.values)},
                fields={"status": "Unknown status."},
            )
        return selectors.payout_batch_list(
            viewer=self.request.user,
            organisation_id=_organisation_param(self.request, required=False),
            status=status_filter,
        )

    @extend_schema(
        summary="List payout batches",
        description="The payout batches of your cooperatives, newest first.",
        parameters=[
            OpenApiParameter("organisation", ID_SCHEMA, description="Only this one of your cooperatives."),
            OpenApiParameter("status", str, enum=PayoutBatch.Status.values),
        ],
        responses={200: s.PayoutBatchSummarySerializer(many=True), **errors(400)},
        tags=TAGS,
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Propose a payout batch (cooperative manager)",
        description="Splits the net proceeds of the cooperative's released orders that no batch covers yet (or "
        "only `orders`) among the members who contributed to the lots sold: pro rata to grams, weighted by the "
        "price agreed for each grade, minus the cooperative's levy and each member's outstanding input credit. "
        "A 400 with code `nothing_to_pay` when no released order is waiting.",
        request=s.ProposeInputSerializer,
        responses={201: s.PayoutBatchSerializer, **errors(400, 403, 404, 409)},
        tags=TAGS,
    )
    def post(self, request):
        given = s.ProposeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        batch = services.payout_batch_propose(
            actor=request.user,
            organisation_id=given.validated_data["organisation"],
            order_ids=given.validated_data.get("orders"),
        )
        return batch_response(request, batch, status.HTTP_201_CREATED)


class PayoutBatchDetailView(APIView):
    @extend_schema(
        summary="A payout batch",
        description="Its orders, and one line per member with gross, levy, credit, net and how the gross was "
        "computed (shares per order line and delivery).",
        responses={200: s.PayoutBatchSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request, pk: int):
        return batch_response(request, selectors.payout_batch_get(viewer=request.user, batch_id=pk))


class _MoveView(APIView):
    to_status = ""

    def move(self, request, pk: int, reason: str = ""):
        batch = services.payout_batch_transition(actor=request.user, batch_id=pk, to_status=self.to_status,
                                                 reason=reason)  # fmt: skip
        return batch_response(request, batch)


class PayoutBatchApproveView(_MoveView):
    to_status = PayoutBatch.Status.APPROVED

    @extend_schema(
        summary="Approve a payout batch (cooperative manager)",
        description="Posts the allocation to the ledger: the members' net to their payables and the input credit "
        "recovered; the levy stays with the cooperative. The proposer may approve; both are recorded.",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={200: s.PayoutBatchSerializer, **errors(403, 404, 409, 422)},
        tags=TAGS,
    )
    @idempotent()
    def post(self, request, pk: int):
        return self.move(request, pk)


class PayoutBatchExecuteView(_MoveView):
    to_status = PayoutBatch.Status.EXECUTED

    @extend_schema(
        summary="Execute an approved payout batch (cooperative manager)",
        description="Posts each member's payout and answers with the batch `executing`; a task then pays the "
        "members through the payout provider (offline by default: the payments are recorded and the CSV goes to "
        "the mobile-money bulk upload), makes the batch `executed` and texts each member their statement once.",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={200: s.PayoutBatchSerializer, **errors(403, 404, 409, 422)},
        tags=TAGS,
    )
    @idempotent()
    def post(self, request, pk: int):
        return self.move(request, pk)


class PayoutBatchRetryFailedView(APIView):
    @extend_schema(
        summary="Retry the failed payments of an executed batch (platform operator or cooperative manager)",
        description="Payments the provider did not make (found when the batch was settled with the provider by "
        "our references) have their postings reversed and are owed to the members again. Once the cause is "
        "fixed, this posts each again and sends it as a new payment with its own reference (`<reference>-R<n>`, "
        "the provider's idempotency key); a task pays them after the commit. Nothing failed is a 409. Requires "
        "an `Idempotency-Key` header: the same key again answers the first response.",
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        request=s.RetryFailedInputSerializer,
        responses={202: s.PayoutBatchSerializer, **errors(400, 403, 404, 409, 422)},
        tags=TAGS,
    )
    @idempotent(required=True)
    def post(self, request, pk: int):
        given = s.RetryFailedInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.payout_lines_retry(actor=request.user, batch_id=pk, reason=given.validated_data["reason"])
        batch = selectors.payout_batch_get(viewer=request.user, batch_id=pk, operator=True)
        return Response(s.PayoutBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class PayoutBatchCancelView(_MoveView):
    to_status = PayoutBatch.Status.CANCELLED

    @extend_schema(
        summary="Cancel a proposed payout batch (cooperative manager)",
        description="Its orders can be proposed again. The reason is required.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.CancelInputSerializer,
        responses={200: s.PayoutBatchSerializer, **errors(400, 403, 404, 409, 422)},
        tags=TAGS,
    )
    @idempotent()
    def post(self, request, pk: int):
        given = s.CancelInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return self.move(request, pk, given.validated_data["reason"])


class PayoutBatchCsvView(APIView):
    @extend_schema(
        summary="The bulk mobile-money upload of a batch (CSV)",
        description="Columns phone (international, digits only), amount (major units), reference; one row per "
        "member paid who has a phone number. Exists once the batch is approved.",
        responses={(200, "text/csv"): OpenApiTypes.BINARY, **errors(404)},
        tags=TAGS,
    )
    def get(self, request, pk: int):
        name, text = selectors.payout_batch_csv(viewer=request.user, batch_id=pk)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class PayoutCandidateListView(APIView):
    @extend_schema(
        summary="Released orders waiting for a payout",
        parameters=[OpenApiParameter("organisation", ID_SCHEMA, required=True)],
        responses={200: s.CandidateSerializer(many=True), **errors(400, 404)},
        tags=TAGS,
    )
    def get(self, request):
        organisation_id = _organisation_param(request, required=True)
        candidates = selectors.payout_candidates(viewer=request.user, organisation_id=organisation_id)
        return Response(s.CandidateSerializer(candidates, many=True).data)


class PayoutPolicyView(APIView):
    @extend_schema(
        summary="A cooperative's payout levy",
        responses={200: s.PolicySerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request, organisation_id: int):
        return Response(selectors.payout_policy_get(viewer=request.user, organisation_id=organisation_id))

    @extend_schema(
        summary="Set a cooperative's payout levy (manager)",
        description="Applies to batches proposed from now on.",
        request=s.PolicySerializer,
        responses={200: s.PolicySerializer, **errors(400, 403, 404)},
        tags=TAGS,
    )
    def put(self, request, organisation_id: int):
        given = s.PolicySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.payout_policy_set(
            actor=request.user, organisation_id=organisation_id, levy_bp=given.validated_data["levy_bp"]
        )
        return Response(selectors.payout_policy_get(viewer=request.user, organisation_id=organisation_id))


class MemberStatementView(APIView):
    @extend_schema(
        summary="A member farmer's statement",
        description="Deliveries, lots, sales, levy, credit deducted and payments.",
        responses={200: s.StatementSerializer, **errors(404)},
        tags=TAGS,
    )
    def get(self, request, farmer_id: int):
        statement = selectors.member_statement(viewer=request.user, farmer_id=farmer_id)
        return Response(s.StatementSerializer(statement).data)


class MemberStatementPdfView(APIView):
    @extend_schema(
        summary="A member farmer's statement as PDF",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **errors(404)},
        tags=TAGS,
    )
    def get(self, request, farmer_id: int):
        statement = selectors.member_statement(viewer=request.user, farmer_id=farmer_id)
        response = HttpResponse(statements.statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{statements.statement_filename(statement)}"'
        return response
