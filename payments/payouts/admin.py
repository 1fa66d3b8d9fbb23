"""Member payouts in the admin: read-only. Batches move only through payout_batch_transition, and the levy is set
by the cooperative's managers through payout_policy_set (the pages, the API)."""

from django.contrib import admin

from payments.payouts.models import CooperativePayoutPolicy, PayoutBatch, PayoutLine, PayoutSms


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    extra = 0
    fields = ["farmer", "gross_amount", "levy_amount", "credit_amount", "net_amount", "phone", "paid_at",
              "provider_reference"]  # fmt: skip
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ["reference", "organisation", "status", "currency", "proceeds_amount", "net_amount", "proposed_at"]
    list_filter = ["status", "currency"]
    search_fields = ["organisation__legal_name"]
    list_select_related = ["organisation"]
    inlines = [PayoutLineInline]


@admin.register(CooperativePayoutPolicy)
class CooperativePayoutPolicyAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "levy_bp", "updated_by", "updated_at"]


@admin.register(PayoutSms)
class PayoutSmsAdmin(ReadOnlyAdmin):
    list_display = ["line", "outcome", "to", "handled_at"]
    list_filter = ["outcome"]
