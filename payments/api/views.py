"""The payments API: parse the request, call one selector or service, render. Payments of orders the viewer
cannot see, and money of organisations the viewer does not belong to, answer 404."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.core.api.schema import error_responses
from marketplace.core.bounds import DOMAINS
from marketplace.core.errors import NotFound
from marketplace.core.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_REQUIRED, KEY_REUSED, idempotent
from marketplace.organisations.selectors import is_operator
from orders.selectors import order_get
from payments import selectors
from payments.api import serializers as s
from payments.services import escrow
from payments.services import payments as services

ERRORS = {
    400: "The input is invalid; `message` and `fields` say what to fix. Nothing was written.",
    422: KEY_REUSED,
    403: "Your role does not allow this.",
    404: "No such payment, order or organisation, or one you cannot see.",
    409: "The state does not allow this (not accepted yet, already paid or released, frozen by a chargeback).",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(ERRORS, *codes)


def _order_money(request, number: str) -> Response:
    money = selectors.order_money(viewer=request.user, number=number)
    context = {"show_secret": "buyer" in money["sides"]}
    return Response(s.OrderMoneySerializer(money, context=context).data)


class PaymentListView(APIView):
    @extend_schema(summary="Payments you can see", responses={200: s.PaymentSerializer(many=True)}, tags=["payments"])
    def get(self, request):
        payments = selectors.payment_list(viewer=request.user)[:200]
        return Response(s.PaymentSerializer(payments, many=True).data)

    @extend_schema(
        summary="Pay an accepted order",
        description="The buyer's managers pay exactly the order's total in its currency. With Stripe the answer "
        "carries the PaymentIntent's `client_secret` for Stripe.js; in offline mode, POST to `offline-pay/`. "
        "Asking again while a payment waits returns the same payment.",
        request=s.PaymentStartSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.PaymentSerializer, **errors(400, 403, 404, 409, 422)},
        tags=["payments"],
    )
    @idempotent(atomic=False)  # the provider is called in the service, with no lock held
    def post(self, request):
        given = s.PaymentStartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        order = order_get(viewer=request.user, number=given.validated_data["order"])
        payment = services.payment_start(
            actor=request.user, order_id=order.pk, amount=given.validated_data["amount"],
            currency=given.validated_data["currency"],
        )  # fmt: skip
        data = s.PaymentSerializer(payment, context={"show_secret": True}).data
        return Response(data, status=status.HTTP_201_CREATED)


class PaymentDetailView(APIView):
    @extend_schema(summary="A payment", responses={200: s.PaymentSerializer, **errors(404)}, tags=["payments"])
    def get(self, request, payment_id: int):
        return Response(s.PaymentSerializer(selectors.payment_get(viewer=request.user, payment_id=payment_id)).data)


class OfflinePayView(APIView):
    @extend_schema(
        summary="Pay in demo mode, moving no money (DEBUG only)",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.PaymentSerializer, **errors(403, 404, 409, 422)},
        tags=["payments"],
    )
    @idempotent()
    def post(self, request, payment_id: int):
        payment = selectors.payment_get(viewer=request.user, payment_id=payment_id)
        payment = services.payment_offline_pay(actor=request.user, payment_id=payment.pk)
        return Response(s.PaymentSerializer(payment).data)


class OfflineConfirmView(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="Confirm an offline payment's transfer was received (operator)",
        description="With offline payments on (OFFLINE_PAYMENTS), the buyer transfers the amount quoting the "
        "payment's reference; the operator confirms it with the transfer's own reference and optional evidence, "
        "and the payment funds the escrow. Confirming again changes nothing.",
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": s.OfflineConfirmInputSerializer},
        responses={200: s.PaymentSerializer, **errors(400, 404, 409, 422)},
        tags=["payments"],
    )
    @idempotent()
    def post(self, request, payment_id: int):
        given = s.OfflineConfirmInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        payment = services.payment_offline_confirm(actor=request.user, payment_id=payment_id, **given.validated_data)
        return Response(s.PaymentSerializer(payment).data)


class OrderMoneyView(APIView):
    @extend_schema(
        summary="An order's escrow", responses={200: s.OrderMoneySerializer, **errors(404)}, tags=["payments"]
    )
    def get(self, request, number: str):
        return _order_money(request, number)


class OrderReleaseView(APIView):
    @extend_schema(
        summary="Release a settled order's escrow (operator)",
        description="Normally automatic when the order completes or its dispute is resolved; this retries it. "
        "A second release is refused with 409.",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.OrderMoneySerializer, **errors(404, 409, 422)},
        tags=["payments"],
    )
    @idempotent()
    def post(self, request, number: str):
        order = order_get(viewer=request.user, number=number)
        if not is_operator(request.user):
            raise NotFound("No such order.")
        escrow.escrow_settle(actor=request.user, order_id=order.pk, explicit=True)
        return _order_money(request, number)


class OrderRefundView(APIView):
    @extend_schema(
        summary="Refund part of an order's escrow to the buyer (operator)",
        description="Requires an `Idempotency-Key` header (e.g. a new UUID per refund): the same key again "
        "answers the first response and refunds nothing more; the same key with another body is a 422.",
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        request=s.RefundInputSerializer,
        responses={201: s.OrderMoneySerializer, **errors(400, 404, 409, 422)},
        tags=["payments"],
    )
    @idempotent(required=True)
    def post(self, request, number: str):
        given = s.RefundInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        order = order_get(viewer=request.user, number=number)
        escrow.escrow_refund(
            actor=request.user, order_id=order.pk, request_key=request.headers.get("Idempotency-Key", ""),
            **given.validated_data,
        )  # fmt: skip
        response = _order_money(request, number)
        response.status_code = status.HTTP_201_CREATED
        return response


class TransferResendView(APIView):
    @extend_schema(
        summary="Re-send a transfer the provider refused (operator)",
        description="Once the cause of the refusal is fixed (e.g. the seller's payout account), the transfer is "
        "sent again as a new send with its own provider idempotency key (`transfer:<id>:resend:<n>`): it is "
        "posted again and the provider is called after the commit. Only a failed transfer can be re-sent (409). "
        "Requires an `Idempotency-Key` header: the same key again answers the first response.",
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        request=s.TransferResendInputSerializer,
        responses={202: s.TransferSerializer, **errors(400, 404, 409, 422)},
        tags=["payments"],
    )
    @idempotent(required=True)
    def post(self, request, transfer_id: int):
        given = s.TransferResendInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        transfer = services.transfer_resend(actor=request.user, transfer_id=transfer_id, **given.validated_data)
        return Response(s.TransferSerializer(transfer).data, status=status.HTTP_202_ACCEPTED)


class OrganisationMoneyView(APIView):
    @extend_schema(
        summary="An organisation's money",
        responses={200: s.OrganisationMoneySerializer, **errors(403, 404)},
        tags=["payments"],
    )
    def get(self, request, organisation_id: int):
        money = selectors.organisation_money(viewer=request.user, organisation_id=organisation_id)
        return Response(s.OrganisationMoneySerializer(money).data)


class PayoutOnboardingView(APIView):
    @extend_schema(
        summary="Set up payouts for a cooperative or supplier",
        request=s.OnboardingInputSerializer,
        responses={200: s.OnboardingSerializer, **errors(400, 403, 404, 409)},
        tags=["payments"],
    )
    def post(self, request, organisation_id: int):
        given = s.OnboardingInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        back = given.validated_data["return_url"]
        url = services.payout_onboarding_start(
            actor=request.user, organisation_id=organisation_id, return_url=back, refresh_url=back
        )
        return Response({"url": url})


class LedgerView(APIView):
    @extend_schema(
        summary="The ledger's accounts and problems (operator)",
        description="One page (50) of the accounts with a balance, and what the last stored ledger check (the "
        "nightly task or `manage.py ledger_check`) found, with when it ran.",
        parameters=[
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1, "maximum": DOMAINS["page"][1]},
                description="Page of the accounts, from 1.",
            )
        ],
        responses={200: s.LedgerSerializer, **errors(404)},
        tags=["payments"],
    )
    def get(self, request):
        overview = selectors.ledger_overview(viewer=request.user, page=request.query_params.get("page", 1))
        return Response(s.LedgerSerializer(overview).data)
