from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace.core.api.fields import BoundedIntegerField, IdField, IdListField
from payments.payouts.models import PayoutBatch, PayoutLine, PayoutShare


class PersonField(serializers.Field):
    """A user as {id, name}; null for the system."""

    def to_representation(self, user):
        return {"id": user.pk, "name": user.full_name or user.email}


@extend_schema_field({"type": "object", "nullable": True, "properties": {"id": {"type": "integer"},
                                                                         "name": {"type": "string"}}})  # fmt: skip
class NullablePersonField(PersonField):
    pass


class PayoutShareSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    lot = serializers.CharField(source="lot.code")
    delivery = serializers.CharField(source="delivery.receipt_number")
    grade = serializers.CharField(source="grade.name")

    class Meta:
        model = PayoutShare
        fields = ["order", "order_line", "lot", "delivery", "grade", "grams", "unit_price_amount", "amount"]


class PayoutLineSerializer(serializers.ModelSerializer):
    farmer = serializers.IntegerField(source="farmer_id")
    member_number = serializers.CharField(source="farmer.member_number")
    name = serializers.CharField(source="farmer.name")
    reference = serializers.CharField()
    send_reference = serializers.CharField(help_text="Our reference of the current send (`-R<n>` after retries).")
    shares = PayoutShareSerializer(many=True, read_only=True)
    # A plain string, not an enum: the schema's enum names would collide with the batch's `status`.
    status = serializers.CharField(
        help_text="proposed (not sent), sent (posted, the provider asked), paid, or failed (its posting reversed)."
    )

    class Meta:
        model = PayoutLine
        fields = [
            "id", "farmer", "member_number", "name", "phone", "reference", "send_reference", "gross_amount",
            "levy_amount", "credit_amount", "net_amount", "status", "paid_at", "failed_at", "error", "retries",
            "provider_reference", "shares",
        ]  # fmt: skip


class PayoutBatchSummarySerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    status = serializers.CharField(help_text="proposed, approved, executed or cancelled.")
    proposed_by = NullablePersonField(allow_null=True)
    approved_by = NullablePersonField(allow_null=True)
    executed_by = NullablePersonField(allow_null=True)

    class Meta:
        model = PayoutBatch
        fields = [
            "id", "reference", "organisation", "currency", "status", "levy_bp", "proceeds_amount", "levy_amount",
            "credit_amount", "net_amount", "provider", "proposed_by", "proposed_at", "approved_by", "approved_at",
            "executed_by", "executed_at",
        ]  # fmt: skip


class PayoutBatchOrderSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order_id")
    number = serializers.CharField(source="order.number")
    amount = serializers.IntegerField()


class PayoutBatchSerializer(PayoutBatchSummarySerializer):
    cancelled_by = NullablePersonField(allow_null=True)
    orders = PayoutBatchOrderSerializer(many=True, read_only=True)
    lines = serializers.SerializerMethodField()

    class Meta(PayoutBatchSummarySerializer.Meta):
        fields = [*PayoutBatchSummarySerializer.Meta.fields, "cancelled_by", "cancelled_at", "cancel_reason",
                  "orders", "lines"]  # fmt: skip

    @extend_schema_field(PayoutLineSerializer(many=True))
    def get_lines(self, batch):
        lines = batch.lines.all().prefetch_related("shares__order", "shares__lot", "shares__delivery", "shares__grade")
        return PayoutLineSerializer(lines, many=True).data


class ProposeInputSerializer(serializers.Serializer):
    organisation = IdField(help_text="The cooperative whose members are paid.")
    orders = IdListField(
        required=False,
        allow_empty=False,
        help_text="Only these released orders (ids); by default every released order not yet in a batch.",
    )


class RetryFailedInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="What was fixed, so the failed payments can be retried.")


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the batch is cancelled (required).")


class CandidateSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order.pk")
    number = serializers.CharField(source="order.number")
    amount = serializers.IntegerField(source="amount.amount")
    currency = serializers.CharField(source="amount.currency")


class PolicySerializer(serializers.Serializer):
    organisation = serializers.IntegerField(read_only=True)
    levy_bp = BoundedIntegerField(
        domain="basis_points", help_text="The cooperative's levy in basis points (200 = 2 %)."
    )
    is_default = serializers.BooleanField(read_only=True, help_text="True while the platform default applies.")


class MoneyRowSerializer(serializers.Serializer):
    currency = serializers.CharField()
    gross = serializers.IntegerField()
    levy = serializers.IntegerField()
    credit = serializers.IntegerField()
    net = serializers.IntegerField()
    paid = serializers.IntegerField()


class StatementDeliverySerializer(serializers.Serializer):
    receipt_number = serializers.CharField()
    delivered_on = serializers.DateField()
    commodity = serializers.CharField(source="commodity.name")
    grade = serializers.CharField(source="grade.name")
    net_grams = serializers.IntegerField()


class StatementLotSerializer(serializers.Serializer):
    lot = serializers.CharField(source="lot.code")
    grade = serializers.CharField(source="lot.grade.name")
    delivery = serializers.CharField(source="delivery.receipt_number")
    grams = serializers.IntegerField()


class StatementPayoutSerializer(serializers.Serializer):
    batch = serializers.IntegerField(source="batch_id")
    reference = serializers.CharField()
    status = serializers.CharField(source="batch.status")
    currency = serializers.CharField(source="batch.currency")
    gross_amount = serializers.IntegerField()
    levy_amount = serializers.IntegerField()
    credit_amount = serializers.IntegerField()
    net_amount = serializers.IntegerField()
    paid_at = serializers.DateTimeField(allow_null=True)


class StatementSerializer(serializers.Serializer):
    farmer = serializers.IntegerField(source="farmer.pk")
    member_number = serializers.CharField(source="farmer.member_number")
    name = serializers.CharField(source="farmer.name")
    organisation = serializers.IntegerField(source="organisation.pk")
    deliveries = StatementDeliverySerializer(many=True)
    lots = StatementLotSerializer(many=True, source="contributions")
    sales = PayoutShareSerializer(many=True)
    payouts = StatementPayoutSerializer(many=True)
    totals = MoneyRowSerializer(many=True)
    outstanding_credit = serializers.SerializerMethodField()

    @extend_schema_field(
        {"type": "array", "items": {"type": "object", "properties": {"amount": {"type": "integer"},
                                                                     "currency": {"type": "string"}}}}
    )  # fmt: skip
    def get_outstanding_credit(self, statement):
        return [{"amount": m.amount, "currency": m.currency} for m in statement.outstanding_credit]
