"""An embedded PostgreSQL for running CoopMarket on a bare machine.

Used only when no DATABASE_URL is configured. The server keeps running between
commands so that a second `make demo` reuses the same data folder; `make demo` stops it when the
development server stops, and `make stop` (`python -m marketplace.embedded_postgres stop`) stops it
whenever it was left running.
"""

import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATABASE_NAME = "coopmarket"


def embedded_database_settings(data_dir: Path) -> dict:
    with warnings.catch_warnings():
        # pgserver falls back to /tmp for its socket when XDG_RUNTIME_DIR is unset; that is fine.
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 (constant)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    uri = urlparse(server.get_uri(DATABASE_NAME))
    socket_dir = parse_qs(uri.query)["host"][0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": uri.username or "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }


def stop_embedded_database(data_dir: Path, timeout: float = 30.0) -> bool:
    """Stop the embedded server of `data_dir` if it runs: SIGINT to the postmaster is PostgreSQL's "fast"
    shutdown (what `pg_ctl stop -m fast` sends; pg_ctl itself refuses to run as root). True if it was running."""
    import os
    import signal
    import time

    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:  # a stale pid file: the server is not running
        return False
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


if __name__ == "__main__":
    import sys

    folder = Path(__file__).resolve().parents[1] / ".data" / "postgres"
    if sys.argv[1:] == ["stop"]:
        stopped = stop_embedded_database(folder)
        print("Embedded PostgreSQL stopped." if stopped else "The embedded PostgreSQL was not running.")
    else:
        sys.exit("usage: python -m marketplace.embedded_postgres stop")
