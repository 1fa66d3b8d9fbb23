"""The escrow is ours: a double-entry ledger in integer minor units (DESIGN.md, "Payments, in short").

Sign convention: an entry's amount is positive for a debit and negative for a credit. Every transaction's
entries sum to zero per currency. Each account keeps its running balance in its *normal* orientation
(debit-normal for assets, credit-normal for liabilities and revenue), updated under a row lock in the same
transaction as the entries, so a check constraint can forbid a negative escrow.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.core.validators import validate_currency


class Account(models.Model):
    class Kind(models.TextChoices):
        PROVIDER_CLEARING = "provider_clearing", _("Provider clearing")  # asset: money at the provider
        ORDER_ESCROW = "order_escrow", _("Order escrow")  # liability: held for one order
        ORGANISATION_PAYABLE = "organisation_payable", _("Owed to an organisation")  # liability
        ORGANISATION_RECEIVABLE = "organisation_receivable", _("Owed by an organisation")  # asset
        PLATFORM_FEES = "platform_fees", _("Platform fee revenue")  # revenue
        MEMBER_PAYABLE = "member_payable", _("Owed to a member farmer")  # liability
        MEMBER_INPUT_CREDIT = "member_input_credit", _("Input credit of a member farmer")  # asset

    DEBIT_NORMAL = frozenset({Kind.PROVIDER_CLEARING, Kind.ORGANISATION_RECEIVABLE, Kind.MEMBER_INPUT_CREDIT})
    # Accounts whose balance may never go below zero: money cannot be released before it is held.
    NEVER_NEGATIVE = frozenset({Kind.ORDER_ESCROW, Kind.MEMBER_PAYABLE, Kind.ORGANISATION_PAYABLE})
    # The one account of a kind per currency that nearly every posting touches: no running balance (it would be
    # a row every posting of the currency locks and updates), its balance is the sum of its entries, read with
    # payments.selectors.with_balances. It is never checked against zero, so nothing needs the lock.
    SUMMED = frozenset({Kind.PROVIDER_CLEARING, Kind.PLATFORM_FEES})

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    farmer = models.ForeignKey(
        "organisations.MemberFarmer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The running balance, kept under a row lock by every posting; always 0 for the SUMMED kinds (see there).
    balance = models.BigIntegerField(_("balance (minor units, normal orientation)"), default=0)
    # Set by a trigger (migration 0006) whenever the row is written, however it is written: the incremental
    # ledger check compares the stored balances of the accounts changed since its last run.
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True, editable=False, db_index=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "currency", "organisation", "order", "farmer"],
                nulls_distinct=False,
                name="ledger_account_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["order_escrow", "member_payable", "organisation_payable"])
                | models.Q(balance__gte=0),
                name="ledger_account_never_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["provider_clearing", "platform_fees"]) | models.Q(balance=0),
                name="ledger_account_summed_has_no_stored_balance",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="order_escrow") | models.Q(order__isnull=False),
                name="ledger_escrow_has_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["member_payable", "member_input_credit"])
                | models.Q(farmer__isnull=False),
                name="ledger_member_account_has_farmer",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["organisation_payable", "organisation_receivable"])
                | models.Q(organisation__isnull=False),
                name="ledger_organisation_account_has_organisation",
            ),
        ]

    def __str__(self) -> str:
        owner = self.order_id or self.farmer_id or self.organisation_id or "platform"
        return f"{self.kind}:{owner}:{self.currency}"

    @property
    def debit_normal(self) -> bool:
        return self.kind in self.DEBIT_NORMAL


class LedgerTransaction(models.Model):
    """One business operation. Immutable: a correction is a new transaction that `reverses` this one."""

    kind = models.CharField(_("kind"), max_length=40)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-posted_at", "-id"]
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"


class Entry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField(_("amount (minor units; debit > 0, credit < 0)"))
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+d}"


# --- Payments, refunds, transfers and the provider's events ------------------------------------------------------
# Amounts are integer minor units of `currency` (house rule 5). Each record names our own id, from which every
# idempotency key sent to the provider is derived, and the provider's reference once it is known.


class Payment(models.Model):
    """A buyer's payment for one order through a provider; it funds the order's escrow when it succeeds."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("payment status", "Waiting for the buyer")
        SUCCEEDED = "succeeded", pgettext_lazy("payment status", "Succeeded")
        FAILED = "failed", pgettext_lazy("payment status", "Failed")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=20)
    reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    charge_reference = models.CharField(_("charge reference"), max_length=100, blank=True)
    client_secret = models.CharField(_("client secret"), max_length=200, blank=True)
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    failure_message = models.CharField(_("failure"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        # Webhooks find a payment by its charge (refund and dispute events name only the charge).
        indexes = [models.Index(fields=["provider", "charge_reference"], name="payment_charge")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "reference"], condition=~models.Q(reference=""), name="payment_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} ({self.reference or 'new'})"


class Refund(models.Model):
    """Money going back from an order's escrow to the buyer. The ledger posts it when it is decided; the provider
    carries it out after the commit, with `refund:<id>` as idempotency key."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("payment status", "To send to the provider")
        UNKNOWN = "unknown", pgettext_lazy("payment status", "Sent; the provider's answer is not known yet")
        SUCCEEDED = "succeeded", pgettext_lazy("payment status", "Succeeded")
        FAILED = "failed", pgettext_lazy("payment status", "Failed at the provider")

    class Reason(models.TextChoices):
        SETTLEMENT = "settlement", _("Difference after receipt or dispute")
        CANCELLATION = "cancellation", _("Order cancelled after payment")
        OPERATOR = "operator", _("Refund by the operator")
        PROVIDER = "provider", _("Refunded at the provider")
        DUPLICATE = "duplicate", _("Payment not needed by the order")

    key = models.CharField(_("our key"), max_length=120, unique=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.CharField(_("reason"), max_length=15, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    attempts = models.PositiveIntegerField(_("calls to the provider"), default=0)
    last_attempt_at = models.DateTimeField(_("last call to the provider"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        indexes = [models.Index(fields=["reference"], name="refund_reference")]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund {self.pk} ({self.amount} {self.currency})"


class PayoutAccount(models.Model):
    """An organisation's account at the provider that receives releases (a Stripe Express connected account)."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=20)
    reference = models.CharField(_("provider reference"), max_length=100)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    payouts_enabled = models.BooleanField(_("payouts enabled"), default=False)
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payout account")
        verbose_name_plural = _("payout accounts")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "provider"], name="payout_account_one_per_provider"),
            models.UniqueConstraint(fields=["provider", "reference"], name="payout_account_reference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.reference}"


class Transfer(models.Model):
    """A release paid out to the seller's payout account. `transfer:<id>` is its idempotency key (at the provider
    and on the ledger); after the operator re-sends a refused transfer, `transfer:<id>:resend:<n>` (`key`)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("payment status", "Waiting to be sent")
        UNKNOWN = "unknown", pgettext_lazy("payment status", "Sent; the provider's answer is not known yet")
        PAID = "paid", pgettext_lazy("payment status", "Sent to the seller's account")
        FAILED = "failed", pgettext_lazy("payment status", "Refused by the provider")
        REVERSED = "reversed", pgettext_lazy("payment status", "Reversed")

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=20)
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    destination = models.CharField(_("destination account"), max_length=100, blank=True)
    amount_reversed = models.BigIntegerField(_("amount reversed (minor units)"), default=0)
    # The running total a reversal being made will bring `amount_reversed` to; stale once that total is recorded.
    reversal_target = models.BigIntegerField(_("reversal in progress, to (minor units)"), default=0)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    attempts = models.PositiveIntegerField(_("calls to the provider"), default=0)
    last_attempt_at = models.DateTimeField(_("last call to the provider"), null=True, blank=True)
    resends = models.PositiveIntegerField(_("times re-sent after a refusal"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [models.Index(fields=["reference"], name="transfer_reference")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(amount_reversed__gte=0, amount_reversed__lte=models.F("amount")),
                name="transfer_reversed_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk} ({self.amount} {self.currency})"

    @property
    def key(self) -> str:
        """The idempotency key of the current send (the provider's and the ledger posting's): derived from our id
        and how many times the operator re-sent it after a refusal."""
        return f"transfer:{self.pk}" if not self.resends else f"transfer:{self.pk}:resend:{self.resends}"


class ChargeDispute(models.Model):
    """A card chargeback opened by the buyer's bank: it freezes the order's escrow until it closes."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("chargeback status", "Open")
        WON = "won", pgettext_lazy("chargeback status", "Won")
        LOST = "lost", pgettext_lazy("chargeback status", "Lost")

    provider = models.CharField(_("provider"), max_length=20)
    reference = models.CharField(_("provider reference"), max_length=100)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=5, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("chargeback")
        verbose_name_plural = _("chargebacks")
        constraints = [
            models.UniqueConstraint(fields=["provider", "reference"], name="charge_dispute_reference_unique")
        ]

    def __str__(self) -> str:
        return f"chargeback {self.reference} ({self.status})"


class ProviderEvent(models.Model):
    """A provider's event (a verified webhook, or an offline provider's event), stored before it is processed.
    Processing locks this row and commits the effects with `processed_at`, so each event takes effect once."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Nothing to do")
        REJECTED = "rejected", _("Refused (see the error)")

    provider = models.CharField(_("provider"), max_length=20)
    event_id = models.CharField(_("event id"), max_length=100)
    type = models.CharField(_("type"), max_length=60)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id} {self.type}"


class OperatorAlert(models.Model):
    """Something about money that a person at the platform operator has to look at."""

    kind = models.CharField(_("kind"), max_length=40)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("operator alert")
        verbose_name_plural = _("operator alerts")

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


class OfflineRecord(models.Model):
    """The offline provider's own books: what it 'collected', refunded, transferred and reversed."""

    kind = models.CharField(_("kind"), max_length=20)
    reference = models.CharField(_("reference"), max_length=100, unique=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("offline provider record")
        verbose_name_plural = _("offline provider records")

    def __str__(self) -> str:
        return self.reference


class OfflinePaymentConfirmation(models.Model):
    """The operator's confirmation that an offline payment (a bank or mobile-money transfer to the platform's
    account, quoting the payment's reference) was received: the money's own reference and, optionally, evidence."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="offline_confirmation")
    transfer_reference = models.CharField(_("reference of the transfer received"), max_length=100)
    evidence = models.FileField(_("evidence (statement, receipt)"), upload_to="payments/evidence/%Y/%m/", blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("offline payment confirmation")
        verbose_name_plural = _("offline payment confirmations")

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.transfer_reference}"
