"""Group input orders, part one: ordering windows, the products they collect, and member farmers' requests.

A cooperative's manager opens an ordering window for a season; clerks (and the API) record what each member
farmer asks for, as timestamped changes that add or remove quantity and tolerance (Foodsoft's model), so the
first-come order of what was asked survives later changes. A window's status changes only in
`orders.services.group_windows.window_transition`.

Quantities are integers in the base unit of the product's packaging: grams for a bag with a net mass,
millilitres for a volume, pieces for a count. The pack size ("unit" of the rounding rule) is the packaging's
net content in that base unit.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.core.validators import validate_currency


class OrderingWindow(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("window status", "Draft")
        OPEN = "open", pgettext_lazy("window status", "Open")
        CLOSED = "closed", pgettext_lazy("window status", "Closed")
        ORDERED = "ordered", pgettext_lazy("window status", "Ordered")
        COMPLETED = "completed", pgettext_lazy("window status", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("window status", "Cancelled")

    class Allocation(models.TextChoices):
        FIRST_COME = "first_come", _("First come, first served")
        PRO_RATA = "pro_rata", _("Pro rata (largest remainder)")

    class MoqAction(models.TextChoices):
        EXTEND = "extend", _("Extend the window")
        CANCEL = "cancel", _("Cancel the window")

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="ordering_windows"
    )
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    box_fill_at = models.DateTimeField(
        _("box-fill from"),
        null=True,
        blank=True,
        help_text=_("From this time no change may reduce the number of filled packs."),
    )
    allocation_rule = models.CharField(
        _("allocation rule"), max_length=12, choices=Allocation.choices, default=Allocation.FIRST_COME
    )
    on_credit = models.BooleanField(_("members buy on credit"), default=False)
    moq_action = models.CharField(
        _("if a supplier minimum is not met"), max_length=8, choices=MoqAction.choices, default=MoqAction.EXTEND
    )
    extend_days = models.PositiveSmallIntegerField(_("extend by (days)"), default=7)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reminded_at = models.DateTimeField(_("closing reminder sent at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-opens_at", "-id"]
        verbose_name = _("ordering window")
        verbose_name_plural = _("ordering windows")
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="window_closes_after_opening"),
            models.CheckConstraint(
                condition=Q(box_fill_at__isnull=True)
                | Q(box_fill_at__gte=F("opens_at"), box_fill_at__lte=F("closes_at")),
                name="window_box_fill_inside",
            ),
            models.CheckConstraint(condition=Q(extend_days__gte=1), name="window_extend_days_positive"),
        ]
        indexes = [models.Index(fields=["organisation", "status", "-opens_at"], name="window_org_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def reference(self) -> str:
        return f"W{self.pk:05d}" if self.pk else "W-new"

    def accepts_requests(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.OPEN and self.opens_at <= now < self.closes_at

    def box_filling(self, now=None) -> bool:
        return self.box_fill_at is not None and (now or timezone.now()) >= self.box_fill_at


class WindowProduct(models.Model):
    """An input product a window collects requests for; `chosen_offer` is the manager's override of the plan."""

    window = models.ForeignKey(OrderingWindow, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey("catalogue.InputProduct", on_delete=models.PROTECT, related_name="+")
    chosen_offer = models.ForeignKey(
        "catalogue.SupplierOffer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["window", "product__name"]
        verbose_name = _("window product")
        verbose_name_plural = _("window products")
        constraints = [models.UniqueConstraint(fields=["window", "product"], name="window_product_unique")]

    def __str__(self) -> str:
        return f"{self.window_id}: {self.product_id}"


class MemberRequest(models.Model):
    """A member's current request for one product in one window: the sum of its changes."""

    window = models.ForeignKey(OrderingWindow, on_delete=models.PROTECT, related_name="requests")
    farmer = models.ForeignKey("organisations.MemberFarmer", on_delete=models.PROTECT, related_name="input_requests")
    product = models.ForeignKey("catalogue.InputProduct", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("quantity"), default=0)
    tolerance = models.BigIntegerField(_("tolerance"), default=0)
    created_at = models.DateTimeField(_("first asked at"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed at"), default=timezone.now)

    class Meta:
        ordering = ["window", "product", "created_at", "id"]
        verbose_name = _("member input request")
        verbose_name_plural = _("member input requests")
        constraints = [
            models.UniqueConstraint(fields=["window", "farmer", "product"], name="member_request_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0, tolerance__gte=0), name="member_request_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.window_id}/{self.farmer_id}/{self.product_id}: {self.quantity}+{self.tolerance}"


class RequestChange(models.Model):
    """One timestamped change of a request: quantity and tolerance added (> 0) or removed (< 0)."""

    class Channel(models.TextChoices):
        CLERK = "clerk", _("Clerk")
        API = "api", _("API")
        SMS = "sms", _("SMS")
        USSD = "ussd", _("USSD")

    request = models.ForeignKey(MemberRequest, on_delete=models.PROTECT, related_name="changes")
    quantity_delta = models.BigIntegerField(_("quantity change"))
    tolerance_delta = models.BigIntegerField(_("tolerance change"))
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    # Empty for a change the member made on their own phone (SMS or USSD).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["request", "recorded_at", "id"]
        verbose_name = _("request change")
        verbose_name_plural = _("request changes")
        constraints = [
            models.CheckConstraint(
                condition=~Q(quantity_delta=0) | ~Q(tolerance_delta=0), name="request_change_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(recorded_by__isnull=False) | Q(channel__in=["sms", "ussd"]),
                name="request_change_recorded_by_unless_phone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.quantity_delta:+}/{self.tolerance_delta:+}"


class GroupOrder(models.Model):
    """One supplier's part of a window's plan. Its status changes only in
    `orders.services.group_orders.group_order_transition`. When the supplier accepts, an `Order` of kind
    `group_inputs` (buyer: the cooperative, seller: the supplier) is created and accepted with the agreed lines:
    the cooperative pays that order into escrow through the payment providers, and its dispatch, receipt and
    completion release the escrow to the supplier exactly as for any order."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("order status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("order status", "Submitted")
        COUNTERED = "countered", pgettext_lazy("order status", "Countered")
        ACCEPTED = "accepted", pgettext_lazy("order status", "Accepted")
        DECLINED = "declined", pgettext_lazy("order status", "Declined")
        PAID = "paid", pgettext_lazy("order status", "Paid")
        DISPATCHED = "dispatched", pgettext_lazy("order status", "Dispatched")
        RECEIVED = "received", pgettext_lazy("order status", "Received")
        DISTRIBUTED = "distributed", pgettext_lazy("order status", "Distributed")
        COMPLETED = "completed", pgettext_lazy("order status", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")
        EXPIRED = "expired", pgettext_lazy("order status", "Expired")

    window = models.ForeignKey(OrderingWindow, on_delete=models.PROTECT, related_name="group_orders")
    buyer = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="group_orders")
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    total_amount = models.BigIntegerField(_("total (minor units)"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    rounds = models.PositiveSmallIntegerField(_("counter-offers made"), default=0)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="group_order"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("group input order")
        verbose_name_plural = _("group input orders")
        constraints = [
            models.UniqueConstraint(fields=["window", "supplier"], name="group_order_once_per_supplier"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="group_order_total_not_negative"),
            models.CheckConstraint(condition=Q(rounds__lte=3), name="group_order_at_most_three_rounds"),
        ]
        indexes = [
            models.Index(fields=["supplier", "status"], name="group_order_supplier"),
            models.Index(fields=["status", "respond_by"], name="group_order_response_due"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"GO{self.pk:05d}" if self.pk else "GO-new"


class GroupOrderLine(models.Model):
    group_order = models.ForeignKey(GroupOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalogue.InputProduct", on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey("catalogue.SupplierOffer", on_delete=models.PROTECT, related_name="+")
    packs = models.BigIntegerField(_("packs"))
    unit_price_amount = models.BigIntegerField(_("price per pack (minor units)"))
    line_total_amount = models.BigIntegerField(_("line total (minor units)"))
    packs_received = models.BigIntegerField(_("packs received"), null=True, blank=True)

    class Meta:
        ordering = ["group_order", "product__name"]
        verbose_name = _("group order line")
        verbose_name_plural = _("group order lines")
        constraints = [
            models.UniqueConstraint(fields=["group_order", "product"], name="group_order_line_unique"),
            models.CheckConstraint(condition=Q(packs__gt=0, unit_price_amount__gt=0), name="group_line_positive"),
            models.CheckConstraint(
                condition=Q(line_total_amount=F("packs") * F("unit_price_amount")), name="group_line_total"
            ),
            models.CheckConstraint(
                condition=Q(packs_received__isnull=True) | Q(packs_received__gte=0, packs_received__lte=F("packs")),
                name="group_line_received_within_packs",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_order_id}: {self.packs} x {self.product_id}"


class GroupOrderRound(models.Model):
    """Terms proposed in a negotiation round: the cooperative's submission or the supplier's counter-offer."""

    class Side(models.TextChoices):
        COOPERATIVE = "cooperative", _("Cooperative")
        SUPPLIER = "supplier", _("Supplier")

    group_order = models.ForeignKey(GroupOrder, on_delete=models.CASCADE, related_name="negotiation")
    side = models.CharField(_("side"), max_length=12, choices=Side.choices)
    terms = models.JSONField(_("terms per line: packs and price per pack"))
    total_amount = models.BigIntegerField(_("total (minor units)"))
    note = models.TextField(_("note"), blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)

    class Meta:
        ordering = ["group_order", "proposed_at", "id"]
        verbose_name = _("negotiation round")
        verbose_name_plural = _("negotiation rounds")

    def __str__(self) -> str:
        return f"{self.group_order_id}: {self.side} {self.total_amount}"


class MemberAllocation(models.Model):
    """What one member gets of one group order line when it is distributed, and what it costs the member (the
    line's cost of what arrived, shared by largest remainder). Handed over once, by a clerk."""

    group_order = models.ForeignKey(GroupOrder, on_delete=models.PROTECT, related_name="allocations")
    line = models.ForeignKey(GroupOrderLine, on_delete=models.PROTECT, related_name="allocations")
    request = models.ForeignKey(MemberRequest, on_delete=models.PROTECT, related_name="allocations")
    farmer = models.ForeignKey("organisations.MemberFarmer", on_delete=models.PROTECT, related_name="input_allocations")
    quantity = models.BigIntegerField(_("quantity allocated"))
    amount = models.BigIntegerField(_("cost to the member (minor units)"))
    on_credit = models.BooleanField(_("on credit"), default=False)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["group_order", "line", "farmer__member_number"]
        verbose_name = _("member allocation")
        verbose_name_plural = _("member allocations")
        constraints = [
            models.UniqueConstraint(fields=["line", "request"], name="member_allocation_once"),
            models.CheckConstraint(condition=Q(quantity__gte=0, amount__gte=0), name="member_allocation_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}/{self.farmer_id}: {self.quantity}"

    @property
    def receipt_number(self) -> str:
        return f"IN{self.pk:06d}"
