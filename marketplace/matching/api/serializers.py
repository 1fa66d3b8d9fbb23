from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.models import Certification
from marketplace.core.api.fields import BoundedIntegerField, IdField
from marketplace.core.bounds import column
from marketplace.matching.models import BuyerRequest, Proposal, ProposalPart


class BuyerRequestInputSerializer(serializers.Serializer):
    organisation = IdField(help_text="The buying organisation you act for (on create).", required=False)
    commodity = IdField()
    min_grade = IdField(required=False, allow_null=True, help_text="Lowest grade accepted.")
    quantity_grams = BoundedIntegerField(column=column(BuyerRequest, "quantity_grams"), domain="grams", min_value=1)
    min_fill_grams = BoundedIntegerField(column=column(BuyerRequest, "min_fill_grams"), domain="grams", default=0)
    min_truckload_grams = BoundedIntegerField(
        column=column(BuyerRequest, "min_truckload_grams"), domain="grams", default=5_000_000
    )
    max_price_per_tonne_minor = BoundedIntegerField(
        column=column(BuyerRequest, "max_price_per_tonne_minor"), domain="unit_price", min_value=1
    )
    currency = serializers.CharField(max_length=3)
    delivery_place = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    delivery_latitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90)
    delivery_longitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180)
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    max_distance_km = serializers.IntegerField(min_value=1, max_value=5000)
    certifications = serializers.ListField(
        child=serializers.CharField(max_length=30),
        required=False,
        default=list,
        help_text="Certification schemes every lot must hold: " + ", ".join(Certification.Scheme.values) + ".",
    )
    eudr_required = serializers.BooleanField(required=False, default=False)


class BuyerRequestSerializer(serializers.ModelSerializer):
    commodity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    min_grade = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    buyer = serializers.CharField(source="buyer.name", read_only=True)
    certifications = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = BuyerRequest
        fields = [
            "id", "public_id", "buyer", "status", "commodity", "min_grade", "quantity_grams", "filled_grams",
            "min_fill_grams", "min_truckload_grams", "max_price_per_tonne_minor", "currency", "delivery_place",
            "delivery_latitude", "delivery_longitude", "window_start", "window_end", "max_distance_km",
            "certifications", "eudr_required", "created_at", "updated_at",
        ]  # fmt: skip


class OpenRequestSerializer(serializers.Serializer):
    """An open request as a cooperative sees it, with the ids of its own listings that fit."""

    id = serializers.IntegerField(source="request.id")
    buyer = serializers.CharField(source="request.buyer.name")
    commodity = serializers.CharField(source="request.commodity.code")
    min_grade = serializers.CharField(source="request.min_grade.code", allow_null=True, default=None)
    quantity_grams = serializers.IntegerField(source="request.remaining_grams")
    min_truckload_grams = serializers.IntegerField(source="request.min_truckload_grams")
    max_price_per_tonne_minor = serializers.IntegerField(source="request.max_price_per_tonne_minor")
    currency = serializers.CharField(source="request.currency")
    delivery_place = serializers.CharField(source="request.delivery_place")
    window_end = serializers.DateField(source="request.window_end")
    max_distance_km = serializers.IntegerField(source="request.max_distance_km")
    certifications = serializers.ListField(child=serializers.CharField(), source="request.certifications")
    eudr_required = serializers.BooleanField(source="request.eudr_required")
    your_listings = serializers.ListField(child=serializers.IntegerField())


class ProposalPartSerializer(serializers.ModelSerializer):
    seller = serializers.CharField(source="seller.name", read_only=True)
    listing_title = serializers.CharField(source="listing.title", read_only=True)

    class Meta:
        model = ProposalPart
        fields = [
            "id", "listing", "listing_title", "seller", "grams", "price_per_tonne_minor", "transport_per_tonne_minor",
            "distance_km", "surplus_per_tonne_minor", "status", "decided_at", "decline_reason",
        ]  # fmt: skip


class ProposalSerializer(serializers.ModelSerializer):
    parts = serializers.SerializerMethodField()
    request = serializers.IntegerField(source="request_id", read_only=True)
    commodity = serializers.CharField(source="request.commodity.code", read_only=True)
    currency = serializers.CharField(source="request.currency", read_only=True)
    buyer = serializers.CharField(source="buyer.name", read_only=True)
    buyer_accepted = serializers.SerializerMethodField()
    purchase = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id", "request", "buyer", "commodity", "currency", "status", "round", "expires_at", "buyer_accepted",
            "reason", "parts", "explanation", "purchase", "created_at",
        ]  # fmt: skip

    @extend_schema_field(ProposalPartSerializer(many=True))
    def get_parts(self, obj) -> list[dict]:
        parts = self.context["parts"](obj)
        return ProposalPartSerializer(parts, many=True).data

    def get_buyer_accepted(self, obj) -> bool:
        return obj.buyer_accepted_at is not None

    def get_purchase(self, obj) -> str | None:
        consignment = getattr(obj, "consignment", None) if obj.status == Proposal.Status.ACCEPTED else None
        return consignment.purchase.reference if consignment else None

    def get_explanation(self, obj) -> dict:
        """The buyer sees the alternatives considered; a cooperative only its own part's figures."""
        return obj.explanation if self.context["is_buyer"](obj) else {}


class CounterInputSerializer(serializers.Serializer):
    grams = BoundedIntegerField(
        column=column(ProposalPart, "grams"),
        domain="grams",
        min_value=1,
        required=False,
        help_text="Another quantity for the part.",
    )
    price_per_tonne_minor = BoundedIntegerField(
        column=column(ProposalPart, "price_per_tonne_minor"),
        domain="unit_price",
        min_value=1,
        required=False,
        help_text="Another price per tonne (minor units), at most the request's highest price.",
    )
    part = IdField(required=False, help_text="The part to change (buyer only).")

    def validate(self, attrs):
        if "grams" not in attrs and "price_per_tonne_minor" not in attrs:
            raise serializers.ValidationError({"grams": "Give another quantity, another price per tonne, or both."})
        return attrs


class MatchingReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
