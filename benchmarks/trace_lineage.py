#!/usr/bin/env python
"""Trace benchmark: a lot bulked from 2,000 member deliveries (400 members, one polygon plot each), then the public
trace page and the lot's EUDR statement, read from the lineage's precomputed digest (steps, totals, regions,
producers, the EUDR verdict and the contributing plots' ids) and, in the same run, from a digest computed afresh by
the recursive walk per request, plus the cheapest request through the stack (`/health/`).

    # seed once (about 17 minutes on a shared 2-vCPU box), outside any timing:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_trace_bench .venv/bin/python benchmarks/trace_lineage.py \
        --seed-only
    # then time only:
    DATABASE_URL=... .venv/bin/python benchmarks/trace_lineage.py --reuse --markdown

Without --reuse the database is created if missing and migrated; an existing seeded world is reused after its
lineage rows are brought up to date with `lineage_rebuild` (as after an upgrade); otherwise it is seeded once through
the real services (deliveries one by one, then one bulking), so the lineage is written as production writes it.
--reuse times an already seeded and rebuilt world and nothing else. Every page request clears the cache first: the
page is built each time (the cached page is one query). This process is pinned to one CPU core; PostgreSQL runs as
configured. --profile prints where the page's time goes (cProfile) instead of timing. Options: --deliveries,
--members, --requests, --markdown, --seed-only, --reuse, --profile.
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

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop_trace_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("DEBUG", "true")  # no HTTPS redirect; DEBUG does not change the query path
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
MARK = "TBench"


def setup_django(*, migrate: bool = True) -> None:
    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    import psycopg

    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def seeded(deliveries: int) -> dict:
    from catalogue.models import Lot
    from marketplace.organisations.models import Organisation

    coop = Organisation.objects.filter(registration_number=f"{MARK}-{deliveries}").first()
    lot = Lot.objects.filter(organisation=coop).first() if coop else None
    if lot is None:
        raise SystemExit("No seeded world: run without --reuse first (outside the timing).")
    return {"coop": coop, "lot": lot, "reused": True}


def seed(deliveries: int, members: int) -> dict:
    from catalogue import services
    from catalogue.models import Commodity, Delivery, Grade, Location, Lot
    from marketplace.demo.organisations import plot_polygon
    from marketplace.organisations.models import MemberFarmer, Membership, Organisation, Plot, User

    coop, _ = Organisation.objects.get_or_create(
        registration_number=f"{MARK}-{deliveries}",
        defaults={"kind": Organisation.Kind.COOPERATIVE, "legal_name": f"{MARK} cooperative {deliveries}",
                  "country": "CI", "region": "Nawa", "currency": "XOF",
                  "verification_status": Organisation.Verification.VERIFIED},
    )  # fmt: skip
    lot = Lot.objects.filter(organisation=coop).first()
    if lot is not None:
        return {"coop": coop, "lot": lot, "reused": True}
    user, _ = User.objects.get_or_create(email=f"bench-{deliveries}@coopmarket.bench", defaults={"full_name": "B"})
    Membership.objects.get_or_create(user=user, organisation=coop, defaults={"role": "manager"})
    rng = random.Random(15)
    farmers = MemberFarmer.objects.bulk_create(
        MemberFarmer(organisation=coop, member_number=f"TB-{i:05d}", name=f"Member {i}",
                     joined_on=datetime.date(2015, 1, 1))
        for i in range(members)
    )  # fmt: skip
    plots = []
    for i, farmer in enumerate(farmers):
        geometry, area = plot_polygon(rng, lon=-6.6 + (i % 40) * 0.01, lat=5.7 + (i // 40) * 0.01, hectares=1.5)
        plots.append(Plot(farmer=farmer, organisation=coop, name=f"Plot {i}", area_hectares=area, country="CI",
                          geometry=geometry, established_on=datetime.date(2010, 5, 1)))  # fmt: skip
    Plot.objects.bulk_create(plots)
    point = Location.objects.create(organisation=coop, code="cp", name="Collection point", is_collection_point=True,
                                    country="CI", region="Nawa")  # fmt: skip
    store = Location.objects.create(organisation=coop, code="wh", name="Warehouse", is_warehouse=True, country="CI",
                                    region="Nawa")  # fmt: skip
    cocoa = Commodity.objects.get(code="cocoa-beans")
    grade = Grade.objects.get(commodity=cocoa, code="grade-1")
    started = time.perf_counter()
    from django.db import transaction

    with transaction.atomic():  # one commit: the services' own atomic blocks become savepoints
        _deliver(services, user, coop, point, farmers, plots, cocoa, grade, deliveries, members, rng)
    print(f"recorded {deliveries:,} deliveries in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    ids = list(Delivery.objects.filter(organisation=coop).values_list("pk", flat=True))
    started = time.perf_counter()
    lot = services.lot_bulk(actor=user, organisation_id=coop.pk, delivery_ids=ids, storage_location_id=store.pk)
    print(f"bulked them into one lot (its lineage written) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return {"coop": coop, "lot": lot}


def _deliver(services, user, coop, point, farmers, plots, cocoa, grade, deliveries, members, rng) -> None:
    for n in range(deliveries):
        farmer, plot = farmers[n % members], plots[n % members]
        services.delivery_record(actor=user, organisation_id=coop.pk, collection_point_id=point.pk,
                                 farmer_id=farmer.pk, plot_id=plot.pk, commodity_id=cocoa.pk, grade_id=grade.pk,
                                 moisture_pct="7.0", net_grams=rng.randrange(20, 200) * 1000,
                                 delivered_on=datetime.date(2026, 10, 1) + datetime.timedelta(days=n % 60))  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _time(action, requests: int) -> tuple[dict, int]:
    from django.db import connection

    for _ in range(3):
        action()
    captured: list[str] = []

    def count(execute, sql, params, many, context, seen=captured):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        action()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50": statistics.median(timings), "p95": percentile(timings, 0.95), "queries": len(captured)}, 0


def readers():
    """(label, digest reader) pairs: the stored digest, and the digest computed afresh by the recursive walk."""
    from traceability.lineage import lineage_digest_live, lineage_digest_read

    return [("precomputed lineage digest", lineage_digest_read),
            ("recursive walk, digest computed per request", lineage_digest_live)]  # fmt: skip


def use_reader(reader) -> None:
    import catalogue.due_diligence as due_diligence
    import catalogue.selectors.public_trace as public_trace

    public_trace.lineage_digest_read = reader
    due_diligence.lineage_digest_read = reader


def page_request(world: dict):
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    settings.PUBLIC_TRACE_RATE = "100000000/minute"
    client = Client(HTTP_HOST="127.0.0.1")
    url = f"/catalogue/trace/{world['lot'].public_id}/"

    def page():
        cache.clear()
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    return client, page


def measure(requests: int, world: dict) -> list[dict]:
    from catalogue.due_diligence import lot_package

    lot = world["lot"]
    client, page = page_request(world)

    def statement():
        lot_package(lot)

    results = []
    health, _ = _time(lambda: client.get("/health/"), requests)
    results.append({"name": "Baseline: /health/", **health})
    for label, reader in readers():
        use_reader(reader)
        timing, _ = _time(page, requests)
        results.append({"name": f"Public trace page, uncached: {label}", **timing})
        timing, _ = _time(statement, requests)
        results.append({"name": f"Lot EUDR package (statement builder): {label}", **timing})
    use_reader(readers()[0][1])
    package = lot_package(lot)
    assert package.ready, [m.rule for m in package.missing][:5]
    base = results[0]["p95"]
    for row in results:
        row["ratio"] = row["p95"] / base
    return results


def profile(requests: int, world: dict) -> None:
    """cProfile of the uncached page (stored digest), the functions that take the most time, cumulative."""
    import cProfile
    import pstats

    _client, page = page_request(world)
    for _ in range(3):
        page()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        page()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


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
    return f"{datetime.date.today()}; {cpu}, {os.cpu_count()} vCPU; Python {platform.python_version()}, " \
           f"Django {django.__version__}"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="Time an already seeded world; no migration, no seeding.")
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    setup_django(migrate=not options.reuse)
    world = seeded(options.deliveries) if options.reuse else seed(options.deliveries, options.members)
    if options.profile:
        profile(options.requests, world)
        return
    if world.get("reused") and not options.reuse:  # rows written by an older version: recompute them
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("lineage_rebuild", organisation=world["coop"].pk, verbosity=0)
        print(f"reused the seeded world; lineage rebuilt in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if options.seed_only:
        return
    results = measure(options.requests, world)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    print(f"Machine and date: {machine()}; PostgreSQL {postgres}")
    print(f"One lot of {options.deliveries:,} deliveries from {options.members} members (one plot each); "
          f"{options.requests} timed requests each")  # fmt: skip
    if options.markdown:
        print("\n| Request | p50 (ms) | p95 (ms) | p95 / baseline | Queries |\n|---|---:|---:|---:|---:|")
        for row in results:
            print(f"| {row['name']} | {row['p50']:.1f} | {row['p95']:.1f} | {row['ratio']:.1f} | {row['queries']} |")
    else:
        for row in results:
            print(f"{row['name']:<62} p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  "
                  f"x{row['ratio']:.1f}  {row['queries']} queries")  # fmt: skip


if __name__ == "__main__":
    main()
