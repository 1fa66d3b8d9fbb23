"""Where the time of one placement goes: CPU per request in the web process, and the heaviest parts, beside the
baseline GET /api/v1/me/; one process, no concurrency, the production settings (DEBUG off, token auth, throttle
in Redis, tasks to a Redis broker that nothing consumes; the queue is emptied at the end).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coopmarket REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python benchmarks/profile_placement.py

Like order_placement.py it works in a throwaway database (`<name>_bench_profile`, so that a database
order_placement.py --seed-only kept is left alone) that it drops at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    from benchmarks.order_placement import bench_url, recreate

    source = os.environ.get("DATABASE_URL")
    if not source:
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the benchmark makes its own database beside it).")
    url, name = bench_url(source)
    url, name = url.replace(f"/{name}", f"/{name}_profile"), f"{name}_profile"  # not order_placement.py's database
    recreate(url, name)
    redis = os.environ.get("REDIS_URL", "")
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="marketplace.settings", DEBUG="false", LOG_LEVEL="ERROR",
        SECRET_KEY="benchmark-only-" + "x" * 50, ALLOWED_HOSTS="testserver", CELERY_BROKER_URL=redis,
    )  # fmt: skip
    import django

    django.setup()
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        recreate(url, name, drop_only=True)
        if redis:
            import redis as redis_client

            redis_client.Redis.from_url(redis).delete("celery")


def run(args) -> None:
    from django.db import connection
    from django.test import Client

    from benchmarks.order_placement_http import seed

    class Seed:
        orders, listings, clients = args.requests * 2, 8, 1

    data = seed(Seed)
    organisation, token = data["clients"][0]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    body = json.dumps({"organisation": organisation, "lines": [{"listing": data["hot"], "quantity": data["grams"]}]})

    def place():
        response = client.post("/api/v1/purchases/", body, content_type="application/json", secure=True)
        assert response.status_code == 201, response.content

    def me():
        response = client.get("/api/v1/me/", secure=True)
        assert response.status_code == 200, response.content

    for label, call in [("GET /api/v1/me/", me), ("POST /api/v1/purchases/ (one line)", place)]:
        for _ in range(10):
            call()  # warm up
        statements: list[str] = []

        def count(execute, sql, *rest, statements=statements):
            statements.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count), round_trips() as wire:
            call()  # (the test client's request_started would empty CaptureQueriesContext's log)
        profile = cProfile.Profile()
        cpu, wall = time.process_time(), time.perf_counter()
        profile.enable()
        for _ in range(args.requests):
            call()
        profile.disable()
        cpu, wall = (time.process_time() - cpu) / args.requests, (time.perf_counter() - wall) / args.requests
        print(f"\n{label}: {cpu * 1000:.1f} ms CPU of {wall * 1000:.1f} ms wall per request in the web process "
              f"(profiler on); {len(statements)} SQL statements through Django, {len(wire)} round trips to "
              f"PostgreSQL in all:")  # fmt: skip
        for sql in wire:
            print(f"    {' '.join(sql.split())[:110]}")
        out = io.StringIO()
        lines = int(os.environ.get("PROFILE_LINES", "25"))
        pstats.Stats(profile, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(lines)
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


@contextmanager
def round_trips():
    """Every command psycopg sends, as PostgreSQL receives it: Django's statements, and what Django sends around
    them (BEGIN, COMMIT, the connection health check)."""
    from psycopg import ClientCursor, Connection

    sent: list[str] = []
    execute, command = ClientCursor.execute, Connection._exec_command

    def cursor_execute(self, query, *args, **kwargs):
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    def connection_command(self, query, *args, **kwargs):
        sent.append(query.decode() if isinstance(query, bytes) else str(query))
        return command(self, query, *args, **kwargs)

    ClientCursor.execute, Connection._exec_command = cursor_execute, connection_command
    try:
        yield sent
    finally:
        ClientCursor.execute, Connection._exec_command = execute, command


if __name__ == "__main__":
    main()
