from typing import Any

from django.db import models

from marketplace.core.models import AuditEvent


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
    """Append an audit event; call it inside the transaction that makes the change."""
    return AuditEvent.objects.create(
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
