"""The matching engine on generated instances: optimal (min-cost flow per component) against greedy by surplus,
side by side, and the time to re-match after one new request.

    .venv/bin/python benchmarks/matching.py                 # 2,000 x 5,000 and 20,000 x 50,000
    .venv/bin/python benchmarks/matching.py --sizes 2000x5000

No database. Each (size, method) runs in a fresh process, so its peak resident memory (ru_maxrss, which includes
OR-Tools' C++ allocations) is its own; "solve memory" is that peak minus the resident size once the instance was
built. The instance is generated from a fixed seed: lots and buyers in 12 producing regions, 8 commodities, grades
1-3, two certifications, EUDR readiness, lots of 1-25 t, requests of 5-40 t with a 5 t truckload (some 15 t) and
some a smallest fill of half their quantity, maximum distances of 40-300 km, a transport rate of 12 minor units per
tonne-km.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace.matching import engine  # noqa: E402

COMMODITIES = ["cocoa", "coffee", "maize", "sorghum", "beans", "cashew", "sesame", "rice"]
REGIONS = [  # (lat, lon) of producing regions
    (6.7, -1.6), (7.5, -5.5), (0.3, 32.6), (-1.3, 36.8), (-6.8, 37.7), (-13.9, 33.8),
    (9.0, 38.7), (12.4, -1.5), (-15.4, 28.3), (4.1, 9.7), (-19.0, 29.2), (11.0, 7.7),
]  # fmt: skip
CERTS = ["fairtrade", "organic"]


def make_instance(n_lots: int, n_requests: int, seed: int = 42) -> engine.Instance:
    rng = random.Random(seed)
    base_price = {c: rng.randint(300_000, 2_500_000) for c in COMMODITIES}
    lots = []
    for i in range(n_lots):
        lat, lon = rng.choice(REGIONS)
        c = rng.choice(COMMODITIES)
        lots.append(
            engine.Lot(
                id=i,
                commodity=c,
                grade=rng.randint(1, 3),
                kg=rng.randint(1, 25) * 1000,
                ask_minor_per_tonne=int(base_price[c] * rng.uniform(0.85, 1.05)),
                lat=lat + rng.gauss(0, 0.45),
                lon=lon + rng.gauss(0, 0.45),
                certifications=frozenset(x for x in CERTS if rng.random() < 0.3),
                eudr_ready=rng.random() < 0.6,
            )
        )
    requests = [make_request(rng, 1_000_000 + j, base_price) for j in range(n_requests)]
    return engine.Instance(transport_minor_per_tonne_km=12, lots=lots, requests=requests)


def make_request(rng: random.Random, rid, base_price) -> engine.Request:
    lat, lon = rng.choice(REGIONS)
    c = rng.choice(COMMODITIES)
    kg = rng.randint(5, 40) * 1000
    return engine.Request(
        id=rid,
        commodity=c,
        min_grade=rng.randint(1, 3),
        kg=kg,
        max_price_minor_per_tonne=int(base_price[c] * rng.uniform(0.95, 1.15)),
        lat=lat + rng.gauss(0, 0.45),
        lon=lon + rng.gauss(0, 0.45),
        max_distance_km=rng.uniform(40, 300),
        certifications=frozenset(x for x in CERTS if rng.random() < 0.1),
        eudr_required=rng.random() < 0.2,
        min_fill_kg=kg // 2 if rng.random() < 0.3 else 0,
        min_truckload_kg=15_000 if rng.random() < 0.2 else 5_000,
    )


def rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def measure(n_lots: int, n_requests: int, method: str, rematch: int, queue) -> None:
    instance = make_instance(n_lots, n_requests)
    base = rss_kib()
    result = engine.solve(instance, method=method)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {
        "seconds": result.seconds,
        "timings": result.timings,
        "objective": result.objective,
        "upper_bound": result.upper_bound,
        "pairs": result.pairs,
        "components": result.components,
        "exact_components": result.exact_components,
        "heuristic_components": result.heuristic_components,
        "allocations": len(result.allocations),
        "kg": sum(a.kg for a in result.allocations),
        "peak_mib": peak / 1024,
        "solve_mib": (peak - base) / 1024,
    }
    if method == "optimal" and rematch:
        sizes = [len(c.lot) for c in engine._components(engine._Arrays(instance))]
        out["largest_component_pairs"] = max(sizes) if sizes else 0
        matcher = engine.Matcher(instance)
        assert matcher.objective == result.objective
        rng = random.Random(7)
        base_price = {c: random.Random(42).randint(300_000, 2_500_000) for c in COMMODITIES}
        times = []
        for n in range(rematch):
            request = make_request(rng, 9_000_000 + n, base_price)
            start = time.perf_counter()
            matcher.add_request(request)
            times.append(time.perf_counter() - start)
        out["rematch_ms"] = [t * 1000 for t in times]
    queue.put(out)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def run(n_lots: int, n_requests: int, method: str, rematch: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=measure, args=(n_lots, n_requests, method, rematch, queue))
    process.start()
    out = queue.get()
    process.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000x5000,20000x50000", help="LOTSxREQUESTS, comma-separated")
    parser.add_argument("--rematch", type=int, default=50, help="new requests re-matched one at a time")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args()
    print(f"{cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()}")
    raw = {}
    for size in args.sizes.split(","):
        n_lots, n_requests = (int(x) for x in size.split("x"))
        optimal = run(n_lots, n_requests, "optimal", args.rematch)
        greedy = run(n_lots, n_requests, "greedy", 0)
        raw[size] = {"optimal": optimal, "greedy": greedy}
        gap = 100 * (optimal["objective"] - greedy["objective"]) / optimal["objective"]
        bound_gap = 100 * (optimal["upper_bound"] - optimal["objective"]) / optimal["upper_bound"]
        print(f"\n{n_lots:,} lots x {n_requests:,} requests: {optimal['pairs']:,} feasible pairs")
        print(f"{'':28}{'optimal':>22}{'greedy':>22}")
        for label, key, fmt in [
            ("seconds", "seconds", "{:.2f}"),
            ("  of which pairs and components", "pairs", "{:.2f}"),
            ("  of which solving", "solve", "{:.2f}"),
            ("peak memory (MiB)", "peak_mib", "{:.0f}"),
            ("solve memory (MiB)", "solve_mib", "{:.0f}"),
            ("objective", "objective", "{:,}"),
            ("tonnes allocated", "kg", "{:,.0f}"),
        ]:
            if key in ("pairs", "solve"):
                left, right = optimal["timings"][key], greedy["timings"][key]
            else:
                left, right = optimal[key], greedy[key]
            if key == "kg":
                left, right = left / 1000, right / 1000
            print(f"{label:28}{fmt.format(left):>22}{fmt.format(right):>22}")
        print(f"greedy gap: {gap:.2f} %")
        print(
            f"components: {optimal['components']:,} ({optimal['exact_components']:,} exact, "
            f"{optimal['heuristic_components']:,} by drop-and-resolve); largest {optimal['largest_component_pairs']:,}"
            f" pairs; optimal within {bound_gap:.4f} % of the relaxation's upper bound"
        )
        times = optimal["rematch_ms"]
        print(
            f"re-match after one new request ({len(times)} requests): median {statistics.median(times):.1f} ms, "
            f"p95 {p95(times):.1f} ms, max {max(times):.1f} ms"
        )
    if args.json:
        print(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
