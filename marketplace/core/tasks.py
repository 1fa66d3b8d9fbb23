from celery import shared_task
from django.db import connection

from marketplace.core import idempotency, outbox


@shared_task
def database_ping() -> str:
    """Return the database this worker talks to; used by health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        return cursor.fetchone()[0]


@shared_task
def outbox_sweep() -> int:
    """Send the outbox messages that were not sent on commit (the broker was down, or the process died)."""
    return outbox.sweep()


@shared_task
def idempotent_requests_purge() -> int:
    """Beat (nightly): forget stored Idempotency-Key requests older than IDEMPOTENCY_KEY_RETENTION_DAYS."""
    return idempotency.idempotent_requests_purge()
