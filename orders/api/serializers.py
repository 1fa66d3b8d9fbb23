"""Serializers of the orders API: input shapes that the views hand to one service, and output shapes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace.core.api.fields import BoundedIntegerField, IdField
from marketplace.core.bounds import MAX_LINES, MAX_PACKS, column
from marketplace.core.money import Money
from orders import documents
from orders.models import Dispatch, Dispute, DisputeEvidence, Invoice, Order, OrderEvent, OrderLine, Purchase, Receipt

# --- Input ------------------------------------------------------------------------------------


class GradePricesField(serializers.DictField):
    """Grade id -> unit price in minor units, in the line's price unit. Keys are parsed here, as bounded ids."""

    child = BoundedIntegerField(domain="unit_price", min_value=1)
    key_field = IdField()

    def to_internal_value(self, data):
        prices = super().to_internal_value(data)
        parsed, errors = {}, {}
        for key, price in prices.items():
            try:
                parsed[self.key_field.run_validation(key)] = price
            except serializers.ValidationError as exc:
                errors[key or "(empty key)"] = [f"The key must be a grade id: {exc.detail[0]}"]
        if errors:
            raise serializers.ValidationError(errors)
        return parsed


class GradePricesByLineField(serializers.DictField):
    """Line id -> grade prices; keys parsed as bounded ids."""

    def to_internal_value(self, data):
        by_line = super().to_internal_value(data)
        parsed, errors = {}, {}
        for key, prices in by_line.items():
            try:
                parsed[IdField().run_validation(key)] = prices
            except serializers.ValidationError as exc:
                errors[key or "(empty key)"] = [f"The key must be a line id: {exc.detail[0]}"]
        if errors:
            raise serializers.ValidationError(errors)
        return parsed


class PurchaseLineInputSerializer(serializers.Serializer):
    listing = IdField(required=False, help_text="A listing's id (produce, quantity in grams).")
    offer = IdField(required=False, help_text="A supplier offer's id (inputs, quantity in packs).")
    quantity = BoundedIntegerField(
        column=column(OrderLine, "quantity"),
        domain="grams",
        min_value=1,
        help_text=f"Grams for a listing, packs for an offer (at most {MAX_PACKS:,} packs).",
    )
    grade_prices = GradePricesField(
        required=False, help_text="Optional prices for other grades of the listed commodity: grade id -> minor units."
    )


class PurchaseInputSerializer(serializers.Serializer):
    organisation = IdField(help_text="The buying organisation you act for (manager or admin).")
    lines = PurchaseLineInputSerializer(many=True, allow_empty=True, max_length=MAX_LINES)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class OrderListQuerySerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=["buying", "selling"], required=False, help_text="Orders you buy or sell.")
    status = serializers.CharField(
        required=False, max_length=200,
        help_text=f"One status or several, comma-separated: {', '.join(Order.Status.values)}.",
    )  # fmt: skip
    organisation = IdField(required=False, help_text="Only this one of your organisations.")
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Order number, purchase reference or name."
    )


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# The schema of the transitions that need a reason (reject, cancel): the view parses ReasonInputSerializer and
# the transition refuses a reason with no visible character.
class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.RegexField(r"\S", help_text="Why; at least one character that is not a space.")


class AcceptInputSerializer(ReasonInputSerializer):
    grade_prices = GradePricesByLineField(
        child=GradePricesField(), required=False,
        help_text="Prices agreed for other grades, per line: line id -> {grade id -> minor units}.",
    )  # fmt: skip


class PaidInputSerializer(serializers.Serializer):
    payment_reference = serializers.CharField(max_length=100)


class DispatchLineInputSerializer(serializers.Serializer):
    line = IdField()
    quantity = BoundedIntegerField(
        column=column(OrderLine, "quantity_dispatched"),
        domain="signed_grams",
        help_text="Grams or packs dispatched; at most what was ordered.",
    )


class DispatchInputSerializer(serializers.Serializer):
    dispatched_on = serializers.DateField(required=False)
    document_number = serializers.CharField(allow_blank=True, help_text="Waybill or delivery document number.")
    vehicle = serializers.CharField(required=False, allow_blank=True, default="")
    driver = serializers.CharField(required=False, allow_blank=True, default="")
    lines = DispatchLineInputSerializer(
        many=True, required=False, max_length=MAX_LINES, help_text="Default: every line in full."
    )


class ReceiptLineInputSerializer(serializers.Serializer):
    line = IdField()
    quantity = BoundedIntegerField(
        column=column(OrderLine, "quantity_received"),
        domain="signed_grams",
        help_text="Grams or packs received; at most what was dispatched.",
    )
    grade = IdField(required=False, allow_null=True, help_text="Grade on arrival (produce).")


class ReceiptInputSerializer(serializers.Serializer):
    received_on = serializers.DateField(required=False)
    inspection_notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = ReceiptLineInputSerializer(many=True, max_length=MAX_LINES)


class DisputeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    evidence = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="PDF, JPEG, PNG or WebP files, 10 MB each at most."
    )


class ResolveInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Dispute.Decision.choices)
    refund_amount = BoundedIntegerField(
        column=column(Dispute, "refund_amount"),
        domain="amount",
        required=False,
        allow_null=True,
        help_text="Minor units (partial refund).",
    )
    reason = serializers.CharField(allow_blank=True, help_text="The reasons for the decision.")


# --- Output -----------------------------------------------------------------------------------


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    legal_name = serializers.CharField()
    country = serializers.CharField()


def money(amount: int | None, currency: str) -> str | None:
    return None if amount is None else str(Money(amount, currency))


def choice_text(choices) -> str:
    return "One of: " + ", ".join(f"`{value}` ({label})" for value, label in choices) + "."


class OrderSummarySerializer(serializers.ModelSerializer):
    # Plain strings rather than enums: the schema's enum names would collide with other apps' `status` and `kind`.
    status = serializers.CharField(help_text=choice_text(Order.Status.choices))
    kind = serializers.CharField(help_text=choice_text(Order.Kind.choices))
    buyer = PartySerializer()
    seller = PartySerializer()
    purchase = serializers.CharField(source="purchase.reference", allow_null=True, default=None)
    line_count = serializers.IntegerField()
    total_display = serializers.SerializerMethodField()
    amount_due_display = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id", "number", "purchase", "kind", "status", "buyer", "seller", "currency", "total_amount",
            "total_display", "amount_due", "amount_due_display", "line_count", "created_at", "status_changed_at",
            "accept_by", "dispute_until",
        ]  # fmt: skip

    def get_total_display(self, order: Order) -> str:
        return money(order.total_amount, order.currency) or ""

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_amount_due_display(self, order: Order) -> str | None:
        return money(order.amount_due, order.currency)


class GradePriceSerializer(serializers.Serializer):
    grade = serializers.IntegerField(source="grade_id")
    grade_name = serializers.CharField(source="grade.name")
    unit_price_amount = serializers.IntegerField()


class SettlementSerializer(serializers.Serializer):
    billable_quantity = serializers.IntegerField()
    unit_price_amount = serializers.IntegerField()
    amount = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why the amount is what it is.")


class OrderLineSerializer(serializers.ModelSerializer):
    quantity_unit = serializers.CharField(help_text="GRM (grams) or H87 (packs): UN/ECE Rec 20 codes.")
    price_unit = serializers.CharField(help_text="KGM (per kilogram), TNE (per tonne) or H87 (per pack).")
    grade_name = serializers.CharField(source="grade.name", allow_null=True, default=None)
    grade_received_name = serializers.CharField(source="grade_received.name", allow_null=True, default=None)
    lot = serializers.CharField(source="lot.code", allow_null=True, default=None)
    grade_prices = GradePriceSerializer(many=True)
    settlement = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = [
            "id", "position", "listing", "offer", "lot", "description", "grade", "grade_name", "quantity",
            "quantity_unit", "unit_price_amount", "price_unit", "line_total_amount", "grade_prices",
            "quantity_dispatched", "quantity_received", "grade_received", "grade_received_name", "amount_due",
            "settlement",
        ]  # fmt: skip

    @extend_schema_field(SettlementSerializer(allow_null=True))
    def get_settlement(self, line: OrderLine) -> dict | None:
        return line.settlement or None


class OrderEventSerializer(serializers.ModelSerializer):
    side = serializers.CharField(help_text=choice_text(OrderEvent.Side.choices))
    actor = serializers.SerializerMethodField()

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "side", "role", "actor", "reason", "details", "occurred_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: OrderEvent) -> str | None:
        return None if event.actor is None else (event.actor.full_name or event.actor.email)


class DispatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dispatch
        fields = ["dispatched_on", "document_number", "vehicle", "driver", "recorded_at"]


class ReceiptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Receipt
        fields = ["received_on", "inspection_notes", "weight_tolerance_bp", "recorded_at"]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DisputeEvidence
        fields = ["id", "original_name", "content_type", "size", "uploaded_at"]


class DisputeSerializer(serializers.ModelSerializer):
    evidence = EvidenceSerializer(many=True)

    class Meta:
        model = Dispute
        fields = [
            "reason", "opened_at", "evidence", "decision", "refund_amount", "decision_reasons", "decided_at",
        ]  # fmt: skip


class InvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = ["number", "amount", "currency", "issued_at"]


class OrderSerializer(OrderSummarySerializer):
    lines = OrderLineSerializer(many=True)
    events = OrderEventSerializer(many=True)
    dispatch = serializers.SerializerMethodField()
    receipt = serializers.SerializerMethodField()
    dispute = serializers.SerializerMethodField()
    invoice = serializers.SerializerMethodField()
    payment_reference = serializers.CharField()
    moves = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    line_count = serializers.SerializerMethodField()

    class Meta(OrderSummarySerializer.Meta):
        fields = [
            *OrderSummarySerializer.Meta.fields, "payment_reference", "lines", "events", "dispatch", "receipt",
            "dispute", "invoice", "moves", "documents",
        ]  # fmt: skip

    def get_line_count(self, order: Order) -> int:
        return len(order.lines.all())

    @extend_schema_field(DispatchSerializer(allow_null=True))
    def get_dispatch(self, order: Order):
        return DispatchSerializer(order.dispatch).data if hasattr(order, "dispatch") else None

    @extend_schema_field(ReceiptSerializer(allow_null=True))
    def get_receipt(self, order: Order):
        return ReceiptSerializer(order.receipt).data if hasattr(order, "receipt") else None

    @extend_schema_field(DisputeSerializer(allow_null=True))
    def get_dispute(self, order: Order):
        return DisputeSerializer(order.dispute).data if hasattr(order, "dispute") else None

    @extend_schema_field(InvoiceSerializer(allow_null=True))
    def get_invoice(self, order: Order):
        return InvoiceSerializer(order.invoice).data if hasattr(order, "invoice") else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_moves(self, order: Order) -> list[str]:
        return self.context.get("moves", [])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_documents(self, order: Order) -> list[str]:
        return [kind for kind in documents.KINDS if documents.available(order, kind)]


class PurchaseSerializer(serializers.ModelSerializer):
    buyer = PartySerializer()
    orders = OrderSummarySerializer(many=True)

    class Meta:
        model = Purchase
        fields = ["reference", "buyer", "currency", "note", "created_at", "orders"]


_DATETIME = serializers.DateTimeField()  # DRF's own rendering of a time (the current time zone, ISO 8601)


def _party(organisation) -> dict:
    return {"id": organisation.pk, "name": organisation.name, "legal_name": organisation.legal_name,
            "country": str(organisation.country)}  # fmt: skip


def _when(value) -> str | None:
    return _DATETIME.to_representation(value) if value is not None else None


def _placed_order(purchase: Purchase, order: Order) -> dict:
    return {
        "id": order.pk, "number": order.number, "purchase": purchase.reference, "kind": str(order.kind),
        "status": str(order.status), "buyer": _party(order.buyer), "seller": _party(order.seller),
        "currency": order.currency, "total_amount": order.total_amount,
        "total_display": money(order.total_amount, order.currency) or "", "amount_due": order.amount_due,
        "amount_due_display": money(order.amount_due, order.currency), "line_count": order.line_count,
        "created_at": _when(order.created_at), "status_changed_at": _when(order.status_changed_at),
        "accept_by": _when(order.accept_by), "dispute_until": _when(order.dispute_until),
    }  # fmt: skip


def placed_purchase_data(purchase: Purchase) -> dict:
    """What PurchaseSerializer renders, built directly from the purchase `purchase_place` returns (its orders as
    written): a placement's answer without building serializer fields on every request. A test compares it with
    the serializer's answer for the same purchase read back."""
    orders = [_placed_order(purchase, order) for order in purchase.placed_orders]
    return {"reference": purchase.reference, "buyer": _party(purchase.buyer), "currency": purchase.currency,
            "note": purchase.note, "created_at": _when(purchase.created_at), "orders": orders}  # fmt: skip


class DisputeDeskSerializer(OrderSummarySerializer):
    dispute = DisputeSerializer()
    evidence_count = serializers.IntegerField()
    line_count = None

    class Meta(OrderSummarySerializer.Meta):
        fields = [f for f in OrderSummarySerializer.Meta.fields if f != "line_count"] + ["dispute", "evidence_count"]
