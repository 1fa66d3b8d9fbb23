"""The HTTP half of benchmarks/order_placement.py: gunicorn serving the real application, clients over loopback.

Run it through benchmarks/order_placement.py (which makes and drops the database).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KG = 1000


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def seed(args) -> dict:
    """The marketplace to buy from, one buyer organisation, manager and API token per client."""
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from catalogue.models import Listing
    from marketplace.organisations.models import Organisation
    from tests.factories import MembershipFactory, OrganisationFactory
    from tests.orders.factories import TONNE, make_listing, make_lot, make_world

    call_command("migrate", verbosity=0)
    grams = 100 * KG
    world = make_world(lot_grams=args.orders * grams + 10 * TONNE)
    Listing.objects.filter(pk=world.listing.pk).update(min_order_grams=grams)

    def listing(total: int):
        lot = make_lot(world.seller, grams=total, grade=world.grade_1, warehouse=world.warehouse,
                       collection_point=world.extra["collection_point"])  # fmt: skip
        return make_listing(world.seller, lot, world.warehouse, min_order=grams)

    spread = [listing(args.orders * grams // args.listings + 10 * TONNE) for _ in range(args.listings)]
    scarce_orders = max(1, args.orders // 4)
    scarce = listing(scarce_orders * grams)
    clients = []
    for index in range(args.clients):
        organisation = OrganisationFactory(legal_name=f"Bench buyer {index}", kind=Organisation.Kind.BUYER)
        user = MembershipFactory(organisation=organisation).user
        clients.append((organisation.pk, Token.objects.create(user=user).key))
    return {
        "grams": grams,
        "hot": world.listing.pk,
        "spread": [x.pk for x in spread],
        "scarce": scarce.pk,
        "scarce_orders": scarce_orders,
        "clients": clients,
    }


def _seed_file(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"order_placement_{name}.json"


def seeded(args, name: str) -> dict:
    """With --reuse, the data --seed-only wrote for this database; otherwise a fresh seed (saved with --seed-only)."""
    if getattr(args, "reuse", False):
        return json.loads(_seed_file(name).read_text())
    data = seed(args)
    if getattr(args, "seed_only", False):
        _seed_file(name).write_text(json.dumps(data))
        print(f"seeded {name}: {len(data['clients'])} clients, stock for {args.orders} orders per listing")
    return data


def start_gunicorn(args, url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": url,
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "ERROR",  # a refused order is logged as a warning by Django
        "AXES_ENABLED": "true",
    }
    redis = os.environ.get("REDIS_URL", "")
    if redis:
        env["REDIS_URL"] = redis
        env["CELERY_BROKER_URL"] = redis  # queued for a worker, as deployed; nothing consumes it during the run
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "marketplace.wsgi:application",
        "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--threads", str(args.threads),
        "--worker-class", "gthread", "--keep-alive", "30", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    log = open(Path(tempfile.gettempdir()) / "order_placement_gunicorn.log", "w")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
            connection.request("GET", "/health/", headers={"X-Forwarded-Proto": "https"})
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop_gunicorn(process)
    raise SystemExit("gunicorn did not answer /health/ within 60 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def drive(args, data: dict, requests_for, refusals: frozenset[int] = frozenset()) -> tuple[list[Outcome], float]:
    """Each client (a thread with one keep-alive connection) sends the requests `requests_for(index)` gives;
    all start together; returns their outcomes and the wall time. A status in `refusals` is an expected answer
    (the scarce run: "not that much available" before or at the reservation), any other 4xx or 5xx an error."""
    barrier = threading.Barrier(len(data["clients"]) + 1)
    outcomes = [Outcome() for _ in data["clients"]]
    deadline = [0.0]

    def client(index: int) -> None:
        _, token = data["clients"][index]
        headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",  # as behind the TLS proxy; the app redirects plain HTTP
        }
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        outcome = outcomes[index]
        work = requests_for(index)
        barrier.wait()
        for method, path, body in work:
            if time.perf_counter() > deadline[0]:
                outcome.errors.append("time budget exceeded")
                break
            began = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                outcome.errors.append(repr(error))
                continue
            outcome.latencies.append(time.perf_counter() - began)
            outcome.statuses[response.status] = outcome.statuses.get(response.status, 0) + 1
            if response.status >= 400 and response.status not in refusals:
                outcome.errors.append(f"{response.status} {payload[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(data["clients"]))]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    deadline[0] = began + args.seconds
    for thread in threads:
        thread.join()
    return outcomes, time.perf_counter() - began


def summarise(label: str, outcomes: list[Outcome], elapsed: float, *, ok: int = 201) -> dict:
    latencies = sorted(x for o in outcomes for x in o.latencies)
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        for code, count in outcome.statuses.items():
            statuses[code] = statuses.get(code, 0) + count
    errors = [e for o in outcomes for e in o.errors]
    done = statuses.get(ok, 0)
    row = {
        "label": label,
        "requests": len(latencies),
        "ok": done,
        "rate": done / elapsed if elapsed else 0.0,
        "p50": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000 if latencies else 0.0,
        "statuses": statuses,
        "errors": len(errors),
        "elapsed": elapsed,
    }
    print(
        f"{label}: {done} x {ok} of {len(latencies)} requests in {elapsed:.2f} s = {row['rate']:.0f}/s; "
        f"p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms; statuses {statuses}; errors {len(errors)}"
        + (f" (first: {errors[0]})" if errors else "")
    )
    return row


def oversold(listing_ids: list[int]) -> tuple[int, int]:
    """Grams sold beyond a listing's offer, and grams whose reservation does not match the placed order lines: read
    in one snapshot (REPEATABLE READ), since requests still in flight when the clients stop may commit meanwhile."""
    from django.db import connection, connections, transaction
    from django.db.models import Sum

    from catalogue.models import Listing
    from orders.models import OrderLine

    connections.close_all()
    beyond = mismatch = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for listing in Listing.objects.filter(pk__in=listing_ids):
            held = listing.quantity_reserved_grams + listing.quantity_sold_grams
            beyond += max(0, held - listing.quantity_offered_grams) + max(0, -listing.quantity_available_grams)
            lines = OrderLine.objects.filter(listing=listing).aggregate(total=Sum("quantity"))["total"] or 0
            mismatch += abs(lines - held)
    return beyond, mismatch


def cpu_seconds(gunicorn_group: int) -> dict[str, float]:
    """CPU time (user + system) used so far by the gunicorn processes (their process group) and by PostgreSQL's
    processes on this machine, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"web": 0.0, "postgres": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[2]) == gunicorn_group:
            used["web"] += seconds
        elif name.startswith("postgres"):
            used["postgres"] += seconds
    return used


def run_http(args, url: str) -> None:
    from django.db import connections

    data = seeded(args, url.rsplit("/", 1)[-1])
    connections.close_all()
    clients = len(data["clients"])
    print(f"gunicorn: {args.workers} gthread workers x {args.threads} threads; {clients} clients over loopback; "
          f"machine: {os.cpu_count()} CPUs")  # fmt: skip
    process = start_gunicorn(args, url)
    rows = []
    try:

        def placements(listing_ids: list[int], per_client: int):
            def requests_for(index: int):
                organisation, _ = data["clients"][index]
                for n in range(per_client):
                    listing = listing_ids[(index + n) % len(listing_ids)]
                    body = {"organisation": organisation, "lines": [{"listing": listing, "quantity": data["grams"]}]}
                    yield "POST", "/api/v1/purchases/", json.dumps(body)

            return lambda index: list(requests_for(index))

        per_client = max(1, args.orders // clients)
        warm = lambda index: [("GET", "/api/v1/me/", None)] * 3  # noqa: E731
        drive(args, data, warm)
        me = lambda index: [("GET", "/api/v1/me/", None)] * per_client  # noqa: E731
        baseline = summarise("baseline GET /api/v1/me/", *drive(args, data, me), ok=200)
        rows.append(baseline)
        for label, listing_ids, count in [
            ("placement, one hot listing", [data["hot"]], per_client),
            (f"placement, spread over {len(data['spread'])} listings", data["spread"], per_client),
        ]:
            row = summarise(label, *drive(args, data, placements(listing_ids, count)))
            row["oversold"], row["mismatch"] = oversold(listing_ids)
            row["ratio"] = row["rate"] / baseline["rate"] if baseline["rate"] else 0.0
            print(f"  oversold {row['oversold']} g, reservations not matching order lines {row['mismatch']} g, "
                  f"{row['ratio']:.0%} of the baseline rate")  # fmt: skip
            rows.append(row)
        scarce_per_client = max(1, 2 * data["scarce_orders"] // clients)
        row = summarise(
            f"scarce listing (room for {data['scarce_orders']} orders)",
            *drive(args, data, placements([data["scarce"]], scarce_per_client), refusals=frozenset({400, 409})),
        )
        row["oversold"], row["mismatch"] = oversold([data["scarce"]])
        refused = row["statuses"].get(400, 0) + row["statuses"].get(409, 0)
        print(f"  {row['ok']} placed (room for {data['scarce_orders']}), {refused} refused (400 not available, "
              f"409 taken meanwhile); oversold {row['oversold']} g, mismatch {row['mismatch']} g")  # fmt: skip
        rows.append(row)
    finally:
        stop_gunicorn(process)
        redis = os.environ.get("REDIS_URL", "")
        if redis:  # the notification tasks the run queued: no worker was meant to send them
            import redis as redis_client

            redis_client.Redis.from_url(redis).delete("celery")
    print()
    print("| Run | Requests | Done/s | p50 (ms) | p95 (ms) | Oversold (g) | Errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['label']} | {row['requests']} | {row['rate']:.0f} | {row['p50']:.0f} | {row['p95']:.0f} | "
              f"{row.get('oversold', '–')} | {row['errors']} |")  # fmt: skip
