from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from marketplace.core.models import TimeStampedModel
from marketplace.core.validators import validate_currency, validate_gln, validate_language
from marketplace.organisations.roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=8, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email


class Organisation(TimeStampedModel):
    class Kind(models.TextChoices):
        COOPERATIVE = "cooperative", _("Cooperative")
        BUYER = "buyer", _("Buyer")
        INPUT_SUPPLIER = "input_supplier", _("Input supplier")
        OPERATOR = "operator", _("Platform operator")

    class Verification(models.TextChoices):
        PENDING = "pending", pgettext_lazy("organisation status", "Pending verification")
        VERIFIED = "verified", pgettext_lazy("organisation status", "Verified")
        REJECTED = "rejected", pgettext_lazy("organisation status", "Rejected")
        SUSPENDED = "suspended", pgettext_lazy("organisation status", "Suspended")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    legal_name = models.CharField(_("legal name"), max_length=200)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=100, blank=True)
    address = models.TextField(_("address"), blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=64)
    gln = models.CharField(_("GLN"), max_length=13, blank=True, validators=[validate_gln])
    currency = models.CharField(_("default currency"), max_length=3, validators=[validate_currency])
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, default="en", validators=[validate_language]
    )
    email = models.EmailField(_("contact email"), blank=True)
    phone = PhoneNumberField(_("contact phone"), blank=True)
    verification_status = models.CharField(
        _("verification status"), max_length=20, choices=Verification.choices, default=Verification.PENDING
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        ordering = ["legal_name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(fields=["country", "registration_number"], name="org_registration_unique"),
            models.UniqueConstraint(fields=["gln"], condition=~models.Q(gln=""), name="org_gln_unique"),
            models.UniqueConstraint(fields=["kind"], condition=models.Q(kind="operator"), name="org_one_operator"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="org_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="org_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.legal_name

    @property
    def name(self) -> str:
        return self.display_name or self.legal_name


class Membership(TimeStampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class Invitation(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class MemberFarmer(TimeStampedModel):
    """A cooperative member who has no login; the cooperative's staff act for them."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        LEFT = "left", _("Left the cooperative")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="member_farmers")
    member_number = models.CharField(_("member number"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    phone = PhoneNumberField(_("phone number"), blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    village = models.CharField(_("village"), max_length=100, blank=True)
    language = models.CharField(
        _("language for SMS and USSD"),
        max_length=2,
        blank=True,
        validators=[validate_language],
        help_text=_("Empty: the cooperative's language."),
    )
    joined_on = models.DateField(_("joined on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["organisation", "member_number"]
        verbose_name = _("member farmer")
        verbose_name_plural = _("member farmers")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "member_number"], name="farmer_member_number_unique"),
            models.CheckConstraint(
                condition=models.Q(birth_year__isnull=True) | models.Q(birth_year__gte=1900, birth_year__lte=2100),
                name="farmer_birth_year_range",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "name"])]

    def __str__(self) -> str:
        return f"{self.member_number} {self.name}"


class Plot(TimeStampedModel):
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.PROTECT, related_name="plots")
    # Denormalised from the farmer so that every query can be scoped by organisation.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="plots")
    name = models.CharField(_("name"), max_length=100)
    area_hectares = models.DecimalField(_("area (ha)"), max_digits=10, decimal_places=4)
    country = CountryField(_("country"))
    geometry = models.JSONField(_("GeoJSON geometry"), null=True, blank=True)
    # EUDR cut-off evidence: the day the plot was established or last cleared (31 December 2020 is the cut-off).
    established_on = models.DateField(
        _("established or last cleared on"),
        null=True,
        blank=True,
        help_text=_("When the land was first planted or last cleared; the EUDR cut-off is 31 December 2020."),
    )

    class Meta:
        ordering = ["farmer", "name"]
        verbose_name = _("plot")
        verbose_name_plural = _("plots")
        constraints = [
            models.CheckConstraint(condition=models.Q(area_hectares__gt=0), name="plot_area_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.area_hectares} ha)"


# The organisation kinds, importable by path (the API schema names their enum from here).
OrganisationKind = Organisation.Kind
