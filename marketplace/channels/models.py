"""The message log (every SMS in and out), delivery reports, USSD sessions and farmers' PINs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.core.models import TimeStampedModel


class Message(TimeStampedModel):
    """One SMS, in or out, with its status, cost and segments. Outbound messages are sent by a task that takes
    the message's id; `idempotency_key` derives from our own ids, so enqueueing the same message twice is a no-op."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    class Status(models.TextChoices):
        # outbound, before the gateway answered
        QUEUED = "queued", pgettext_lazy("message status", "Queued")
        SENDING = "sending", pgettext_lazy("message status", "Sending")
        UNKNOWN = "unknown", pgettext_lazy("message status", "Unknown (no answer from the gateway)")
        # outbound, the gateway's own words (send response and delivery reports)
        SENT = "sent", pgettext_lazy("message status", "Sent")
        SUBMITTED = "submitted", pgettext_lazy("message status", "Submitted")
        BUFFERED = "buffered", pgettext_lazy("message status", "Buffered")
        SUCCESS = "success", pgettext_lazy("message status", "Delivered")
        FAILED = "failed", pgettext_lazy("message status", "Failed")
        REJECTED = "rejected", pgettext_lazy("message status", "Rejected")
        # inbound
        RECEIVED = "received", pgettext_lazy("message status", "Received")
        ANSWERED = "answered", pgettext_lazy("message status", "Answered")

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    gateway = models.CharField(_("gateway"), max_length=30)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    phone = models.CharField(_("farmer's phone (E.164)"), max_length=20)
    short_code = models.CharField(_("our number or sender id"), max_length=20, blank=True)
    body = models.TextField(_("text"))
    encoding = models.CharField(_("encoding"), max_length=5)
    segments = models.PositiveSmallIntegerField(_("segments"))
    farmer = models.ForeignKey(
        "organisations.MemberFarmer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)
    provider_message_id = models.CharField(_("gateway's message id"), max_length=100, blank=True)
    link_id = models.CharField(_("gateway's link id"), max_length=100, blank=True)
    in_reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reply", verbose_name=_("reply to")
    )
    cost = models.CharField(_("cost as the gateway reported it"), max_length=40, blank=True)
    cost_currency = models.CharField(_("cost currency"), max_length=3, blank=True)
    cost_micros = models.BigIntegerField(_("cost (millionths of the currency unit)"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received at (inbound)"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "direction", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="channels_message_provider_id_unique",
            ),
            models.CheckConstraint(condition=Q(segments__gte=1), name="channels_message_segments_positive"),
        ]
        indexes = [models.Index(fields=["provider_message_id"], name="channels_message_provider_id")]

    def __str__(self) -> str:
        return f"{self.direction} {self.phone} {self.status}"


class DeliveryReport(models.Model):
    """A delivery report as the gateway posted it; each (message id, status) is applied once."""

    gateway = models.CharField(_("gateway"), max_length=30)
    provider_message_id = models.CharField(_("gateway's message id"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Message.Status.choices)
    failure_reason = models.CharField(_("failure reason"), max_length=100, blank=True)
    network_code = models.CharField(_("network code"), max_length=10, blank=True)
    retry_count = models.PositiveSmallIntegerField(_("retry count"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("delivery report")
        verbose_name_plural = _("delivery reports")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "provider_message_id", "status"], name="channels_delivery_report_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_message_id} {self.status}"


class UssdSession(models.Model):
    """A gateway USSD session. `screens` keeps every answer by the `text` that produced it, so a replayed
    request gets the same screen; `pin_checks` keeps each PIN input's verdict, so a replay counts no try twice."""

    gateway = models.CharField(_("gateway"), max_length=30)
    session_id = models.CharField(_("session id"), max_length=100)
    phone = models.CharField(_("phone (E.164)"), max_length=20)
    service_code = models.CharField(_("service code"), max_length=30, blank=True)
    network_code = models.CharField(_("network code"), max_length=10, blank=True)
    farmer = models.ForeignKey(
        "organisations.MemberFarmer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_text = models.TextField(_("last text"), blank=True)
    screens = models.JSONField(_("screens by text"), default=dict)
    pin_checks = models.JSONField(_("PIN verdicts by input position"), default=dict)
    ended = models.BooleanField(_("ended"), default=False)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("USSD session")
        verbose_name_plural = _("USSD sessions")
        constraints = [
            models.UniqueConstraint(fields=["gateway", "session_id"], name="channels_ussd_session_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.phone}"


class FarmerPin(models.Model):
    """A member farmer's 4-digit PIN for money details, set by a clerk; stored hashed (Django's hashers)."""

    MAX_FAILURES = 5

    farmer = models.OneToOneField("organisations.MemberFarmer", on_delete=models.CASCADE, related_name="channel_pin")
    pin_hash = models.CharField(_("PIN hash"), max_length=200)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong tries in a row"), default=0)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(_("set at"))

    class Meta:
        verbose_name = _("farmer PIN")
        verbose_name_plural = _("farmer PINs")
        constraints = [
            models.CheckConstraint(condition=Q(failed_attempts__lte=5), name="channels_pin_failures_capped"),
        ]

    def __str__(self) -> str:
        return f"PIN of {self.farmer_id}"

    @property
    def locked(self) -> bool:
        return self.locked_at is not None
