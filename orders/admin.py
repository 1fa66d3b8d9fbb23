"""Orders in the admin: read-only. Every change goes through the services (the pages, the API, the tasks):
an order's status only through order_transition."""

from django.contrib import admin

from orders.models import Dispute, Invoice, Notification, Order, OrderEvent, OrderLine, Purchase


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["position", "description", "quantity", "quantity_unit", "unit_price_amount", "price_unit",
              "line_total_amount", "quantity_dispatched", "quantity_received", "amount_due"]  # fmt: skip
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    fields = ["occurred_at", "from_status", "to_status", "side", "role", "actor", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "kind", "seller", "buyer", "total_amount", "currency", "created_at"]
    list_filter = ["status", "kind", "currency"]
    search_fields = ["number", "purchase__reference", "seller__legal_name", "buyer__legal_name"]
    list_select_related = ["seller", "buyer"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, OrderEventInline]


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["reference", "buyer", "currency", "created_at"]
    search_fields = ["reference", "buyer__legal_name"]
    list_select_related = ["buyer"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["order", "opened_at", "decision", "refund_amount", "decided_at"]
    list_filter = ["decision"]
    list_select_related = ["order"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "seller", "order", "amount", "currency", "issued_at"]
    search_fields = ["number", "order__number"]
    list_select_related = ["seller", "order"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["order", "event", "channel", "recipient", "created_at", "sent_at"]
    list_filter = ["channel"]
    search_fields = ["order__number", "recipient"]
    list_select_related = ["order", "event"]
