from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models
from django.utils import timezone

from marketplace.core.models import AuditEvent, CheckRun
from marketplace.core.versions import organisation_changed

OWNER_FIELDS = ("organisation_id", "seller_id", "buyer_id")
_batch: ContextVar[list[AuditEvent] | None] = ContextVar("audit_batch", default=None)


def audit_record(
    *,
    actor: Any,
    action: str,
    subject: models.Model,
    organisation_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Append an audit event; call it inside the transaction that makes the change. Inside `audit_batch()` the
    event is written with the batch's others, in one INSERT, when the batch ends."""
    event = AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        organisation_id=organisation_id,
        action=action,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )
    # The organisation recorded and the subject's owners (an order's two sides) see new figures after the commit.
    organisation_changed(organisation_id, *(getattr(subject, name, None) for name in OWNER_FIELDS))
    pending = _batch.get()
    if pending is not None:
        pending.append(event)
    else:
        event.save(force_insert=True)
    return event


@contextmanager
def audit_batch() -> Iterator[list[AuditEvent]]:
    """Collect the audit events recorded in the block and write them in one INSERT when it ends without an error
    (use it inside the transaction of the change, so the events commit or roll back with it). Nested batches
    join the outer one."""
    if _batch.get() is not None:
        yield _batch.get()  # type: ignore[misc]
        return
    pending: list[AuditEvent] = []
    token = _batch.set(pending)
    try:
        yield pending
    finally:
        _batch.reset(token)
    if pending:
        AuditEvent.objects.bulk_create(pending)


def check_run_record(
    *, name: str, full: bool, checkpoint: dict, problems: list[str], checked: dict | None = None
) -> CheckRun:
    """Store the result of a run of an integrity check (one row per check, replaced by each run)."""
    now = timezone.now()
    defaults = {"checked_at": now, "full": full, "checkpoint": checkpoint, "problems": problems,
                "checked": checked or {}}  # fmt: skip
    if full:
        defaults["last_full_at"] = now
    run, _created = CheckRun.objects.update_or_create(name=name, defaults=defaults)
    return run
