from django.contrib import admin

from marketplace.decisions.models import Decision


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["question", "organisation", "kind", "status", "closes_at", "outcome"]
    list_filter = ["status", "kind"]
    readonly_fields = [field.name for field in Decision._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
