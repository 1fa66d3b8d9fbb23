"""Read-only admin for the event store: events are append-only and corrected only through services."""

from django.contrib import admin

from traceability.models import ChainHead, Event, EventLot


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EventLotInline(admin.TabularInline):
    model = EventLot
    fields = ["role", "position", "lot_uri", "grams"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "sequence", "event_type", "action", "biz_step", "event_time", "declares"]
    list_filter = ["event_type", "biz_step", "action"]
    search_fields = ["event_id", "lots__lot_uri"]
    date_hierarchy = "record_time"
    list_select_related = ["organisation", "declares"]
    inlines = [EventLotInline]
    readonly_fields = [field.name for field in Event._meta.fields]


@admin.register(ChainHead)
class ChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "last_sequence", "last_hash"]
    readonly_fields = ["organisation", "last_sequence", "last_hash"]
