from django.contrib import admin

from marketplace.core.models import AuditEvent, OutboxMessage


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "action", "subject_type", "subject_id", "from_status", "to_status", "actor"]
    list_filter = ["action", "subject_type"]
    search_fields = ["subject_id", "reason", "actor__email"]
    date_hierarchy = "occurred_at"
    list_select_related = ["actor"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "created_at", "task_name", "sent_at", "attempts", "last_error"]
    list_filter = ["task_name"]
    search_fields = ["task_name", "key"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
