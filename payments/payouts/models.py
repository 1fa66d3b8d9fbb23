"""Member payouts: a cooperative's net proceeds from released orders, split among the member farmers who
contributed to the lots sold, minus the cooperative's levy and each member's outstanding input credit.

A batch covers one or more released orders of one cooperative. Its status changes only in
`payments.payouts.services` (proposed → approved → executing → executed, proposed → cancelled; executing →
approved when the provider refuses the payments).
Amounts are integer minor units of the batch's currency.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.core.money import Money
from marketplace.core.validators import validate_currency


class CooperativePayoutPolicy(models.Model):
    """How a cooperative pays its members. Without a row, settings.PAYOUT_DEFAULT_LEVY_BP applies."""

    organisation = models.OneToOneField(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="payout_policy"
    )
    levy_bp = models.PositiveIntegerField(
        _("cooperative levy (basis points)"),
        validators=[MaxValueValidator(10_000)],
        help_text=_("Kept by the cooperative from each member's share: 200 basis points = 2 %."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cooperative payout policy")
        verbose_name_plural = _("cooperative payout policies")
        constraints = [
            models.CheckConstraint(condition=Q(levy_bp__gte=0, levy_bp__lte=10_000), name="payout_levy_bp_range"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.levy_bp} bp"


class PayoutBatch(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("payout batch status", "Proposed")
        APPROVED = "approved", pgettext_lazy("payout batch status", "Approved")
        EXECUTING = "executing", pgettext_lazy("payout batch status", "Being paid")
        EXECUTED = "executed", pgettext_lazy("payout batch status", "Executed")
        CANCELLED = "cancelled", pgettext_lazy("payout batch status", "Cancelled")

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="payout_batches"
    )
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    levy_bp = models.PositiveIntegerField(_("levy (basis points)"), validators=[MinValueValidator(0)])
    proceeds_amount = models.BigIntegerField(_("net proceeds split (minor units)"))
    levy_amount = models.BigIntegerField(_("levy (minor units)"))
    credit_amount = models.BigIntegerField(_("input credit recovered (minor units)"))
    net_amount = models.BigIntegerField(_("paid to members (minor units)"))
    provider = models.CharField(_("payout provider"), max_length=40, blank=True)
    attempts = models.PositiveIntegerField(_("executions started"), default=0)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    allocation_transaction = models.OneToOneField(
        "payments.LedgerTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        constraints = [
            models.CheckConstraint(
                condition=Q(proceeds_amount__gt=0, levy_amount__gte=0, credit_amount__gte=0, net_amount__gte=0),
                name="payout_batch_amounts",
            ),
            models.CheckConstraint(
                condition=Q(proceeds_amount=F("levy_amount") + F("credit_amount") + F("net_amount")),
                name="payout_batch_sums_to_proceeds",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "cancelled"]) | Q(approved_at__isnull=False),
                name="payout_batch_approval_recorded",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status", "-proposed_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"PB{self.pk:05d}" if self.pk else "PB-new"

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


class PayoutBatchOrder(models.Model):
    """A released order whose net proceeds a batch splits. An order is in at most one batch that is not
    cancelled (`active`), enforced by a partial unique index."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.CASCADE, related_name="orders")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    release_transaction = models.ForeignKey("payments.LedgerTransaction", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("net proceeds (minor units)"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["batch", "order"]
        verbose_name = _("order in a payout batch")
        verbose_name_plural = _("orders in payout batches")
        constraints = [
            models.UniqueConstraint(fields=["batch", "order"], name="payout_batch_order_unique"),
            models.UniqueConstraint(fields=["order"], condition=Q(active=True), name="payout_order_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_batch_order_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}: order {self.order_id}"


class PayoutLine(models.Model):
    """What one member gets from a batch: gross share − levy − input credit recovered = net paid."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("payout line status", "Proposed")
        SENT = "sent", pgettext_lazy("payout line status", "Sent")
        PAID = "paid", pgettext_lazy("payout line status", "Paid")
        FAILED = "failed", pgettext_lazy("payout line status", "Failed")

    batch = models.ForeignKey(PayoutBatch, on_delete=models.CASCADE, related_name="lines")
    farmer = models.ForeignKey("organisations.MemberFarmer", on_delete=models.PROTECT, related_name="payout_lines")
    gross_amount = models.BigIntegerField(_("gross share (minor units)"))
    levy_amount = models.BigIntegerField(_("levy (minor units)"))
    credit_amount = models.BigIntegerField(_("input credit recovered (minor units)"))
    net_amount = models.BigIntegerField(_("net paid (minor units)"))
    phone = models.CharField(_("phone (when proposed)"), max_length=20, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    payout_transaction = models.OneToOneField(
        "payments.LedgerTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Sent (posted, provider asked) at `sent_at`; then paid (`paid_at`) or failed (`failed_at`, the provider has no
    # payment under our reference: its posting is reversed and the operator may retry it, a new send `retries`).
    sent_at = models.DateTimeField(_("last sent to the provider"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    retries = models.PositiveIntegerField(_("times retried after failing"), default=0)
    # Moved only by `payments.payouts.services.payout_line_transition` (its table: PAYOUT_LINE_TABLE).
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)

    class Meta:
        ordering = ["batch", "farmer__member_number"]
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            models.UniqueConstraint(fields=["batch", "farmer"], name="payout_line_once_per_member"),
            models.CheckConstraint(
                condition=Q(gross_amount__gte=0, levy_amount__gte=0, credit_amount__gte=0, net_amount__gte=0),
                name="payout_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(gross_amount=F("levy_amount") + F("credit_amount") + F("net_amount")),
                name="payout_line_sums_to_gross",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.farmer_id} {self.net_amount}"

    @property
    def reference(self) -> str:
        """The payment reference members and the mobile-money operator see."""
        return f"PB{self.batch_id:05d}-{self.pk}"

    @property
    def send_reference(self) -> str:
        """Our reference of the current send, the provider's idempotency key: a retry after a failure is a new one."""
        return self.reference if not self.retries else f"{self.reference}-R{self.retries}"

    @property
    def in_flight(self) -> bool:
        return self.status == self.Status.SENT


class PayoutShare(models.Model):
    """How a member's gross share was computed: one row per order line and delivery in the lot sold."""

    line = models.ForeignKey(PayoutLine, on_delete=models.CASCADE, related_name="shares")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("catalogue.Lot", on_delete=models.PROTECT, related_name="+")
    delivery = models.ForeignKey("catalogue.Delivery", on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey("catalogue.Grade", on_delete=models.PROTECT, related_name="+")
    grams = models.BigIntegerField(_("grams in the lot"))
    unit_price_amount = models.BigIntegerField(_("unit price used as weight (minor units)"))
    amount = models.BigIntegerField(_("share (minor units)"))

    class Meta:
        ordering = ["line", "order", "order_line", "delivery"]
        verbose_name = _("payout share")
        verbose_name_plural = _("payout shares")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0, grams__gt=0), name="payout_share_amounts")]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.order_line_id}/{self.delivery_id} {self.amount}"


class PayoutSms(models.Model):
    """One row per payout line once its statement SMS has been handled: sent at most once."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        NO_PHONE = "no_phone", _("No phone number")

    line = models.OneToOneField(PayoutLine, on_delete=models.PROTECT, related_name="sms")
    to = models.CharField(_("to"), max_length=20, blank=True)
    body = models.TextField(_("body"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    handled_at = models.DateTimeField(_("handled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout SMS")
        verbose_name_plural = _("payout SMS")

    def __str__(self) -> str:
        return f"{self.line_id}: {self.outcome}"


class CashHandover(models.Model):
    """A member without a phone was paid in cash: who handed the money over, when, after confirming on the page.
    Written once per payout line (`payments.payouts.services.cash.cash_handover_record`)."""

    line = models.OneToOneField(PayoutLine, on_delete=models.PROTECT, related_name="cash_handover")
    handed_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handed_over_at = models.DateTimeField(_("handed over at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-handed_over_at", "-id"]
        verbose_name = _("cash handover")
        verbose_name_plural = _("cash handovers")

    def __str__(self) -> str:
        return f"cash {self.line_id} by {self.handed_over_by_id}"
