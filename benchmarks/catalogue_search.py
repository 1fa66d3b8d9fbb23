#!/usr/bin/env python
"""Catalogue search benchmark: seed 100,000 listings (and 10,000 supplier offers), then time the common
searches through the whole Django stack (URL routing, middleware, DRF, serializers, JSON) and report p50 and
p95 latency and the queries each request runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_bench .venv/bin/python benchmarks/catalogue_search.py

The database is created if missing, migrated, and seeded once (seeding is skipped when it already holds the
benchmark's rows). The web process is pinned to one CPU core; PostgreSQL runs as it is configured. Options:
--listings, --offers, --requests (timed requests per search), --markdown (print a table for docs/benchmarks.md).
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
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/coop_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("DEBUG", "true")  # no HTTPS redirect; DEBUG does not change the query path
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("THROTTLE_ANON", "100000000/minute")
os.environ.setdefault("THROTTLE_USER", "100000000/minute")
os.environ.setdefault("LOG_LEVEL", "WARNING")

MARK = "Bench"  # every seeded organisation's registration number and listing title start with it

# country, currency, centre (lat, lon), regions, price multiplier from USD
COUNTRIES = [
    ("CI", "XOF", (6.8, -5.3), ["Nawa", "Haut-Sassandra", "Lagunes", "Gôh", "San-Pédro"], 600),
    ("GH", "GHS", (6.7, -1.6), ["Ashanti", "Western North", "Eastern", "Bono"], 15),
    ("RW", "RWF", (-2.0, 29.9), ["Western Province", "Southern Province", "Northern Province"], 1400),
    ("KE", "KES", (0.5, 36.5), ["Trans Nzoia", "Uasin Gishu", "Nakuru", "Kiambu", "Meru"], 130),
    ("UG", "UGX", (0.8, 32.3), ["Masaka", "Mbale", "Bushenyi", "Mityana"], 3700),
    ("ET", "ETB", (8.0, 38.7), ["Sidama", "Oromia", "Amhara"], 120),
    ("CM", "XAF", (4.5, 11.5), ["Centre", "Sud-Ouest", "Littoral"], 600),
    ("TZ", "TZS", (-6.2, 35.7), ["Kilimanjaro", "Mbeya", "Mtwara"], 2600),
]
# commodity code, share of listings, price in USD per kg
COMMODITY_MIX = [
    ("cocoa-beans", 18, 7.5), ("coffee-arabica-green", 12, 6.0), ("coffee-robusta-green", 8, 4.2),
    ("coffee-arabica-cherry", 4, 0.9), ("coffee-robusta-cherry", 4, 1.6), ("maize-white", 14, 0.3),
    ("rice-paddy", 8, 0.4), ("sorghum", 5, 0.3), ("beans-dry", 7, 0.9), ("cashew-rcn", 7, 1.2),
    ("sesame", 5, 1.6), ("shea-kernels", 4, 0.5), ("soya-beans", 4, 0.5),
]  # fmt: skip


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


# --- Seeding ------------------------------------------------------------------------------


def seed(listings: int, offers: int, rng: random.Random) -> None:
    from django.db import transaction

    from catalogue.models import Listing, SupplierOffer

    have = Listing.objects.filter(title__startswith=MARK).count()
    if have < listings:
        started = time.perf_counter()
        with transaction.atomic():
            _seed_listings(listings - have, rng, offset=have)
        print(f"seeded {listings - have:,} listings in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    have = SupplierOffer.objects.filter(notes__startswith=MARK).count()
    if have < offers:
        started = time.perf_counter()
        with transaction.atomic():
            _seed_offers(offers - have, rng, offset=have)
        print(f"seeded {offers - have:,} offers in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _bench_user():
    from marketplace.organisations.models import User

    user, _ = User.objects.get_or_create(email="bench@coopmarket.invalid", defaults={"full_name": "Benchmark"})
    return user


def _organisations(kind: str, count: int, rng: random.Random) -> list:
    from marketplace.organisations.models import Organisation

    existing = list(Organisation.objects.filter(registration_number__startswith=f"{MARK}-{kind}").order_by("pk"))
    new = []
    for index in range(len(existing), count):
        country, currency, (lat, lon), regions, _ = COUNTRIES[index % len(COUNTRIES)]
        new.append(
            Organisation(
                kind=kind, legal_name=f"{MARK} {kind} {index}", country=country, region=rng.choice(regions),
                latitude=Decimal(str(round(lat + rng.uniform(-1.5, 1.5), 6))),
                longitude=Decimal(str(round(lon + rng.uniform(-1.5, 1.5), 6))),
                registration_number=f"{MARK}-{kind}-{index:05d}", currency=currency,
                verification_status=Organisation.Verification.VERIFIED,
            )
        )  # fmt: skip
    Organisation.objects.bulk_create(new)
    return list(Organisation.objects.filter(registration_number__startswith=f"{MARK}-{kind}").order_by("pk"))


def _seed_listings(count: int, rng: random.Random, offset: int) -> None:
    from catalogue.models import (
        Certification,
        Commodity,
        Delivery,
        Grade,
        Listing,
        Location,
        Lot,
        LotContribution,
        LotIntake,
    )
    from marketplace.organisations.models import MemberFarmer

    user = _bench_user()
    cooperatives = _organisations("cooperative", 300, rng)
    country_of = {c[0]: c for c in COUNTRIES}
    today = datetime.date.today()
    sites, farmers, certificates = {}, {}, {}
    for organisation in cooperatives:
        site = Location.objects.filter(organisation=organisation).first() or Location.objects.create(
            organisation=organisation, code="main", name=f"{organisation.region} store", is_collection_point=True,
            is_warehouse=True, country=organisation.country, region=organisation.region,
            latitude=organisation.latitude, longitude=organisation.longitude,
        )  # fmt: skip
        sites[organisation.pk] = site
        farmers[organisation.pk] = MemberFarmer.objects.filter(organisation=organisation).first() or (
            MemberFarmer.objects.create(organisation=organisation, member_number="B-0001", name="Bench member",
                                        joined_on=datetime.date(2020, 1, 1))
        )  # fmt: skip
        certificates[organisation.pk] = list(Certification.objects.filter(organisation=organisation))
        if not certificates[organisation.pk]:
            for scheme, share in (("fairtrade", 0.3), ("organic", 0.15), ("rainforest_alliance", 0.1)):
                if rng.random() < share:
                    certificates[organisation.pk].append(Certification.objects.create(
                        organisation=organisation, scheme=scheme, certificate_number=f"{MARK}-{organisation.pk}",
                        valid_from=today - datetime.timedelta(days=300),
                        valid_until=today + datetime.timedelta(days=400),
                    ))  # fmt: skip
    commodities = {c.code: c for c in Commodity.objects.filter(code__in=[c[0] for c in COMMODITY_MIX])}
    grades = {code: list(Grade.objects.filter(commodity=c).order_by("rank")) for code, c in commodities.items()}
    weights = [c[1] for c in COMMODITY_MIX]

    batch = 5000
    for start in range(offset, offset + count, batch):
        size = min(batch, offset + count - start)
        rows = []
        for number in range(start, start + size):
            organisation = cooperatives[number % len(cooperatives)]
            code, _, usd = rng.choices(COMMODITY_MIX, weights=weights)[0]
            grade = rng.choice(grades[code])
            grams = rng.randint(500, 40_000) * 1000
            rows.append((number, organisation, commodities[code], grade, grams, usd))
        deliveries = Delivery.objects.bulk_create(
            [Delivery(organisation=o, receipt_number=f"{MARK}-R{n:07d}", collection_point=sites[o.pk],
                      farmer=farmers[o.pk], commodity=c, grade=g, gross_grams=q, net_grams=q, moisture_pct=Decimal(7),
                      delivered_on=today - datetime.timedelta(days=30), recorded_by=user)
             for n, o, c, g, q, _ in rows]
        )  # fmt: skip
        lots = Lot.objects.bulk_create(
            [Lot(organisation=o, code=f"{MARK}-{n:07d}", commodity=c, grade=g, quantity_grams=q, status="listed",
                 origin="bulk", storage_location=sites[o.pk], created_by=user)
             for n, o, c, g, q, _ in rows]
        )  # fmt: skip
        LotIntake.objects.bulk_create(
            [LotIntake(delivery=d, lot=lot, grams=lot.quantity_grams) for d, lot in zip(deliveries, lots, strict=True)]
        )
        LotContribution.objects.bulk_create(
            [LotContribution(lot=lot, farmer_id=d.farmer_id, delivery=d, grams=lot.quantity_grams)
             for d, lot in zip(deliveries, lots, strict=True)]
        )  # fmt: skip
        listing_rows = []
        for (n, o, c, g, q, usd), lot in zip(rows, lots, strict=True):
            multiplier = country_of[o.country.code][4]
            per_kg = max(1, round(usd * multiplier * rng.uniform(0.75, 1.3) * (1.0 - 0.05 * (g.rank - 1))))
            per_tonne = rng.random() < 0.3
            available_from = today + datetime.timedelta(days=rng.randint(-60, 30))
            status = rng.choices(["active", "paused", "withdrawn"], weights=[90, 5, 5])[0]
            site = sites[o.pk]
            listing_rows.append(Listing(
                organisation=o, lot=lot, title=f"{MARK} {c.name} {g.name} {n}", commodity=c, grade=g,
                grade_rank=g.rank, price_amount=per_kg * 1000 if per_tonne else per_kg, currency=o.currency,
                price_unit="TNE" if per_tonne else "KGM", quantity_offered_grams=q, quantity_available_grams=q,
                min_order_grams=min(q, rng.choice([100, 500, 1000, 5000]) * 1000),
                delivery_terms="ex_warehouse" if rng.random() < 0.8 else "delivered",
                pickup_location=site, country=o.country, region=o.region,
                latitude=Decimal(str(round(float(site.latitude) + rng.uniform(-0.3, 0.3), 6))),
                longitude=Decimal(str(round(float(site.longitude) + rng.uniform(-0.3, 0.3), 6))),
                available_from=available_from,
                valid_until=available_from + datetime.timedelta(days=rng.randint(30, 180)),
                status=status, created_by=user,
            ))  # fmt: skip
        listings = Listing.objects.bulk_create(listing_rows)
        links = []
        for listing in listings:
            for certificate in certificates[listing.organisation_id]:
                links.append(Listing.certifications.through(listing=listing, certification=certificate))
        Listing.certifications.through.objects.bulk_create(links)
        print(f"  {start + size - offset:,} / {count:,}", file=sys.stderr)


def _seed_offers(count: int, rng: random.Random, offset: int) -> None:
    from catalogue.models import Commodity, InputProduct, OfferRegion, Packaging, PriceTier, SupplierOffer

    user = _bench_user()
    suppliers = _organisations("input_supplier", 60, rng)
    packaging = list(Packaging.objects.all())
    maize = Commodity.objects.get(code="maize-white")
    products = list(InputProduct.objects.filter(name__startswith=MARK))
    if not products:
        for index in range(200):
            kind = ["seed", "fertiliser", "crop_protection", "tool"][index % 4]
            products.append(InputProduct.objects.create(
                kind=kind, name=f"{MARK} product {index}", packaging=rng.choice(packaging),
                crop=maize if kind == "seed" else None, variety="H614D" if kind == "seed" else "",
                nitrogen_pct=17 if kind == "fertiliser" else None, phosphorus_pct=17 if kind == "fertiliser" else None,
                potassium_pct=17 if kind == "fertiliser" else None,
                active_ingredient="glyphosate 360 g/l" if kind == "crop_protection" else "",
            ))  # fmt: skip
    country_of = {c[0]: c for c in COUNTRIES}
    today = datetime.date.today()
    offers = SupplierOffer.objects.bulk_create(
        [SupplierOffer(
            organisation=(s := suppliers[n % len(suppliers)]), product=rng.choice(products), currency=s.currency,
            stock_packs=rng.randint(0, 5000), lead_time_days=rng.randint(1, 21), valid_from=today,
            valid_until=today + datetime.timedelta(days=rng.randint(10, 200)), notes=f"{MARK} {n}", created_by=user,
            status=rng.choices(["active", "paused"], weights=[92, 8])[0],
        ) for n in range(offset, offset + count)]
    )  # fmt: skip
    tiers, regions = [], []
    for offer in offers:
        price = rng.randint(5, 60) * country_of[offer.organisation.country.code][4] * 100
        breakpoints = sorted(rng.sample([1, 10, 50, 100, 250, 500, 1000], rng.randint(1, 4)))
        breakpoints[0] = 1
        for step, low in enumerate(sorted(set(breakpoints))):
            tiers.append(PriceTier(offer=offer, min_packs=low, unit_price_amount=int(price * (1 - 0.04 * step))))
        for region in rng.sample(country_of[offer.organisation.country.code][3], rng.randint(1, 3)):
            regions.append(OfferRegion(offer=offer, country=offer.organisation.country, region=region))
        if rng.random() < 0.2:
            regions.append(OfferRegion(offer=offer, country=offer.organisation.country, region=""))
    PriceTier.objects.bulk_create(tiers)
    OfferRegion.objects.bulk_create(regions, ignore_conflicts=True)


# --- Timing -------------------------------------------------------------------------------


def searches(rng: random.Random, live_pages: int) -> list[tuple[str, callable]]:
    deep = (max(1, live_pages - 10), max(1, live_pages))
    soon = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    points = [(6.0, -6.0), (5.5, -4.0), (0.8, 35.0), (-2.2, 29.5), (7.5, 38.5), (0.5, 32.5)]
    commodities = [c[0] for c in COMMODITY_MIX]

    def pick(options):
        return lambda: rng.choice(options)

    def near():
        lat, lon = rng.choice(points)
        return f"/api/v1/listings/?lat={lat}&lon={lon}&radius_km={rng.choice([25, 50, 100])}"

    return [
        ("All live listings, newest first", lambda: "/api/v1/listings/"),
        ("By commodity", lambda: f"/api/v1/listings/?commodity={rng.choice(commodities)}"),
        ("Commodity and minimum grade", pick(["/api/v1/listings/?commodity=coffee-arabica-green&min_grade=ab",
                                              "/api/v1/listings/?commodity=cocoa-beans&min_grade=grade-1",
                                              "/api/v1/listings/?commodity=maize-white&min_grade=grade-2"])),
        ("Country and region", pick(["/api/v1/listings/?country=CI&region=Nawa",
                                     "/api/v1/listings/?country=KE&region=Trans%20Nzoia",
                                     "/api/v1/listings/?country=RW"])),
        ("Within a radius, nearest first", near),
        ("Maximum price in a currency, cheapest first",
         pick(["/api/v1/listings/?commodity=cocoa-beans&max_price=4500&currency=XOF&ordering=price",
               "/api/v1/listings/?max_price=60&currency=KES&ordering=price",
               "/api/v1/listings/?max_price=3000000&currency=XOF&price_unit=TNE&ordering=price"])),
        ("Certification, available on a date", lambda: f"/api/v1/listings/?certification="
                                                      f"{rng.choice(['fairtrade', 'organic'])}&available_on={soon}"),
        ("Minimum quantity", lambda: f"/api/v1/listings/?commodity={rng.choice(commodities)}&min_quantity_kg=20000"),
        ("Everything combined", lambda: "/api/v1/listings/?commodity=cocoa-beans&min_grade=grade-2&lat=6.0&lon=-6.0"
                                        "&radius_km=150&max_price=6000&currency=XOF&min_quantity_kg=5000"),
        ("Last pages of the newest", lambda: f"/api/v1/listings/?page={rng.randint(*deep)}"),
        ("Catalogue page (HTML) by commodity", lambda: f"/catalogue/?commodity={rng.choice(commodities)}"),
        ("Offers: product kind, region, quantity", lambda: f"/api/v1/offers/?kind={rng.choice(['seed', 'fertiliser'])}"
                                                           f"&country=KE&region=Trans%20Nzoia&quantity=150"),
        ("Offers: by country", pick(["/api/v1/offers/?country=CI", "/api/v1/offers/?country=UG&quantity=40"])),
    ]  # fmt: skip


def measure(requests: int, rng: random.Random) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    results = []
    live_pages = -(-client.get("/api/v1/listings/").json()["count"] // 20)
    for name, url_for in searches(rng, live_pages):
        for _ in range(5):  # warm up
            client.get(url_for())
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url_for())
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        queries = [query["sql"] for query in captured.captured_queries]  # read now: each request clears the log
        timings = []
        for _ in range(requests):
            url = url_for()
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        timings.sort()
        results.append({
            "name": name,
            "p50": statistics.median(timings),
            "p95": timings[round(0.95 * (len(timings) - 1))],
            "queries": len(queries),
            "catalogue_queries": sum("catalogue_" in sql for sql in queries),
        })  # fmt: skip
    return results


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
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--all-cores", action="store_true", help="do not pin the web process to one core")
    parser.add_argument("--markdown", action="store_true")
    options = parser.parse_args()

    setup_django()
    rng = random.Random(options.seed)
    seed(options.listings, options.offers, rng)
    from django.conf import settings
    from django.db import reset_queries

    settings.DEBUG = False  # as in production: no query log (templates and static files were set up already)
    reset_queries()
    if not options.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from catalogue.models import Listing, SupplierOffer

    results = measure(options.requests, random.Random(options.seed))
    live = Listing.objects.filter(status="active").count()
    header = (
        f"{Listing.objects.count():,} listings ({live:,} active), {SupplierOffer.objects.count():,} offers; "
        f"{options.requests} timed requests per search; {datetime.date.today().isoformat()}; {machine()}; "
        f"web process pinned to {'all cores' if options.all_cores else 'one core'}"
    )
    print(header)
    if options.markdown:
        print("\n| Search | p50 (ms) | p95 (ms) | Queries per request (catalogue tables) |\n|---|---:|---:|---:|")
        for row in results:
            print(f"| {row['name']} | {row['p50']:.1f} | {row['p95']:.1f} | {row['queries']} "
                  f"({row['catalogue_queries']}) |")  # fmt: skip
    else:
        for row in results:
            print(f"{row['name']:<45} p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  "
                  f"queries {row['queries']} ({row['catalogue_queries']} catalogue)")  # fmt: skip


if __name__ == "__main__":
    main()
