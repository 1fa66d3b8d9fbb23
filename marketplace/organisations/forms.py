"""Forms for the pages: they parse and check input; the services decide and write."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from phonenumber_field.formfields import PhoneNumberField

from marketplace.core.bounds import column
from marketplace.core.errors import DomainError
from marketplace.core.forms import BoundedIntegerField, IdField
from marketplace.core.widgets import IsoDateInput
from marketplace.organisations.models import MemberFarmer, Organisation
from marketplace.organisations.roles import Role


def add_domain_error(form: forms.Form, error: DomainError, *, rename: dict[str, str] | None = None) -> None:
    """Show a service's error on the form: field messages next to their fields, the summary on top."""
    rename = rename or {}
    placed = False
    for name, messages in error.fields.items():
        name = rename.get(name, name)
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
            placed = True
    if not placed or len(error.fields) > 1:
        form.add_error(None, error.message)


class PageForm(forms.Form):
    """Labels without Django's trailing colon: the pages put each label above its input."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class EmailAuthenticationForm(AuthenticationForm):
    """Django's sign-in form with an email input (the user model's username is the email address)."""

    def __init__(self, request=None, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(request, *args, **kwargs)

    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email", "autocapitalize": "none"}),
    )
    error_messages = {
        "invalid_login": _("The email address or password is wrong. Check both and try again."),
        "inactive": _("This account is inactive."),
    }


class OrganisationSwitchForm(PageForm):
    organisation = IdField(widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class MemberSearchForm(PageForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name, member number, phone or village."),
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *MemberFarmer.Status.choices],
    )


def _phone_field(organisation: Organisation, *, required: bool = False) -> PhoneNumberField:
    region = organisation.country.code if organisation.country else None
    try:
        return PhoneNumberField(label=_("Phone number"), required=required, region=region)
    except ValueError:  # a country the phone library does not know
        return PhoneNumberField(label=_("Phone number"), required=required)


class MemberFarmerForm(PageForm):
    member_number = forms.CharField(label=_("Member number"), max_length=32)
    name = forms.CharField(label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    gender = forms.ChoiceField(
        label=_("Gender"), required=False, choices=[("", _("Not given")), *MemberFarmer.Gender.choices]
    )
    birth_year = BoundedIntegerField(
        column=column(MemberFarmer, "birth_year"),
        domain="year",
        label=_("Birth year"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    village = forms.CharField(label=_("Village"), max_length=100, required=False)
    joined_on = forms.DateField(
        label=_("Joined on"),
        required=False,
        help_text=_("Leave empty for today."),
        widget=IsoDateInput(),
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"] = _phone_field(organisation)
        self.fields["birth_year"].max_value = timezone.localdate().year
        self.fields["birth_year"].widget.attrs["max"] = timezone.localdate().year
        self.order_fields(["member_number", "name", "phone", "gender", "birth_year", "village", "joined_on"])

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("joined_on"):
            data.pop("joined_on", None)
        data["phone"] = data.get("phone") or ""
        return data


class MemberEditForm(MemberFarmerForm):
    """Change a member's details after registration; the language shows once the register records one."""

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, organisation=organisation, **kwargs)
        del self.fields["joined_on"]
        names = {field.name for field in MemberFarmer._meta.get_fields()}
        if "language" in names:
            model_field = MemberFarmer._meta.get_field("language")
            self.fields["language"] = forms.ChoiceField(
                label=_("Language for SMS"), required=False,
                choices=[("", _("The cooperative's language")), *(model_field.choices or settings.LANGUAGES)],
            )  # fmt: skip

    def service_fields(self) -> dict:
        data = super().service_fields()
        data.pop("joined_on", None)
        return data


class PlotForm(PageForm):
    name = forms.CharField(label=_("Plot name"), max_length=100)
    area_hectares = forms.DecimalField(
        label=_("Area (hectares)"),
        max_digits=10,
        decimal_places=4,
        min_value=0.0001,
        widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal"}),
    )
    country = forms.ChoiceField(label=_("Country"), choices=lambda: [("", _("Choose a country")), *countries])
    geometry = forms.JSONField(
        label=_("Boundary (GeoJSON geometry)"),
        required=False,
        help_text=_(
            'Optional. A GeoJSON Point or Polygon, for example {"type": "Point", "coordinates": [-5.55, 6.12]} '
            "(longitude first)."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )

    def service_fields(self) -> dict:
        return dict(self.cleaned_data)


class InvitationAcceptForm(PageForm):
    full_name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only digits, not a common password."),
    )
    password_confirm = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return cleaned


class InvitationForm(PageForm):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CLERK)


class MembershipRoleForm(PageForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class VerificationForm(PageForm):
    to_status = forms.ChoiceField(choices=Organisation.Verification.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)
