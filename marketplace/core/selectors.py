from django.db.models import QuerySet

from marketplace.core.models import AuditEvent


def audit_events_for(*, subject_type: str, subject_id: int | str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).select_related("actor")
