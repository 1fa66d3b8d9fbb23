"""Buyer requests (RFQs), the proposals the matching engine makes for them, and the consignments that accepted
proposals become. Mass in grams, money in minor units of the request's currency."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalogue.models import Certification, Commodity, Grade, Listing
from marketplace.core.models import TimeStampedModel
from marketplace.core.validators import validate_currency
from marketplace.organisations.models import Organisation
from orders.models import Purchase

TRUCKLOAD_DEFAULT_GRAMS = 5_000_000


class BuyerRequest(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("request status", "Open")
        FILLED = "filled", pgettext_lazy("request status", "Filled")
        WITHDRAWN = "withdrawn", pgettext_lazy("request status", "Withdrawn")
        EXPIRED = "expired", pgettext_lazy("request status", "Expired")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="buyer_requests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    commodity = models.ForeignKey(Commodity, on_delete=models.PROTECT, related_name="buyer_requests")
    min_grade = models.ForeignKey(
        Grade,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The lowest grade accepted; empty accepts every grade."),
    )
    quantity_grams = models.BigIntegerField(_("quantity wanted (g)"))
    min_fill_grams = models.BigIntegerField(_("smallest fill accepted (g)"), default=0)
    min_truckload_grams = models.BigIntegerField(_("minimum truckload (g)"), default=TRUCKLOAD_DEFAULT_GRAMS)
    max_price_per_tonne_minor = models.BigIntegerField(_("highest price per tonne (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    delivery_place = models.CharField(_("delivery place"), max_length=120, blank=True)
    delivery_latitude = models.DecimalField(_("delivery latitude"), max_digits=9, decimal_places=6)
    delivery_longitude = models.DecimalField(_("delivery longitude"), max_digits=9, decimal_places=6)
    window_start = models.DateField(_("delivery from"))
    window_end = models.DateField(_("delivery until"))
    max_distance_km = models.PositiveIntegerField(_("maximum sourcing distance (km)"))
    certifications = ArrayField(
        models.CharField(max_length=30, choices=Certification.Scheme.choices), default=list, blank=True
    )
    eudr_required = models.BooleanField(_("EUDR-ready lots only"), default=False)
    filled_grams = models.BigIntegerField(_("filled (g)"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("buyer request")
        verbose_name_plural = _("buyer requests")
        constraints = [
            models.CheckConstraint(condition=Q(quantity_grams__gt=0), name="request_quantity_positive"),
            models.CheckConstraint(
                condition=Q(min_fill_grams__gte=0) & Q(min_fill_grams__lte=F("quantity_grams")),
                name="request_min_fill_range",
            ),
            models.CheckConstraint(condition=Q(min_truckload_grams__gte=0), name="request_truckload_not_negative"),
            models.CheckConstraint(condition=Q(max_price_per_tonne_minor__gt=0), name="request_price_positive"),
            models.CheckConstraint(condition=Q(window_end__gte=F("window_start")), name="request_window_order"),
            models.CheckConstraint(
                condition=Q(filled_grams__gte=0) & Q(filled_grams__lte=F("quantity_grams")),
                name="request_filled_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "commodity", "currency"])]

    def __str__(self) -> str:
        return f"{self.commodity} {self.quantity_grams / 1_000_000:g} t for {self.buyer}"

    @property
    def remaining_grams(self) -> int:
        return self.quantity_grams - self.filled_grams

    @property
    def threshold_grams(self) -> int:
        """The least a proposal may bring: the smallest fill or the truckload, capped at what is still wanted."""
        return min(self.remaining_grams, max(self.min_fill_grams - self.filled_grams, self.min_truckload_grams, 0))


class Proposal(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("proposal status", "Open")
        ACCEPTED = "accepted", pgettext_lazy("proposal status", "Accepted")
        DECLINED = "declined", pgettext_lazy("proposal status", "Declined")
        WITHDRAWN = "withdrawn", pgettext_lazy("proposal status", "Withdrawn")
        EXPIRED = "expired", pgettext_lazy("proposal status", "Expired")

    request = models.ForeignKey(BuyerRequest, on_delete=models.PROTECT, related_name="proposals")
    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="matching_proposals")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    expires_at = models.DateTimeField(_("answer by"))
    buyer_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    buyer_accepted_at = models.DateTimeField(_("buyer accepted at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            models.CheckConstraint(condition=Q(round__gte=1) & Q(round__lte=3), name="proposal_round_range"),
        ]
        indexes = [models.Index(fields=["request", "status"])]

    def __str__(self) -> str:
        return f"Proposal {self.pk} for request {self.request_id}"


class ProposalPart(models.Model):
    """One listing's share of a proposal, with the figures that explain it."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("proposal status", "Awaiting the cooperative")
        ACCEPTED = "accepted", pgettext_lazy("proposal status", "Accepted")
        DECLINED = "declined", pgettext_lazy("proposal status", "Declined")
        COUNTERED = "countered", pgettext_lazy("proposal status", "Countered by the cooperative")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="parts")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="matching_parts")
    grams = models.BigIntegerField(_("quantity (g)"))
    price_per_tonne_minor = models.BigIntegerField(_("ask per tonne (minor units)"))
    transport_per_tonne_minor = models.BigIntegerField(_("transport per tonne (minor units)"))
    distance_km = models.DecimalField(_("distance (km)"), max_digits=8, decimal_places=1)
    surplus_per_tonne_minor = models.BigIntegerField(_("surplus per tonne (minor units)"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # for the buyer; the other cooperatives of the proposal never see it
    decline_reason = models.CharField(_("why the cooperative declined"), max_length=500, blank=True)
    notified_at = models.DateTimeField(_("cooperative notified at"), null=True, blank=True)

    class Meta:
        ordering = ["proposal", "id"]
        verbose_name = _("proposal part")
        verbose_name_plural = _("proposal parts")
        constraints = [
            models.CheckConstraint(condition=Q(grams__gt=0), name="proposal_part_grams_positive"),
            models.UniqueConstraint(fields=["proposal", "listing"], name="proposal_part_listing_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.grams} g"


class Consignment(models.Model):
    """The orders an accepted proposal became: one purchase (one order per cooperative), one truckload."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="consignment")
    request = models.ForeignKey(BuyerRequest, on_delete=models.PROTECT, related_name="consignments")
    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="consignments")
    purchase = models.OneToOneField(Purchase, on_delete=models.PROTECT, related_name="consignment")
    grams = models.BigIntegerField(_("quantity (g)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consignment")
        verbose_name_plural = _("consignments")

    def __str__(self) -> str:
        return f"Consignment {self.purchase_id}"
