"""The matching engine against an independent optimum: every feasible pair worked out here with plain `math`, and
the best allocation found by linear programming (HiGHS) for every choice of which thresholded requests are served.
The transportation polytope with integer bounds has integer vertices, so the LP optimum is the integer optimum."""

import io
import itertools
import json
import math
import random

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from scipy.optimize import linprog

from marketplace.matching import engine
from marketplace.matching.engine import Instance, Lot, Request


def reference_pairs(instance: Instance) -> dict[tuple[int, int], int]:
    """(lot index, request index) -> surplus per tonne, for the feasible pairs, written from the issue's rules."""
    pairs = {}
    for i, lot in enumerate(instance.lots):
        for j, req in enumerate(instance.requests):
            if lot.commodity != req.commodity or lot.grade < req.min_grade:
                continue
            if not req.certifications <= lot.certifications or (req.eudr_required and not lot.eudr_ready):
                continue
            p1, p2 = math.radians(lot.lat), math.radians(req.lat)
            a = (
                math.sin((p2 - p1) / 2) ** 2
                + math.cos(p1) * math.cos(p2) * math.sin(math.radians(req.lon - lot.lon) / 2) ** 2
            )
            distance = 2 * 6371.0088 * math.asin(math.sqrt(a))
            if distance > req.max_distance_km:
                continue
            surplus = (
                req.max_price_minor_per_tonne
                - lot.ask_minor_per_tonne
                - round(instance.transport_minor_per_tonne_km * distance)
            )
            if surplus > 0:
                pairs[(i, j)] = surplus
    return pairs


def brute_force_optimum(instance: Instance) -> int:
    pairs = reference_pairs(instance)
    keys = sorted(pairs)
    if not keys:
        return 0
    thresholded = [j for j, r in enumerate(instance.requests) if r.threshold_kg > 0]
    best = 0
    for served in itertools.product([False, True], repeat=len(thresholded)):
        on = {j for j, s in zip(thresholded, served, strict=True) if s}
        off = set(thresholded) - on
        use = [k for k in keys if k[1] not in off]
        if not use:
            continue
        c = [-pairs[k] for k in use]
        a_ub, b_ub = [], []
        for i, lot in enumerate(instance.lots):
            a_ub.append([1 if k[0] == i else 0 for k in use])
            b_ub.append(lot.kg)
        for j, req in enumerate(instance.requests):
            if j in off:
                continue
            a_ub.append([1 if k[1] == j else 0 for k in use])
            b_ub.append(req.kg)
            if j in on:
                a_ub.append([-1 if k[1] == j else 0 for k in use])
                b_ub.append(-req.threshold_kg)
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        if res.status != 0:
            continue
        x = np.rint(res.x).astype(int)
        assert np.allclose(x, res.x, atol=1e-6)
        best = max(best, sum(int(q) * pairs[k] for q, k in zip(x, use, strict=True)))
    return best


def random_instance(rng: random.Random, n_lots: int, n_requests: int) -> Instance:
    commodities = ["cocoa", "coffee"] if rng.random() < 0.3 else ["cocoa"]
    certs = ["fairtrade", "organic"]
    lots = [
        Lot(
            id=f"L{i}",
            commodity=rng.choice(commodities),
            grade=rng.randint(1, 3),
            kg=rng.choice([0, 1000, 2500, 4000, 7000, 12000, 20000]) + rng.randint(0, 999),
            ask_minor_per_tonne=rng.randint(150_000, 230_000),
            lat=6 + rng.uniform(-1.5, 1.5),
            lon=-1 + rng.uniform(-1.5, 1.5),
            certifications=frozenset(c for c in certs if rng.random() < 0.4),
            eudr_ready=rng.random() < 0.7,
        )
        for i in range(n_lots)
    ]
    requests = []
    for j in range(n_requests):
        kg = rng.choice([3000, 5000, 10000, 20000, 30000]) + rng.randint(0, 999)
        requests.append(
            Request(
                id=f"R{j}",
                commodity=rng.choice(commodities),
                min_grade=rng.randint(1, 3),
                kg=kg,
                max_price_minor_per_tonne=rng.randint(180_000, 280_000),
                lat=6 + rng.uniform(-1.5, 1.5),
                lon=-1 + rng.uniform(-1.5, 1.5),
                max_distance_km=rng.choice([60, 120, 250, 400]),
                certifications=frozenset(c for c in certs if rng.random() < 0.2),
                eudr_required=rng.random() < 0.3,
                min_fill_kg=rng.choice([0, 0, kg // 2, kg]),
                min_truckload_kg=rng.choice([0, 5000, 15000]),
            )
        )
    return Instance(transport_minor_per_tonne_km=rng.choice([0, 40, 150]), lots=lots, requests=requests)


def check_allocation(instance: Instance, result: engine.Result) -> None:
    pairs = reference_pairs(instance)
    lots = {lot.id: (i, lot) for i, lot in enumerate(instance.lots)}
    reqs = {r.id: (j, r) for j, r in enumerate(instance.requests)}
    per_lot: dict = {}
    per_req: dict = {}
    objective = 0
    for a in result.allocations:
        i, _lot = lots[a.lot]
        j, _req = reqs[a.request]
        assert (i, j) in pairs, f"infeasible pair {a.lot} -> {a.request} used"
        assert a.kg > 0
        per_lot[a.lot] = per_lot.get(a.lot, 0) + a.kg
        per_req[a.request] = per_req.get(a.request, 0) + a.kg
        objective += a.kg * pairs[(i, j)]
    for lot_id, kg in per_lot.items():
        assert kg <= lots[lot_id][1].kg
    for req_id, kg in per_req.items():
        req = reqs[req_id][1]
        assert req.threshold_kg <= kg <= req.kg, f"{req_id}: {kg} kg outside [{req.threshold_kg}, {req.kg}]"
    assert objective == result.objective


@pytest.mark.parametrize("seed", range(120))
def test_optimal_equals_brute_force_on_small_random_instances(seed):
    rng = random.Random(seed)
    instance = random_instance(rng, rng.randint(1, 8), rng.randint(1, 6))
    result = engine.solve(instance)
    check_allocation(instance, result)
    assert result.objective == brute_force_optimum(instance)
    assert result.heuristic_components == 0  # small components are solved exactly
    assert result.upper_bound >= result.objective


@pytest.mark.parametrize("seed", range(40))
def test_greedy_and_the_heuristic_are_feasible_and_never_beat_the_optimum(seed):
    rng = random.Random(1000 + seed)
    instance = random_instance(rng, rng.randint(1, 8), rng.randint(1, 6))
    optimum = engine.solve(instance).objective
    greedy = engine.solve(instance, method="greedy")
    check_allocation(instance, greedy)
    assert greedy.objective <= optimum
    heuristic = engine.solve(instance, exact_max_pairs=0)
    check_allocation(instance, heuristic)
    assert heuristic.objective <= optimum <= heuristic.upper_bound


@pytest.mark.parametrize("seed", range(40))
def test_drop_and_resolve_with_no_resolve_left_still_respects_thresholds(seed, monkeypatch):
    monkeypatch.setattr(engine, "MAX_RESOLVES", 0)
    rng = random.Random(3000 + seed)
    instance = random_instance(rng, 8, 6)
    heuristic = engine.solve(instance, exact_max_pairs=0)
    check_allocation(instance, heuristic)
    assert heuristic.objective <= brute_force_optimum(instance)


def relaxed_components(rng):
    """Each component of a random 8 x 6 instance with its relaxation's flows and the requests those serve."""
    a = engine._Arrays(random_instance(rng, 8, 6))
    for pairs in engine._components(a):
        comp = engine._Component(a, pairs)
        _objective, flows = comp.flow()
        yield comp, flows, np.flatnonzero(comp.totals(flows) > 0)


@pytest.mark.parametrize("seed", range(30))
def test_resolving_the_freed_lots_keeps_the_others_and_reallocates_them_optimally(seed):
    for comp, flows, served in relaxed_components(random.Random(4000 + seed)):
        if len(served) == 0:
            continue
        dropped = served[:1]
        upper = comp.req_kg.copy()
        upper[dropped] = 0
        after = engine._resolve_freed_lots(comp, flows, dropped, upper)
        freed = set(comp.pl[(flows > 0) & np.isin(comp.pr, dropped)].tolist())
        moving = np.isin(comp.pl, list(freed))
        assert (after[~moving] == flows[~moving]).all()  # the other lots keep their flows
        assert comp.totals(after)[dropped].sum() == 0
        assert (comp.totals(after) <= upper).all()
        lot_out = np.bincount(comp.pl, weights=after, minlength=len(comp.lots))
        assert (lot_out <= comp.lot_kg).all()
        # The freed lots' new flows are the best the room left by the others allows (an LP over those pairs).
        room = upper - comp.totals(np.where(moving, 0, flows))
        use = np.flatnonzero(moving & (room[comp.pr] > 0))
        if len(use) == 0:
            assert (after[moving] == 0).all()
            continue
        rows = [(comp.pl[use] == lo).astype(int) for lo in sorted(freed)]
        rows += [(comp.pr[use] == r).astype(int) for r in range(len(comp.requests))]
        bounds = [int(comp.lot_kg[lo]) for lo in sorted(freed)] + room.tolist()
        best = linprog(-comp.pairs.surplus[use], A_ub=rows, b_ub=bounds, bounds=(0, None), method="highs")
        assert int((after[use] * comp.pairs.surplus[use]).sum()) == round(-best.fun)


def reference_leave_out(comp, flows, bad):
    """_leave_out written plainly: every pair, best surplus first, takes what is left."""
    flows = np.where(np.isin(comp.pr, bad), 0, flows)
    lot_left = (comp.lot_kg - np.bincount(comp.pl, weights=flows, minlength=len(comp.lots))).astype(int).tolist()
    got = np.bincount(comp.pr, weights=flows, minlength=len(comp.requests)).astype(int)
    req_left = np.where(got > 0, comp.req_kg - got, 0).tolist()
    surplus = comp.pairs.surplus.tolist()
    for k in sorted(range(len(flows)), key=lambda k: (-surplus[k], k)):
        lo, r = comp.pl[k], comp.pr[k]
        q = min(lot_left[lo], req_left[r])
        if q > 0:
            flows[k] += q
            lot_left[lo] -= q
            req_left[r] -= q
    return sum(int(f) * s for f, s in zip(flows.tolist(), surplus, strict=True)), flows


@pytest.mark.parametrize("seed", range(60))
def test_leaving_out_requests_offers_their_kg_to_the_served_best_surplus_first(seed):
    for comp, flows, served in relaxed_components(random.Random(5000 + seed)):
        for bad in (np.empty(0, np.int64), comp.violators(flows), served[:1], served[::2], served[1::2]):
            objective, after = engine._leave_out(comp, flows, bad)
            expected_objective, expected = reference_leave_out(comp, flows, bad)
            assert objective == expected_objective
            assert (after == expected).all()


@pytest.mark.parametrize("seed", range(10))
def test_components_partition_the_pairs_each_sorted_by_lot_then_request(seed):
    rng = random.Random(6000 + seed)
    instance = random_instance(rng, 8, 6)
    a = engine._Arrays(instance)
    comps = engine._components(a)
    found = sorted((int(lo), int(r)) for c in comps for lo, r in zip(c.lot, c.request, strict=True))
    every = engine.feasible_pairs(a)
    assert found == sorted(zip(every.lot.tolist(), every.request.tolist(), strict=True))
    lots_seen: set = set()
    for c in comps:
        keys = list(zip(c.lot.tolist(), c.request.tolist(), strict=True))
        assert keys == sorted(keys)
        assert lots_seen.isdisjoint(c.lot.tolist())
        lots_seen.update(c.lot.tolist())
        comp = engine._Component(a, c)
        for lo in range(len(comp.lots)):  # lot_pairs: each lot's own pairs, in order
            assert comp.lot_pairs(np.array([lo])).tolist() == np.flatnonzero(comp.pl == lo).tolist()
        assert comp.lot_pairs(np.arange(len(comp.lots))).tolist() == list(range(len(c)))


@pytest.mark.parametrize("seed", range(10))
def test_deterministic(seed):
    rng = random.Random(2000 + seed)
    instance = random_instance(rng, 8, 6)
    first = engine.solve(instance)
    again = engine.solve(random_instance(random.Random(2000 + seed), 8, 6))
    assert first.allocations == again.allocations
    assert first.objective == again.objective


def test_incremental_request_gives_the_full_solve(seed=7):
    rng = random.Random(seed)
    instance = random_instance(rng, 40, 30)
    extra = random_instance(rng, 0, 3).requests
    extra = [Request(**{**r.__dict__, "id": f"N{n}", "commodity": "cocoa"}) for n, r in enumerate(extra)]
    matcher = engine.Matcher(Instance(instance.transport_minor_per_tonne_km, instance.lots, instance.requests[:27]))
    for r in instance.requests[27:] + extra:
        matcher.add_request(r)
    full = engine.solve(Instance(instance.transport_minor_per_tonne_km, instance.lots, instance.requests + extra))
    assert matcher.objective == full.objective
    assert sorted((a.lot, a.request, a.kg) for a in matcher.result()) == sorted(
        (a.lot, a.request, a.kg) for a in full.allocations
    )


def lot(**kw):
    base = {
        "id": "L",
        "commodity": "maize",
        "grade": 2,
        "kg": 10_000,
        "ask_minor_per_tonne": 100_000,
        "lat": 0.0,
        "lon": 36.0,
    }
    return Lot(**{**base, **kw})


def request(**kw):
    base = {
        "id": "R",
        "commodity": "maize",
        "min_grade": 2,
        "kg": 10_000,
        "max_price_minor_per_tonne": 150_000,
        "lat": 0.0,
        "lon": 36.5,
        "max_distance_km": 100,
    }
    return Request(**{**base, **kw})


def solve_one(lot_, req_, rate=100):
    return engine.solve(Instance(rate, [lot_], [req_]))


def test_the_distance_and_the_transport_cost():
    # 0.5 degree of longitude on the equator.
    expected = 6371.0088 * math.radians(0.5)
    assert engine.haversine_km(0.0, 36.0, 0.0, 36.5) == pytest.approx(expected, rel=1e-12)
    assert engine.transport_minor_per_tonne(1, [0.5, 1.5, 2.5, 2.4999, 2.5001]).tolist() == [0, 2, 2, 2, 3]
    result = solve_one(lot(), request())
    (a,) = result.allocations
    assert a.transport_minor_per_tonne == round(100 * expected)
    assert result.objective == 10_000 * (50_000 - round(100 * expected))


@pytest.mark.parametrize(
    ("lot_kw", "req_kw"),
    [
        ({"commodity": "sorghum"}, {}),
        ({"grade": 1}, {}),
        ({}, {"certifications": frozenset({"organic"})}),
        ({"certifications": frozenset({"organic"})}, {"certifications": frozenset({"organic", "fairtrade"})}),
        ({}, {"eudr_required": True}),
        ({}, {"max_distance_km": 55}),
        ({}, {"max_price_minor_per_tonne": 100_000 + round(100 * 6371.0088 * math.radians(0.5))}),  # surplus 0
    ],
)
def test_infeasible_pairs_get_nothing(lot_kw, req_kw):
    assert solve_one(lot(**lot_kw), request(**req_kw)).allocations == []


def test_feasible_edges_of_each_rule():
    distance = 6371.0088 * math.radians(0.5)
    ok = solve_one(
        lot(grade=3, certifications=frozenset({"organic", "fairtrade"}), eudr_ready=True),
        request(
            certifications=frozenset({"organic"}),
            eudr_required=True,
            max_distance_km=distance + 1e-6,
            max_price_minor_per_tonne=100_000 + round(100 * distance) + 1,
        ),
    )
    assert [(a.kg, a.surplus_minor_per_tonne) for a in ok.allocations] == [(10_000, 1)]


def test_threshold_gives_nothing_rather_than_a_trickle():
    # 4 t available, a truckload is 5 t: nothing. With 5 t: 5 t.
    assert solve_one(lot(kg=4_000), request(min_truckload_kg=5_000)).allocations == []
    assert [a.kg for a in solve_one(lot(kg=5_000), request(min_truckload_kg=5_000)).allocations] == [5_000]
    # A request smaller than a truckload must be filled whole.
    assert request(kg=3_000, min_truckload_kg=5_000).threshold_kg == 3_000
    assert solve_one(lot(kg=2_999), request(kg=3_000, min_truckload_kg=5_000)).allocations == []


def test_two_lots_pool_into_one_truckload():
    lots = [lot(id="A", kg=8_000), lot(id="B", kg=8_000, lon=36.1)]
    result = engine.solve(Instance(100, lots, [request(kg=20_000, min_truckload_kg=15_000)]))
    assert sorted((a.lot, a.kg) for a in result.allocations) == [("A", 8_000), ("B", 8_000)]


def test_branch_and_bound_beats_dropping_the_trickles():
    # The relaxation gives R1 10 t of A and R2 a trickle of 4 t (2 t of A, 2 t of B). Dropping R2 sells 10 t; the
    # exact answer serves R2 its 5 t truckload (3 t of A, 2 t of B) and R1 the 9 t of A left.
    lots = [lot(id="A", kg=12_000, ask_minor_per_tonne=90_000), lot(id="B", kg=2_000, lon=37.5)]
    reqs = [
        request(id="R1", kg=10_000, max_price_minor_per_tonne=200_000),
        request(id="R2", kg=8_000, lon=37.4, min_truckload_kg=5_000, max_distance_km=300),
    ]
    instance = Instance(10, lots, reqs)
    exact = engine.solve(instance)
    check_allocation(instance, exact)
    assert exact.objective == brute_force_optimum(instance)
    heuristic = engine.solve(instance, exact_max_pairs=0)
    check_allocation(instance, heuristic)
    assert heuristic.objective < exact.objective
    assert sorted((a.lot, a.request, a.kg) for a in exact.allocations) == [
        ("A", "R1", 9_000),
        ("A", "R2", 3_000),
        ("B", "R2", 2_000),
    ]


def test_load_instance_rejects_bad_input():
    with pytest.raises(engine.InstanceError, match="has no 'lots'"):
        engine.load_instance({"transport_minor_per_tonne_km": 1, "requests": []})
    with pytest.raises(engine.InstanceError, match=r"lots\[0\]\.kg must be an integer"):
        engine.load_instance(
            {
                "transport_minor_per_tonne_km": 1,
                "lots": [
                    {"id": 1, "commodity": "x", "grade": 1, "kg": 1.5, "ask_minor_per_tonne": 1, "lat": 0, "lon": 0}
                ],
                "requests": [],
            }
        )
    with pytest.raises(engine.InstanceError, match="appears twice"):
        raw = {"id": 1, "commodity": "x", "grade": 1, "kg": 1, "ask_minor_per_tonne": 1, "lat": 0, "lon": 0}
        engine.load_instance({"transport_minor_per_tonne_km": 1, "lots": [raw, raw], "requests": []})


INSTANCE = {
    "transport_minor_per_tonne_km": 10,
    "lots": [
        {"id": 1, "commodity": "cocoa", "grade": 2, "kg": 12000, "ask_minor_per_tonne": 200000, "lat": 6.0,
         "lon": -1.5, "certifications": ["fairtrade"]},
        {"id": 2, "commodity": "cocoa", "grade": 1, "kg": 9000, "ask_minor_per_tonne": 190000, "lat": 6.3,
         "lon": -1.2, "certifications": []},
    ],
    "requests": [
        {"id": "r", "commodity": "cocoa", "min_grade": 1, "kg": 20000, "max_price_minor_per_tonne": 260000,
         "lat": 5.6, "lon": -0.2, "max_distance_km": 300, "certifications": []},
    ],
}  # fmt: skip


@pytest.mark.parametrize("method", ["optimal", "greedy"])
def test_match_instance_command(tmp_path, method):
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(INSTANCE))
    out = io.StringIO()
    call_command("match_instance", str(path), "--method", method, stdout=out)
    printed = json.loads(out.getvalue())
    assert list(printed) == ["objective", "seconds", "allocations"]
    assert isinstance(printed["objective"], int) and isinstance(printed["seconds"], float)
    assert printed["allocations"] == [{"lot": 1, "request": "r", "kg": 11000}, {"lot": 2, "request": "r", "kg": 9000}]
    expected = engine.solve(engine.load_instance(INSTANCE)).objective
    assert printed["objective"] == expected


def test_match_instance_command_rejects_bad_files(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("match_instance", str(path))
    path.write_text(json.dumps({"lots": []}))
    with pytest.raises(CommandError, match="has no 'transport_minor_per_tonne_km'"):
        call_command("match_instance", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("match_instance", str(tmp_path / "missing.json"))
