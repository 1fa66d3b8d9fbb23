from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from marketplace.core.models import AuditEvent, CheckRun


def audit_events_for(*, subject_type: str, subject_id: int | str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).select_related("actor")


def check_run_last(*, name: str) -> CheckRun | None:
    """The stored result of the last run of an integrity check, if it ever ran (for operator pages)."""
    return CheckRun.objects.filter(name=name).first()


def full_rescan_due(name: str) -> bool:
    """Whether an incremental periodic check should rescan everything this time: never run, or its last full
    rescan is older than settings.INTEGRITY_FULL_RESCAN_DAYS (7 by default)."""
    last = check_run_last(name=name)
    days = getattr(settings, "INTEGRITY_FULL_RESCAN_DAYS", 7)
    return last is None or last.last_full_at is None or last.last_full_at < timezone.now() - timedelta(days=days)
