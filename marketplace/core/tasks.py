from celery import shared_task
from django.db import connection


@shared_task
def database_ping() -> str:
    """Return the database this worker talks to; used by health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        return cursor.fetchone()[0]
