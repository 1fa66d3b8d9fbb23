"""Request and response bodies of the organisations API. Requests only parse; services decide."""

from decimal import ROUND_HALF_EVEN

from django.conf import settings
from django.utils import timezone
from django_countries.serializer_fields import CountryField as BaseCountryField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField as BasePhoneNumberField
from rest_framework import serializers

from marketplace.core.api.fields import BoundedIntegerField, IdField
from marketplace.core.api.schema import ErrorDetailSerializer, ErrorSerializer  # noqa: F401 (re-exported)
from marketplace.core.bounds import column
from marketplace.core.validators import validate_currency, validate_gln, validate_language
from marketplace.organisations.models import Invitation, MemberFarmer, Membership, Organisation, Plot, User
from marketplace.organisations.roles import Role

PHONE_HELP = "International format, e.g. +225 07 12 34 56 78; answered in E.164 (+2250712345678)."


class PhoneNumberField(BasePhoneNumberField):
    default_error_messages = {
        "invalid": "Enter a valid phone number in international format, e.g. +225 07 12 34 56 78.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", PHONE_HELP)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class CountryField(BaseCountryField):
    default_error_messages = {
        "invalid_choice": '"{input}" is not an ISO 3166-1 alpha-2 country code (for example CI, GH or KE).',
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISO 3166-1 alpha-2 country code, e.g. CI.")
        super().__init__(**kwargs)


class UpperCaseCharField(serializers.CharField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


def _this_year() -> int:
    return timezone.now().year


# --- Errors (documentation only: the exception handler writes these) -------------------


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number as a spreadsheet shows it: the header is row 1.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages per column."
    )


class MemberImportErrorDetailSerializer(ErrorDetailSerializer):
    rows = RowErrorSerializer(
        many=True,
        required=False,
        help_text="Present when rows are wrong (code invalid_rows): every bad row with its messages. "
        "`fields` holds the same as rows.<row>.<column>.",
    )


class MemberImportErrorSerializer(serializers.Serializer):
    error = MemberImportErrorDetailSerializer()


# --- Users and memberships --------------------------------------------------------------


class OrganisationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "verification_status"]
        read_only_fields = fields


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


class MyMembershipSerializer(serializers.ModelSerializer):
    organisation = OrganisationSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organisation", "role"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    preferred_language = serializers.CharField()
    is_operator = serializers.BooleanField(help_text="Whether the user belongs to the platform operator.")
    memberships = MyMembershipSerializer(many=True)


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organisation", "user", "role", "created_at"]
        read_only_fields = fields


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --- Organisations ----------------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    country = CountryField(read_only=True)
    phone = serializers.CharField(read_only=True, help_text="E.164, e.g. +2250712345678; empty when unknown.")
    member_farmer_count = serializers.SerializerMethodField()

    class Meta:
        model = Organisation
        fields = [
            "id",
            "kind",
            "name",
            "legal_name",
            "display_name",
            "country",
            "region",
            "address",
            "latitude",
            "longitude",
            "registration_number",
            "gln",
            "currency",
            "preferred_language",
            "email",
            "phone",
            "verification_status",
            "verified_at",
            "member_farmer_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_member_farmer_count(self, organisation: Organisation) -> int:
        count = getattr(organisation, "member_farmer_count", None)
        return organisation.member_farmers.count() if count is None else count


class OrganisationUpdateSerializer(serializers.Serializer):
    """The details an organisation's admin (or the operator) may change. Omitted fields stay as they are."""

    legal_name = serializers.CharField(max_length=200)
    display_name = serializers.CharField(max_length=100, allow_blank=True)
    country = CountryField()
    region = serializers.CharField(max_length=100, allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, allow_null=True, rounding=ROUND_HALF_EVEN
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, allow_null=True, rounding=ROUND_HALF_EVEN
    )
    registration_number = serializers.CharField(max_length=64)
    gln = serializers.CharField(
        max_length=13, allow_blank=True, validators=[validate_gln], help_text="GS1 Global Location Number, 13 digits."
    )
    currency = UpperCaseCharField(max_length=3, validators=[validate_currency], help_text="ISO 4217 code, e.g. XOF.")
    preferred_language = serializers.CharField(
        max_length=2, validators=[validate_language], help_text="ISO 639-1 code, e.g. fr."
    )
    email = serializers.EmailField(allow_blank=True)
    phone = PhoneNumberField()


class OrganisationCreateSerializer(OrganisationUpdateSerializer):
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    display_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    region = serializers.CharField(max_length=100, allow_blank=True, required=False)
    address = serializers.CharField(allow_blank=True, required=False)
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        allow_null=True,
        required=False,
        rounding=ROUND_HALF_EVEN,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        allow_null=True,
        required=False,
        rounding=ROUND_HALF_EVEN,
    )
    gln = serializers.CharField(max_length=13, allow_blank=True, required=False, validators=[validate_gln])
    preferred_language = serializers.CharField(
        max_length=2, required=False, validators=[validate_language], help_text="ISO 639-1 code; en if omitted."
    )
    email = serializers.EmailField(allow_blank=True, required=False)
    admin_email = serializers.EmailField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Invite this person as the organisation's first admin (an email with a link is sent).",
    )


# The actions name the target status; their own labels also keep their OpenAPI enum apart from the model's.
VERIFICATION_ACTIONS = [
    (Organisation.Verification.PENDING, "Return to pending verification"),
    (Organisation.Verification.VERIFIED, "Verify"),
    (Organisation.Verification.REJECTED, "Reject"),
    (Organisation.Verification.SUSPENDED, "Suspend"),
]
FARMER_STATUS_ACTIONS = [
    (MemberFarmer.Status.ACTIVE, "Reactivate"),
    (MemberFarmer.Status.SUSPENDED, "Suspend"),
    (MemberFarmer.Status.LEFT, "Record that the member left"),
]
INVITATION_STATUSES = [
    ("open", "Open"),
    ("accepted", "Accepted"),
    ("revoked", "Revoked"),
    ("expired", "Expired"),
]


class OrganisationVerificationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=VERIFICATION_ACTIONS,
        help_text="pending → verified | rejected; rejected → pending; verified → suspended; suspended → verified.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when rejecting or suspending."
    )


# --- Invitations ------------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=INVITATION_STATUSES, read_only=True)
    invited_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "organisation",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "sent_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(
        choices=Role.choices, help_text="Managers may invite up to manager; only admins invite admins."
    )


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The token from the invitation link (/invitations/<token>/).")
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
        help_text="For a new account; not needed when accepting as the signed-in user.",
    )
    full_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


# --- Member farmers and plots -----------------------------------------------------------


class FarmerSerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    phone = serializers.CharField(read_only=True, help_text="E.164, e.g. +2250712345678; empty when unknown.")
    status = serializers.ChoiceField(
        choices=MemberFarmer.Status.choices, read_only=True, help_text="Changed with POST /api/v1/farmers/{id}/status/."
    )
    plot_count = serializers.SerializerMethodField()

    class Meta:
        model = MemberFarmer
        fields = [
            "id",
            "organisation",
            "organisation_name",
            "member_number",
            "name",
            "phone",
            "gender",
            "birth_year",
            "village",
            "joined_on",
            "status",
            "plot_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_plot_count(self, farmer: MemberFarmer) -> int:
        count = getattr(farmer, "plot_count", None)
        return farmer.plots.count() if count is None else count


class FarmerUpdateSerializer(serializers.Serializer):
    member_number = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=200)
    phone = PhoneNumberField()
    gender = serializers.ChoiceField(choices=MemberFarmer.Gender.choices, allow_blank=True)
    birth_year = BoundedIntegerField(column=column(MemberFarmer, "birth_year"), domain="year", allow_null=True)
    village = serializers.CharField(max_length=100, allow_blank=True)
    joined_on = serializers.DateField()

    def validate_birth_year(self, value: int | None) -> int | None:
        if value is not None and value > _this_year():
            raise serializers.ValidationError(f"Birth year must be between 1900 and {_this_year()}.")
        return value


class FarmerCreateSerializer(FarmerUpdateSerializer):
    organisation = IdField(
        required=False, help_text="The cooperative; may be omitted when you belong to exactly one cooperative."
    )
    gender = serializers.ChoiceField(choices=MemberFarmer.Gender.choices, allow_blank=True, required=False)
    birth_year = BoundedIntegerField(
        column=column(MemberFarmer, "birth_year"), domain="year", allow_null=True, required=False
    )
    village = serializers.CharField(max_length=100, allow_blank=True, required=False)
    joined_on = serializers.DateField(required=False, help_text="Today if omitted.")


class FarmerStatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=FARMER_STATUS_ACTIONS,
        help_text="active → suspended | left; suspended → active | left; left → active.",
    )
    reason = serializers.CharField(help_text="Why; kept in the audit trail.")


class FarmerImportSerializer(serializers.Serializer):
    organisation = IdField(
        required=False, help_text="The cooperative; may be omitted when you belong to exactly one cooperative."
    )
    file = serializers.FileField(
        help_text="The member register as CSV (UTF-8, comma or semicolon separated), at most "
        f"{settings.MEMBER_IMPORT_MAX_ROWS} rows.",
        error_messages={
            "empty": "The file is empty. Upload a CSV file whose first row names the columns "
            "(member_number, name, phone, gender, birth_year, village, joined_on), then one row per member.",
            "required": "Attach the CSV file as `file` in a multipart/form-data request.",
            "invalid": "Attach the CSV file as `file` in a multipart/form-data request.",
        },
    )


class FarmerImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Members added.")
    updated = serializers.IntegerField(help_text="Existing members (same member number) whose details changed.")
    unchanged = serializers.IntegerField(help_text="Existing members whose row changed nothing.")
    ignored_columns = serializers.ListField(
        child=serializers.CharField(), help_text="Columns of the file the import does not know and left alone."
    )


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "description": "GeoJSON geometry: Point, MultiPoint, Polygon or MultiPolygon, WGS 84 longitude/latitude.",
        "properties": {"type": {"type": "string"}, "coordinates": {"type": "array", "items": {}}},
    }
)
class GeometryField(serializers.JSONField):
    pass


class PlotSerializer(serializers.ModelSerializer):
    country = CountryField(read_only=True)
    geometry = GeometryField(read_only=True)

    class Meta:
        model = Plot
        fields = [
            "id",
            "farmer",
            "organisation",
            "name",
            "area_hectares",
            "country",
            "geometry",
            "established_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PlotUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    area_hectares = serializers.DecimalField(max_digits=10, decimal_places=4, min_value=0, rounding=ROUND_HALF_EVEN)
    country = CountryField()
    geometry = GeometryField(allow_null=True)
    established_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="When the plot was established or last cleared (EUDR cut-off evidence: 31 December 2020).",
    )

    def validate_established_on(self, value):
        if value is not None and value > timezone.localdate():
            raise serializers.ValidationError(
                "This day is in the future; give the day the land was planted or cleared."
            )
        return value

    def validate_area_hectares(self, value):
        if value <= 0:
            raise serializers.ValidationError("A plot's area must be more than 0 ha.")
        return value


class PlotCreateSerializer(PlotUpdateSerializer):
    country = CountryField(required=False, help_text="The cooperative's country if omitted.")
    geometry = GeometryField(allow_null=True, required=False)


class PlotOverlapSerializer(serializers.Serializer):
    plot = serializers.IntegerField(source="plot.pk", help_text="The plot.")
    plot_name = serializers.CharField(source="plot.name")
    member_number = serializers.CharField(source="plot.farmer.member_number")
    other_plot = serializers.IntegerField(source="other.pk", help_text="The other member's plot it overlaps.")
    other_plot_name = serializers.CharField(source="other.name")
    other_member_number = serializers.CharField(source="other.farmer.member_number")
    other_member_name = serializers.CharField(source="other.farmer.name")
    kind = serializers.ChoiceField(
        choices=["area", "point_in_plot", "same_point"],
        help_text="area: the polygons share more than the tolerance; point_in_plot: a point lies in the other "
        "member's polygon; same_point: the two members' points are within the distance.",
    )
    share = serializers.FloatField(help_text="The shared area over the smaller plot's area (1 for points).")
    hectares = serializers.FloatField(help_text="The shared area in hectares (0 for points).")
