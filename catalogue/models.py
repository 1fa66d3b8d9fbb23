"""Commodities and grades, packaging, certifications, member deliveries, lots with member shares,
listings, input products and supplier offers with volume price tiers.

Mass is stored as integer grams and money as integer minor units plus an ISO 4217 currency.
Stock cannot go negative: check constraints here, and triggers in the migrations for the rules
that span rows (a lot's member shares sum to its quantity; listings never offer more than the lot holds;
deliveries are append-only).
"""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from marketplace.core.models import TimeStampedModel
from marketplace.core.money import Money
from marketplace.core.quantities import UnitCode
from marketplace.core.validators import validate_currency
from marketplace.organisations.models import MemberFarmer, Organisation, Plot

hs_code_validator = RegexValidator(
    r"^\d{4}(\.\d{2}(\d{2})?)?$",
    _("Write the HS code as 4 digits, optionally followed by .NN or .NNNN (e.g. 1801.00)."),
)
prefix_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,7}$", _("2 to 8 capital letters or digits, starting with a letter.")
)


class DisplayUnit(models.TextChoices):
    KILOGRAM = UnitCode.KILOGRAM.value, _("kilogram (KGM)")
    TONNE = UnitCode.TONNE.value, _("tonne (TNE)")
    PIECE = UnitCode.PIECE.value, _("piece (H87)")


class PriceUnit(models.TextChoices):
    PER_KILOGRAM = UnitCode.KILOGRAM.value, _("per kilogram")
    PER_TONNE = UnitCode.TONNE.value, _("per tonne")


# --- Reference data ---------------------------------------------------------------------


class Commodity(models.Model):
    class Eudr(models.TextChoices):
        """The commodities the EU Deforestation Regulation (EU) 2023/1115 covers."""

        CATTLE = "cattle", _("Cattle")
        COCOA = "cocoa", _("Cocoa")
        COFFEE = "coffee", _("Coffee")
        OIL_PALM = "oil_palm", _("Oil palm")
        RUBBER = "rubber", _("Rubber")
        SOYA = "soya", _("Soya")
        WOOD = "wood", _("Wood")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100)
    hs_code = models.CharField(_("HS code"), max_length=10, validators=[hs_code_validator])
    eudr_commodity = models.CharField(
        _("EUDR commodity"),
        max_length=10,
        choices=Eudr.choices,
        blank=True,
        help_text=_("Empty when the EU Deforestation Regulation does not cover this commodity."),
    )
    default_unit = models.CharField(
        _("default display unit"), max_length=3, choices=DisplayUnit.choices, default=DisplayUnit.KILOGRAM
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("commodity")
        verbose_name_plural = _("commodities")

    def __str__(self) -> str:
        return self.name

    @property
    def eudr_relevant(self) -> bool:
        return bool(self.eudr_commodity)


class Grade(models.Model):
    """A quality grade of one commodity. Rank 1 is the best; a higher rank is a lower grade."""

    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="grades")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("1 is the best grade."))
    max_moisture_pct = models.DecimalField(
        _("maximum moisture (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    max_defects_pct = models.DecimalField(
        _("maximum defects (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    min_screen_size = models.PositiveSmallIntegerField(
        _("minimum screen size"), null=True, blank=True, help_text=_("In 64ths of an inch (screen 15 = 15/64 in).")
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["commodity", "rank"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [
            models.UniqueConstraint(fields=["commodity", "code"], name="grade_code_unique"),
            models.UniqueConstraint(fields=["commodity", "rank"], name="grade_rank_unique"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="grade_rank_positive"),
            models.CheckConstraint(
                condition=Q(max_moisture_pct__isnull=True) | Q(max_moisture_pct__gte=0, max_moisture_pct__lte=100),
                name="grade_moisture_range",
            ),
            models.CheckConstraint(
                condition=Q(max_defects_pct__isnull=True) | Q(max_defects_pct__gte=0, max_defects_pct__lte=100),
                name="grade_defects_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commodity.name} – {self.name}"


class Packaging(models.Model):
    """A named bag or unit with a declared net content: a mass, a volume or a count (never implicit)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    net_mass_grams = models.PositiveBigIntegerField(_("net mass (g)"), null=True, blank=True)
    net_volume_ml = models.PositiveBigIntegerField(_("net volume (ml)"), null=True, blank=True)
    unit_count = models.PositiveIntegerField(_("units per pack"), null=True, blank=True)
    tare_grams = models.PositiveIntegerField(_("tare (g)"), default=0, help_text=_("Mass of the empty packaging."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("packaging")
        verbose_name_plural = _("packaging")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(net_mass_grams__gt=0, net_volume_ml__isnull=True, unit_count__isnull=True)
                    | Q(net_mass_grams__isnull=True, net_volume_ml__gt=0, unit_count__isnull=True)
                    | Q(net_mass_grams__isnull=True, net_volume_ml__isnull=True, unit_count__gt=0)
                ),
                name="packaging_one_positive_net_content",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_mass(self) -> bool:
        return self.net_mass_grams is not None


class Certification(TimeStampedModel):
    class Scheme(models.TextChoices):
        ORGANIC = "organic", _("Organic")
        FAIRTRADE = "fairtrade", _("Fairtrade")
        RAINFOREST_ALLIANCE = "rainforest_alliance", _("Rainforest Alliance")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="certifications")
    scheme = models.CharField(_("scheme"), max_length=30, choices=Scheme.choices)
    certificate_number = models.CharField(_("certificate number"), max_length=64)
    certifying_body = models.CharField(_("certifying body"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))

    class Meta:
        ordering = ["organisation", "scheme", "-valid_until"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "scheme", "certificate_number"], name="certification_number_unique"
            ),
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="certification_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.certificate_number}"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day <= self.valid_until


class Location(TimeStampedModel):
    """A collection point where members deliver, a warehouse where lots are stored, or both."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="catalogue_locations")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    is_collection_point = models.BooleanField(_("collection point"), default=True)
    is_warehouse = models.BooleanField(_("warehouse"), default=False)
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=100, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="location_code_unique"),
            models.CheckConstraint(
                condition=Q(is_collection_point=True) | Q(is_warehouse=True), name="location_has_a_purpose"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="location_coordinates_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CooperativeTraceSettings(models.Model):
    """What a cooperative shows on the public trace pages of its lots. By default, members' names are hidden and
    plots are shown only as regions; the cooperative may opt in to show both (with its members' consent)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="trace_settings")
    show_producers = models.BooleanField(
        _("show members' names and plots on public trace pages"),
        default=False,
        help_text=_("Off: members stay anonymous and plots are shown as regions. Turn on only with members' consent."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("cooperative trace settings")
        verbose_name_plural = _("cooperative trace settings")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {'named' if self.show_producers else 'anonymous'}"


class OrganisationCode(models.Model):
    """The short prefix of an organisation's receipt numbers and lot codes (e.g. CANN-2026-0007)."""

    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="catalogue_code")
    prefix = models.CharField(_("prefix"), max_length=8, unique=True, validators=[prefix_validator])

    class Meta:
        verbose_name = _("organisation code")
        verbose_name_plural = _("organisation codes")

    def __str__(self) -> str:
        return self.prefix


class NumberSequence(models.Model):
    """Gap-free counters per organisation, scope and year; incremented with one UPSERT inside the caller's
    transaction, so a rolled-back write gives its number back."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "scope", "year"], name="number_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}/{self.scope}/{self.year}: {self.last_value}"


# --- Member deliveries ------------------------------------------------------------------


class Delivery(models.Model):
    """A member's delivery at a collection point, or the entry that reverses one. Never edited or deleted
    (a trigger refuses UPDATE and DELETE). A reversal carries the negated quantities of the original."""

    class Kind(models.TextChoices):
        DELIVERY = "delivery", _("Delivery")
        REVERSAL = "reversal", _("Reversal")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="deliveries")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DELIVERY)
    receipt_number = models.CharField(_("receipt number"), max_length=40, unique=True)
    client_reference = models.UUIDField(
        _("client reference"),
        null=True,
        blank=True,
        help_text=_("Sent by the form or app; a resubmission with the same reference returns the first delivery."),
    )
    collection_point = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="deliveries")
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.PROTECT, related_name="deliveries")
    plot = models.ForeignKey(Plot, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries")
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="deliveries")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="deliveries")
    downgraded_from = models.ForeignKey(
        Grade, on_delete=models.PROTECT, null=True, blank=True, related_name="downgraded_deliveries"
    )
    packaging = models.ForeignKey(Packaging, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    bag_count = models.IntegerField(_("bags"), default=0)
    gross_grams = models.BigIntegerField(_("gross weight (g)"))
    net_grams = models.BigIntegerField(_("net weight (g)"))
    moisture_pct = models.DecimalField(_("moisture (%)"), max_digits=5, decimal_places=2)
    delivered_on = models.DateField(_("delivered on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal", verbose_name=_("reverses")
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "client_reference"],
                condition=Q(client_reference__isnull=False),
                name="delivery_client_reference_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="delivery", reverses__isnull=True)
                    & Q(net_grams__gt=0, gross_grams__gte=F("net_grams"), bag_count__gte=0)
                )
                | (
                    Q(kind="reversal", reverses__isnull=False)
                    & Q(net_grams__lt=0, gross_grams__lte=F("net_grams"), bag_count__lte=0)
                ),
                name="delivery_quantities_by_kind",
            ),
            models.CheckConstraint(condition=Q(moisture_pct__gte=0, moisture_pct__lte=100), name="delivery_moisture"),
            models.CheckConstraint(condition=Q(kind="delivery") | ~Q(reason=""), name="delivery_reversal_reason"),
        ]
        indexes = [
            models.Index(fields=["organisation", "-delivered_on"]),
            models.Index(fields=["organisation", "commodity", "grade"]),
            models.Index(fields=["farmer", "delivered_on"]),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def is_reversal(self) -> bool:
        return self.kind == self.Kind.REVERSAL


class DeliveryReceiptSms(models.Model):
    """One row per delivery once its SMS receipt has been handled; makes the task idempotent."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        NO_PHONE = "no_phone", _("No phone number")

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="receipt_sms")
    to = models.CharField(_("to"), max_length=20, blank=True)
    body = models.TextField(_("body"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    handled_at = models.DateTimeField(_("handled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery receipt SMS")
        verbose_name_plural = _("delivery receipt SMS")

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.outcome}"


# --- Lots -------------------------------------------------------------------------------


class Lot(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("lot status", "Open")
        LISTED = "listed", pgettext_lazy("lot status", "Listed")
        RESERVED = "reserved", pgettext_lazy("lot status", "Reserved")
        SOLD = "sold", pgettext_lazy("lot status", "Sold")
        DISPATCHED = "dispatched", pgettext_lazy("lot status", "Dispatched")
        CLOSED = "closed", pgettext_lazy("lot status", "Closed")

    class Origin(models.TextChoices):
        BULK = "bulk", _("Bulked from deliveries")
        SPLIT = "split", _("Split from a lot")
        MERGE = "merge", _("Merged from lots")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(_("code"), max_length=40, unique=True)
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="lots")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="lots")
    quantity_grams = models.BigIntegerField(_("quantity (g)"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    origin = models.CharField(_("origin"), max_length=8, choices=Origin.choices)
    storage_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="lots")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        constraints = [
            models.CheckConstraint(condition=Q(quantity_grams__gt=0), name="lot_quantity_positive"),
        ]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return self.code


class LotIntake(models.Model):
    """A delivery went into a lot when the lot was bulked; a delivery is bulked at most once."""

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="intake")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="intakes")
    grams = models.BigIntegerField(_("grams"))

    class Meta:
        verbose_name = _("lot intake")
        verbose_name_plural = _("lot intakes")
        constraints = [models.CheckConstraint(condition=Q(grams__gt=0), name="lot_intake_positive")]

    def __str__(self) -> str:
        return f"{self.delivery_id} → {self.lot_id}"


class LotContribution(models.Model):
    """A member's share of a lot, traced to the delivery it came from. The shares of a lot sum to its
    quantity (a deferred constraint trigger checks this at commit). A closed lot keeps its shares as history."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="contributions")
    farmer = models.ForeignKey(MemberFarmer, on_delete=models.PROTECT, related_name="lot_contributions")
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="lot_contributions")
    grams = models.BigIntegerField(_("grams"))

    class Meta:
        ordering = ["lot", "farmer", "delivery"]
        verbose_name = _("lot contribution")
        verbose_name_plural = _("lot contributions")
        constraints = [
            models.UniqueConstraint(fields=["lot", "delivery"], name="lot_contribution_unique"),
            models.CheckConstraint(condition=Q(grams__gt=0), name="lot_contribution_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id}: {self.farmer_id} {self.grams} g"


class LotLineage(models.Model):
    """Which lot a split or merge produced from which, and how much went across."""

    parent = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="children_links")
    child = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="parent_links")
    grams = models.BigIntegerField(_("grams"))

    class Meta:
        verbose_name = _("lot lineage")
        verbose_name_plural = _("lot lineage")
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="lot_lineage_unique"),
            models.CheckConstraint(condition=Q(grams__gt=0), name="lot_lineage_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} → {self.child_id}"


# --- Listings ---------------------------------------------------------------------------


class Listing(TimeStampedModel):
    """A cooperative offers a lot, or part of one, at a price. The quantity it offers is conserved:
    available + reserved + sold = offered; the offers of a lot's open listings never exceed the lot."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("offer status", "Active")
        PAUSED = "paused", pgettext_lazy("offer status", "Paused")
        WITHDRAWN = "withdrawn", pgettext_lazy("offer status", "Withdrawn")

    class DeliveryTerms(models.TextChoices):
        EX_WAREHOUSE = "ex_warehouse", _("Ex warehouse")
        DELIVERED = "delivered", _("Delivered to a region")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="listings")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="listings")
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    # Copied from the lot so that searches need no join.
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="listings")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="listings")
    grade_rank = models.PositiveSmallIntegerField(_("grade rank"))
    price_amount = models.BigIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    price_unit = models.CharField(_("price unit"), max_length=3, choices=PriceUnit.choices)
    price_per_tonne_minor = models.GeneratedField(
        expression=Case(
            When(price_unit="KGM", then=F("price_amount") * Value(1000, output_field=models.BigIntegerField())),
            default=F("price_amount"),
            output_field=models.BigIntegerField(),
        ),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    quantity_offered_grams = models.BigIntegerField(_("quantity offered (g)"))
    quantity_available_grams = models.BigIntegerField(_("quantity available (g)"))
    quantity_reserved_grams = models.BigIntegerField(_("quantity reserved (g)"), default=0)
    quantity_sold_grams = models.BigIntegerField(_("quantity sold (g)"), default=0)
    min_order_grams = models.BigIntegerField(_("minimum order (g)"))
    delivery_terms = models.CharField(_("delivery terms"), max_length=15, choices=DeliveryTerms.choices)
    pickup_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="listings"
    )
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=100, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    available_from = models.DateField(_("available from"))
    valid_until = models.DateField(_("valid until"))
    certifications = models.ManyToManyField(Certification, blank=True, related_name="listings")
    photo = models.FileField(_("photo"), upload_to="listings/%Y/%m/", blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gt=0), name="listing_price_positive"),
            models.CheckConstraint(
                condition=Q(
                    quantity_offered_grams__gt=0,
                    quantity_available_grams__gte=0,
                    quantity_reserved_grams__gte=0,
                    quantity_sold_grams__gte=0,
                ),
                name="listing_quantities_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    quantity_offered_grams=F("quantity_available_grams")
                    + F("quantity_reserved_grams")
                    + F("quantity_sold_grams")
                ),
                name="listing_quantity_conserved",
            ),
            models.CheckConstraint(condition=Q(min_order_grams__gt=0), name="listing_min_order_positive"),
            models.CheckConstraint(condition=Q(valid_until__gte=F("available_from")), name="listing_validity_order"),
            models.CheckConstraint(
                condition=Q(delivery_terms="delivered") | Q(pickup_location__isnull=False),
                name="listing_ex_warehouse_has_location",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "commodity", "price_per_tonne_minor"], name="listing_search_price"),
            models.Index(
                fields=["currency", "price_per_tonne_minor", "id"],
                condition=Q(status="active"),
                name="listing_search_cheapest",
            ),
            models.Index(fields=["status", "-created_at", "-id"], name="listing_search_newest"),
            models.Index(fields=["latitude", "longitude"], name="listing_search_coordinates"),
            models.Index(F("country"), Upper("region"), name="listing_search_region"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)


# --- Input products and supplier offers -------------------------------------------------


class InputProduct(TimeStampedModel):
    class Kind(models.TextChoices):
        SEED = "seed", _("Seed")
        FERTILISER = "fertiliser", _("Fertiliser")
        CROP_PROTECTION = "crop_protection", _("Crop protection")
        TOOL = "tool", _("Tool")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="input_products",
        help_text=_("The supplier that described the product; empty for the platform's reference products."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    crop = models.ForeignKey(Commodity, on_delete=models.PROTECT, null=True, blank=True, related_name="seeds")
    variety = models.CharField(_("variety"), max_length=100, blank=True)
    nitrogen_pct = models.PositiveSmallIntegerField(_("N (%)"), null=True, blank=True)
    phosphorus_pct = models.PositiveSmallIntegerField(_("P₂O₅ (%)"), null=True, blank=True)
    potassium_pct = models.PositiveSmallIntegerField(_("K₂O (%)"), null=True, blank=True)
    active_ingredient = models.CharField(_("active ingredient"), max_length=200, blank=True)
    packaging = models.ForeignKey(Packaging, on_delete=models.PROTECT, related_name="input_products")
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("input product")
        verbose_name_plural = _("input products")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="seed") | (Q(crop__isnull=False) & ~Q(variety="")), name="input_seed_crop_variety"
            ),
            models.CheckConstraint(
                condition=~Q(kind="fertiliser")
                | Q(nitrogen_pct__isnull=False, phosphorus_pct__isnull=False, potassium_pct__isnull=False),
                name="input_fertiliser_npk",
            ),
            models.CheckConstraint(
                condition=Q(nitrogen_pct__isnull=True)
                | Q(nitrogen_pct__lte=100, phosphorus_pct__lte=100, potassium_pct__lte=100),
                name="input_npk_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind="crop_protection") | ~Q(active_ingredient=""), name="input_active_ingredient"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def npk_formula(self) -> str:
        if self.nitrogen_pct is None:
            return ""
        return f"{self.nitrogen_pct}-{self.phosphorus_pct}-{self.potassium_pct}"


class SupplierOffer(TimeStampedModel):
    """An input supplier's offer of a product, priced per pack in volume tiers."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("offer status", "Active")
        PAUSED = "paused", pgettext_lazy("offer status", "Paused")
        WITHDRAWN = "withdrawn", pgettext_lazy("offer status", "Withdrawn")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="supplier_offers")
    product = models.ForeignKey(InputProduct, on_delete=models.PROTECT, related_name="offers")
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    stock_packs = models.BigIntegerField(_("stock (packs)"))
    max_order_packs = models.BigIntegerField(
        _("maximum order (packs)"), null=True, blank=True, help_text=_("The upper end of the last price tier, if any.")
    )
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("supplier offer")
        verbose_name_plural = _("supplier offers")
        constraints = [
            models.CheckConstraint(condition=Q(stock_packs__gte=0), name="offer_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(max_order_packs__isnull=True) | Q(max_order_packs__gte=1), name="offer_max_order_positive"
            ),
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="offer_validity_order"),
        ]
        indexes = [models.Index(fields=["status", "product"], name="offer_search_product")]

    def __str__(self) -> str:
        return f"{self.product} ({self.organisation})"


class OfferRegion(models.Model):
    """A region an offer delivers to; an empty region means the whole country."""

    offer = models.ForeignKey(SupplierOffer, on_delete=models.CASCADE, related_name="regions")
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=100, blank=True)

    class Meta:
        ordering = ["country", "region"]
        verbose_name = _("offer delivery region")
        verbose_name_plural = _("offer delivery regions")
        constraints = [models.UniqueConstraint(fields=["offer", "country", "region"], name="offer_region_unique")]
        indexes = [models.Index(fields=["country", "region"], name="offer_region_search")]

    def __str__(self) -> str:
        return f"{self.country.code} {self.region}".strip()


class PriceTier(models.Model):
    """A breakpoint: from `min_packs` up to the next tier's breakpoint, each pack costs `unit_price_amount`.
    Storing breakpoints (not ranges) makes overlapping tiers impossible."""

    offer = models.ForeignKey(SupplierOffer, on_delete=models.CASCADE, related_name="tiers")
    min_packs = models.BigIntegerField(_("from (packs)"))
    unit_price_amount = models.BigIntegerField(_("price per pack (minor units)"))

    class Meta:
        ordering = ["offer", "min_packs"]
        verbose_name = _("price tier")
        verbose_name_plural = _("price tiers")
        constraints = [
            models.UniqueConstraint(fields=["offer", "min_packs"], name="price_tier_breakpoint_unique"),
            models.CheckConstraint(condition=Q(min_packs__gte=1), name="price_tier_min_positive"),
            models.CheckConstraint(condition=Q(unit_price_amount__gt=0), name="price_tier_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}: ≥{self.min_packs} @ {self.unit_price_amount}"
