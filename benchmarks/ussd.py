#!/usr/bin/env python
"""USSD handler benchmark: post every screen of the farmers' menu to the Africa's Talking callback through the whole
Django stack (URL routing, middleware, the view, the session row, the selectors) and report p50 and p95 latency and
the queries of each screen, against a baseline: the cheapest request through the same stack (GET /health/, one
`SELECT 1`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_bench_ussd .venv/bin/python benchmarks/ussd.py --markdown

The database is created if missing, migrated, and seeded once: a cooperative with --members members (20 deliveries
each), a listing, and a member with a PIN, a payout and input credit. Each timed request is the last step of a new
USSD session (earlier steps are posted untimed), so no answer comes from the replay cache; the replay itself is
measured as its own row. PINs are hashed with the PIN hasher (PBKDF2, 100,000 iterations), the largest part of
a PIN screen's time. An open ordering window makes the inputs entry (menu item 5) part of every menu; its last
screen records a request each time. The web process is pinned to one CPU core.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop_bench_ussd")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("DEBUG", "true")  # no HTTPS redirect; DEBUG does not change the query path
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CHANNELS_CALLBACK_SECRET", "bench-secret")

MARK = "BenchUSSD"
PHONE = "+254711555000"
PIN = "2580"
SECRET = os.environ["CHANNELS_CALLBACK_SECRET"]


def setup_django() -> None:
    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    import psycopg

    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed(members: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from catalogue import services as catalogue
    from catalogue.models import Commodity, Delivery, Grade, Location
    from marketplace.channels.services import farmer_channel_update
    from marketplace.core.money import Money
    from marketplace.organisations.models import MemberFarmer, Membership, Organisation, User
    from payments.models import Account
    from payments.payouts.models import PayoutBatch, PayoutLine

    if Organisation.objects.filter(registration_number=MARK).exists():
        return
    with transaction.atomic():
        coop = Organisation.objects.create(
            kind="cooperative", legal_name="Trans Nzoia Bench Farmers Cooperative", country="KE", currency="KES",
            registration_number=MARK, preferred_language="sw", verification_status="verified", phone="+254532030100",
        )  # fmt: skip
        clerk = User.objects.create_user(f"clerk@{MARK.lower()}.bench", "bench-pass-1234")
        manager = User.objects.create_user(f"manager@{MARK.lower()}.bench", "bench-pass-1234")
        Membership.objects.create(user=clerk, organisation=coop, role="clerk")
        Membership.objects.create(user=manager, organisation=coop, role="manager")
        point = Location.objects.create(organisation=coop, code="bench-cp", name="Bench point", country="KE")
        store = Location.objects.create(
            organisation=coop, code="bench-wh", name="Bench store", country="KE", is_warehouse=True
        )
        maize = Commodity.objects.get(code="maize-white")
        grade = Grade.objects.get(commodity=maize, code="grade-1")
        farmers = MemberFarmer.objects.bulk_create(
            [
                MemberFarmer(organisation=coop, member_number=f"B{i:06d}", name=f"Member {i}",
                             phone=PHONE if i == 0 else f"+2547115{i:05d}", joined_on=datetime.date(2020, 1, 1))
                for i in range(members)
            ]
        )  # fmt: skip
        today = timezone.localdate()
        Delivery.objects.bulk_create(
            [
                Delivery(organisation=coop, receipt_number=f"{MARK}-{f.pk}-{d}", collection_point=point, farmer=f,
                         commodity=maize, grade=grade, gross_grams=90_500, net_grams=90_000,
                         moisture_pct="12.50", delivered_on=today - datetime.timedelta(days=d), recorded_by=clerk)
                for f in farmers
                for d in range(20)
            ],
            batch_size=5000,
        )  # fmt: skip
        member = farmers[0]
        deliveries = [
            catalogue.delivery_record(
                actor=clerk, organisation_id=coop.pk, collection_point_id=point.pk, farmer_id=f.pk,
                commodity_id=maize.pk, grade_id=grade.pk, moisture_pct="12.5", net_grams=500_000,
            )
            for f in farmers[1:4]
        ]  # fmt: skip
        lot = catalogue.lot_bulk(
            actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
            storage_location_id=store.pk,
        )  # fmt: skip
        catalogue.listing_create(
            actor=manager, lot_id=lot.pk, title="White maize", price=Money(3800, "KES"), price_unit="KGM",
            quantity_grams=lot.quantity_grams, min_order_grams=100_000, delivery_terms="ex_warehouse",
            pickup_location_id=store.pk, available_from=today, valid_until=today + datetime.timedelta(days=60),
        )  # fmt: skip
        batch = PayoutBatch.objects.create(
            organisation=coop, currency="KES", status="executed", levy_bp=200, proceeds_amount=4_500_000,
            levy_amount=90_000, credit_amount=500_000, net_amount=3_910_000, approved_at=timezone.now(),
            executed_at=timezone.now(),
        )  # fmt: skip
        PayoutLine.objects.create(
            batch=batch, farmer=member, gross_amount=4_500_000, levy_amount=90_000, credit_amount=500_000,
            net_amount=3_910_000, paid_at=timezone.now(),
        )  # fmt: skip
        Account.objects.create(kind="member_payable", currency="KES", organisation=coop, farmer=member, balance=120_000)
        Account.objects.create(
            kind="member_input_credit", currency="KES", organisation=coop, farmer=member, balance=250_000
        )
        farmer_channel_update(actor=clerk, farmer_id=member.pk, pin=PIN, pin_again=PIN)


def seed_window() -> None:
    """An open ordering window of the bench cooperative with two input products (the inputs entry, menu item 5)."""
    from django.utils import timezone

    from catalogue.models import InputProduct, Packaging
    from marketplace.organisations.models import Membership, Organisation
    from orders.group_models import OrderingWindow
    from orders.services import group_windows

    coop = Organisation.objects.get(registration_number=MARK)
    if OrderingWindow.objects.filter(organisation=coop).exists():
        return
    manager = Membership.objects.get(organisation=coop, role="manager").user
    products = []
    for code, name, grams, npk in (
        ("bench-dap-50", "DAP 18-46-0", 50_000, (18, 46, 0)),
        ("bench-can-25", "CAN 26", 25_000, (26, 0, 0)),
    ):
        packaging, _ = Packaging.objects.get_or_create(
            code=code, defaults={"name": f"Bag {grams // 1000} kg", "net_mass_grams": grams, "tare_grams": 120}
        )
        products.append(
            InputProduct.objects.create(
                kind="fertiliser",
                name=name,
                packaging=packaging,
                nitrogen_pct=npk[0],
                phosphorus_pct=npk[1],
                potassium_pct=npk[2],
            )
        )
    now = timezone.now()
    window = group_windows.window_create(
        actor=manager,
        organisation_id=coop.pk,
        name="Long rains bench",
        product_ids=[p.pk for p in products],
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(days=365),
    )
    group_windows.window_transition(actor=manager, window_id=window.pk, to_status="open")


def post(client, session_id: str, text: str, phone: str = PHONE):
    return client.post(
        f"/channels/africastalking/{SECRET}/ussd/",
        {"sessionId": session_id, "serviceCode": "*384*1234#", "phoneNumber": phone, "networkCode": "63902",
         "text": text},
    )  # fmt: skip


def screens():
    """(name, path before the timed step, timed text, phone)."""
    return [
        ("Main menu (dial)", [], "", PHONE),
        ("PIN prompt", [""], "1", PHONE),
        ("Balance and last payout (PIN checked)", ["", "1"], f"1*{PIN}", PHONE),
        ("Wrong PIN", ["", "1"], "1*9999", PHONE),
        ("Last deliveries", [""], "2", PHONE),
        ("Today's prices", [""], "3", PHONE),
        ("Input credit (PIN checked)", ["", "4"], f"4*{PIN}", PHONE),
        ("Order inputs: products", [""], "5", PHONE),
        ("Order inputs: quantity", ["", "5"], "5*1", PHONE),
        ("Order inputs: tolerance", ["", "5", "5*1"], "5*1*100", PHONE),
        ("Order inputs: confirm", ["", "5", "5*1", "5*1*100"], "5*1*100*10", PHONE),
        ("Order inputs: recorded", ["", "5", "5*1", "5*1*100", "5*1*100*10"], "5*1*100*10*1", PHONE),
        ("Help", [""], "6", PHONE),
        ("Unknown option", [""], "9", PHONE),
        ("Unknown number", [], "", "+254799000111"),
        ("Replay of the main menu", [""], "", PHONE),
    ]


def measure(requests: int) -> tuple[dict, list[dict]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from marketplace.channels.models import FarmerPin

    client = Client(HTTP_HOST="127.0.0.1")

    def timed(run, count):
        timings = []
        for _ in range(count):
            prepare = run()
            started = time.perf_counter()
            response = prepare()
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:200]
        timings.sort()
        return statistics.median(timings), timings[round(0.95 * (len(timings) - 1))]

    def baseline_run():
        return lambda: client.get("/health/")

    for _ in range(20):
        client.get("/health/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/health/")
    queries = len(captured.captured_queries)  # read now: each request clears the log
    p50, p95 = timed(baseline_run, requests)
    baseline = {"name": "Baseline: GET /health/", "p50": p50, "p95": p95, "queries": queries}

    results = []
    for name, before, text, phone in screens():

        def run(before=before, text=text, phone=phone):
            session_id = f"bench-{uuid.uuid4().hex}"
            for step in before:
                post(client, session_id, step, phone)
            if "9999" in text:  # keep the member unlocked
                FarmerPin.objects.filter(pin_hash__isnull=False).update(failed_attempts=0, locked_at=None)
            return lambda: post(client, session_id, text, phone)

        for _ in range(3):  # warm up
            run()()
        prepare = run()
        with CaptureQueriesContext(connection) as captured:
            response = prepare()
        body = response.content.decode()
        assert body.startswith(("CON ", "END ")) and len(body) <= 182, body
        queries = len(captured.captured_queries)
        count = max(20, requests // 5) if "PIN checked" in name or "Wrong PIN" in name else requests
        p50, p95 = timed(run, count)
        results.append({"name": name, "p50": p50, "p95": p95, "queries": queries, "requests": count,
                        "screen": body.splitlines()[0][:60]})  # fmt: skip
    return baseline, results


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"{cpu}, {os.cpu_count()} vCPU, Python {platform.python_version()}, PostgreSQL {version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--all-cores", action="store_true", help="do not pin the web process to one core")
    parser.add_argument("--markdown", action="store_true")
    options = parser.parse_args()

    setup_django()
    seed(options.members)
    seed_window()
    from django.conf import settings
    from django.db import reset_queries

    settings.DEBUG = False  # as in production: no query log
    reset_queries()
    if not options.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from catalogue.models import Delivery
    from marketplace.organisations.models import MemberFarmer

    baseline, results = measure(options.requests)
    print(
        f"{MemberFarmer.objects.count():,} members, {Delivery.objects.count():,} deliveries; {options.requests} timed "
        f"requests per screen (PIN screens: {max(20, options.requests // 5)}); {datetime.date.today().isoformat()}; "
        f"{machine()}; web process pinned to {'all cores' if options.all_cores else 'one core'}"
    )
    rows = [baseline, *results]
    if options.markdown:
        print("\n| Screen | p50 (ms) | p95 (ms) | p95 / baseline p95 | Queries |\n|---|---:|---:|---:|---:|")
        for row in rows:
            print(f"| {row['name']} | {row['p50']:.1f} | {row['p95']:.1f} | {row['p95'] / baseline['p95']:.1f} | "
                  f"{row['queries']} |")  # fmt: skip
    else:
        for row in rows:
            ratio = row["p95"] / baseline["p95"]
            print(f"{row['name']:<42} p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  x{ratio:5.1f}  "
                  f"queries {row['queries']:2d}  {row.get('screen', '')}")  # fmt: skip


if __name__ == "__main__":
    main()
