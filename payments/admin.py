"""Read-only admin views of payments: money changes only through the services (house rule 1)."""

from django.contrib import admin

from payments.models import ChargeDispute, OperatorAlert, Payment, PayoutAccount, ProviderEvent, Refund, Transfer


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "provider", "reference", "amount", "currency", "status", "created_at"]
    list_filter = ["provider", "status", "currency"]
    search_fields = ["reference", "order__number"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "amount", "currency", "reason", "status", "reference", "created_at"]
    list_filter = ["reason", "status"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "organisation", "amount", "currency", "status", "amount_reversed", "reference"]
    list_filter = ["status"]


@admin.register(PayoutAccount)
class PayoutAccountAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "provider", "reference", "details_submitted", "payouts_enabled"]


@admin.register(ChargeDispute)
class ChargeDisputeAdmin(ReadOnlyAdmin):
    list_display = ["reference", "order", "amount", "currency", "status", "opened_at", "closed_at"]
    list_filter = ["status"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "event_id", "type", "received_at", "processed_at", "outcome"]
    list_filter = ["provider", "outcome", "type"]
    search_fields = ["event_id"]


@admin.register(OperatorAlert)
class OperatorAlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "order", "message"]
    list_filter = ["kind"]
