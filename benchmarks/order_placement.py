"""Order placement under concurrent clients against PostgreSQL: orders per second, latency, and the number of
queries one placement runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coopmarket REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python benchmarks/order_placement.py --clients 50

It works in a throwaway database (`<name>_bench` on the same server, dropped at the end unless --keep), built with
the migrations and the test factories.

By default it runs OVER HTTP, as deployed: gunicorn (gthread workers) serves the real application with DEBUG off
and the production settings (token authentication, the per-user throttle in the Redis cache, tasks sent to a
Redis broker that no worker consumes during the run; the queue is emptied at the end). Every client is a thread
with its own keep-alive connection and its own buyer organisation and API token, and POSTs one-line purchases to
/api/v1/purchases/. Beside it, in the same run, the cheapest authenticated request through the same stack
(GET /api/v1/me/) gives the baseline the placement rate is compared with. Three placement runs: every client on
one hot listing, the clients spread over several listings, and a scarce listing that holds fewer orders than are
asked for (exactly that many must succeed, the rest get a 409). After each run the listings are checked against
the order lines: nothing oversold, every reservation reflected.

With --client wrk the load comes from `wrk` and a Lua script (benchmarks/order_placement_wrk.py): timed runs of
--seconds each, the clients costing the server almost no CPU.

With --in-process the clients are processes calling `purchase_place` directly (no HTTP), as before.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_url(url: str) -> tuple[str, str]:
    """The benchmark database's URL and name, beside the one given."""
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "coopmarket") + "_bench"
    return urlunsplit(parts._replace(path=f"/{name}")), name


def recreate(url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads)")
    parser.add_argument("--orders", type=int, default=400, help="orders per run")
    parser.add_argument("--listings", type=int, default=8, help="listings in the spread run")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--seed-only",
        action="store_true",
        help="HTTP: build and seed the database, keep it, stop "
        "(so a timed run can --reuse it; size it with --orders for every run to come)",
    )
    parser.add_argument("--reuse", action="store_true", help="HTTP: time against the database --seed-only built "
                        "(kept afterwards); each run uses up stock")  # fmt: skip
    parser.add_argument("--in-process", action="store_true", help="call the service from processes, no HTTP")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (HTTP)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (HTTP)")
    parser.add_argument("--port", type=int, default=8765, help="loopback port for gunicorn (HTTP)")
    parser.add_argument("--seconds", type=float, default=120, help="give up a run after this long (HTTP); with "
                        "--client wrk, the length of each timed run")  # fmt: skip
    parser.add_argument(
        "--client",
        choices=["python", "wrk"],
        default="python",
        help="HTTP load generator: Python threads, or wrk with a Lua script (apt-get install wrk)",
    )
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (--client wrk)")
    args = parser.parse_args()

    source = os.environ.get("DATABASE_URL")
    if not source:
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the benchmark makes its own database beside it).")
    url, name = bench_url(source)
    if not args.reuse:
        recreate(url, name)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings_test"
    os.environ.setdefault("AXES_ENABLED", "false")
    import django

    django.setup()
    try:
        if args.seed_only:
            from benchmarks.order_placement_http import seeded

            seeded(args, name)
        elif args.in_process:
            run(args)
        elif args.client == "wrk":
            from benchmarks.order_placement_wrk import run_wrk

            run_wrk(args, url)
        else:
            from benchmarks.order_placement_http import run_http

            run_http(args, url)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.seed_only or args.reuse):
            recreate(url, name, drop_only=True)


def run(args) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalogue.models import Listing
    from marketplace.organisations.models import Organisation
    from orders.services import LineInput, purchase_place
    from tests.factories import MembershipFactory, OrganisationFactory
    from tests.orders.factories import TONNE, make_listing, make_lot, make_world

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    grams = 100_000  # 100 kg per order
    world = make_world(lot_grams=args.orders * grams + 10 * TONNE)
    for listing in [world.listing]:
        Listing.objects.filter(pk=listing.pk).update(min_order_grams=grams)
    spread = []
    per_listing = args.orders * grams // args.listings + 10 * TONNE
    for _ in range(args.listings):
        lot = make_lot(world.seller, grams=per_listing, grade=world.grade_1, warehouse=world.warehouse,
                       collection_point=world.extra["collection_point"])  # fmt: skip
        spread.append(make_listing(world.seller, lot, world.warehouse, min_order=grams))
    buyers = []
    for index in range(args.clients):
        organisation = OrganisationFactory(legal_name=f"Bench buyer {index}", kind=Organisation.Kind.BUYER)
        buyers.append((organisation, MembershipFactory(organisation=organisation).user))

    # Queries of one placement (the web request's transaction), then of the notification task it schedules.
    from orders import tasks
    from orders.models import OrderEvent

    queued: list[int] = []
    tasks.send_order_notifications.delay = lambda event_id: queued.append(event_id)  # a broker would queue it
    organisation, user = buyers[0]
    with CaptureQueriesContext(connection) as placement:
        purchase_place(actor=user, buyer_id=organisation.pk, lines=[LineInput(quantity=grams, listing_id=spread[0].pk)])
    event = OrderEvent.objects.latest("pk")
    with CaptureQueriesContext(connection) as notify:
        sent = tasks.send_order_notifications.apply(args=[event.pk]).result
    print(f"queries per placement, one line: {len(placement)} (incl. savepoints); the notification task it "
          f"schedules: {len(notify)} queries for {sent} messages, run by a worker")  # fmt: skip
    with CaptureQueriesContext(connection) as three:
        purchase_place(actor=user, buyer_id=organisation.pk, lines=[
            LineInput(quantity=grams, listing_id=spread[1].pk), LineInput(quantity=grams, listing_id=spread[2].pk),
            LineInput(quantity=grams, listing_id=spread[3].pk)])  # fmt: skip
    print(f"queries per placement, three lines from one seller: {len(three)}")

    def timed_run(label: str, listing_ids: list[int]) -> None:
        import multiprocessing

        from django.db import connections

        connections.close_all()
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        start = context.Barrier(args.clients + 1)
        shares = [
            args.orders // args.clients + (1 if i < args.orders % args.clients else 0) for i in range(args.clients)
        ]
        workers = [
            context.Process(target=client, args=(buyers[i], shares[i], i, listing_ids, grams, start, results))
            for i in range(args.clients)
        ]
        for worker in workers:
            worker.start()
        start.wait()
        began = time.perf_counter()
        outcomes = [results.get() for _ in workers]
        elapsed = time.perf_counter() - began
        for worker in workers:
            worker.join()
        latencies = sorted(x for latencies, _ in outcomes for x in latencies)
        failures = [f for _, failed in outcomes for f in failed]
        p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
        print(
            f"{label}: {len(latencies)} orders by {args.clients} clients in {elapsed:.2f} s = "
            f"{len(latencies) / elapsed:.0f} orders/s; latency median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms; failures {len(failures)}" + (f" (first: {failures[0]})" if failures else "")
        )

    timed_run("one hot listing", [world.listing.pk])
    timed_run(f"spread over {len(spread)} listings", [listing.pk for listing in spread])
    hot = Listing.objects.get(pk=world.listing.pk)
    assert hot.quantity_reserved_grams == args.orders * grams, "every reservation is reflected on the listing"


def client(buyer, count: int, index: int, listing_ids: list[int], grams: int, start, results) -> None:
    """One client process: place `count` purchases, report the latencies and failures."""
    from django.db import connection

    from orders import tasks
    from orders.services import LineInput, purchase_place

    tasks.send_order_notifications.delay = lambda event_id: None  # queued for a worker, as with a broker
    organisation, user = buyer
    latencies: list[float] = []
    failures: list[str] = []
    start.wait()
    for n in range(count):
        listing_id = listing_ids[(index + n) % len(listing_ids)]
        began = time.perf_counter()
        try:
            purchase_place(
                actor=user, buyer_id=organisation.pk, lines=[LineInput(quantity=grams, listing_id=listing_id)]
            )
        except Exception as error:
            failures.append(repr(error))
        latencies.append(time.perf_counter() - began)
    connection.close()
    results.put((latencies, failures))


if __name__ == "__main__":
    main()
