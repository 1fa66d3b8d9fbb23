"""Orders: purchases, per-seller orders and their lines, transitions, dispatch, receipt, disputes, invoices and
notifications.

One purchase (a basket) creates one order per selling organisation; the orders share the purchase's reference.
An order line holds a listing (produce, in grams) or a supplier offer (inputs, in packs), its unit price and its
line total, computed once and stored. Group input orders (a later issue) fit as orders of kind `group_inputs`
with no purchase, whose lines name a supplier offer.

An order's status changes only in `orders.services.transitions.order_transition`: a trigger (see migration 0002)
refuses any other change of `Order.status`, and a new order always starts as placed.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.core.money import Money
from marketplace.core.quantities import UnitCode
from marketplace.core.validators import validate_currency
from marketplace.organisations.models import Organisation


def next_number(prefix: str, sequence: str) -> models.Func:
    """The database default of a purchase reference or an order number: PREFIX-<year>-<sequence, 6 digits or
    more> (the function is in migration 0003), returned by the INSERT itself."""
    return models.Func(
        models.Value(prefix), models.Value(sequence), function="orders_next_number", output_field=models.CharField()
    )


class Purchase(models.Model):
    """What a buyer placed in one go: the orders to each seller share its reference."""

    reference = models.CharField(
        _("purchase reference"),
        max_length=20,
        unique=True,
        db_default=next_number("PU", "orders_purchase_reference_seq"),
    )
    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="purchases")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    note = models.TextField(_("note to the sellers"), blank=True)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")

    def __str__(self) -> str:
        return self.reference


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", pgettext_lazy("order status", "Placed")
        ACCEPTED = "accepted", pgettext_lazy("order status", "Accepted")
        REJECTED = "rejected", pgettext_lazy("order status", "Rejected")
        EXPIRED = "expired", pgettext_lazy("order status", "Expired")
        CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")
        PAID = "paid", pgettext_lazy("order status", "Paid")
        DISPATCHED = "dispatched", pgettext_lazy("order status", "Dispatched")
        DELIVERED = "delivered", pgettext_lazy("order status", "Delivered")
        DISPUTED = "disputed", pgettext_lazy("order status", "Disputed")
        RESOLVED = "resolved", pgettext_lazy("order status", "Resolved")
        COMPLETED = "completed", pgettext_lazy("order status", "Completed")

    class Kind(models.TextChoices):
        PRODUCE = "produce", _("Produce from a listing")
        INPUTS = "inputs", _("Inputs from a supplier offer")
        GROUP_INPUTS = "group_inputs", _("Group input order")

    number = models.CharField(
        _("order number"), max_length=20, unique=True, db_default=next_number("PO", "orders_order_number_seq")
    )
    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="orders_placed")
    seller = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="orders_received")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    total_amount = models.BigIntegerField(_("total (minor units)"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLACED)
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True)
    accept_by = models.DateTimeField(_("accept by"))
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    amount_due = models.BigIntegerField(_("amount due after receipt (minor units)"), null=True, blank=True)
    dispute_until = models.DateTimeField(_("dispute window ends"), null=True, blank=True)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="order_buyer_is_not_seller"),
            models.CheckConstraint(
                condition=Q(amount_due__isnull=True) | Q(amount_due__gte=0, amount_due__lte=F("total_amount")),
                name="order_amount_due_within_total",
            ),
            models.CheckConstraint(
                condition=Q(kind="group_inputs") | Q(purchase__isnull=False), name="order_has_purchase"
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "status", "-created_at"], name="order_buyer_status"),
            models.Index(fields=["seller", "status", "-created_at"], name="order_seller_status"),
            models.Index(fields=["status", "accept_by"], name="order_acceptance_due"),
            models.Index(fields=["status", "dispute_until"], name="order_dispute_window"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)

    @property
    def due(self) -> Money | None:
        return None if self.amount_due is None else Money(self.amount_due, self.currency)


class OrderLine(models.Model):
    """A quantity of one listing (grams) or one supplier offer (packs) at a unit price; the line total is
    computed once, rounded half-even, when the order is placed."""

    class PriceUnit(models.TextChoices):
        PER_KILOGRAM = UnitCode.KILOGRAM.value, _("per kilogram")
        PER_TONNE = UnitCode.TONNE.value, _("per tonne")
        PER_PACK = UnitCode.PIECE.value, _("per pack")

    class QuantityUnit(models.TextChoices):
        GRAM = UnitCode.GRAM.value, _("grams")
        PACK = UnitCode.PIECE.value, _("packs")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    listing = models.ForeignKey(
        "catalogue.Listing", on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines"
    )
    offer = models.ForeignKey(
        "catalogue.SupplierOffer", on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines"
    )
    lot = models.ForeignKey("catalogue.Lot", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    grade = models.ForeignKey("catalogue.Grade", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=200)
    quantity = models.BigIntegerField(_("quantity ordered"))
    quantity_unit = models.CharField(_("quantity unit"), max_length=3, choices=QuantityUnit.choices)
    unit_price_amount = models.BigIntegerField(_("unit price (minor units)"))
    price_unit = models.CharField(_("price unit"), max_length=3, choices=PriceUnit.choices)
    line_total_amount = models.BigIntegerField(_("line total (minor units)"))
    quantity_dispatched = models.BigIntegerField(_("quantity dispatched"), null=True, blank=True)
    quantity_received = models.BigIntegerField(_("quantity received"), null=True, blank=True)
    grade_received = models.ForeignKey(
        "catalogue.Grade", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount_due = models.BigIntegerField(_("amount due (minor units)"), null=True, blank=True)
    settlement = models.JSONField(_("how the amount due was computed"), default=dict, blank=True)

    class Meta:
        ordering = ["order", "position"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_unique"),
            models.CheckConstraint(
                condition=(Q(listing__isnull=False, offer__isnull=True, quantity_unit="GRM"))
                | (Q(listing__isnull=True, offer__isnull=False, quantity_unit="H87")),
                name="order_line_one_source",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price_amount__gt=0), name="order_line_price_positive"),
            models.CheckConstraint(condition=Q(line_total_amount__gte=0), name="order_line_total_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity_dispatched__isnull=True)
                | Q(quantity_dispatched__gte=0, quantity_dispatched__lte=F("quantity")),
                name="order_line_dispatched_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(quantity_received__isnull=True)
                | Q(quantity_received__gte=0, quantity_received__lte=F("quantity_dispatched")),
                name="order_line_received_within_dispatched",
            ),
            models.CheckConstraint(
                condition=Q(amount_due__isnull=True) | Q(amount_due__gte=0, amount_due__lte=F("line_total_amount")),
                name="order_line_due_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.position}: {self.description}"

    @property
    def is_produce(self) -> bool:
        return self.listing_id is not None

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_amount, self.order.currency)

    @property
    def line_total(self) -> Money:
        return Money(self.line_total_amount, self.order.currency)


class GradePrice(models.Model):
    """A price agreed on the order for a grade other than the one listed (in the line's price unit)."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="grade_prices")
    grade = models.ForeignKey("catalogue.Grade", on_delete=models.PROTECT, related_name="+")
    unit_price_amount = models.BigIntegerField(_("unit price (minor units)"))

    class Meta:
        ordering = ["line", "grade__rank"]
        verbose_name = _("grade price")
        verbose_name_plural = _("grade prices")
        constraints = [
            models.UniqueConstraint(fields=["line", "grade"], name="grade_price_unique"),
            models.CheckConstraint(condition=Q(unit_price_amount__gt=0), name="grade_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.grade_id} @ {self.unit_price_amount}"


class OrderEvent(models.Model):
    """One move of an order (placement included): who, when, from, to, as which side and role, and why."""

    class Side(models.TextChoices):
        BUYER = "buyer", _("Buyer")
        SELLER = "seller", _("Seller")
        OPERATOR = "operator", _("Platform operator")
        SYSTEM = "system", _("System")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    role = models.CharField(_("role"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)

    class Meta:
        ordering = ["order", "occurred_at", "id"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '∅'} → {self.to_status}"


class Dispatch(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="dispatch")
    dispatched_on = models.DateField(_("dispatched on"))
    vehicle = models.CharField(_("vehicle"), max_length=60, blank=True)
    driver = models.CharField(_("driver"), max_length=120, blank=True)
    document_number = models.CharField(_("document number"), max_length=60)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.document_number}"


class Receipt(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="receipt")
    received_on = models.DateField(_("received on"))
    inspection_notes = models.TextField(_("inspection notes"), blank=True)
    weight_tolerance_bp = models.PositiveIntegerField(_("weight tolerance (basis points)"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return f"{self.order_id}: received {self.received_on}"


class Dispute(models.Model):
    class Decision(models.TextChoices):
        RELEASE = "release", _("Full release to the seller")
        PARTIAL_REFUND = "partial_refund", _("Partial refund to the buyer")
        FULL_REFUND = "full_refund", _("Full refund to the buyer")

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="dispute")
    reason = models.TextField(_("reason"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    decision = models.CharField(_("decision"), max_length=15, choices=Decision.choices, blank=True)
    refund_amount = models.BigIntegerField(_("refund to the buyer (minor units)"), null=True, blank=True)
    decision_reasons = models.TextField(_("reasons for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="", refund_amount__isnull=True, decided_at__isnull=True)
                | (~Q(decision="") & Q(refund_amount__gte=0, decided_at__isnull=False) & ~Q(decision_reasons="")),
                name="dispute_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.decision or 'open'}"

    @property
    def is_open(self) -> bool:
        return not self.decision


class DisputeEvidence(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("file"), upload_to="orders/disputes/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["dispute", "id"]
        verbose_name = _("dispute evidence")
        verbose_name_plural = _("dispute evidence")

    def __str__(self) -> str:
        return self.original_name


class InvoiceSequence(models.Model):
    """Each seller's invoice counter per year; incremented under a row lock, so numbers have no gaps."""

    seller = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("invoice sequence")
        verbose_name_plural = _("invoice sequences")
        constraints = [models.UniqueConstraint(fields=["seller", "year"], name="invoice_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.seller_id}/{self.year}: {self.last_value}"


class Invoice(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    seller = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("invoice number"), max_length=30)
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        ordering = ["seller", "year", "sequence"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["seller", "year", "sequence"], name="invoice_sequence_number_unique"),
            models.UniqueConstraint(fields=["seller", "number"], name="invoice_number_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class Notification(models.Model):
    """One message about one order event to one recipient on one channel; sent at most once."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(OrderEvent, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=8, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "event", "channel", "recipient"], name="notification_once_per_recipient"
            ),
        ]
        indexes = [models.Index(fields=["event", "sent_at"], name="notification_pending")]

    def __str__(self) -> str:
        return f"{self.channel} {self.recipient}: {self.event_id}"


# Group input orders live in their own module; imported here so Django registers the models.
from orders.group_models import (  # noqa: E402, F401
    GroupOrder,
    GroupOrderLine,
    GroupOrderRound,
    MemberAllocation,
    MemberRequest,
    OrderingWindow,
    RequestChange,
    WindowProduct,
)
