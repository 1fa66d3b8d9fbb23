#!/usr/bin/env python
"""Market information benchmark: 1,000 cooperatives and 500,000 completed produce orders, then the refresh task's
time and the latency of the market pages, the price API and a manager's dashboard through the whole Django stack.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_market_bench .venv/bin/python benchmarks/market.py

The database is created if missing, migrated and seeded once (skipped when it already holds the orders). The
completed orders, their lines, purchases and receipts are written with COPY, with `session_replication_role =
replica` so that the order status trigger and the foreign-key triggers stay quiet: the lines name no real listing
(the price series never reads listings). Only a benchmark database gets this; the application never does.

Each page is requested --requests times after a warm-up, in this process pinned to one CPU core; PostgreSQL runs
as configured. The baseline is the cheapest request through the same stack (`/health/`). Options: --orders,
--cooperatives, --requests, --markdown; --reuse to time pages on a database an earlier run seeded and refreshed
(no top-up, no timed refresh), --only to time only the pages whose name contains a word (always with /health/),
--time-refresh to time the refreshes on a reused database too (the nightly one rebuilds everything, so a rerun
measures the same work):

    .venv/bin/python benchmarks/market.py --reuse --only dashboard
    .venv/bin/python benchmarks/market.py --reuse --time-refresh --only health

The dashboards are timed twice: as cached (every request after the first) and as "after a change", where the
organisation's data version is replaced before each timed request (as the commit of an order, payment, delivery or
payout does), so each request reads the figures from the database and caches them.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop_market_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("DEBUG", "true")  # no HTTPS redirect; DEBUG does not change the query path
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("THROTTLE_ANON", "100000000/minute")
os.environ.setdefault("THROTTLE_USER", "100000000/minute")

MARK = "MBench"
# country, currency, regions, price in minor units per kg for (cocoa, coffee, maize)
COUNTRIES = [
    ("CI", "XOF", ["Nawa", "Haut-Sassandra", "Lagunes", "Gôh", "San-Pédro"], (1_500, 1_900, 180)),
    ("GH", "GHS", ["Ashanti", "Western North", "Eastern", "Bono"], (3_500, 4_000, 450)),
    ("RW", "RWF", ["Western Province", "Southern Province", "Northern Province"], (4_000, 4_500, 400)),
    ("KE", "KES", ["Trans Nzoia", "Uasin Gishu", "Nakuru", "Kiambu", "Meru"], (90_000, 70_000, 3_800)),
    ("UG", "UGX", ["Masaka", "Mbale", "Bushenyi", "Mityana"], (25_000, 12_000, 1_000)),
]
COMMODITIES = ["cocoa-beans", "coffee-arabica-green", "maize-white"]
DAYS = 730


def setup_django() -> None:
    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    import psycopg

    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- Seeding ------------------------------------------------------------------------------


def seed(orders: int, cooperatives: int, rng: random.Random) -> dict:
    from catalogue.models import Grade
    from marketplace.organisations.models import Membership, Organisation, User
    from orders.models import Order

    user, _ = User.objects.get_or_create(email="bench-manager@coopmarket.bench", defaults={"full_name": "Bench"})
    coops = list(Organisation.objects.filter(registration_number__startswith=f"{MARK}-C").order_by("pk"))
    if len(coops) < cooperatives:
        new = []
        for index in range(len(coops), cooperatives):
            country, currency, regions, _prices = COUNTRIES[index % len(COUNTRIES)]
            new.append(Organisation(
                kind=Organisation.Kind.COOPERATIVE, legal_name=f"{MARK} Cooperative {index}", country=country,
                region=regions[(index // len(COUNTRIES)) % len(regions)], registration_number=f"{MARK}-C{index:05d}",
                currency=currency, verification_status=Organisation.Verification.VERIFIED,
            ))  # fmt: skip
        Organisation.objects.bulk_create(new, batch_size=1000)
        coops = list(Organisation.objects.filter(registration_number__startswith=f"{MARK}-C").order_by("pk"))
    buyers = {}
    for country, currency, _regions, _prices in COUNTRIES:
        buyers[country], _ = Organisation.objects.get_or_create(
            registration_number=f"{MARK}-B-{country}", country=country,
            defaults={"kind": Organisation.Kind.BUYER, "legal_name": f"{MARK} Buyer {country}", "currency": currency,
                      "verification_status": Organisation.Verification.VERIFIED},
        )  # fmt: skip
    manager_coop = coops[0]
    Membership.objects.get_or_create(user=user, organisation=manager_coop, defaults={"role": "manager"})
    _buyer_manager()
    have = Order.objects.filter(seller__registration_number__startswith=f"{MARK}-C").count()
    if have < orders:
        started = time.perf_counter()
        grades = {code: list(Grade.objects.filter(commodity__code=code).order_by("rank")[:2]) for code in COMMODITIES}
        _copy_orders(orders - have, have, coops, buyers, grades, user.pk, rng)
        print(f"seeded {orders - have:,} completed orders in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return {"user": user, "coop": manager_coop}


def reused_world() -> dict:
    """The manager and cooperative of a database seeded by an earlier run (--reuse)."""
    from marketplace.organisations.models import Organisation, User

    user = User.objects.get(email="bench-manager@coopmarket.bench")
    coop = Organisation.objects.filter(registration_number__startswith=f"{MARK}-C").order_by("pk").first()
    return {"user": user, "coop": coop}


def _buyer_manager():
    """A manager of the Ivorian buyer, which bought a fifth of the orders (also added to a reused database)."""
    from marketplace.organisations.models import Membership, Organisation, User

    user, _ = User.objects.get_or_create(email="bench-buyer@coopmarket.bench", defaults={"full_name": "Bench buyer"})
    buyer = Organisation.objects.get(registration_number=f"{MARK}-B-CI")
    Membership.objects.get_or_create(user=user, organisation=buyer, defaults={"role": "manager"})
    return user, buyer


def _copy_orders(count: int, offset: int, coops, buyers, grades, user_id: int, rng: random.Random) -> None:
    from django.db import connection, transaction

    prices = {c[0]: c[3] for c in COUNTRIES}
    today = datetime.date.today()
    now = datetime.datetime.now(datetime.UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM orders_purchase")
        purchase_id = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM orders_order")
        order_id = cursor.fetchone()[0]
        raw = cursor.cursor
        for start in range(offset, offset + count, 50_000):
            purchases, rows, lines, receipts = [], [], [], []
            for n in range(start, min(start + 50_000, offset + count)):
                purchase_id += 1
                order_id += 1
                coop = coops[rng.randrange(len(coops))]
                country = coop.country.code
                buyer = buyers[country]
                c_index = rng.randrange(len(COMMODITIES))
                grade = rng.choice(grades[COMMODITIES[c_index]])
                per_kg = int(prices[country][c_index] * rng.uniform(0.85, 1.15))
                grams = rng.randrange(1, 40) * 1_000_000
                amount = per_kg * grams // 1000
                received = today - datetime.timedelta(days=rng.randrange(DAYS))
                purchases.append((purchase_id, f"MB{n:09d}", buyer.pk, user_id, coop.currency, "", now))
                rows.append((order_id, f"MBO{n:09d}", purchase_id, "produce", buyer.pk, coop.pk, user_id,
                             coop.currency, amount, "completed", now, now, f"BENCH-{n}", amount, now, now))  # fmt: skip
                lines.append((order_id, 1, 1, grade.pk, "Bench", grams, "GRM", per_kg, "KGM", amount, grams, grams,
                              grade.pk, amount, "{}"))  # fmt: skip
                receipts.append((order_id, received, "", 50, user_id, now))
            _copy(raw, "orders_purchase (id, reference, buyer_id, placed_by_id, currency, note, created_at)", purchases)
            _copy(raw, "orders_order (id, number, purchase_id, kind, buyer_id, seller_id, placed_by_id, currency, "
                       "total_amount, status, status_changed_at, accept_by, payment_reference, amount_due, "
                       "dispute_until, created_at)", rows)  # fmt: skip
            _copy(raw, "orders_orderline (order_id, position, listing_id, grade_id, description, quantity, "
                       "quantity_unit, unit_price_amount, price_unit, line_total_amount, quantity_dispatched, "
                       "quantity_received, grade_received_id, amount_due, settlement)", lines)  # fmt: skip
            _copy(raw, "orders_receipt (order_id, received_on, inspection_notes, weight_tolerance_bp, recorded_by_id, "
                       "recorded_at)", receipts)  # fmt: skip
            print(f"  {min(start + 50_000, offset + count):,} orders", file=sys.stderr)
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_purchase', 'id'), %s)", [purchase_id])
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", [order_id])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order; ANALYZE orders_orderline; ANALYZE orders_receipt")


def _copy(raw, target: str, rows: list[tuple]) -> None:
    with raw.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --- Timing -------------------------------------------------------------------------------


def time_refresh() -> dict:
    from django.db import connection

    from marketplace.market.services import market_refresh
    from orders.models import Order

    started = time.perf_counter()
    result = market_refresh()
    full = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE market_trade; ANALYZE market_pricepoint")
    order_id = Order.objects.filter(status="completed").order_by("-pk").values_list("pk", flat=True).first()
    singles = []
    for _ in range(5):
        started = time.perf_counter()
        market_refresh(order_ids=[order_id])
        singles.append(time.perf_counter() - started)
    return {"full_s": full, "single_ms": statistics.median(singles) * 1000, **result}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(requests: int, world: dict, only: str = "") -> list[dict]:
    from django.db import connection
    from django.test import Client

    from marketplace.core.versions import organisation_changed
    from marketplace.market.models import PricePoint
    from orders.models import Order

    busiest = (
        PricePoint.objects.filter(visible=True, period="month")
        .values_list("commodity__code", "country", "region")
        .order_by("-trades")
        .first()
    )
    commodity, country, region = busiest
    anonymous = Client(HTTP_HOST="127.0.0.1")
    manager = Client(HTTP_HOST="127.0.0.1")
    manager.force_login(world["user"], backend="django.contrib.auth.backends.ModelBackend")
    buyer_user, buyer = _buyer_manager()
    buyer_client = Client(HTTP_HOST="127.0.0.1")
    buyer_client.force_login(buyer_user, backend="django.contrib.auth.backends.ModelBackend")
    bought = Order.objects.filter(buyer=buyer).count()

    def changed(organisation_id):
        return lambda: organisation_changed(organisation_id)

    coop_changed, buyer_changed = changed(world["coop"].pk), changed(buyer.pk)
    pages = [
        ("Baseline: /health/", anonymous, "/health/", None),
        ("Market page (all series, latest month)", anonymous, "/market/", None),
        ("Market page, one commodity", anonymous, f"/market/?commodity={commodity}", None),
        ("Series page: charts and tables, per month", anonymous, f"/market/{commodity}/{country}/", None),
        (
            "Series page, per week, one region",
            anonymous,
            f"/market/{commodity}/{country}/?period=week&region={region}",
            None,
        ),
        ("Series CSV", anonymous, f"/market/{commodity}/{country}/prices.csv", None),
        ("Price API", anonymous, f"/api/v1/market/series/?commodity={commodity}&country={country}", None),
        ("Manager's dashboard, cached", manager, "/", None),
        ("Manager's dashboard, after a change", manager, "/", coop_changed),
        (f"Buyer's dashboard ({bought:,} orders), cached", buyer_client, "/", None),
        (f"Buyer's dashboard ({bought:,} orders), after a change", buyer_client, "/", buyer_changed),
        ("Our prices against the market", manager, "/market/ours/", None),
    ]
    if only:  # the baseline always runs: the ratio is to /health/ measured in the same run
        pages = [pages[0]] + [page for page in pages[1:] if only.lower() in page[0].lower()]
    from django.core.cache import cache

    results = []
    for name, client, url, before in pages:
        before = before or (lambda: None)  # run before each request, untimed
        cache.clear()  # the first request after a refresh renders the page body and caches it
        started = time.perf_counter()
        assert client.get(url).status_code == 200, url
        cold = (time.perf_counter() - started) * 1000
        for _ in range(5):
            before()
            assert client.get(url).status_code == 200, url
        captured: list[str] = []

        def count(execute, sql, params, many, context, seen=captured):
            seen.append(sql)
            return execute(sql, params, many, context)

        before()
        with connection.execute_wrapper(count):
            client.get(url)
        timings = []
        for _ in range(requests):
            before()
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        results.append({"name": name, "p50": statistics.median(timings), "p95": percentile(timings, 0.95),
                        "queries": len(captured), "cold": cold})  # fmt: skip
    base = results[0]["p95"]
    for row in results:
        row["ratio"] = row["p95"] / base
    return results


def machine() -> str:
    import django

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python = platform.python_version()
    return f"{datetime.date.today()}; {cpu}, {os.cpu_count()} vCPU; Python {python}, Django {django.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--cooperatives", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the seeded database as it is: no top-up, no timed refresh")  # fmt: skip
    parser.add_argument("--only", default="", help="time only the pages whose name contains this (and /health/)")
    parser.add_argument("--time-refresh", action="store_true", help="with --reuse: time the refreshes as well")
    options = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    setup_django()
    rng = random.Random(20261206)
    if options.reuse:
        world = reused_world()
        refresh = time_refresh() if options.time_refresh else None
    else:
        world = seed(options.orders, options.cooperatives, rng)
        refresh = time_refresh()
    results = measure(options.requests, world, options.only)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    print(f"Machine and date: {machine()}; PostgreSQL {postgres}")
    print(f"{options.cooperatives:,} cooperatives, {options.orders:,} completed orders; {options.requests} timed "
          f"requests per page")  # fmt: skip
    if refresh is not None:
        print(f"Nightly refresh (all trades and points): {refresh['full_s']:.1f} s, {refresh['trades']:,} trades, "
              f"{refresh['points']:,} price points; one order's refresh: {refresh['single_ms']:.0f} ms")  # fmt: skip
    if options.markdown:
        print(
            "\n| Page | first after a refresh (ms) | p50 (ms) | p95 (ms) | p95 / baseline | Queries |\n"
            "|---|---:|---:|---:|---:|---:|"
        )
        for row in results:
            print(
                f"| {row['name']} | {row['cold']:.0f} | {row['p50']:.1f} | {row['p95']:.1f} | {row['ratio']:.1f} "
                f"| {row['queries']} |"
            )
    else:
        for row in results:
            print(f"{row['name']:<45} first {row['cold']:7.0f} ms  p50 {row['p50']:7.1f} ms  "
                  f"p95 {row['p95']:7.1f} ms  x{row['ratio']:.1f}  {row['queries']} queries")  # fmt: skip


if __name__ == "__main__":
    main()
