"""Serializers of the group input order API (windows, requests, plans)."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from marketplace.core.api.fields import BoundedIntegerField, IdField, IdListField
from marketplace.core.bounds import column
from orders.group_models import GroupOrder, MemberRequest, OrderingWindow, RequestChange

# --- Input ------------------------------------------------------------------------------------


class WindowInputSerializer(serializers.Serializer):
    organisation = IdField(help_text="The cooperative you act for (manager or admin).")
    name = serializers.CharField(max_length=120)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    box_fill_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    allocation_rule = serializers.ChoiceField(OrderingWindow.Allocation.choices, default="first_come")
    on_credit = serializers.BooleanField(default=False)
    moq_action = serializers.ChoiceField(OrderingWindow.MoqAction.choices, default="extend")
    extend_days = BoundedIntegerField(
        column=column(OrderingWindow, "extend_days"), domain="days", default=7, min_value=1, max_value=90
    )
    products = IdListField(allow_empty=False, help_text="Input product ids the window collects requests for.")


class WindowMoveInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(OrderingWindow.Status.values, help_text="The status to move to.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RequestChangeInputSerializer(serializers.Serializer):
    member_number = serializers.CharField(max_length=32, help_text="The member farmer's number in the cooperative.")
    product = IdField(help_text="An input product the window collects.")
    quantity_delta = BoundedIntegerField(
        column=column(RequestChange, "quantity_delta"), domain="signed_grams", default=0,
        help_text="Quantity to add (> 0) or remove (< 0), in the packaging's base unit (g, ml or pieces).",
    )  # fmt: skip
    tolerance_delta = BoundedIntegerField(
        column=column(RequestChange, "tolerance_delta"), domain="signed_grams", default=0,
        help_text="Tolerance to add or remove, same unit.",
    )  # fmt: skip


class OfferChoiceInputSerializer(serializers.Serializer):
    offer = IdField(allow_null=True, help_text="A supplier offer id, or null for the plan's choice.")


# --- Output -----------------------------------------------------------------------------------


class WindowSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(OrderingWindow.Status.values)}.")
    products = serializers.SerializerMethodField()

    class Meta:
        model = OrderingWindow
        fields = ["id", "reference", "organisation", "name", "currency", "status", "opens_at", "closes_at",
                  "box_fill_at", "allocation_rule", "on_credit", "moq_action", "extend_days", "products",
                  "created_at"]  # fmt: skip

    def get_products(self, window) -> list[int]:
        return [p.product_id for p in window.products.all()]


class RequestSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(source="farmer.member_number", read_only=True)
    member_name = serializers.CharField(source="farmer.name", read_only=True)

    class Meta:
        model = MemberRequest
        fields = ["id", "window", "farmer", "member_number", "member_name", "product", "quantity", "tolerance",
                  "created_at", "updated_at"]  # fmt: skip


class RequestChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestChange
        fields = ["id", "request", "quantity_delta", "tolerance_delta", "channel", "recorded_at"]


class PlanLineSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    product_name = serializers.CharField()
    unit = serializers.IntegerField(help_text="One pack's content in the base unit.")
    quantity = serializers.IntegerField()
    tolerance = serializers.IntegerField()
    members = serializers.IntegerField()
    packs = serializers.IntegerField()
    shortfall_to_next_pack = serializers.IntegerField()
    offer = serializers.IntegerField(allow_null=True)
    supplier = serializers.CharField(allow_blank=True)
    unit_price = serializers.IntegerField(allow_null=True, help_text="Per pack, at the tier the packs reach.")
    total = serializers.IntegerField(allow_null=True)
    overridden = serializers.BooleanField()


class PlanSummarySerializer(serializers.Serializer):
    cost = serializers.IntegerField()
    lines_served = serializers.IntegerField()
    suppliers = serializers.ListField(child=serializers.IntegerField())
    unserved = serializers.ListField(child=serializers.IntegerField())


class WindowPlanSerializer(serializers.Serializer):
    window = serializers.IntegerField()
    currency = serializers.CharField()
    lines = PlanLineSerializer(many=True)
    plan = PlanSummarySerializer()
    single_supplier = PlanSummarySerializer()
    saving = serializers.IntegerField(allow_null=True, help_text="Single supplier cost minus the plan's, when both "
                                      "serve the same lines.")  # fmt: skip


class GroupOrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    product_name = serializers.CharField(source="product.name")
    offer = serializers.IntegerField(source="offer_id")
    packs = serializers.IntegerField()
    unit_price = serializers.IntegerField(source="unit_price_amount")
    line_total = serializers.IntegerField(source="line_total_amount")
    packs_received = serializers.IntegerField(allow_null=True)


class GroupOrderRoundSerializer(serializers.Serializer):
    side = serializers.CharField()
    terms = serializers.DictField()
    total = serializers.IntegerField(source="total_amount")
    note = serializers.CharField()
    expires_at = serializers.DateTimeField()
    proposed_at = serializers.DateTimeField()


class GroupOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    window = serializers.IntegerField(source="window_id")
    buyer = serializers.IntegerField(source="buyer_id")
    supplier = serializers.IntegerField(source="supplier_id")
    supplier_name = serializers.CharField(source="supplier.name")
    status = serializers.CharField(help_text="draft, submitted, countered, accepted, declined, paid, dispatched, "
                                   "received, distributed, completed, cancelled or expired.")  # fmt: skip
    currency = serializers.CharField()
    total = serializers.IntegerField(source="total_amount")
    rounds = serializers.IntegerField(help_text="Counter-offers made (at most 3).")
    respond_by = serializers.DateTimeField(allow_null=True)
    order = serializers.SerializerMethodField(help_text="The escrow order's number, once the terms are agreed.")
    lines = GroupOrderLineSerializer(many=True, read_only=True)
    negotiation = GroupOrderRoundSerializer(many=True, read_only=True)
    moves = serializers.SerializerMethodField()

    def get_order(self, obj) -> str | None:
        return obj.order.number if obj.order_id else None

    def get_moves(self, obj) -> list[str]:
        return self.context.get("moves", [])


class GroupOrderSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    window = serializers.IntegerField(source="window_id")
    buyer_name = serializers.CharField(source="buyer.name")
    supplier_name = serializers.CharField(source="supplier.name")
    status = serializers.CharField()
    currency = serializers.CharField()
    total = serializers.IntegerField(source="total_amount")
    line_count = serializers.IntegerField()


class GroupOrderMoveInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(GroupOrder.Status.values, help_text="The status to move to.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    lines = serializers.DictField(required=False, help_text="countered/submitted: {line id: {packs, unit_price}}; "
                                  "received: {line id: packs received}.")  # fmt: skip
    document_number = serializers.CharField(required=False, help_text="dispatched: the waybill number.")
    dispatched_on = serializers.DateField(required=False)
    vehicle = serializers.CharField(required=False, allow_blank=True)
    driver = serializers.CharField(required=False, allow_blank=True)
    received_on = serializers.DateField(required=False)
    inspection_notes = serializers.CharField(required=False, allow_blank=True)


# The schema of a move: the statuses a person can move a group order to (draft is where it starts; paid and expired
# are the system's, on payment into escrow and when the supplier does not answer in time). The view parses
# GroupOrderMoveInputSerializer, whose refusal of the others (409) is unchanged.
MOVABLE_STATUSES = ["submitted", "cancelled", "accepted", "countered", "declined", "dispatched", "received",
                    "distributed", "completed"]  # fmt: skip


@extend_schema_serializer(component_name="GroupOrderMoveInput")
class GroupOrderMoveSchemaSerializer(GroupOrderMoveInputSerializer):
    status = serializers.ChoiceField(MOVABLE_STATUSES, help_text="The status to move to.")


class AllocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    line = serializers.IntegerField(source="line_id")
    product_name = serializers.CharField(source="line.product.name")
    member_number = serializers.CharField(source="farmer.member_number")
    member_name = serializers.CharField(source="farmer.name")
    requested = serializers.IntegerField(source="request.quantity")
    tolerance = serializers.IntegerField(source="request.tolerance")
    quantity = serializers.IntegerField(help_text="Allocated, in the packaging's base unit.")
    amount = serializers.IntegerField(help_text="The member's share of the line's cost (minor units).")
    on_credit = serializers.BooleanField()
    handed_over_at = serializers.DateTimeField(allow_null=True)
