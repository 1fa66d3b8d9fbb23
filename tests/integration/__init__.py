"""Tests that cross a process boundary: a real Celery worker, management commands in subprocesses."""

from urllib.parse import quote


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (in tests: the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    name = quote(settings_dict["NAME"], safe="")
    host = settings_dict.get("HOST") or ""
    if host.startswith("/"):  # a Unix socket directory (the embedded server) goes in the query
        return f"postgres://{credentials}/{name}?host={quote(host, safe='')}"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{name}"
