#!/usr/bin/env python
"""Group input order plan: the exact MILP (HiGHS) beside the cheapest-single-supplier greedy, on one instance of
2,000 member requests over 30 products against 500 supplier offers with 1-4 all-units tiers each (50 suppliers,
each with a delivery cost per order and some with a minimum order value).

    .venv/bin/python benchmarks/input_plan.py [--seed 1] [--runs 5] [--markdown]

The solver code is what the window's plan page runs (`orders.services.group_plan`); no database is used. The
member requests are summed per product (quantity and tolerance) as the window does before planning.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_REQUESTS, N_PRODUCTS, N_OFFERS, N_SUPPLIERS = 2_000, 30, 500, 50


def build_instance(rng: random.Random, *, requests: int = N_REQUESTS, products: int = N_PRODUCTS,
                   offers: int = N_OFFERS, suppliers: int = N_SUPPLIERS):  # fmt: skip
    from orders.services.group_plan import Need, OfferInput, SupplierTerms

    units = {p: rng.choice([25_000, 50_000, 1_000, 10]) for p in range(1, products + 1)}
    totals = {p: [0, 0] for p in units}
    for _ in range(requests):
        p = rng.randint(1, products)
        totals[p][0] += rng.randint(1, 6) * units[p] // 2
        totals[p][1] += rng.choice([0, 0, units[p] // 4, units[p] // 2])
    needs = [Need(p, q, t, units[p]) for p, (q, t) in totals.items()]
    offer_list = []
    for oid in range(1, offers + 1):
        p, s = rng.randint(1, products), rng.randint(1, suppliers)
        base = rng.randint(2_000, 9_000)
        breaks = sorted(rng.sample(range(1, 200), rng.randint(1, 4)))
        breaks[0] = rng.choice([1, 1, breaks[0]])
        tiers, price = [], base
        for b in sorted(set(breaks)):
            tiers.append((b, price))
            price = max(1, price - rng.randint(0, base // 10))
        offer_list.append(OfferInput(oid, p, s, tuple(tiers), rng.choice([None, None, rng.randint(20, 400)]),
                                     rng.choice([0, 0, 0, rng.randint(1_000, 20_000)])))  # fmt: skip
    terms = {s: SupplierTerms(rng.randint(5_000, 60_000), rng.choice([0, 0, rng.randint(50_000, 400_000)]))
             for s in range(1, suppliers + 1)}  # fmt: skip
    return needs, offer_list, terms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each method (median reported)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from orders.services.group_plan import plan_exact, plan_greedy

    needs, offers, terms = build_instance(random.Random(args.seed))
    rows = []
    for name, solve in (("exact MILP (HiGHS)", plan_exact), ("greedy single supplier", plan_greedy)):
        times, plan = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            plan = solve(needs, offers, terms)
            times.append(time.perf_counter() - started)
        rows.append((name, statistics.median(times), plan))
    exact_cost = rows[0][2].cost
    print(f"{N_REQUESTS} requests, {len(needs)} products, {len(offers)} offers, {len(terms)} suppliers, "
          f"seed {args.seed}, {platform.machine()}, {datetime.date.today()}")  # fmt: skip
    if args.markdown:
        print("| method | median time (s) | lines served | suppliers | cost (minor units) | vs exact |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, elapsed, plan in rows:
        extra = (plan.cost - exact_cost) / exact_cost * 100 if exact_cost else 0.0
        served = f"{len(plan.lines)}/{len(needs)}"
        if args.markdown:
            print(f"| {name} | {elapsed:.3f} | {served} | {len(plan.suppliers)} | {plan.cost:,} | {extra:+.2f} % |")
        else:
            print(f"{name:24s} time {elapsed:8.3f} s  served {served}  suppliers {len(plan.suppliers):3d}  "
                  f"cost {plan.cost:>14,}  ({extra:+.2f} % vs exact)")  # fmt: skip


if __name__ == "__main__":
    main()
