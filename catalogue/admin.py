"""Admin for the catalogue. Reference data (commodities, grades, packaging) is edited here; an organisation's
records are written by the services, so the admin shows them read-only (deliveries, lots and shares are
append-only in the database anyway)."""

from django.contrib import admin

from catalogue.models import (
    Certification,
    Commodity,
    CooperativeTraceSettings,
    Delivery,
    DeliveryReceiptSms,
    Grade,
    InputProduct,
    Listing,
    Location,
    Lot,
    LotContribution,
    LotIntake,
    LotLineage,
    NumberSequence,
    OfferRegion,
    OrganisationCode,
    Packaging,
    PriceTier,
    SupplierOffer,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only services write: viewable and searchable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Reference data ---------------------------------------------------------------------


class GradeInline(admin.TabularInline):
    model = Grade
    extra = 0
    fields = ["rank", "code", "name", "max_moisture_pct", "max_defects_pct", "min_screen_size"]
    ordering = ["rank"]


@admin.register(Commodity)
class CommodityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "hs_code", "eudr_commodity", "default_unit", "is_active"]
    list_filter = ["eudr_commodity", "is_active", "default_unit"]
    search_fields = ["name", "code", "hs_code"]
    inlines = [GradeInline]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["name", "commodity", "rank", "code", "max_moisture_pct", "max_defects_pct", "min_screen_size"]
    list_filter = ["commodity"]
    search_fields = ["name", "code", "commodity__name"]
    list_select_related = ["commodity"]
    ordering = ["commodity__name", "rank"]


@admin.register(Packaging)
class PackagingAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "net_mass_grams", "net_volume_ml", "unit_count", "tare_grams"]
    search_fields = ["name", "code"]


@admin.register(InputProduct)
class InputProductAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organisation", "crop", "variety", "npk_formula", "active_ingredient", "packaging"]
    list_filter = ["kind"]
    search_fields = ["name", "variety", "active_ingredient", "organisation__legal_name"]
    list_select_related = ["organisation", "crop", "packaging"]
    autocomplete_fields = ["crop", "packaging"]
    raw_id_fields = ["organisation"]


# --- An organisation's records (read-only) ----------------------------------------------


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "organisation", "is_collection_point", "is_warehouse", "region", "is_active"]
    list_filter = ["is_collection_point", "is_warehouse", "is_active", "country"]
    search_fields = ["name", "code", "organisation__legal_name", "region"]
    list_select_related = ["organisation"]


@admin.register(Certification)
class CertificationAdmin(ReadOnlyAdmin):
    list_display = ["certificate_number", "scheme", "organisation", "certifying_body", "valid_from", "valid_until"]
    list_filter = ["scheme"]
    search_fields = ["certificate_number", "organisation__legal_name", "certifying_body"]
    list_select_related = ["organisation"]
    date_hierarchy = "valid_until"


@admin.register(OrganisationCode)
class OrganisationCodeAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "organisation"]
    search_fields = ["prefix", "organisation__legal_name"]
    list_select_related = ["organisation"]


@admin.register(NumberSequence)
class NumberSequenceAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "scope", "year", "last_value"]
    list_filter = ["scope", "year"]
    search_fields = ["organisation__legal_name"]
    list_select_related = ["organisation"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "receipt_number", "kind", "delivered_on", "organisation", "farmer", "commodity", "grade", "net_grams",
        "moisture_pct", "collection_point", "recorded_by",
    ]  # fmt: skip
    list_filter = ["kind", "commodity", "delivered_on"]
    search_fields = ["receipt_number", "farmer__name", "farmer__member_number", "organisation__legal_name"]
    list_select_related = ["organisation", "farmer", "commodity", "grade", "collection_point", "recorded_by"]
    date_hierarchy = "delivered_on"


@admin.register(DeliveryReceiptSms)
class DeliveryReceiptSmsAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "outcome", "to", "handled_at"]
    list_filter = ["outcome"]
    search_fields = ["delivery__receipt_number", "to"]
    list_select_related = ["delivery"]


class LotContributionInline(ReadOnlyInline):
    model = LotContribution
    fields = ["farmer", "delivery", "grams"]
    readonly_fields = fields


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ["code", "organisation", "commodity", "grade", "quantity_grams", "status", "origin",
                    "storage_location", "created_at"]  # fmt: skip
    list_filter = ["status", "origin", "commodity"]
    search_fields = ["code", "public_id", "organisation__legal_name"]
    list_select_related = ["organisation", "commodity", "grade", "storage_location"]
    date_hierarchy = "created_at"
    inlines = [LotContributionInline]


@admin.register(LotContribution)
class LotContributionAdmin(ReadOnlyAdmin):
    list_display = ["lot", "farmer", "delivery", "grams"]
    search_fields = ["lot__code", "farmer__name", "farmer__member_number", "delivery__receipt_number"]
    list_select_related = ["lot", "farmer", "delivery"]


@admin.register(LotIntake)
class LotIntakeAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "lot", "grams"]
    search_fields = ["lot__code", "delivery__receipt_number"]
    list_select_related = ["lot", "delivery"]


@admin.register(LotLineage)
class LotLineageAdmin(ReadOnlyAdmin):
    list_display = ["parent", "child", "grams"]
    search_fields = ["parent__code", "child__code"]
    list_select_related = ["parent", "child"]


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "lot", "commodity", "grade", "price_amount", "currency", "price_unit",
                    "quantity_available_grams", "status", "valid_until"]  # fmt: skip
    list_filter = ["status", "commodity", "currency", "delivery_terms"]
    search_fields = ["title", "lot__code", "organisation__legal_name", "region"]
    list_select_related = ["organisation", "lot", "commodity", "grade"]
    date_hierarchy = "created_at"


class PriceTierInline(ReadOnlyInline):
    model = PriceTier
    fields = ["min_packs", "unit_price_amount"]
    readonly_fields = fields


class OfferRegionInline(ReadOnlyInline):
    model = OfferRegion
    fields = ["country", "region"]
    readonly_fields = fields


@admin.register(SupplierOffer)
class SupplierOfferAdmin(ReadOnlyAdmin):
    list_display = ["product", "organisation", "currency", "stock_packs", "lead_time_days", "status", "valid_until"]
    list_filter = ["status", "currency", "product__kind"]
    search_fields = ["product__name", "organisation__legal_name"]
    list_select_related = ["product", "organisation"]
    inlines = [PriceTierInline, OfferRegionInline]


@admin.register(PriceTier)
class PriceTierAdmin(ReadOnlyAdmin):
    list_display = ["offer", "min_packs", "unit_price_amount"]
    search_fields = ["offer__product__name"]
    list_select_related = ["offer", "offer__product", "offer__organisation"]


@admin.register(OfferRegion)
class OfferRegionAdmin(ReadOnlyAdmin):
    list_display = ["offer", "country", "region"]
    list_filter = ["country"]
    search_fields = ["region", "offer__product__name"]
    list_select_related = ["offer", "offer__product", "offer__organisation"]


@admin.register(CooperativeTraceSettings)
class CooperativeTraceSettingsAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "show_producers", "updated_at", "updated_by"]
    list_filter = ["show_producers"]
    search_fields = ["organisation__legal_name", "organisation__display_name"]
    list_select_related = ["organisation", "updated_by"]
