"""The escrow is ours: a double-entry ledger in integer minor units (DESIGN.md, "Payments, in short").

Sign convention: an entry's amount is positive for a debit and negative for a credit. Every transaction's
entries sum to zero per currency. Each account keeps its running balance in its *normal* orientation
(debit-normal for assets, credit-normal for liabilities and revenue), updated under a row lock in the same
transaction as the entries, so a check constraint can forbid a negative escrow.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    farmer = models.ForeignKey(
        "organisations.MemberFarmer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    balance = models.BigIntegerField(_("balance (minor units, normal orientation)"), default=0)

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
