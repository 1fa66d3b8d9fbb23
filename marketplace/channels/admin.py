from django.contrib import admin

from marketplace.channels.models import DeliveryReport, FarmerPin, Message, UssdSession


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnly):
    list_display = ["created_at", "direction", "phone", "status", "segments", "encoding", "cost", "gateway"]
    list_filter = ["direction", "status", "gateway"]
    search_fields = ["phone", "provider_message_id", "idempotency_key"]


@admin.register(DeliveryReport)
class DeliveryReportAdmin(ReadOnly):
    list_display = ["received_at", "provider_message_id", "status", "failure_reason", "applied_at"]
    list_filter = ["status"]
    search_fields = ["provider_message_id"]


@admin.register(UssdSession)
class UssdSessionAdmin(ReadOnly):
    list_display = ["started_at", "session_id", "phone", "last_text", "ended"]
    search_fields = ["session_id", "phone"]


@admin.register(FarmerPin)
class FarmerPinAdmin(ReadOnly):
    list_display = ["farmer", "set_at", "failed_attempts", "locked_at"]
    exclude = ["pin_hash"]
