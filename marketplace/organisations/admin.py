"""Admin for organisations, people, member farmers and plots.

The admin is the operator's back office. Like every other entry point it writes through the services:
organisation details through `organisation_create` / `organisation_update`, verification only through the
`organisation_verification_transition` actions (the status field itself is read-only). Memberships,
invitations, member farmers and plots are the organisations' own records, changed in the app by their
staff; here they are read-only, for support and audit.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from marketplace.core.errors import DomainError
from marketplace.organisations import services
from marketplace.organisations.models import Invitation, MemberFarmer, Membership, Organisation, Plot, User


class ReadOnlyAdminMixin:
    """View-only: these records change through the services, in the app."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Users -------------------------------------------------------------------------------------


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class UserMembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ["organisation", "role", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "preferred_language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ["email", "full_name", "is_active", "is_staff", "is_superuser", "last_login", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role", "memberships__organisation__kind"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [UserMembershipInline]


# --- Organisations -----------------------------------------------------------------------------


class VerificationActionForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        help_text=_("Needed to reject or suspend; kept in the audit trail."),
    )


class OrganisationMembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    fk_name = "organisation"
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "legal_name",
        "display_name",
        "kind",
        "country",
        "region",
        "currency",
        "verification_status",
        "verified_at",
        "member_farmer_count",
    ]
    list_filter = ["kind", "verification_status", "country", "currency"]
    search_fields = ["legal_name", "display_name", "registration_number", "gln", "email", "region"]
    ordering = ["legal_name"]
    readonly_fields = ["verification_status", "verified_at", "created_at", "updated_at"]
    fieldsets = (
        (None, {"fields": ("kind", "legal_name", "display_name", "registration_number", "gln")}),
        (_("Place"), {"fields": ("country", "region", "address", "latitude", "longitude")}),
        (_("Contact and defaults"), {"fields": ("email", "phone", "currency", "preferred_language")}),
        (_("Verification"), {"fields": ("verification_status", "verified_at", "created_at", "updated_at")}),
    )
    inlines = [OrganisationMembershipInline]
    action_form = VerificationActionForm
    actions = ["verify", "reject", "suspend", "reopen"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_farmer_count=Count("member_farmers"))

    @admin.display(description=_("member farmers"), ordering="member_farmer_count")
    def member_farmer_count(self, obj: Organisation) -> int:
        return obj.member_farmer_count

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("kind")  # an organisation's kind never changes
        return fields

    # Saving goes through the services, which check that the user acts for the operator.

    def save_model(self, request, obj: Organisation, form, change: bool) -> None:
        editable = [name for name in services.ORGANISATION_FIELDS if name in form.cleaned_data]
        if change:
            fields = {name: form.cleaned_data[name] for name in editable if name in form.changed_data}
            saved = services.organisation_update(actor=request.user, organisation_id=obj.pk, **fields)
        else:
            fields = {name: form.cleaned_data[name] for name in editable}
            saved = services.organisation_create(actor=request.user, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # the transaction has been rolled back
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # organisations are rejected or suspended, never deleted

    # Verification: every change is one call of the transition service, audited there.

    def _transition(self, request, queryset, to_status: str) -> None:
        reason = request.POST.get("reason", "").strip()
        done = 0
        for organisation in queryset.order_by("pk"):
            try:
                services.organisation_verification_transition(
                    actor=request.user, organisation_id=organisation.pk, to_status=to_status, reason=reason
                )
                done += 1
            except DomainError as error:
                self.message_user(request, f"{organisation}: {error.message}", messages.ERROR)
        if done:
            label = Organisation.Verification(to_status).label
            self.message_user(request, _("%(count)d organisation(s) now %(status)s.") % {
                "count": done, "status": label}, messages.SUCCESS)  # fmt: skip

    @admin.action(description=_("Verify the selected organisations"), permissions=["change"])
    def verify(self, request, queryset) -> None:
        self._transition(request, queryset, Organisation.Verification.VERIFIED)

    @admin.action(description=_("Reject the selected organisations (give a reason)"), permissions=["change"])
    def reject(self, request, queryset) -> None:
        self._transition(request, queryset, Organisation.Verification.REJECTED)

    @admin.action(description=_("Suspend the selected organisations (give a reason)"), permissions=["change"])
    def suspend(self, request, queryset) -> None:
        self._transition(request, queryset, Organisation.Verification.SUSPENDED)

    @admin.action(description=_("Send rejected organisations back to pending"), permissions=["change"])
    def reopen(self, request, queryset) -> None:
        self._transition(request, queryset, Organisation.Verification.PENDING)


# --- Memberships and invitations (read-only) --------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__email", "user__full_name", "organisation__legal_name", "organisation__display_name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "organisation"]
    ordering = ["organisation__legal_name", "user__email"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email", "organisation", "role", "status", "invited_by", "created_at", "sent_at", "accepted_at"]
    list_filter = ["role", "organisation__kind", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "organisation__legal_name", "organisation__display_name", "invited_by__email"]
    list_select_related = ["organisation", "invited_by"]
    autocomplete_fields = ["organisation", "invited_by", "accepted_by"]
    date_hierarchy = "created_at"

    @admin.display(description=_("status"))
    def status(self, obj: Invitation) -> str:
        return obj.status


# --- Member farmers and plots (read-only) ------------------------------------------------------


class PlotInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Plot
    fields = ["name", "area_hectares", "country", "has_geometry"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    @admin.display(description=_("geolocated"), boolean=True)
    def has_geometry(self, obj: Plot) -> bool:
        return obj.geometry is not None


@admin.register(MemberFarmer)
class MemberFarmerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "member_number",
        "name",
        "organisation",
        "village",
        "gender",
        "birth_year",
        "phone",
        "joined_on",
        "status",
        "plot_count",
    ]
    list_filter = ["status", "gender", "organisation__country", "organisation"]
    search_fields = ["member_number", "name", "phone", "village", "organisation__legal_name"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    date_hierarchy = "joined_on"
    inlines = [PlotInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(plot_count=Count("plots"))

    @admin.display(description=_("plots"), ordering="plot_count")
    def plot_count(self, obj: MemberFarmer) -> int:
        return obj.plot_count


class GeolocatedFilter(admin.SimpleListFilter):
    title = _("geolocation")
    parameter_name = "geolocated"

    def lookups(self, request, model_admin):
        return [("yes", _("Has geometry")), ("no", _("No geometry"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(geometry__isnull=False)
        if self.value() == "no":
            return queryset.filter(geometry__isnull=True)
        return queryset


@admin.register(Plot)
class PlotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "farmer", "organisation", "area_hectares", "country", "geolocated"]
    list_filter = [GeolocatedFilter, "country", "organisation"]
    search_fields = ["name", "farmer__name", "farmer__member_number", "organisation__legal_name"]
    list_select_related = ["farmer", "organisation"]
    autocomplete_fields = ["farmer", "organisation"]

    @admin.display(description=_("geolocated"), boolean=True)
    def geolocated(self, obj: Plot) -> bool:
        return obj.geometry is not None
