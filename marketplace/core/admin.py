from django.contrib import admin

from marketplace.core.models import AuditEvent


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
