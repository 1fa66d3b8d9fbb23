"""The matching engine: open lots' available quantity allocated to open buyer requests so that the total surplus is
as large as possible. Pure Python (numpy, scipy, OR-Tools); no Django, no database. The site and the
`match_instance` command run this same code.

The problem, for one instance:

- A lot fits a request when the commodity is the same, the lot's grade is at least the request's minimum (grades are
  integers, higher is better), the great-circle distance (haversine, R = 6371.0088 km) is within the request's
  maximum, the lot holds every certification the request asks for, the lot is EUDR-ready when the request asks for
  it, and the surplus per tonne is above 0.
- Surplus per tonne = request's highest price - lot's ask - transport per tonne, where transport per tonne =
  round-half-even(rate x distance in km) in minor units.
- The objective is the sum over allocations of kg x surplus per tonne: an exact integer (minor units x kg / t).
- A request whose total is above 0 gets at least its threshold: max(smallest fill, minimum truckload), capped at the
  quantity wanted (a request smaller than a truckload must be filled whole or not at all).

Method: the feasibility graph (lots and requests, an edge per feasible pair) is split into connected components;
the commodity splits first because pairs only join lots and requests of one commodity. Each component is a
transportation problem solved exactly as a min-cost flow (OR-Tools `SimpleMinCostFlow`). When that relaxation
leaves a request between 0 and its threshold, the component is solved by branch and bound over "this request is
served (at least its threshold) / not served", with the same min-cost flow as the bound; it is exact when it
finishes within its node budget. A component too large for that, or whose search runs out of budget, keeps the best
solution found by "drop the requests under their threshold and re-allocate the lots that served them"; the result
says which components are exact and carries the relaxation's objective, an upper bound, so the gap is known on
every run. docs/matching.md says more.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088

# Branch and bound runs on a component with at most this many feasible pairs, and stops after this many nodes (it
# always finishes for 6 or fewer requests under their threshold: a full tree has 127 nodes).
EXACT_MAX_PAIRS = 2_000
EXACT_MAX_NODES = 128
# Drop-and-resolve re-allocates the lots that served the dropped requests at most this many times (each round a
# small flow on those lots' pairs); after each round the requests still under their threshold are left out and
# the quantity they had goes to the other served requests, best surplus first; the best round is kept.
MAX_RESOLVES = 32


class InstanceError(ValueError):
    """The instance is malformed; the message says what to fix."""


@dataclass(frozen=True)
class Lot:
    id: Any
    commodity: str
    grade: int
    kg: int
    ask_minor_per_tonne: int
    lat: float
    lon: float
    certifications: frozenset[str] = frozenset()
    eudr_ready: bool = False


@dataclass(frozen=True)
class Request:
    id: Any
    commodity: str
    min_grade: int
    kg: int
    max_price_minor_per_tonne: int
    lat: float
    lon: float
    max_distance_km: float
    certifications: frozenset[str] = frozenset()
    eudr_required: bool = False
    min_fill_kg: int = 0
    min_truckload_kg: int = 0

    @property
    def threshold_kg(self) -> int:
        """The least total this request accepts when it gets anything."""
        return min(self.kg, max(self.min_fill_kg, self.min_truckload_kg, 0))


@dataclass
class Instance:
    transport_minor_per_tonne_km: int
    lots: list[Lot]
    requests: list[Request]


class Allocation(NamedTuple):
    lot: Any
    request: Any
    kg: int
    surplus_minor_per_tonne: int
    distance_km: float
    transport_minor_per_tonne: int


@dataclass
class Result:
    objective: int
    allocations: list[Allocation]
    seconds: float
    method: str
    upper_bound: int  # the objective without thresholds: no allocation can do better
    components: int = 0
    exact_components: int = 0  # proven optimal
    heuristic_components: int = 0  # thresholds handled by drop-and-resolve (or search out of budget)
    pairs: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "objective": self.objective,
            "seconds": round(self.seconds, 6),
            "allocations": [{"lot": a.lot, "request": a.request, "kg": a.kg} for a in self.allocations],
        }


# --- Reading an instance -------------------------------------------------------------------------


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InstanceError(f"{what} must be an integer, not {value!r}.")
    return value


def _num(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InstanceError(f"{what} must be a number, not {value!r}.")
    return float(value)


def _certs(value, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise InstanceError(f"{what} must be a list of strings.")
    return frozenset(value)


def load_instance(data: dict) -> Instance:
    """An Instance from the JSON format of `match_instance` (the optional fields of a request: `eudr_required`,
    `min_fill_kg`, `min_truckload_kg`; of a lot: `eudr_ready`)."""
    if not isinstance(data, dict):
        raise InstanceError("The instance must be a JSON object.")
    for key in ("transport_minor_per_tonne_km", "lots", "requests"):
        if key not in data:
            raise InstanceError(f"The instance has no '{key}'.")
    rate = _int(data["transport_minor_per_tonne_km"], "transport_minor_per_tonne_km")
    if rate < 0:
        raise InstanceError("transport_minor_per_tonne_km must not be negative.")
    lots, requests = [], []
    seen: set = set()
    for n, raw in enumerate(data["lots"]):
        where = f"lots[{n}]"
        if not isinstance(raw, dict) or "id" not in raw:
            raise InstanceError(f"{where} must be an object with an id.")
        if raw["id"] in seen:
            raise InstanceError(f"{where}: the lot id {raw['id']!r} appears twice.")
        seen.add(raw["id"])
        try:
            lot = Lot(
                id=raw["id"],
                commodity=str(raw["commodity"]),
                grade=_int(raw["grade"], f"{where}.grade"),
                kg=_int(raw["kg"], f"{where}.kg"),
                ask_minor_per_tonne=_int(raw["ask_minor_per_tonne"], f"{where}.ask_minor_per_tonne"),
                lat=_num(raw["lat"], f"{where}.lat"),
                lon=_num(raw["lon"], f"{where}.lon"),
                certifications=_certs(raw.get("certifications"), f"{where}.certifications"),
                eudr_ready=bool(raw.get("eudr_ready", False)),
            )
        except KeyError as missing:
            raise InstanceError(f"{where} has no {missing}.") from None
        if lot.kg < 0:
            raise InstanceError(f"{where}.kg must not be negative.")
        lots.append(lot)
    seen = set()
    for n, raw in enumerate(data["requests"]):
        where = f"requests[{n}]"
        if not isinstance(raw, dict) or "id" not in raw:
            raise InstanceError(f"{where} must be an object with an id.")
        if raw["id"] in seen:
            raise InstanceError(f"{where}: the request id {raw['id']!r} appears twice.")
        seen.add(raw["id"])
        try:
            request = Request(
                id=raw["id"],
                commodity=str(raw["commodity"]),
                min_grade=_int(raw["min_grade"], f"{where}.min_grade"),
                kg=_int(raw["kg"], f"{where}.kg"),
                max_price_minor_per_tonne=_int(raw["max_price_minor_per_tonne"], f"{where}.max_price_minor_per_tonne"),
                lat=_num(raw["lat"], f"{where}.lat"),
                lon=_num(raw["lon"], f"{where}.lon"),
                max_distance_km=_num(raw["max_distance_km"], f"{where}.max_distance_km"),
                certifications=_certs(raw.get("certifications"), f"{where}.certifications"),
                eudr_required=bool(raw.get("eudr_required", False)),
                min_fill_kg=_int(raw.get("min_fill_kg", 0), f"{where}.min_fill_kg"),
                min_truckload_kg=_int(raw.get("min_truckload_kg", 0), f"{where}.min_truckload_kg"),
            )
        except KeyError as missing:
            raise InstanceError(f"{where} has no {missing}.") from None
        if request.kg < 0:
            raise InstanceError(f"{where}.kg must not be negative.")
        requests.append(request)
    return Instance(transport_minor_per_tonne_km=rate, lots=lots, requests=requests)


# --- Distances and feasible pairs ----------------------------------------------------------------


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (degrees in; numpy arrays or floats)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _haversine_from(p1, q1, c1, p2, q2, c2):
    """haversine_km from latitudes and longitudes already in radians and the latitudes' cosines (the same
    operations, element by element, so the same result)."""
    a = np.sin((p2 - p1) / 2) ** 2 + c1 * c2 * np.sin((q2 - q1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def transport_minor_per_tonne(rate: int, distance_km):
    """round-half-even(rate x distance) (numpy's rint rounds half to even, as Python's round does)."""
    return np.rint(np.asarray(distance_km, dtype=np.float64) * rate).astype(np.int64)


def _unit_vectors(lat, lon):
    p, q = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)))


class _Arrays:
    """The instance as columns, certifications as bit masks (only those some request asks for count)."""

    def __init__(self, instance: Instance):
        lots, requests = instance.lots, instance.requests
        self.rate = instance.transport_minor_per_tonne_km
        asked = sorted({c for r in requests for c in r.certifications})
        if len(asked) > 63:
            raise InstanceError("At most 63 distinct certifications can be asked for in one instance.")
        self.cert_bit = bit = {c: 1 << n for n, c in enumerate(asked)}

        def mask(certs):
            m = 0
            for c in certs:
                m |= bit.get(c, 0)
            return m

        names = sorted({x.commodity for x in lots} | {x.commodity for x in requests})
        self.commodity_code = commodities = {c: n for n, c in enumerate(names)}
        self.l_com = np.fromiter((commodities[x.commodity] for x in lots), np.int64, len(lots))
        self.l_grade = np.fromiter((x.grade for x in lots), np.int64, len(lots))
        self.l_kg = np.fromiter((x.kg for x in lots), np.int64, len(lots))
        self.l_ask = np.fromiter((x.ask_minor_per_tonne for x in lots), np.int64, len(lots))
        self.l_lat = np.fromiter((x.lat for x in lots), np.float64, len(lots))
        self.l_lon = np.fromiter((x.lon for x in lots), np.float64, len(lots))
        self.l_cert = np.fromiter((mask(x.certifications) for x in lots), np.int64, len(lots))
        self.l_eudr = np.fromiter((x.eudr_ready for x in lots), np.bool_, len(lots))
        self.r_com = np.fromiter((commodities[x.commodity] for x in requests), np.int64, len(requests))
        self.r_grade = np.fromiter((x.min_grade for x in requests), np.int64, len(requests))
        self.r_kg = np.fromiter((x.kg for x in requests), np.int64, len(requests))
        self.r_price = np.fromiter((x.max_price_minor_per_tonne for x in requests), np.int64, len(requests))
        self.r_lat = np.fromiter((x.lat for x in requests), np.float64, len(requests))
        self.r_lon = np.fromiter((x.lon for x in requests), np.float64, len(requests))
        self.r_dmax = np.fromiter((x.max_distance_km for x in requests), np.float64, len(requests))
        self.r_cert = np.fromiter((mask(x.certifications) for x in requests), np.int64, len(requests))
        self.r_eudr = np.fromiter((x.eudr_required for x in requests), np.bool_, len(requests))
        self.r_min = np.fromiter((x.threshold_kg for x in requests), np.int64, len(requests))
        self.l_has = self._with_eudr(self.l_cert, self.l_eudr)
        self._derived()

    def _with_eudr(self, cert: np.ndarray, eudr: np.ndarray) -> np.ndarray:
        """The certification masks with EUDR readiness (or its requirement) as one more bit, so that one test
        checks both."""
        return cert.astype(np.uint64) | (eudr.astype(np.uint64) << np.uint64(len(self.cert_bit)))

    def _derived(self) -> None:
        """The requests' masks with EUDR; radians and the latitudes' cosines, computed once per point rather than
        once per candidate pair."""
        self.r_needs = self._with_eudr(self.r_cert, self.r_eudr)
        self.l_p, self.l_q = np.radians(self.l_lat), np.radians(self.l_lon)
        self.r_p, self.r_q = np.radians(self.r_lat), np.radians(self.r_lon)
        self.l_c, self.r_c = np.cos(self.l_p), np.cos(self.r_p)

    def append_request(self, r: Request) -> None:
        """One more request whose commodity and certifications are already known."""
        mask = 0
        for c in r.certifications:
            mask |= self.cert_bit[c]
        for name, value in (
            ("r_com", self.commodity_code[r.commodity]),
            ("r_grade", r.min_grade),
            ("r_kg", r.kg),
            ("r_price", r.max_price_minor_per_tonne),
            ("r_lat", r.lat),
            ("r_lon", r.lon),
            ("r_dmax", r.max_distance_km),
            ("r_cert", mask),
            ("r_eudr", r.eudr_required),
            ("r_min", r.threshold_kg),
        ):
            setattr(self, name, np.append(getattr(self, name), value))
        self._derived()


@dataclass
class Pairs:
    """Feasible pairs as parallel arrays (lot index, request index into the instance's lists). The solving path
    keeps only lot, request and surplus; `feasible_pairs` also gives distance and transport (for explanations)."""

    lot: np.ndarray
    request: np.ndarray
    surplus: np.ndarray  # minor units per tonne, > 0
    distance: np.ndarray | None = None  # km
    transport: np.ndarray | None = None  # minor units per tonne

    @classmethod
    def empty(cls) -> Pairs:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0),
                   np.empty(0, np.int64))  # fmt: skip

    def __len__(self) -> int:
        return len(self.lot)

    def take(self, index) -> Pairs:
        return Pairs(*(None if x is None else x[index] for x in self._fields()))

    def _fields(self):
        return (self.lot, self.request, self.surplus, self.distance, self.transport)

    @staticmethod
    def concat(parts: list[Pairs]) -> Pairs:
        if not parts:
            return Pairs.empty()
        columns = list(zip(*(p._fields() for p in parts), strict=True))
        return Pairs(*(None if any(x is None for x in c) else np.concatenate(c) for c in columns))


def _filter_pairs(a: _Arrays, li: np.ndarray, ri: np.ndarray, *, details: bool = True, same_commodity=False) -> Pairs:
    """Keep the candidate pairs (li[k], ri[k]) that are feasible (same_commodity: the caller knows they are)."""
    keep = a.l_grade[li] >= a.r_grade[ri]
    if not same_commodity:
        keep &= a.l_com[li] == a.r_com[ri]
    needs = a.r_needs[ri]
    keep &= (a.l_has[li] & needs) == needs  # every certification asked for, and EUDR readiness
    keep &= a.r_price[ri] > a.l_ask[li]  # transport is never negative
    li, ri = li[keep], ri[keep]
    distance = _haversine_from(a.l_p[li], a.l_q[li], a.l_c[li], a.r_p[ri], a.r_q[ri], a.r_c[ri])
    keep = distance <= a.r_dmax[ri]
    li, ri, distance = li[keep], ri[keep], distance[keep]
    transport = transport_minor_per_tonne(a.rate, distance)
    surplus = a.r_price[ri] - a.l_ask[li] - transport
    keep = surplus > 0
    if not details:
        return Pairs(li[keep], ri[keep], surplus[keep])
    return Pairs(li[keep], ri[keep], surplus[keep], distance[keep], transport[keep])


def _chord(distance_km):
    """The straight-line distance between two points on the unit sphere that are distance_km apart, a little
    more so that rounding never loses a pair (the exact haversine test follows)."""
    angle = np.minimum(np.asarray(distance_km, dtype=np.float64) / EARTH_RADIUS_KM, math.pi)
    return 2 * np.sin(angle / 2) * (1 + 1e-9) + 1e-12


def _commodity_pairs(a: _Arrays, cl: np.ndarray, cr: np.ndarray, *, details: bool) -> list[Pairs]:
    """The feasible pairs between lots cl and requests cr of one commodity (in no particular order)."""
    if len(cl) * len(cr) <= 4096:  # small: every combination
        return [_filter_pairs(a, np.repeat(cl, len(cr)), np.tile(cr, len(cl)), details=details, same_commodity=True)]
    found = []
    tree = cKDTree(_unit_vectors(a.l_lat[cl], a.l_lon[cl]))
    dmax = np.maximum(a.r_dmax[cr], 1e-3)
    band = np.floor(np.log(dmax) / np.log(1.25)).astype(np.int64)
    for b in np.unique(band):
        group = cr[band == b]
        radius = float(_chord(a.r_dmax[group].max()))
        other = cKDTree(_unit_vectors(a.r_lat[group], a.r_lon[group]))
        hits = tree.sparse_distance_matrix(other, radius, output_type="ndarray")
        if len(hits) == 0:
            continue
        found.append(_filter_pairs(a, cl[hits["i"]], group[hits["j"]], details=details, same_commodity=True))
    return found


def _markets(a: _Arrays, lots: np.ndarray | None, requests: np.ndarray | None):
    """(lots, requests) of each commodity that has both, among the given indices (all when None), quantity > 0."""
    lots = np.arange(len(a.l_kg)) if lots is None else lots
    requests = np.arange(len(a.r_kg)) if requests is None else requests
    lots = lots[a.l_kg[lots] > 0]
    requests = requests[a.r_kg[requests] > 0]
    for com in np.intersect1d(np.unique(a.l_com[lots]), np.unique(a.r_com[requests])):
        yield lots[a.l_com[lots] == com], requests[a.r_com[requests] == com]


def feasible_pairs(a: _Arrays, *, lots: np.ndarray | None = None, requests: np.ndarray | None = None) -> Pairs:
    """Every feasible pair among the given lot and request indices (all when None), per commodity, found with k-d
    trees on unit vectors; requests are grouped by their maximum distance (steps of 25 %) so that each query uses
    a radius near their own. With distance and transport; in the trees' order."""
    found: list[Pairs] = []
    for cl, cr in _markets(a, lots, requests):
        found.extend(_commodity_pairs(a, cl, cr, details=True))
    return Pairs.concat(found)


def _split_sorted(pairs: Pairs, lot_local: np.ndarray, req_local: np.ndarray, n_lots: int, n_reqs: int):
    """The connected components of pairs between n_lots lots and n_reqs requests (local indices), each with its
    pairs sorted by (lot, request)."""
    n = n_lots + n_reqs
    # A pair appears once, so any sort by (lot, request) gives the same order: two stable (radix) passes
    order = _stable_argsort(req_local, n_reqs)
    order = order[_stable_argsort(lot_local[order], n_lots)]
    lot_sorted = lot_local[order]
    # The graph in CSR form straight from the sorted pairs (rows: lots, then requests with no entries), with
    # 32-bit indices when they fit, as scipy would otherwise convert them
    index = np.int32 if max(n, len(order)) < 2**31 else np.int64
    indptr = np.zeros(n + 1, index)
    np.cumsum(np.bincount(lot_sorted, minlength=n_lots), out=indptr[1 : n_lots + 1])
    indptr[n_lots + 1 :] = indptr[n_lots]
    columns = (req_local[order] + n_lots).astype(index, copy=False)
    graph = csr_matrix((np.ones(len(order), np.int8), columns, indptr), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    label = labels[lot_sorted]
    if label.max(initial=0) == 0:
        return [pairs.take(order)]
    order = order[_stable_argsort(label, n)]
    sizes = np.bincount(label, minlength=n)
    cuts = np.cumsum(sizes[sizes > 0])[:-1]
    return [pairs.take(part) for part in np.split(order, cuts)]


def _stable_argsort(values: np.ndarray, bound: int) -> np.ndarray:
    """np.argsort(values, kind="stable") for integers in [0, bound): numpy sorts 16-bit integers by radix, in
    linear time, so small indices are sorted as such."""
    if bound <= 2**16:
        values = values.astype(np.uint16)
    return np.argsort(values, kind="stable")


def _components(a: _Arrays, *, lots=None, requests=None, details: bool = False) -> list[Pairs]:
    """The connected components of the feasibility graph among the given lots and requests, found commodity by
    commodity (pairs never join two), each with its pairs sorted by (lot, request), ordered by their first lot."""
    comps: list[Pairs] = []
    for cl, cr in _markets(a, lots, requests):
        found = _commodity_pairs(a, cl, cr, details=details)
        pairs = Pairs.concat(found) if len(found) != 1 else found[0]
        if len(pairs) == 0:
            continue
        # cl and cr are ascending, so local indices sort as the global ones do
        lot_local, req_local = np.empty(len(a.l_kg), np.int64), np.empty(len(a.r_kg), np.int64)
        lot_local[cl], req_local[cr] = np.arange(len(cl)), np.arange(len(cr))
        comps.extend(_split_sorted(pairs, lot_local[pairs.lot], req_local[pairs.request], len(cl), len(cr)))
    comps.sort(key=lambda c: int(c.lot[0]))
    return comps


def _order(lot: np.ndarray, request: np.ndarray, n_lots: int, n_requests: int):
    """The permutation that sorts pairs by (lot, request)."""
    if n_lots * n_requests < 2**62:
        return np.argsort(lot.astype(np.int64) * n_requests + request, kind="stable")
    return np.lexsort((request, lot))


# --- Solving one component -----------------------------------------------------------------------


class _Component:
    """One connected component: its pairs (sorted by lot, then request), local indices, and one min-cost flow
    solver whose arcs are added once (vectorised) and whose request capacities and supplies change between the
    solves of drop-and-resolve and branch and bound."""

    def __init__(self, a: _Arrays, pairs: Pairs):
        self.pairs = pairs
        lot = pairs.lot
        first = np.empty(len(lot), np.bool_)
        first[0] = True
        np.not_equal(lot[1:], lot[:-1], out=first[1:])
        self.lots = lot[first]
        self.pl = np.cumsum(first) - 1
        present = np.zeros(len(a.r_kg), np.bool_)
        present[pairs.request] = True
        self.requests = np.flatnonzero(present)
        self.pr = (np.cumsum(present) - 1)[pairs.request]
        # The pairs of local lot i are lot_start[i]:lot_start[i + 1] (pairs are sorted by lot)
        self.lot_start = np.append(np.flatnonzero(first), len(lot))
        lot_kg, req_kg, req_min = a.l_kg[self.lots], a.r_kg[self.requests], a.r_min[self.requests]
        # Quantities in units of their greatest common divisor: the same optimum (every vertex of the scaled
        # problem is integral), and a faster flow. Objectives and flows inside a component are in these units.
        self.unit = int(np.gcd.reduce(np.concatenate((lot_kg, req_kg, req_min))))
        self.lot_kg, self.req_kg, self.req_min = lot_kg // self.unit, req_kg // self.unit, req_min // self.unit
        self._solver = None

    def lot_pairs(self, lots: np.ndarray) -> np.ndarray:
        """The pairs of the given local lots (ascending) in ascending order."""
        starts, ends = self.lot_start[lots], self.lot_start[lots + 1]
        sizes = ends - starts
        if len(sizes) == 0:
            return np.empty(0, np.int64)
        # consecutive numbers within each lot's range: a running count restarted at every lot's first pair
        steps = np.ones(int(sizes.sum()), np.int64)
        heads = np.cumsum(sizes)[:-1]
        steps[0] = starts[0]
        steps[heads] = starts[1:] - ends[:-1] + 1
        return np.cumsum(steps)

    def _build(self, upper: np.ndarray):
        nl, nr = len(self.lots), len(self.requests)
        source, sink = 0, 1
        lot_node = 2 + np.arange(nl, dtype=np.int64)
        req_node = 2 + nl + np.arange(nr, dtype=np.int64)
        self.total = total = int(self.lot_kg.sum())
        tails = np.concatenate(([source], np.full(nl, source), lot_node[self.pl], req_node))
        heads = np.concatenate(([sink], lot_node, req_node[self.pr], np.full(nr, sink)))
        caps = np.concatenate(([total], self.lot_kg, np.minimum(self.lot_kg[self.pl], self.req_kg[self.pr]), upper))
        costs = np.concatenate((np.zeros(1 + nl, np.int64), -self.pairs.surplus, np.zeros(nr, np.int64)))
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        self._nodes = np.arange(2 + nl + nr, dtype=np.int64)
        self._req_arcs = 1 + nl + len(self.pairs) + np.arange(nr, dtype=np.int64)
        self._pair_arcs = 1 + nl + np.arange(len(self.pairs), dtype=np.int64)
        self._solver = solver

    def flow(self, *, lower: np.ndarray | None = None, upper: np.ndarray | None = None):
        """Maximum-surplus flow with request totals within [lower, upper] (default [0, kg]). Returns (objective,
        flows per pair) or None when the bounds cannot be met."""
        nl, nr = len(self.lots), len(self.requests)
        upper = self.req_kg if upper is None else upper
        lower = np.zeros(nr, np.int64) if lower is None else lower
        room = upper - lower
        if (room < 0).any():
            return None
        if self._solver is None:
            self._build(room)
        else:
            self._solver.set_arc_capacities(self._req_arcs, room)
        solver = self._solver
        supplies = np.zeros(2 + nl + nr, np.int64)
        supplies[0] = self.total
        supplies[1] = -self.total + int(lower.sum())
        supplies[2 + nl :] = -lower
        solver.set_nodes_supplies(self._nodes, supplies)
        status = solver.solve()
        if status != solver.OPTIMAL:
            if status == solver.INFEASIBLE:
                return None
            raise RuntimeError(f"The min-cost flow solver failed with status {status}.")
        return -solver.optimal_cost(), solver.flows(self._pair_arcs)

    def totals(self, flows: np.ndarray) -> np.ndarray:
        used = (flows != 0).nonzero()[0]  # few pairs carry flow
        return np.bincount(self.pr[used], weights=flows[used], minlength=len(self.requests)).astype(np.int64)

    def violators(self, flows, decided=None) -> np.ndarray:
        got = self.totals(flows)
        bad = (got > 0) & (got < self.req_min)
        if decided is not None:
            bad &= ~decided
        return np.flatnonzero(bad)


def _drop_and_resolve(comp: _Component, relaxed, max_resolves: int | None = None):
    """Requests under their threshold are dropped (upper bound 0) and the lots that served them are solved again
    with every other lot's flow kept (`_resolve_freed_lots`), at most max_resolves times. After each round (and
    before the first), the requests still under their threshold are left out and what they had is offered to the
    served requests (`_leave_out`); the best of these feasible solutions is kept (the first of equals)."""
    rounds = MAX_RESOLVES if max_resolves is None else max_resolves
    upper = comp.req_kg.copy()
    flows = relaxed[1]
    best = None
    for done in range(rounds + 1):
        bad = comp.violators(flows)
        candidate = _leave_out(comp, flows, bad)
        if best is None or candidate[0] > best[0]:
            best = candidate
        if len(bad) == 0 or done == rounds:
            return best
        upper[bad] = 0
        flows = _resolve_freed_lots(comp, flows, bad, upper)
    return best


def _leave_out(comp: _Component, flows: np.ndarray, bad: np.ndarray):
    """(objective, flows) once the requests `bad` get nothing and what they had is offered to the requests already
    served, best surplus first (ties by pair)."""
    surplus = comp.pairs.surplus
    used = (flows != 0).nonzero()[0]
    if len(bad) == 0:
        return int((flows[used] * surplus[used]).sum()), flows
    out = np.zeros(len(comp.requests), np.bool_)
    out[bad] = True
    flows = flows.copy()
    left_out = out[comp.pr[used]]
    flows[used[left_out]] = 0
    used = used[~left_out]
    pl, pr, q = comp.pl[used], comp.pr[used], flows[used]
    lot_left = comp.lot_kg - np.bincount(pl, weights=q, minlength=len(comp.lots)).astype(np.int64)
    got = np.bincount(pr, weights=q, minlength=len(comp.requests)).astype(np.int64)
    req_left = np.where(got > 0, comp.req_kg - got, 0)
    objective = int((q * surplus[used]).sum())
    candidates = comp.lot_pairs(np.flatnonzero(lot_left > 0))  # few lots have kg left
    candidates = candidates[req_left[comp.pr[candidates]] > 0]
    if len(candidates) == 0:
        return objective, flows
    candidates = candidates[np.argsort(-surplus[candidates], kind="stable")]  # ascending, so ties by pair
    # The greedy itself is sequential (each pair takes what the earlier ones left); on Python ints it is cheap
    have, want = lot_left.tolist(), req_left.tolist()
    added_pairs, added = [], []
    for k, lo, r in zip(candidates.tolist(), comp.pl[candidates].tolist(), comp.pr[candidates].tolist(), strict=True):
        x, y = have[lo], want[r]
        if x and y:
            q = x if x < y else y
            added_pairs.append(k)
            added.append(q)
            have[lo] = x - q
            want[r] = y - q
    if added_pairs:
        index, kg = np.array(added_pairs, np.int64), np.array(added, np.int64)
        flows[index] += kg
        objective += int((kg * surplus[index]).sum())
    return objective, flows


def _resolve_freed_lots(comp: _Component, flows: np.ndarray, dropped: np.ndarray, upper: np.ndarray):
    """The flows once the requests `dropped` get nothing: the lots that served them are allocated again, optimally
    among all their pairs, while every other lot keeps its flows (the requests' room is what those leave). A
    restriction of the component's problem, far smaller than it: not proven optimal."""
    out = np.zeros(len(comp.requests), np.bool_)
    out[dropped] = True
    used = (flows != 0).nonzero()[0]
    freed = np.zeros(len(comp.lots), np.bool_)
    freed[comp.pl[used[out[comp.pr[used]]]]] = True
    moving = comp.lot_pairs(np.flatnonzero(freed))
    kept = flows.copy()
    kept[moving] = 0
    room = upper - comp.totals(kept)
    sub = moving[room[comp.pr[moving]] > 0]
    result = kept
    if len(sub):
        lot_cap = np.where(freed, comp.lot_kg, 0)
        result[sub] = _transport(comp.pl[sub], comp.pr[sub], comp.pairs.surplus[sub], lot_cap, room)
    return result


def _transport(pl: np.ndarray, pr: np.ndarray, surplus: np.ndarray, lot_cap: np.ndarray, req_cap: np.ndarray):
    """The maximum-surplus flows on the given pairs (lot pl[k] to request pr[k], local indices) within the lots' and
    requests' capacities, nothing having to be sold: one min-cost flow (a node for every lot and request of the
    component; those without pairs carry nothing)."""
    nl, nr = len(lot_cap), len(req_cap)
    total = int(lot_cap.sum())
    lot_node = 2 + np.arange(nl, dtype=np.int64)
    req_node = 2 + nl + np.arange(nr, dtype=np.int64)
    tails = np.concatenate(([0], np.zeros(nl, np.int64), lot_node[pl], req_node))
    heads = np.concatenate(([1], lot_node, req_node[pr], np.ones(nr, np.int64)))
    caps = np.concatenate(([total], lot_cap, np.minimum(lot_cap[pl], req_cap[pr]), req_cap))
    costs = np.concatenate((np.zeros(1 + nl, np.int64), -surplus, np.zeros(nr, np.int64)))
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    solver.set_node_supply(0, total)
    solver.set_node_supply(1, -total)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"The min-cost flow solver failed with status {status}.")
    return solver.flows(1 + nl + np.arange(len(pl), dtype=np.int64))


def _branch_and_bound(comp: _Component, relaxed, incumbent, max_nodes: int):
    """Exact search over served / not-served for the requests the relaxation leaves under their threshold. Returns
    (objective, flows, finished)."""
    nr = len(comp.requests)
    best_obj, best_flows = incumbent
    # Each node: (lower, upper, decided, relaxed solution, its parent's objective); depth first, "served" child
    # first. A child can do no better than its parent, so a node whose parent is no better than the incumbent is
    # counted but not solved (solving it could only prune it).
    stack = [(np.zeros(nr, np.int64), comp.req_kg.copy(), np.zeros(nr, np.bool_), relaxed, None)]
    nodes = 0
    while stack:
        lower, upper, decided, solution, bound = stack.pop()
        if solution is None:
            nodes += 1
            if nodes > max_nodes:
                return best_obj, best_flows, False
            if bound <= best_obj:
                continue
            solution = comp.flow(lower=lower, upper=upper)
            if solution is None:
                continue
        objective, flows = solution
        if objective <= best_obj:
            continue
        bad = comp.violators(flows, decided)
        if len(bad) == 0:
            best_obj, best_flows = objective, flows
            continue
        got = comp.totals(flows)
        r = int(bad[np.lexsort((bad, -got[bad]))[0]])  # the largest trickle first; ties by index
        off_upper = upper.copy()
        off_upper[r] = 0
        off_decided = decided.copy()
        off_decided[r] = True
        on_lower = lower.copy()
        on_lower[r] = comp.req_min[r]
        stack.append((lower, off_upper, off_decided, None, objective))
        stack.append((on_lower, upper, off_decided, None, objective))
    return best_obj, best_flows, True


def solve_component(a: _Arrays, pairs: Pairs, *, exact_max_pairs=EXACT_MAX_PAIRS, exact_max_nodes=EXACT_MAX_NODES):
    """(objective, flows per pair in kg, upper bound, exact?) for one component."""
    comp = _Component(a, pairs)
    unit = comp.unit
    relaxed = comp.flow()
    assert relaxed is not None
    if len(comp.violators(relaxed[1])) == 0:
        return relaxed[0] * unit, relaxed[1] * unit, relaxed[0] * unit, True
    heuristic = _drop_and_resolve(comp, relaxed)
    if len(pairs) > exact_max_pairs:
        return heuristic[0] * unit, heuristic[1] * unit, relaxed[0] * unit, False
    objective, flows, finished = _branch_and_bound(comp, relaxed, heuristic, exact_max_nodes)
    return objective * unit, flows * unit, relaxed[0] * unit, finished


def greedy_component(a: _Arrays, pairs: Pairs):
    """Greedy by surplus: the pairs with the highest surplus per tonne take what they can (ties by lot, then request
    index). Requests left under their threshold then give back what they took, and a second pass offers it to the
    requests already served. (objective, flows)."""
    order = np.lexsort((pairs.request, pairs.lot, -pairs.surplus))
    lots = pairs.lot[order].tolist()
    reqs = pairs.request[order].tolist()
    lot_left = {lo: int(a.l_kg[lo]) for lo in set(lots)}
    req_left = {r: int(a.r_kg[r]) for r in set(reqs)}
    flows = [0] * len(lots)
    for k, (lo, r) in enumerate(zip(lots, reqs, strict=True)):
        have, want = lot_left[lo], req_left[r]
        if have and want:
            q = have if have < want else want
            flows[k] = q
            lot_left[lo] = have - q
            req_left[r] = want - q
    bad = {r for r, left in req_left.items() if 0 < int(a.r_kg[r]) - left < int(a.r_min[r])}
    if bad:
        for k, r in enumerate(reqs):
            if r in bad and flows[k]:
                lot_left[lots[k]] += flows[k]
                flows[k] = 0
        served = {r for r, left in req_left.items() if r not in bad and left < int(a.r_kg[r])}
        for k, (lo, r) in enumerate(zip(lots, reqs, strict=True)):
            if r in served:
                have, want = lot_left[lo], req_left[r]
                if have and want:
                    q = have if have < want else want
                    flows[k] += q
                    lot_left[lo] = have - q
                    req_left[r] = want - q
    result = np.zeros(len(lots), np.int64)
    result[order] = flows
    return int((result * pairs.surplus).sum()), result


# --- The whole instance --------------------------------------------------------------------------


def _allocations(instance: Instance, a: _Arrays, lot, request, surplus, kg) -> list[Allocation]:
    """Allocations for the pairs given as arrays (already in their final order)."""
    distance = _haversine_from(a.l_p[lot], a.l_q[lot], a.l_c[lot], a.r_p[request], a.r_q[request], a.r_c[request])
    transport = a.r_price[request] - a.l_ask[lot] - surplus
    lots, requests = instance.lots, instance.requests
    return [
        Allocation(lots[i].id, requests[j].id, q, s, d, t)
        for i, j, q, s, d, t in zip(
            lot.tolist(), request.tolist(), kg.tolist(), surplus.tolist(), distance.tolist(), transport.tolist(),
            strict=True,
        )
    ]  # fmt: skip


def _used(parts: list[tuple[Pairs, np.ndarray]], a: _Arrays):
    """(lot, request, surplus, kg) arrays of the pairs with flow, sorted by (lot, request)."""
    if not parts:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, empty
    cols = [[], [], [], []]
    for pairs, flows in parts:
        used = np.flatnonzero(flows > 0)
        for col, x in zip(cols, (pairs.lot, pairs.request, pairs.surplus, flows), strict=True):
            col.append(x[used])
    lot, request, surplus, kg = (np.concatenate(c).astype(np.int64, copy=False) for c in cols)
    order = _order(lot, request, len(a.l_kg), len(a.r_kg))
    return lot[order], request[order], surplus[order], kg[order]


def solve(instance: Instance, *, method: str = "optimal", **options) -> Result:
    """Allocate the instance's lots to its requests. method: "optimal" (min-cost flow per component, thresholds as
    described above) or "greedy" (by surplus per tonne)."""
    if method not in ("optimal", "greedy"):
        raise InstanceError(f"Unknown method {method!r}: use 'optimal' or 'greedy'.")
    start = time.perf_counter()
    a = _Arrays(instance)
    t_arrays = time.perf_counter()
    comps = _components(a)
    t_pairs = time.perf_counter()
    parts = []
    objective = bound = 0
    exact = heuristic = 0
    for comp in comps:
        if method == "greedy":
            obj, flows = greedy_component(a, comp)
            ub, ok = obj, False
        else:
            obj, flows, ub, ok = solve_component(a, comp, **options)
        objective += int(obj)
        bound += int(ub)
        exact += ok
        heuristic += not ok
        parts.append((comp, np.asarray(flows, np.int64)))
    t_solve = time.perf_counter()
    allocations = _allocations(instance, a, *_used(parts, a))
    end = time.perf_counter()
    return Result(
        objective=objective,
        allocations=allocations,
        seconds=end - start,
        method=method,
        upper_bound=bound,
        components=len(comps),
        exact_components=exact,
        heuristic_components=heuristic,
        pairs=sum(len(c) for c in comps),
        timings={
            "arrays": t_arrays - start,
            "pairs": t_pairs - t_arrays,  # feasible pairs and their components
            "solve": t_solve - t_pairs,
            "allocations": end - t_solve,
        },
    )


class Matcher:
    """An optimal allocation kept up to date: `add_request` finds the new request's pairs (against the lots of its
    commodity only) and re-solves only the components it joins, whose pairs are kept between calls."""

    def __init__(self, instance: Instance, **options):
        self.instance = Instance(instance.transport_minor_per_tonne_km, list(instance.lots), list(instance.requests))
        self.options = options
        self.arrays = _Arrays(self.instance)
        self.components: dict[int, tuple[Pairs, np.ndarray, int]] = {}
        self.lot_component = np.full(len(self.instance.lots), -1, np.int64)
        self._next = 0
        for comp in _components(self.arrays):
            self._store(comp)

    def _store(self, comp: Pairs) -> int:
        obj, flows, _ub, _ok = solve_component(self.arrays, comp, **self.options)
        key = self._next
        self._next += 1
        self.components[key] = (comp, np.asarray(flows, np.int64), int(obj))
        self.lot_component[comp.lot] = key
        return key

    @property
    def objective(self) -> int:
        return sum(obj for _c, _f, obj in self.components.values())

    def add_request(self, request: Request) -> int:
        """Add one request and re-solve only the components it joins; returns the objective of its component."""
        self.instance.requests.append(request)
        a = self.arrays
        known = request.commodity in a.commodity_code and all(c in a.cert_bit for c in request.certifications)
        if known:
            a.append_request(request)
        else:  # a new commodity or certification renumbers the codes and masks
            self.arrays = a = _Arrays(self.instance)
        new = _components(a, requests=np.array([len(self.instance.requests) - 1]))
        if not new:
            return 0
        pairs = new[0]  # one request: one component
        touched = np.unique(self.lot_component[pairs.lot])
        touched = touched[touched >= 0].tolist()
        merged = Pairs.concat([self.components.pop(k)[0] for k in touched] + [pairs])
        merged = merged.take(_order(merged.lot, merged.request, len(a.l_kg), len(a.r_kg)))
        key = self._store(merged)
        return self.components[key][2]

    def result(self) -> list[Allocation]:
        parts = [(c, f) for c, f, _o in self.components.values()]
        return _allocations(self.instance, self.arrays, *_used(parts, self.arrays))


# --- Splitting an instance for parallel solving --------------------------------------------------


def instance_to_dict(instance: Instance) -> dict:
    """The JSON form `load_instance` reads (with the optional fields)."""
    return {
        "transport_minor_per_tonne_km": instance.transport_minor_per_tonne_km,
        "lots": [
            {"id": x.id, "commodity": x.commodity, "grade": x.grade, "kg": x.kg,
             "ask_minor_per_tonne": x.ask_minor_per_tonne, "lat": x.lat, "lon": x.lon,
             "certifications": sorted(x.certifications), "eudr_ready": x.eudr_ready}
            for x in instance.lots
        ],
        "requests": [
            {"id": x.id, "commodity": x.commodity, "min_grade": x.min_grade, "kg": x.kg,
             "max_price_minor_per_tonne": x.max_price_minor_per_tonne, "lat": x.lat, "lon": x.lon,
             "max_distance_km": x.max_distance_km, "certifications": sorted(x.certifications),
             "eudr_required": x.eudr_required, "min_fill_kg": x.min_fill_kg, "min_truckload_kg": x.min_truckload_kg}
            for x in instance.requests
        ],
    }  # fmt: skip


def split(instance: Instance) -> list[Instance]:
    """One sub-instance per connected component (lots and requests in the instance's order), so that each can be
    solved on its own, e.g. by a Celery worker; solving a sub-instance gives the allocation the whole would give
    that component."""
    a = _Arrays(instance)
    parts = []
    for comp in _components(a):
        lots = np.unique(comp.lot)
        reqs = np.unique(comp.request)
        parts.append(
            Instance(
                instance.transport_minor_per_tonne_km,
                [instance.lots[int(i)] for i in lots],
                [instance.requests[int(j)] for j in reqs],
            )
        )
    return parts


def result_to_dict(result: Result) -> dict:
    return {
        "objective": result.objective,
        "upper_bound": result.upper_bound,
        "exact_components": result.exact_components,
        "heuristic_components": result.heuristic_components,
        "allocations": [
            [a.lot, a.request, a.kg, a.surplus_minor_per_tonne, a.distance_km, a.transport_minor_per_tonne]
            for a in result.allocations
        ],
    }


def merge(results: list[dict]) -> Result:
    """The Result of a whole instance from its sub-instances' `result_to_dict` outputs."""
    allocations = sorted(
        (Allocation(*row) for r in results for row in r["allocations"]), key=lambda a: (str(a.lot), str(a.request))
    )
    return Result(
        objective=sum(r["objective"] for r in results),
        allocations=allocations,
        seconds=0.0,
        method="optimal",
        upper_bound=sum(r["upper_bound"] for r in results),
        components=len(results),
        exact_components=sum(r["exact_components"] for r in results),
        heuristic_components=sum(r["heuristic_components"] for r in results),
    )
