"""Request and response bodies of the catalogue API. Requests only parse (kg to grams, decimals to Money);
the services decide and say what to fix."""

from decimal import Decimal

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.api.schema import NamedChoiceField
from catalogue.models import (
    Certification,
    Commodity,
    Delivery,
    Grade,
    InputProduct,
    Listing,
    Location,
    Lot,
    LotContribution,
    LotLineage,
    OfferRegion,
    Packaging,
    PriceTier,
    PriceUnit,
    SupplierOffer,
)
from catalogue.selectors import LISTING_ORDERINGS, OFFER_ORDERINGS
from marketplace.core.api.fields import BoundedIntegerField, IdField, IdListField
from marketplace.core.bounds import MAX_GRAMS, MAX_LIST, MAX_UNIT_PRICE, column
from marketplace.core.money import Money
from marketplace.core.quantities import from_base_units, to_base_units
from marketplace.organisations.models import MemberFarmer, Organisation, Plot
from traceability.dds import EU_COUNTRIES

KG_HELP = "Kilograms; up to 3 decimals (grams)."


def grams(kilograms: Decimal | None) -> int | None:
    return None if kilograms is None else to_base_units(kilograms, "KGM")


def kg(grams_value: int | None) -> str | None:
    return None if grams_value is None else f"{from_base_units(grams_value, 'KGM').normalize():f}"


class CurrencyCodeField(serializers.CharField):
    """An ISO 4217 code, upper-cased; whether it is the right one is for the service to say."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("help_text", "ISO 4217 code, e.g. XOF.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).upper()
        if not value.isalpha():
            raise serializers.ValidationError("Give an ISO 4217 currency code of three letters, e.g. XOF.")
        return value


class KilogramField(serializers.DecimalField):
    """A mass in kilograms, read as a decimal and turned into integer grams by the view."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 15)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("help_text", KG_HELP)
        kwargs.setdefault("min_value", -Decimal(MAX_GRAMS) / 1000)  # a negative mass: the service says what to fix
        kwargs.setdefault("max_value", Decimal(MAX_GRAMS) / 1000)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "nullable": True, "pattern": r"^-?\d+(?:\.\d{1,3})?$"})
class GramsAsKilograms(serializers.Field):
    """Integer grams shown as a decimal string of kilograms ("187.5")."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return kg(value)


# --- Small references ---------------------------------------------------------------------


class MoneyAmountSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=20, decimal_places=3, coerce_to_string=True, help_text="In major units (e.g. 1500 XOF, 12.50 EUR)."
    )
    currency = serializers.CharField(help_text="ISO 4217 code.")
    amount_minor = serializers.IntegerField(help_text="In minor units (cents); equal to `amount` for XOF, RWF, UGX.")

    def to_representation(self, instance: Money):
        return {"amount": str(instance.to_decimal()), "currency": instance.currency, "amount_minor": instance.amount}


class OrganisationRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    country = CountryField(read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "country", "region"]
        read_only_fields = fields


class CommodityRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Commodity
        fields = ["id", "code", "name"]
        read_only_fields = fields


class GradeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grade
        fields = ["id", "code", "name", "rank"]
        read_only_fields = fields


class LocationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name", "region"]
        read_only_fields = fields


class FarmerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberFarmer
        fields = ["id", "member_number", "name"]
        read_only_fields = fields


class PlotRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plot
        fields = ["id", "name"]
        read_only_fields = fields


class PackagingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Packaging
        fields = ["id", "code", "name", "net_mass_grams", "net_volume_ml", "unit_count", "tare_grams"]
        read_only_fields = fields


# --- Reference data -----------------------------------------------------------------------


class GradeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grade
        fields = ["id", "code", "name", "rank", "max_moisture_pct", "max_defects_pct", "min_screen_size"]
        read_only_fields = fields


class CommoditySerializer(serializers.ModelSerializer):
    eudr_relevant = serializers.BooleanField(read_only=True)
    grades = GradeSerializer(many=True, read_only=True)

    class Meta:
        model = Commodity
        fields = ["id", "code", "name", "hs_code", "eudr_commodity", "eudr_relevant", "default_unit", "grades"]
        read_only_fields = fields


# --- Locations and certifications ---------------------------------------------------------


class LocationSerializer(serializers.ModelSerializer):
    country = CountryField(read_only=True)

    class Meta:
        model = Location
        fields = ["id", "code", "name", "is_collection_point", "is_warehouse", "country", "region", "latitude",
                  "longitude", "is_active"]  # fmt: skip
        read_only_fields = fields


class LocationCreateSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=100)
    is_collection_point = serializers.BooleanField(default=True)
    is_warehouse = serializers.BooleanField(default=False)
    country = CountryField(required=False, help_text="ISO 3166-1 alpha-2; the organisation's country if omitted.")
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )


class CertificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = ["id", "scheme", "certificate_number", "certifying_body", "valid_from", "valid_until"]
        read_only_fields = fields


class CertificationCreateSerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=Certification.Scheme.choices)
    certificate_number = serializers.CharField(max_length=64)
    certifying_body = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()


# --- Deliveries ---------------------------------------------------------------------------


class DeliveryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "receipt_number"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(enum_name="DeliveryKindEnum", choices=Delivery.Kind.choices, read_only=True)
    collection_point = LocationRefSerializer(read_only=True)
    farmer = FarmerRefSerializer(read_only=True)
    plot = PlotRefSerializer(read_only=True, allow_null=True)
    commodity = CommodityRefSerializer(read_only=True)
    grade = GradeRefSerializer(read_only=True)
    downgraded_from = GradeRefSerializer(read_only=True, allow_null=True)
    packaging = PackagingSerializer(read_only=True, allow_null=True)
    net_kg = GramsAsKilograms(source="net_grams")
    gross_kg = GramsAsKilograms(source="gross_grams")
    reverses = DeliveryRefSerializer(read_only=True, allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.email", read_only=True)
    is_reversed = serializers.BooleanField(read_only=True, help_text="A reversing entry names this delivery.")
    lot_code = serializers.CharField(
        source="bulked_lot_code", read_only=True, allow_null=True, help_text="The lot it was bulked into, if any."
    )

    class Meta:
        model = Delivery
        fields = [
            "id", "receipt_number", "kind", "organisation", "collection_point", "farmer", "plot", "commodity",
            "grade", "downgraded_from", "packaging", "bag_count", "gross_grams", "net_grams", "gross_kg", "net_kg",
            "moisture_pct", "delivered_on", "recorded_by", "recorded_at", "reverses", "reason", "is_reversed",
            "lot_code", "client_reference",
        ]  # fmt: skip
        read_only_fields = fields


class DeliveryCreateSerializer(serializers.Serializer):
    collection_point = IdField(help_text="Id of one of the cooperative's collection points.")
    farmer = IdField(help_text="Id of the member farmer who delivers.")
    plot = IdField(
        required=False, allow_null=True, help_text="The member's plot; required for EUDR commodities (cocoa, coffee…)."
    )
    commodity = IdField()
    grade = IdField(help_text="A grade of that commodity.")
    moisture_pct = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Measured moisture, 0–100 %.")
    net_weight_kg = KilogramField(required=False, allow_null=True, help_text="Net weight in kg. Or give bags.")
    gross_weight_kg = KilogramField(
        required=False, allow_null=True, help_text="Gross weight in kg; net + packaging tare if omitted."
    )
    bags = BoundedIntegerField(
        column=column(Delivery, "bag_count"), domain="bags", required=False, default=0, help_text="Number of bags."
    )
    packaging = IdField(
        required=False, allow_null=True, help_text="The bags' packaging: net weight = bags × its declared net mass."
    )
    downgrade_to = IdField(
        required=False, allow_null=True, help_text="A lower grade, when moisture is above the declared grade's limit."
    )
    delivered_on = serializers.DateField(required=False, allow_null=True, help_text="Today if omitted.")
    client_reference = serializers.UUIDField(
        required=False, allow_null=True, help_text="Your own id for this entry: sending it again records nothing new."
    )

    def service_fields(self) -> dict:
        data = self.validated_data
        return {
            "collection_point_id": data["collection_point"],
            "farmer_id": data["farmer"],
            "plot_id": data.get("plot"),
            "commodity_id": data["commodity"],
            "grade_id": data["grade"],
            "moisture_pct": data["moisture_pct"],
            "net_grams": grams(data.get("net_weight_kg")),
            "gross_grams": grams(data.get("gross_weight_kg")),
            "bag_count": data["bags"],
            "packaging_id": data.get("packaging"),
            "downgrade_to_grade_id": data.get("downgrade_to"),
            "delivered_on": data.get("delivered_on"),
            "client_reference": data.get("client_reference"),
        }


class DeliveryListQuerySerializer(serializers.Serializer):
    farmer = IdField(required=False, help_text="Only this member farmer's deliveries.")
    commodity = IdField(required=False, help_text="Only this commodity (an id).")
    bulkable = serializers.BooleanField(
        required=False, default=False, help_text="Only deliveries not yet in a lot and not reversed."
    )
    page = BoundedIntegerField(domain="page", required=False)
    page_size = BoundedIntegerField(domain="page_size", required=False)


class DeliveryReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="What was wrong with the delivery.")


# --- Lots ---------------------------------------------------------------------------------


class LotSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(enum_name="LotStatusEnum", choices=Lot.Status.choices, read_only=True)
    origin = NamedChoiceField(enum_name="LotOriginEnum", choices=Lot.Origin.choices, read_only=True)
    commodity = CommodityRefSerializer(read_only=True)
    grade = GradeRefSerializer(read_only=True)
    storage_location = LocationRefSerializer(read_only=True)
    quantity_kg = GramsAsKilograms(source="quantity_grams")
    member_count = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Lot
        fields = ["id", "code", "public_id", "organisation", "commodity", "grade", "quantity_grams", "quantity_kg",
                  "status", "origin", "storage_location", "member_count", "created_at", "closed_at"]  # fmt: skip
        read_only_fields = fields


class LotShareSerializer(serializers.ModelSerializer):
    farmer = FarmerRefSerializer(read_only=True)
    delivery = DeliveryRefSerializer(read_only=True)
    kg = GramsAsKilograms(source="grams")

    class Meta:
        model = LotContribution
        fields = ["farmer", "delivery", "grams", "kg"]
        read_only_fields = fields


class LotParentSerializer(serializers.ModelSerializer):
    lot = serializers.CharField(source="parent.code", read_only=True)
    lot_id = serializers.IntegerField(source="parent_id", read_only=True)

    class Meta:
        model = LotLineage
        fields = ["lot_id", "lot", "grams"]
        read_only_fields = fields


class LotChildSerializer(serializers.ModelSerializer):
    lot = serializers.CharField(source="child.code", read_only=True)
    lot_id = serializers.IntegerField(source="child_id", read_only=True)

    class Meta:
        model = LotLineage
        fields = ["lot_id", "lot", "grams"]
        read_only_fields = fields


class LotListingSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(enum_name="ListingStatusEnum", choices=Listing.Status.choices, read_only=True)

    class Meta:
        model = Listing
        fields = ["id", "title", "status", "quantity_offered_grams", "quantity_available_grams"]
        read_only_fields = fields


class LotDetailSerializer(LotSerializer):
    shares = LotShareSerializer(source="contributions", many=True, read_only=True)
    parents = LotParentSerializer(source="parent_links", many=True, read_only=True)
    children = LotChildSerializer(source="children_links", many=True, read_only=True)
    listings = LotListingSerializer(many=True, read_only=True)

    class Meta(LotSerializer.Meta):
        fields = [*LotSerializer.Meta.fields, "shares", "parents", "children", "listings"]
        read_only_fields = fields


class LotListQuerySerializer(serializers.Serializer):
    status = NamedChoiceField(enum_name="LotStatusEnum", choices=Lot.Status.choices, required=False)
    page = BoundedIntegerField(domain="page", required=False)
    page_size = BoundedIntegerField(domain="page_size", required=False)


class LotBulkSerializer(serializers.Serializer):
    deliveries = IdListField(help_text="Ids of the deliveries to bulk.")
    storage_location = IdField(help_text="Id of the warehouse the lot lies in.")


class LotSplitSerializer(serializers.Serializer):
    parts_kg = serializers.ListField(
        child=KilogramField(),
        help_text="Sizes of the new lots in kg. If they add up to less than the lot, the rest is one more lot.",
    )
    storage_locations = serializers.ListField(
        child=IdField(allow_null=True), max_length=MAX_LIST, required=False, help_text="Warehouse per part (optional)."
    )


class LotMergeSerializer(serializers.Serializer):
    lots = IdListField(help_text="Ids of two or more open lots.")
    storage_location = IdField(required=False, allow_null=True)


class LotTransitionSerializer(serializers.Serializer):
    status = NamedChoiceField(enum_name="LotStatusEnum", choices=Lot.Status.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LotMoveSerializer(serializers.Serializer):
    storage_location = IdField()


# --- Listings -----------------------------------------------------------------------------


class ListingCertificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = ["scheme", "certificate_number", "certifying_body", "valid_until"]
        read_only_fields = fields


class ListingLotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lot
        fields = ["code", "public_id"]
        read_only_fields = fields


class ListingSerializer(serializers.ModelSerializer):
    """A listing as everyone sees it."""

    organisation = OrganisationRefSerializer(read_only=True)
    lot = ListingLotSerializer(read_only=True)
    commodity = CommodityRefSerializer(read_only=True)
    grade = GradeRefSerializer(read_only=True)
    price = MoneyAmountSerializer(read_only=True)
    quantity_available_kg = GramsAsKilograms(source="quantity_available_grams")
    min_order_kg = GramsAsKilograms(source="min_order_grams")
    pickup_location = LocationRefSerializer(read_only=True, allow_null=True)
    country = CountryField(read_only=True)
    certifications = ListingCertificationSerializer(many=True, read_only=True)
    distance_km = serializers.SerializerMethodField(help_text="From the search point, when one was given.")
    status = NamedChoiceField(enum_name="ListingStatusEnum", choices=Listing.Status.choices, read_only=True)
    photo = serializers.FileField(read_only=True, allow_null=True, use_url=True)

    class Meta:
        model = Listing
        fields = [
            "id", "public_id", "title", "description", "organisation", "lot", "commodity", "grade", "price",
            "price_unit", "price_per_tonne_minor", "quantity_available_grams", "quantity_available_kg",
            "min_order_grams", "min_order_kg", "delivery_terms", "pickup_location", "country", "region", "latitude",
            "longitude", "distance_km", "available_from", "valid_until", "certifications", "photo", "status",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_distance_km(self, listing) -> float | None:
        distance = getattr(listing, "distance_km", None)
        return None if distance is None else round(distance, 1)


class OwnListingSerializer(ListingSerializer):
    """A listing as its cooperative's members see it: with what is reserved and sold."""

    class Meta(ListingSerializer.Meta):
        fields = [*ListingSerializer.Meta.fields, "quantity_offered_grams", "quantity_reserved_grams",
                  "quantity_sold_grams", "updated_at"]  # fmt: skip
        read_only_fields = fields


class ListingCreateSerializer(serializers.Serializer):
    lot = IdField(help_text="Id of an open or listed lot of the cooperative.")
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    price = serializers.DecimalField(
        max_digits=18,
        decimal_places=3,
        min_value=0,
        max_value=MAX_UNIT_PRICE,
        help_text="In major units of `currency`.",
    )
    currency = CurrencyCodeField(help_text="Must be the cooperative's currency.")
    price_unit = serializers.ChoiceField(choices=PriceUnit.choices, default=PriceUnit.PER_KILOGRAM)
    quantity_kg = KilogramField(help_text="How much of the lot to offer, in kg.")
    min_order_kg = KilogramField(help_text="The smallest order accepted, in kg.")
    delivery_terms = serializers.ChoiceField(choices=Listing.DeliveryTerms.choices)
    pickup_location = IdField(required=False, allow_null=True, help_text="Warehouse id, for ex-warehouse listings.")
    delivery_country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    delivery_region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    available_from = serializers.DateField()
    valid_until = serializers.DateField()
    certifications = IdListField(required=False, default=list)
    photo = serializers.FileField(required=False, allow_null=True, help_text="JPEG, PNG or WebP, at most 5 MB.")


class ListingUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    price = serializers.DecimalField(
        max_digits=18, decimal_places=3, min_value=0, max_value=MAX_UNIT_PRICE, required=False
    )
    currency = CurrencyCodeField(required=False, help_text="Required with `price`.")
    price_unit = serializers.ChoiceField(choices=PriceUnit.choices, required=False)
    quantity_kg = KilogramField(required=False)
    min_order_kg = KilogramField(required=False)
    valid_until = serializers.DateField(required=False)
    certifications = IdListField(required=False)

    def validate(self, attrs):
        if "price" in attrs and "currency" not in attrs:
            raise serializers.ValidationError({"currency": "Give the currency with the price."})
        return attrs


class ListingListQuerySerializer(serializers.Serializer):
    status = NamedChoiceField(enum_name="ListingStatusEnum", choices=Listing.Status.choices, required=False)
    page = BoundedIntegerField(domain="page", required=False)
    page_size = BoundedIntegerField(domain="page_size", required=False)


class ListingTransitionSerializer(serializers.Serializer):
    status = NamedChoiceField(enum_name="ListingStatusEnum", choices=Listing.Status.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ListingSearchSerializer(serializers.Serializer):
    commodity = serializers.SlugField(required=False, help_text="Commodity code, e.g. cocoa-beans.")
    min_grade = serializers.SlugField(required=False, help_text="Grade code; this grade or better. Needs commodity.")
    country = serializers.CharField(max_length=2, required=False, help_text="ISO 3166-1 alpha-2.")
    region = serializers.CharField(max_length=100, required=False)
    lat = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, min_value=-90, max_value=90)
    lon = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, min_value=-180, max_value=180)
    radius_km = serializers.DecimalField(max_digits=7, decimal_places=1, required=False, min_value=Decimal("0.1"),
                                         max_value=5000, help_text="With lat and lon.")  # fmt: skip
    min_quantity_kg = KilogramField(required=False, min_value=Decimal(0))
    max_price = serializers.DecimalField(max_digits=18, decimal_places=3, required=False, min_value=Decimal(0))
    currency = CurrencyCodeField(required=False, help_text="The currency of max_price.")
    price_unit = serializers.ChoiceField(choices=PriceUnit.choices, default=PriceUnit.PER_KILOGRAM)
    certification = serializers.ChoiceField(choices=Certification.Scheme.choices, required=False)
    available_on = serializers.DateField(required=False, help_text="Available on this day.")
    ordering = serializers.ChoiceField(
        choices=sorted(LISTING_ORDERINGS), required=False, help_text="Default: distance with a point, else newest."
    )
    page = BoundedIntegerField(domain="page", required=False)
    page_size = BoundedIntegerField(domain="page_size", required=False)

    def validate(self, attrs):
        point = [name for name in ("lat", "lon", "radius_km") if name in attrs]
        if point and len(point) != 3:
            missing = ", ".join(name for name in ("lat", "lon", "radius_km") if name not in attrs)
            raise serializers.ValidationError({missing.split(", ")[0]: f"Give lat, lon and radius_km together "
                                                                      f"(missing: {missing})."})  # fmt: skip
        if "max_price" in attrs and "currency" not in attrs:
            raise serializers.ValidationError({"currency": "Give the currency of max_price, e.g. XOF."})
        if attrs.get("ordering") == "distance" and not point:
            raise serializers.ValidationError({"ordering": "Sorting by distance needs lat, lon and radius_km."})
        return attrs


# --- Input products and offers ------------------------------------------------------------


class InputProductSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(enum_name="InputProductKindEnum", choices=InputProduct.Kind.choices, read_only=True)
    organisation = OrganisationRefSerializer(read_only=True, allow_null=True)
    crop = CommodityRefSerializer(read_only=True, allow_null=True)
    packaging = PackagingSerializer(read_only=True)
    npk_formula = serializers.CharField(read_only=True)

    class Meta:
        model = InputProduct
        fields = ["id", "kind", "name", "organisation", "crop", "variety", "npk_formula", "nitrogen_pct",
                  "phosphorus_pct", "potassium_pct", "active_ingredient", "packaging", "description"]  # fmt: skip
        read_only_fields = fields


class InputProductCreateSerializer(serializers.Serializer):
    kind = NamedChoiceField(enum_name="InputProductKindEnum", choices=InputProduct.Kind.choices)
    name = serializers.CharField(max_length=120)
    packaging = IdField(help_text="Id of the packaging the product is sold in.")
    crop = IdField(required=False, allow_null=True, help_text="Seed: the crop (a commodity id).")
    variety = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    npk = serializers.RegexField(
        r"^\d{1,3}-\d{1,3}-\d{1,3}$", required=False, allow_blank=True, default="",
        help_text="Fertiliser: N-P-K percentages, e.g. 17-17-17.",
        error_messages={"invalid": "Write the NPK formula as three numbers, e.g. 17-17-17."},
    )  # fmt: skip
    active_ingredient = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def service_fields(self) -> dict:
        data = dict(self.validated_data)
        npk = data.pop("npk")
        return {
            **{k: v for k, v in data.items() if k not in {"packaging", "crop"}},
            "packaging_id": data["packaging"],
            "crop_id": data.get("crop"),
            "npk": tuple(int(part) for part in npk.split("-")) if npk else None,
        }


# The schema of a new input product, one body per kind (the view parses InputProductCreateSerializer and the service
# requires the kind's own fields): a seed names its crop and variety, a fertiliser its NPK formula (each 0-100,
# together at most 100, not 0-0-0), crop protection its active ingredient; a tool needs nothing more.
def _kind(kind: str):
    return NamedChoiceField(enum_name=f"InputProductKind{kind.title().replace('_', '')}Enum",
                            choices=[(kind, InputProduct.Kind(kind).label)])  # fmt: skip


class SeedProductCreateSerializer(InputProductCreateSerializer):
    kind = _kind(InputProduct.Kind.SEED)
    crop = IdField(help_text="The crop (a commodity id).")
    variety = serializers.RegexField(r"\S", max_length=100, help_text="The seed variety.")


class FertiliserProductCreateSerializer(InputProductCreateSerializer):
    kind = _kind(InputProduct.Kind.FERTILISER)
    npk = serializers.RegexField(
        r"^\d{1,3}-\d{1,3}-\d{1,3}$", help_text="N-P-K percentages, e.g. 17-17-17: each 0-100, together at most "
        "100, not 0-0-0."
    )  # fmt: skip


class CropProtectionProductCreateSerializer(InputProductCreateSerializer):
    kind = _kind(InputProduct.Kind.CROP_PROTECTION)
    active_ingredient = serializers.RegexField(
        r"\S", max_length=200, help_text="The active ingredient(s), e.g. glyphosate 360 g/l."
    )


class ToolProductCreateSerializer(InputProductCreateSerializer):
    kind = _kind(InputProduct.Kind.TOOL)


class PriceTierOutSerializer(serializers.Serializer):
    min_packs = serializers.IntegerField()
    max_packs = serializers.IntegerField(allow_null=True, help_text="Empty for the open-ended last tier.")
    unit_price = MoneyAmountSerializer()


class OfferRegionSerializer(serializers.ModelSerializer):
    country = CountryField()
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                   help_text="Empty: the whole country.")  # fmt: skip

    class Meta:
        model = OfferRegion
        fields = ["country", "region"]


class SupplierOfferSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer(read_only=True)
    product = InputProductSerializer(read_only=True)
    tiers = serializers.SerializerMethodField()
    regions = OfferRegionSerializer(many=True, read_only=True)
    status = NamedChoiceField(enum_name="SupplierOfferStatusEnum", choices=SupplierOffer.Status.choices, read_only=True)
    unit_price_at_quantity = serializers.SerializerMethodField(
        help_text="Price per pack at the searched quantity (or of the first tier)."
    )

    class Meta:
        model = SupplierOffer
        fields = ["id", "public_id", "organisation", "product", "currency", "stock_packs", "max_order_packs",
                  "lead_time_days", "valid_from", "valid_until", "notes", "status", "tiers", "regions",
                  "unit_price_at_quantity", "created_at"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(PriceTierOutSerializer(many=True))
    def get_tiers(self, offer) -> list[dict]:
        tiers = list(offer.tiers.all())
        rows = []
        for index, tier in enumerate(tiers):
            upper = tiers[index + 1].min_packs - 1 if index + 1 < len(tiers) else offer.max_order_packs
            rows.append({"min_packs": tier.min_packs, "max_packs": upper,
                         "unit_price": Money(tier.unit_price_amount, offer.currency)})  # fmt: skip
        return PriceTierOutSerializer(rows, many=True).data

    @extend_schema_field(MoneyAmountSerializer(allow_null=True))
    def get_unit_price_at_quantity(self, offer) -> dict | None:
        amount = getattr(offer, "unit_price_at_quantity", None)
        return None if amount is None else MoneyAmountSerializer(Money(amount, offer.currency)).data


class PriceTierInSerializer(serializers.Serializer):
    min_packs = BoundedIntegerField(
        column=column(PriceTier, "min_packs"), domain="packs", min_value=1, help_text="From this many packs…"
    )
    max_packs = BoundedIntegerField(
        column=column(SupplierOffer, "max_order_packs"),
        domain="packs",
        min_value=1,
        required=False,
        allow_null=True,
        help_text="…up to this many; empty: and more.",
    )
    unit_price = serializers.DecimalField(
        max_digits=18, decimal_places=3, min_value=0, max_value=MAX_UNIT_PRICE, help_text="Per pack, in major units."
    )


class SupplierOfferCreateSerializer(serializers.Serializer):
    product = IdField()
    currency = CurrencyCodeField()
    stock_packs = BoundedIntegerField(column=column(SupplierOffer, "stock_packs"), domain="packs")
    tiers = PriceTierInSerializer(many=True, help_text="Ordered from the smallest quantity, touching, e.g. 1–99, "
                                                       "100–499, 500+.")  # fmt: skip
    regions = OfferRegionSerializer(many=True)
    lead_time_days = BoundedIntegerField(column=column(SupplierOffer, "lead_time_days"), domain="days")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SupplierOfferUpdateSerializer(serializers.Serializer):
    stock_packs = BoundedIntegerField(column=column(SupplierOffer, "stock_packs"), domain="packs", required=False)
    tiers = PriceTierInSerializer(many=True, required=False, help_text="Replaces all tiers.")
    regions = OfferRegionSerializer(many=True, required=False, help_text="Replaces all regions.")
    lead_time_days = BoundedIntegerField(column=column(SupplierOffer, "lead_time_days"), domain="days", required=False)
    valid_until = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class OfferListQuerySerializer(serializers.Serializer):
    status = NamedChoiceField(enum_name="SupplierOfferStatusEnum", choices=SupplierOffer.Status.choices, required=False)
    page = BoundedIntegerField(domain="page", required=False)
    page_size = BoundedIntegerField(domain="page_size", required=False)


class InputProductQuerySerializer(serializers.Serializer):
    kind = NamedChoiceField(enum_name="InputProductKindEnum", choices=InputProduct.Kind.choices, required=False)
    page = BoundedIntegerField(domain="page", required=False)
    page_size = BoundedIntegerField(domain="page_size", required=False)


class SupplierOfferTransitionSerializer(serializers.Serializer):
    status = NamedChoiceField(enum_name="SupplierOfferStatusEnum", choices=SupplierOffer.Status.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OfferSearchSerializer(serializers.Serializer):
    product = IdField(required=False)
    kind = NamedChoiceField(enum_name="InputProductKindEnum", choices=InputProduct.Kind.choices, required=False)
    crop = serializers.SlugField(required=False, help_text="Seed for this crop (commodity code).")
    country = serializers.CharField(max_length=2, required=False, help_text="Delivers to this country…")
    region = serializers.CharField(max_length=100, required=False, help_text="…and region.")
    quantity = BoundedIntegerField(domain="packs", min_value=1, required=False, help_text="Packs needed.")
    currency = CurrencyCodeField(required=False)
    ordering = serializers.ChoiceField(choices=sorted(OFFER_ORDERINGS), default="price")
    page = BoundedIntegerField(domain="page", required=False)
    page_size = BoundedIntegerField(domain="page_size", required=False)


class OfferQuoteQuerySerializer(serializers.Serializer):
    packs = BoundedIntegerField(domain="packs", min_value=1)


class OfferQuoteSerializer(serializers.Serializer):
    packs = serializers.IntegerField()
    unit_price = MoneyAmountSerializer()
    total = MoneyAmountSerializer()
    tier_min_packs = serializers.IntegerField(help_text="The breakpoint of the tier that prices this quantity.")


# --- EUDR due diligence ---------------------------------------------------------------------


class DueDiligenceSubjectSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["lot", "order"])
    reference = serializers.CharField(help_text="The lot code or the order number.")
    identifier = serializers.CharField(help_text="The lot's or order's URI in the event store.")


class DueDiligenceCooperativeSerializer(serializers.Serializer):
    name = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    identifier = serializers.CharField()


class DueDiligenceCommoditySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    eudr_commodity = serializers.CharField(help_text="cattle, cocoa, coffee, oil_palm, rubber, soya, wood; or empty.")
    hs_code = serializers.CharField()
    net_mass_kg = serializers.FloatField()


class DueDiligencePeriodSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True, help_text="The first contributing delivery's day.")
    end = serializers.DateField(allow_null=True, help_text="The last contributing delivery's day.")


class DueDiligenceMissingSerializer(serializers.Serializer):
    rule = serializers.CharField(
        help_text="GEOMETRY_MISSING and the other rule codes of traceability.eudr; PLOT_MISSING when a delivery "
        "names no plot; TRACE_MISSING or TRACE_INCOMPLETE when the history does not reach every delivery."
    )
    message = serializers.CharField(help_text="What to fix.")
    plot = serializers.IntegerField(allow_null=True)
    plot_name = serializers.CharField()
    farmer = serializers.CharField(help_text="The member number.")
    delivery = serializers.CharField(help_text="The receipt number.")


class DueDiligenceSerializer(serializers.Serializer):
    """The EUDR due-diligence package (see catalogue.due_diligence)."""

    package_version = serializers.IntegerField()
    subject = DueDiligenceSubjectSerializer()
    cooperative = DueDiligenceCooperativeSerializer()
    commodities = DueDiligenceCommoditySerializer(many=True)
    net_mass_kg = serializers.FloatField()
    countries_of_production = serializers.ListField(child=serializers.CharField())
    production_period = DueDiligencePeriodSerializer()
    plot_count = serializers.IntegerField()
    eudr_ready = serializers.BooleanField(help_text="True when every contributing plot has a valid geometry.")
    missing = DueDiligenceMissingSerializer(many=True)
    geolocation = serializers.JSONField(
        allow_null=True,
        help_text="A GeoJSON FeatureCollection, one Feature per plot with the properties ProducerName, "
        "ProducerCountry, ProductionPlace and Area (ha); null until the package is ready.",
    )


class StatementQuerySerializer(serializers.Serializer):
    """How the statement is made: the activity, whether the geolocation is confidential, and the EU countries."""

    activity_type = serializers.ChoiceField(
        choices=["IMPORT", "EXPORT", "DOMESTIC"],
        required=False,
        help_text="Default: EXPORT for the selling cooperative, IMPORT for a buyer.",
    )
    confidential = serializers.BooleanField(
        required=False, default=True, help_text="geoLocationConfidential: hide the plots from downstream operators."
    )
    country_of_activity = serializers.ChoiceField(
        choices=sorted(EU_COUNTRIES), required=False, help_text="EU Member State where the activity takes place."
    )
    border_cross_country = serializers.ChoiceField(
        choices=sorted(EU_COUNTRIES), required=False, help_text="EU country of entry (import) or exit (export)."
    )


class StatementSetSerializer(serializers.Serializer):
    """One or more submitDds requests (EU Information System DDS V3) as JSON, each with the operator's details."""

    format = serializers.CharField()
    subject = serializers.CharField(help_text="The lot URI or order URI the statement covers.")
    activity_type = serializers.ChoiceField(choices=["IMPORT", "EXPORT", "DOMESTIC"])
    split = serializers.BooleanField(help_text="True when the EU limits forced more than one statement.")
    notes = serializers.ListField(child=serializers.CharField())
    valid = serializers.BooleanField(help_text="True when every part passes the EU field rules checked here.")
    errors = serializers.ListField(child=serializers.CharField())
    statements = serializers.ListField(
        child=serializers.JSONField(),
        help_text="Each: {operatorRole, operator (EconomicOperatorIdentificationType), statement "
        "(DueDiligenceStatementBaseType: internalReferenceNumber, activityType, commodities[descriptors, hsHeading, "
        "producers[country, name, geometryGeojson (base64 GeoJSON)]], geoLocationConfidential, groupedDeclarations)}.",
    )


class StatementReferenceSerializer(serializers.Serializer):
    reference_number = serializers.RegexField(
        r"^[A-Za-z0-9-]{1,14}$", max_length=14, help_text="The upstream statement's reference number (EU IS)."
    )
    verification_number = serializers.CharField(min_length=5, max_length=35)
    recorded_at = serializers.DateTimeField(read_only=True)
