"""The cheapest plan for a window's lines over all matching supplier offers, solved exactly as a small MILP.

Each product line goes whole to one offer (so the offer's all-units tier applies to the line's rounded group
total, as the rounding rule needs one pack size and one MOQ per line) or is left unserved when no offer can
take it. With `x[p,o]` = 1 when product p is bought from offer o, `y[s]` = 1 when supplier s is used and
`u[p]` = 1 when p is left unserved:

    minimise   sum c[p,o] x[p,o] + sum D[s] y[s] + BIG sum u[p]
    such that  sum_o x[p,o] + u[p] = 1                         every product with a candidate offer
               x[p,o] <= y[s(o)]                               an offer is used only with its supplier
               sum_{p,o of s} g[p,o] x[p,o] >= M[s] y[s]       the supplier's minimum order value

where c = goods at the tier price reached + the offer's own delivery cost, g = goods only, D the supplier's
delivery cost per order and M its minimum order value. Candidates are offers whose rounded packs (with the
offer's MOQ, its first tier breakpoint) are above 0 and within its stock and maximum order; offers outside the
cooperative's delivery region are filtered out before. BIG exceeds any plan's cost, so the plan serves as many
lines as possible first, then costs least.

HiGHS (through `highspy`) is used rather than OR-Tools CP-SAT: it is one small wheel with no other dependency,
solves this size (hundreds of binaries) in milliseconds, and its MIP gap can be set to 0 for a proven optimum.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from orders.services.group_rounding import packs_for, tier_price


@dataclass(frozen=True)
class Need:
    product_id: int
    quantity: int
    tolerance: int
    unit: int


@dataclass(frozen=True)
class OfferInput:
    offer_id: int
    product_id: int
    supplier_id: int
    tiers: tuple[tuple[int, int], ...]  # (min_packs, unit_price), all-units
    max_packs: int | None = None  # stock and maximum order, whichever is lower
    delivery_cost: int = 0


@dataclass(frozen=True)
class SupplierTerms:
    delivery_cost: int = 0  # once per order to this supplier
    min_order_amount: int = 0  # goods value


@dataclass(frozen=True)
class Candidate:
    product_id: int
    offer_id: int
    supplier_id: int
    packs: int
    unit_price: int
    goods: int
    cost: int  # goods + the offer's delivery cost


@dataclass
class Plan:
    lines: dict[int, Candidate] = field(default_factory=dict)  # product id -> chosen candidate
    unserved: list[int] = field(default_factory=list)
    suppliers: dict[int, int] = field(default_factory=dict)  # supplier id -> its delivery cost in the plan
    method: str = ""

    @property
    def goods(self) -> int:
        return sum(c.goods for c in self.lines.values())

    @property
    def delivery(self) -> int:
        return sum(c.cost - c.goods for c in self.lines.values()) + sum(self.suppliers.values())

    @property
    def cost(self) -> int:
        return self.goods + self.delivery


def candidates(needs: Iterable[Need], offers: Iterable[OfferInput]) -> dict[int, list[Candidate]]:
    by_product: dict[int, list[OfferInput]] = defaultdict(list)
    for offer in offers:
        by_product[offer.product_id].append(offer)
    result: dict[int, list[Candidate]] = {}
    for need in needs:
        options = []
        for offer in by_product.get(need.product_id, ()):
            if not offer.tiers:
                continue
            moq = min(m for m, _ in offer.tiers)
            packs = packs_for(need.quantity, need.tolerance, need.unit, moq_packs=moq)
            if packs <= 0 or (offer.max_packs is not None and packs > offer.max_packs):
                continue
            price = tier_price(offer.tiers, packs)
            goods = packs * price
            options.append(Candidate(need.product_id, offer.offer_id, offer.supplier_id, packs, price, goods,
                                     goods + offer.delivery_cost))  # fmt: skip
        result[need.product_id] = sorted(options, key=lambda c: (c.cost, c.offer_id))
    return result


def _finish(needs: Sequence[Need], chosen: Mapping[int, Candidate], terms: Mapping[int, SupplierTerms],
            method: str) -> Plan:  # fmt: skip
    used = {c.supplier_id for c in chosen.values()}
    suppliers = {s: terms.get(s, SupplierTerms()).delivery_cost for s in sorted(used)}
    unserved = [n.product_id for n in needs if n.product_id not in chosen]
    return Plan(dict(chosen), unserved, suppliers, method)


def plan_exact(needs: Sequence[Need], offers: Iterable[OfferInput],
               terms: Mapping[int, SupplierTerms] | None = None) -> Plan:  # fmt: skip
    import highspy

    terms = terms or {}
    options = candidates(needs, offers)
    products = [n.product_id for n in needs if options.get(n.product_id)]
    if not products:
        return _finish(needs, {}, terms, "exact")
    supplier_ids = sorted({c.supplier_id for p in products for c in options[p]})
    big = 1 + sum(max(c.cost for c in options[p]) for p in products)
    big += sum(terms.get(s, SupplierTerms()).delivery_cost for s in supplier_ids)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.5)
    h.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    columns: list[Candidate] = []
    x_index: dict[tuple[int, int], int] = {}
    for p in products:
        for c in options[p]:
            x_index[(p, c.offer_id)] = len(columns)
            columns.append(c)
    n_x = len(columns)
    y_index = {s: n_x + i for i, s in enumerate(supplier_ids)}
    u_index = {p: n_x + len(supplier_ids) + i for i, p in enumerate(products)}
    costs = [float(c.cost) for c in columns]
    costs += [float(terms.get(s, SupplierTerms()).delivery_cost) for s in supplier_ids]
    costs += [float(big)] * len(products)
    n = len(costs)
    for cost in costs:
        h.addCol(cost, 0.0, 1.0, 0, [], [])
    h.changeColsIntegrality(n, list(range(n)), [highspy.HighsVarType.kInteger] * n)
    for p in products:
        idx = [x_index[(p, c.offer_id)] for c in options[p]] + [u_index[p]]
        h.addRow(1.0, 1.0, len(idx), idx, [1.0] * len(idx))
    goods_of: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(columns):
        h.addRow(-inf, 0.0, 2, [i, y_index[c.supplier_id]], [1.0, -1.0])
        goods_of[c.supplier_id].append(i)
    for s in supplier_ids:
        minimum = terms.get(s, SupplierTerms()).min_order_amount
        if minimum > 0:
            idx = goods_of[s] + [y_index[s]]
            vals = [float(columns[i].goods) for i in goods_of[s]] + [-float(minimum)]
            h.addRow(0.0, inf, len(idx), idx, vals)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"The plan solver stopped without an optimum: {h.modelStatusToString(h.getModelStatus())}")
    values = h.getSolution().col_value
    chosen = {columns[i].product_id: columns[i] for i in range(n_x) if values[i] > 0.5}
    return _finish(needs, chosen, terms, "exact")


def _valid(chosen: Mapping[int, Candidate], terms: Mapping[int, SupplierTerms]) -> bool:
    goods: dict[int, int] = defaultdict(int)
    for c in chosen.values():
        goods[c.supplier_id] += c.goods
    return all(g >= terms.get(s, SupplierTerms()).min_order_amount for s, g in goods.items())


def plan_greedy(needs: Sequence[Need], offers: Iterable[OfferInput],
                terms: Mapping[int, SupplierTerms] | None = None) -> Plan:  # fmt: skip
    """Cheapest single supplier, extended greedily: take the supplier that serves the most remaining lines
    (cheapest on a tie, its minimum met), then repeat for the lines left. With one supplier that serves every
    line this is the cheapest single-supplier choice."""
    terms = terms or {}
    options = candidates(needs, offers)
    remaining = {p for p, opts in options.items() if opts}
    chosen: dict[int, Candidate] = {}
    used: set[int] = set()
    while remaining:
        best = None
        by_supplier: dict[int, dict[int, Candidate]] = defaultdict(dict)
        for p in remaining:
            for c in options[p]:
                if c.supplier_id not in used and p not in by_supplier[c.supplier_id]:
                    by_supplier[c.supplier_id][p] = c  # options are sorted by cost: the first is the cheapest
        for s, picks in by_supplier.items():
            if not _valid(picks, terms):
                continue
            cost = sum(c.cost for c in picks.values()) + terms.get(s, SupplierTerms()).delivery_cost
            key = (-len(picks), cost, s)
            if best is None or key < best[0]:
                best = (key, s, picks)
        if best is None:
            break
        _, s, picks = best
        used.add(s)
        chosen.update(picks)
        remaining -= set(picks)
    return _finish(needs, chosen, terms, "greedy")


def plan_single_supplier(needs: Sequence[Need], offers: Iterable[OfferInput],
                         terms: Mapping[int, SupplierTerms] | None = None) -> Plan:  # fmt: skip
    """The best plan from one supplier alone (most lines served, then cheapest)."""
    terms = terms or {}
    options = candidates(needs, offers)
    best = None
    for s in sorted({c.supplier_id for opts in options.values() for c in opts}):
        picks = {}
        for p, opts in options.items():
            mine = [c for c in opts if c.supplier_id == s]
            if mine:
                picks[p] = mine[0]
        if not _valid(picks, terms):
            continue
        key = (-len(picks), sum(c.cost for c in picks.values()) + terms.get(s, SupplierTerms()).delivery_cost, s)
        if best is None or key < best[0]:
            best = (key, picks)
    return _finish(needs, best[1] if best else {}, terms, "single_supplier")


def plan_brute_force(needs: Sequence[Need], offers: Iterable[OfferInput],
                     terms: Mapping[int, SupplierTerms] | None = None) -> Plan:  # fmt: skip
    """Every assignment of lines to offers (or none): for tests on small instances only."""
    terms = terms or {}
    options = candidates(needs, offers)
    products = [n.product_id for n in needs if options.get(n.product_id)]
    best = None
    for combo in itertools.product(*[[None, *options[p]] for p in products]):
        chosen = {c.product_id: c for c in combo if c is not None}
        if not _valid(chosen, terms):
            continue
        plan = _finish(needs, chosen, terms, "brute_force")
        key = (len(plan.unserved), plan.cost)
        if best is None or key < best[0]:
            best = (key, plan)
    return best[1] if best else _finish(needs, {}, terms, "brute_force")
