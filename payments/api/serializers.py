from rest_framework import serializers

from marketplace.core.api.fields import BoundedIntegerField
from payments.models import Payment


class PaymentSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", read_only=True)
    client_secret = serializers.SerializerMethodField(
        help_text="For Stripe.js (confirmCardPayment), shown to the buyer's side only while the payment waits."
    )

    class Meta:
        model = Payment
        fields = ["id", "order", "provider", "reference", "amount", "currency", "status", "failure_message",
                  "client_secret", "created_at"]  # fmt: skip

    def get_client_secret(self, payment) -> str:
        show = self.context.get("show_secret") and payment.status == Payment.Status.PENDING
        return payment.client_secret if show else ""


class PaymentStartSerializer(serializers.Serializer):
    order = serializers.CharField(max_length=40, help_text="The order's number.")
    amount = BoundedIntegerField(
        domain="amount", help_text="The order's total in minor units (whole units for XOF, XAF, ...)."
    )
    currency = serializers.CharField(max_length=3, help_text="The order's ISO 4217 currency.")


class RefundInputSerializer(serializers.Serializer):
    amount = BoundedIntegerField(domain="amount", min_value=1, help_text="Minor units; at most what the escrow holds.")
    reason = serializers.CharField(max_length=300)


class RefundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    reason = serializers.CharField()
    status = serializers.CharField()


class TransferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="order.number")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    amount_reversed = serializers.IntegerField()
    resends = serializers.IntegerField(help_text="Times the operator re-sent it after the provider refused it.")
    error = serializers.CharField(help_text="The provider's last refusal or error, if any.")


class TransferResendInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="What was fixed, so the transfer can be sent again.")


class OrderMoneySerializer(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    currency = serializers.CharField(source="order.currency")
    held = serializers.IntegerField(help_text="Held in escrow now (minor units).")
    released = serializers.IntegerField(help_text="Released to the seller, fee included.")
    fee = serializers.IntegerField()
    frozen = serializers.BooleanField(help_text="A card chargeback freezes the escrow.")
    payments = PaymentSerializer(many=True)
    refunds = RefundSerializer(many=True)
    transfer = TransferSerializer(allow_null=True)


class MoneyFiguresSerializer(serializers.Serializer):
    held = serializers.IntegerField()
    released = serializers.IntegerField()
    fees = serializers.IntegerField()
    owed = serializers.IntegerField()
    sent = serializers.IntegerField()


class OrganisationMoneySerializer(serializers.Serializer):
    organisation = serializers.IntegerField(source="organisation.pk")
    figures = serializers.DictField(child=MoneyFiguresSerializer(), help_text="Per currency.")
    transfers = TransferSerializer(many=True)


class OnboardingSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Send the person here to finish setting up payouts.")


class OnboardingInputSerializer(serializers.Serializer):
    return_url = serializers.URLField()


class LedgerAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    currency = serializers.CharField()
    organisation = serializers.IntegerField(source="organisation_id", allow_null=True)
    order = serializers.IntegerField(source="order_id", allow_null=True)
    balance = serializers.IntegerField(source="current_balance")


class LedgerSerializer(serializers.Serializer):
    accounts = LedgerAccountSerializer(many=True, help_text="One page of the accounts with a balance.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    problems = serializers.ListField(
        child=serializers.CharField(), help_text="What the last stored ledger check found (the nightly task)."
    )
    checked_at = serializers.DateTimeField(allow_null=True, help_text="When that check ran; null if never.")


class OfflineConfirmInputSerializer(serializers.Serializer):
    transfer_reference = serializers.CharField(max_length=100, help_text="The reference of the transfer received.")
    evidence = serializers.FileField(required=False, help_text="A PDF, JPEG or PNG of the statement or receipt.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
