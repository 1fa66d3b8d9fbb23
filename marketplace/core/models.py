from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """An append-only record of a change of money or status (house rule 8).

    Subjects are named by label and id rather than by foreign key so that every app
    can write here without the core knowing its models.
    """

    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation_id = models.BigIntegerField(_("organisation"), null=True, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=100)
    subject_type = models.CharField(_("subject type"), max_length=100)
    subject_id = models.CharField(_("subject id"), max_length=64)
    from_status = models.CharField(_("from status"), max_length=40, blank=True)
    to_status = models.CharField(_("to status"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.action} {self.subject_type}:{self.subject_id}"


class OutboxMessage(models.Model):
    """A task to run once the transaction that wrote it has committed (see `marketplace.core.outbox`)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    countdown = models.PositiveIntegerField(_("delay in seconds"), null=True, blank=True)
    key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["created_at"], name="core_outbox_unsent_idx", condition=models.Q(sent_at__isnull=True))
        ]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"


class CheckRun(models.Model):
    """The last run of a periodic integrity check (the ledger's invariants, the event hash chains): its result,
    shown on the operator's pages instead of rerunning the check per view, and the checkpoint the next
    incremental run starts from. One row per check, replaced by each run."""

    name = models.CharField(_("check"), max_length=50, unique=True)
    checked_at = models.DateTimeField(_("checked at"))
    full = models.BooleanField(_("full rescan"), default=False)
    last_full_at = models.DateTimeField(_("last full rescan"), null=True, blank=True)
    checkpoint = models.JSONField(_("checkpoint"), default=dict, blank=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    checked = models.JSONField(_("what was checked"), default=dict, blank=True)

    class Meta:
        verbose_name = _("check run")
        verbose_name_plural = _("check runs")

    def __str__(self) -> str:
        return f"{self.name} at {self.checked_at:%Y-%m-%d %H:%M}: {len(self.problems)} problem(s)"


class IdempotentRequest(models.Model):
    """An API request that moves money or stock, made with an `Idempotency-Key` header, and its first answer. The
    same key from the same user again replays that answer and does nothing else; the same key with another request
    is refused (marketplace.core.idempotency)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=80)
    endpoint = models.CharField(_("endpoint"), max_length=200)
    request_hash = models.CharField(_("request hash (SHA-256)"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
