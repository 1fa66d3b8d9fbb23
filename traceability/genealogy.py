"""Lot genealogy over the events: backward (a lot or order to its deliveries, farmers and plots) and forward
(a delivery, farmer or plot to every lot and order that used it).

Each trace is ONE SQL statement: a recursive CTE walks the TransformationEvent edges (`EventLot` rows with
role input/output) to find every lot identifier on the way, and the same statement returns every live event
that touches those lots. The quantities are then worked out in Python with exact fractions:

* a TransformationEvent T with inputs a_i and outputs b_o (totals A and B) turns x grams of any of its outputs
  into x * a_i / B grams of input i (losses such as drying are carried along);
* a lot produced by several transformations (topped up) takes from each in proportion to what it produced.

Events declared erroneous, and the declarations themselves, are left out; their corrective events count.
Events of organisations outside `organisation_ids` are left out too (None means every organisation).
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from django.db import connection

from traceability import identifiers
from traceability.models import Action, EventType, LotRole

# Business steps whose events are the origin of produce that no transformation made.
ORIGIN_STEPS = ("receiving", "commissioning")


@dataclass(frozen=True)
class LotQuantity:
    uri: str
    grams: int | None


@dataclass(frozen=True)
class TraceEvent:
    pk: int
    event_id: str
    organisation_id: int
    event_type: str
    action: str
    biz_step: str
    event_time: datetime
    sources: list
    destinations: list
    biz_transactions: list
    lots: tuple[tuple[str, str, int | None], ...]  # (role, uri, grams)

    def quantities(self, *roles: str) -> list[LotQuantity]:
        return [LotQuantity(uri, grams) for role, uri, grams in self.lots if role in roles]

    def parties(self, kind: str) -> list[str]:
        return [item["source"] for item in self.sources if item.get("type") == kind]

    def orders(self) -> list[str]:
        return [item["bizTransaction"] for item in self.biz_transactions if item.get("type") == "po"]


@dataclass(frozen=True)
class Step:
    """One transformation on the way, with the grams of each input and output that belong to the trace."""

    event_id: str
    event_time: datetime
    biz_step: str
    inputs: list[dict]  # {"uri", "grams", "traced_grams"}
    outputs: list[dict]


@dataclass(frozen=True)
class Origin:
    """Produce that no transformation made: a member delivery (or harvest), with who and where it came from.

    `farmers` are the owning parties in the sources of its receiving or commissioning events (the member farmer
    for a delivery; the seller for goods received from another organisation), `plots` the source locations.
    """

    uri: str
    traced_grams: int
    delivered_grams: int | None
    event_ids: list[str]
    farmers: list[str]
    plots: list[str]


@dataclass(frozen=True)
class OrderUse:
    order: str  # the order URI
    order_number: str | None
    event_id: str
    event_type: str
    action: str  # a TransactionEvent DELETE takes lots back out of the order (a cancellation)
    biz_step: str
    lot: str
    grams: int | None
    traced_grams: int


@dataclass
class Trace:
    direction: str  # "backward" or "forward"
    identifier: str
    found: bool
    lots: dict[str, int] = field(default_factory=dict)  # lot -> grams of the lot that belong to the trace
    steps: list[Step] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    farmers: dict[str, int] = field(default_factory=dict)
    plots: dict[str, int] = field(default_factory=dict)
    orders: list[OrderUse] = field(default_factory=list)
    event_pks: list[int] = field(default_factory=list)
    complete: bool = True  # False when a quantity was unknown or the graph had a cycle


def _round_exact(value: Fraction) -> int:
    """Round half to even, exactly (as `round` does for a Fraction)."""
    return round(value)


# A live event: in the organisations asked for, not an error declaration, not declared erroneous.
_LIVE = """
    e.declares_id IS NULL
    AND (%(all_orgs)s OR e.organisation_id = ANY(%(orgs)s::bigint[]))
    AND NOT EXISTS (SELECT 1 FROM traceability_event d WHERE d.declares_id = e.id)
"""

_EVENT_COLUMNS = """
    e.id, e.event_id, e.organisation_id, e.event_type, e.action, e.biz_step, e.event_time,
    e.source_list, e.destination_list, e.biz_transaction_list, l.role, l.lot_uri, l.grams
"""

BACKWARD_SQL = """
WITH RECURSIVE
anchor(uri) AS (
    SELECT unnest(%(uris)s::text[])
    UNION
    SELECT l.lot_uri
    FROM traceability_event e
    JOIN traceability_eventlot l ON l.event_id = e.id AND l.role IN ('observed', 'child')
    WHERE %(order)s::jsonb IS NOT NULL AND e.biz_transaction_list @> %(order)s::jsonb AND __LIVE__
),
reach(uri) AS (
    SELECT uri FROM anchor
    UNION
    SELECT i.lot_uri
    FROM reach r
    JOIN traceability_eventlot o ON o.lot_uri = r.uri AND o.role = 'output'
    JOIN traceability_event e ON e.id = o.event_id
    JOIN traceability_eventlot i ON i.event_id = e.id AND i.role = 'input'
    WHERE __LIVE__
),
touched(id) AS (
    SELECT l.event_id FROM traceability_eventlot l JOIN reach r ON r.uri = l.lot_uri
    WHERE l.role IN ('output', 'observed', 'child')
    UNION
    SELECT e.id FROM traceability_event e
    WHERE %(order)s::jsonb IS NOT NULL AND e.biz_transaction_list @> %(order)s::jsonb
)
SELECT __COLUMNS__
FROM touched t
JOIN traceability_event e ON e.id = t.id
JOIN traceability_eventlot l ON l.event_id = e.id
WHERE __LIVE__
ORDER BY e.event_time, e.id, l.role, l.position
""".replace("__LIVE__", _LIVE).replace("__COLUMNS__", _EVENT_COLUMNS)

FORWARD_SQL = """
WITH RECURSIVE
anchor(uri) AS (
    SELECT unnest(%(uris)s::text[])
    UNION
    SELECT l.lot_uri
    FROM traceability_event e
    JOIN traceability_eventlot l ON l.event_id = e.id AND l.role = 'observed'
    WHERE %(party)s::jsonb IS NOT NULL AND e.source_list @> %(party)s::jsonb AND __LIVE__
),
reach(uri) AS (
    SELECT uri FROM anchor
    UNION
    SELECT o.lot_uri
    FROM reach r
    JOIN traceability_eventlot i ON i.lot_uri = r.uri AND i.role = 'input'
    JOIN traceability_event e ON e.id = i.event_id
    JOIN traceability_eventlot o ON o.event_id = e.id AND o.role = 'output'
    WHERE __LIVE__
),
touched(id) AS (
    SELECT DISTINCT l.event_id FROM traceability_eventlot l JOIN reach r ON r.uri = l.lot_uri
)
SELECT __COLUMNS__
FROM touched t
JOIN traceability_event e ON e.id = t.id
JOIN traceability_eventlot l ON l.event_id = e.id
WHERE __LIVE__
ORDER BY e.event_time, e.id, l.role, l.position
""".replace("__LIVE__", _LIVE).replace("__COLUMNS__", _EVENT_COLUMNS)


def _fetch(sql: str, params: dict) -> list[TraceEvent]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    events: dict[int, dict] = {}
    for pk, event_id, org, event_type, action, biz_step, event_time, sources, dests, txs, role, uri, grams in rows:
        entry = events.get(pk)
        if entry is None:
            entry = events[pk] = {
                "pk": pk,
                "event_id": event_id,
                "organisation_id": org,
                "event_type": event_type,
                "action": action,
                "biz_step": biz_step,
                "event_time": event_time,
                "sources": _json(sources),
                "destinations": _json(dests),
                "biz_transactions": _json(txs),
                "lots": [],
            }
        entry["lots"].append((role, uri, grams))
    return [TraceEvent(**{**entry, "lots": tuple(entry["lots"])}) for entry in events.values()]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _params(organisation_ids, **extra) -> dict:
    return {"all_orgs": organisation_ids is None, "orgs": list(organisation_ids or []), **extra}


class _Graph:
    """Transformations and observations of the lots of one trace."""

    def __init__(self, events: list[TraceEvent]) -> None:
        self.events = events
        self.producers: dict[str, list[tuple[TraceEvent, int | None]]] = defaultdict(list)
        self.consumers: dict[str, list[tuple[TraceEvent, int | None]]] = defaultdict(list)
        self.observers: dict[str, list[tuple[TraceEvent, int | None]]] = defaultdict(list)
        for event in events:
            for role, uri, grams in event.lots:
                if event.event_type == EventType.TRANSFORMATION:
                    (self.producers if role == LotRole.OUTPUT else self.consumers)[uri].append((event, grams))
                else:
                    self.observers[uri].append((event, grams))

    @staticmethod
    def total(event: TraceEvent, role: str) -> int | None:
        values = [grams for r, _, grams in event.lots if r == role]
        if any(value is None for value in values):
            return None
        return sum(values)  # type: ignore[arg-type]

    def origin_events(self, uri: str) -> list[tuple[TraceEvent, int | None]]:
        return [(e, g) for e, g in self.observers.get(uri, []) if e.biz_step in ORIGIN_STEPS and e.action != "DELETE"]

    def delivered(self, uri: str) -> int | None:
        """Grams of produce that no transformation made: its receiving event, else its commissioning event."""
        for step in ORIGIN_STEPS:
            amounts = [g for e, g in self.origin_events(uri) if e.biz_step == step]
            if amounts:
                return None if any(a is None for a in amounts) else max(amounts)  # type: ignore[type-var]
        return None

    def produced(self, uri: str) -> int | None:
        """Total grams of a lot: what transformations put into it, or what was delivered."""
        if self.producers.get(uri):
            amounts = [g for _, g in self.producers[uri]]
            return None if any(a is None for a in amounts) else sum(amounts)  # type: ignore[arg-type]
        return self.delivered(uri)


def _topological(nodes: set[str], edges: dict[str, set[str]]) -> tuple[list[str], bool]:
    indegree = dict.fromkeys(nodes, 0)
    for source in nodes:
        for target in edges.get(source, ()):
            if target in indegree:
                indegree[target] += 1
    queue = deque(sorted(node for node, degree in indegree.items() if degree == 0))
    order: list[str] = []
    while queue:
        node = queue.popleft()
        order.append(node)
        for target in sorted(edges.get(node, ())):
            if target in indegree:
                indegree[target] -= 1
                if indegree[target] == 0:
                    queue.append(target)
    return order, len(order) == len(nodes)


def _origins(graph: _Graph, amounts: dict[str, Fraction], trace: Trace) -> None:
    farmers: dict[str, Fraction] = defaultdict(Fraction)
    plots: dict[str, Fraction] = defaultdict(Fraction)
    for uri in sorted(amounts):
        if graph.producers.get(uri):
            continue
        events = graph.origin_events(uri)
        if not events:
            continue
        farmer_uris = sorted({p for e, _ in events for p in e.parties("owning_party")})
        plot_uris = sorted({p for e, _ in events for p in e.parties("location")})
        for uris, totals in ((farmer_uris, farmers), (plot_uris, plots)):
            for party in uris:
                totals[party] += amounts[uri] / len(uris)
        trace.origins.append(
            Origin(
                uri=uri,
                traced_grams=_round_exact(amounts[uri]),
                delivered_grams=graph.delivered(uri),
                event_ids=sorted({e.event_id for e, _ in events}),
                farmers=farmer_uris,
                plots=plot_uris,
            )
        )
    trace.farmers = {uri: _round_exact(value) for uri, value in sorted(farmers.items())}
    trace.plots = {uri: _round_exact(value) for uri, value in sorted(plots.items())}


def _steps(graph: _Graph, flows: dict[int, dict[tuple[str, str], Fraction]]) -> list[Step]:
    steps = []
    for event in graph.events:
        if event.event_type != EventType.TRANSFORMATION or event.pk not in flows:
            continue
        flow = flows[event.pk]

        def side(role: str, event=event, flow=flow) -> list[dict]:
            return [
                {"uri": uri, "grams": grams, "traced_grams": _round_exact(flow.get((role, uri), Fraction(0)))}
                for r, uri, grams in event.lots
                if r == role
            ]

        steps.append(Step(event.event_id, event.event_time, event.biz_step, side("input"), side("output")))
    return steps


def _order_number(uri: str) -> str | None:
    return identifiers.parse_order(uri)


def _backward_roots(graph: _Graph, uris: list[str], order_uri: str | None) -> tuple[dict[str, Fraction], bool]:
    complete = True
    roots: dict[str, Fraction] = {}
    if order_uri:
        # The order's quantities: from its sale (TransactionEvent), else its dispatch, else its receipt.
        chosen: list[TraceEvent] = []
        for test in (
            lambda e: e.event_type == EventType.TRANSACTION,
            lambda e: e.biz_step == "shipping",
            lambda e: True,
        ):
            chosen = [e for e in graph.events if order_uri in e.orders() and test(e)]
            if chosen:
                break
        for event in chosen:
            sign = -1 if event.action == Action.DELETE else 1
            for quantity in event.quantities(LotRole.OBSERVED, LotRole.CHILD):
                if quantity.grams is None:
                    complete = False
                    continue
                roots[quantity.uri] = roots.get(quantity.uri, Fraction(0)) + sign * quantity.grams
        roots = {uri: amount for uri, amount in roots.items() if amount > 0}
    for uri in uris:
        produced = graph.produced(uri)
        if produced is None:
            complete = complete and not (graph.producers.get(uri) or graph.observers.get(uri))
            continue
        roots[uri] = Fraction(produced)
    return roots, complete


def trace_backward(*, identifier: str, organisation_ids: list[int] | None = None) -> Trace:
    """Everything a lot (URI) or an order (`order:<n>` or an order URI) was made from, down to the deliveries.

    `lots` maps every lot on the way to the grams of it that went into the traced lot or order (a lot's own
    grams: with losses such as drying, more grams of an input go in than come out); `origins` are the
    deliveries with their farmers and plots; `farmers` and `plots` sum the delivered grams per party. A step's
    `traced_grams` are the grams of each input and output lot that belong to the trace.
    """
    number = identifiers.parse_order(identifier)
    order = identifiers.order_uri(number) if number is not None else None
    uris = [] if order else [identifier]
    events = _fetch(
        BACKWARD_SQL,
        _params(
            organisation_ids,
            uris=uris,
            order=None if order is None else _jsonb([{"bizTransaction": order}]),
        ),
    )
    trace = Trace(direction="backward", identifier=identifier, found=bool(events))
    if not events:
        return trace
    graph = _Graph(events)
    roots, complete = _backward_roots(graph, uris, order)

    # Edges: a lot -> the inputs of the transformations that made it.
    edges: dict[str, set[str]] = defaultdict(set)
    nodes = set(roots)
    for uri, producers in list(graph.producers.items()):
        for event, _ in producers:
            for quantity in event.quantities(LotRole.INPUT):
                edges[uri].add(quantity.uri)
                nodes.update({uri, quantity.uri})
    order_of_nodes, acyclic = _topological(nodes, edges)
    amounts: dict[str, Fraction] = defaultdict(Fraction)
    for uri, amount in roots.items():
        amounts[uri] += amount
    flows: dict[int, dict[tuple[str, str], Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for uri in order_of_nodes:
        amount = amounts.get(uri, Fraction(0))
        producers = graph.producers.get(uri, [])
        if not amount or not producers:
            continue
        produced = graph.produced(uri)
        if not produced:
            complete = False
            continue
        for event, grams in producers:
            out_total = _Graph.total(event, LotRole.OUTPUT)
            if not out_total or grams is None:
                complete = False
                continue
            share = amount * grams / produced  # grams of this transformation's output in the trace
            flows[event.pk][("output", uri)] += share
            for quantity in event.quantities(LotRole.INPUT):
                if quantity.grams is None:
                    complete = False
                    continue
                taken = share * quantity.grams / out_total
                flows[event.pk][("input", quantity.uri)] += taken
                amounts[quantity.uri] += taken
    trace.complete = complete and acyclic
    trace.lots = {uri: _round_exact(value) for uri, value in sorted(amounts.items()) if value}
    trace.steps = _steps(graph, flows)
    _origins(graph, amounts, trace)
    trace.orders = _order_uses(graph, amounts, order=order) if order else []
    trace.event_pks = [event.pk for event in events]
    return trace


def trace_forward(*, identifier: str, organisation_ids: list[int] | None = None) -> Trace:
    """Every lot and order that used a delivery or lot (its URI), or a farmer's or plot's produce (their URI).

    Quantities count grams of the traced produce as delivered (what a backward trace calls a farmer's grams):
    `lots` maps each lot downstream to the grams of the traced produce that went into it, losses such as drying
    included, and `orders` lists every sale, dispatch and receipt of those lots with those grams. A step's
    `traced_grams` are in the same unit.
    """
    events = _fetch(
        FORWARD_SQL,
        _params(organisation_ids, uris=[identifier], party=_jsonb([{"source": identifier}])),
    )
    trace = Trace(direction="forward", identifier=identifier, found=bool(events))
    if not events:
        return trace
    graph = _Graph(events)
    complete = True
    roots: dict[str, Fraction] = {}
    for event in events:
        if any(item.get("source") == identifier for item in event.sources):
            for quantity in event.quantities(LotRole.OBSERVED):
                if graph.producers.get(quantity.uri):
                    continue  # a lot the party handled, not produce that came from it
                delivered = graph.delivered(quantity.uri)
                if delivered is None:
                    complete = False
                    continue
                roots[quantity.uri] = Fraction(delivered)
    if graph.observers.get(identifier) or graph.producers.get(identifier) or graph.consumers.get(identifier):
        produced = graph.produced(identifier)
        if produced is None:
            complete = False
        else:
            roots[identifier] = Fraction(produced)

    # Edges: a lot -> the outputs of the transformations that used it.
    edges: dict[str, set[str]] = defaultdict(set)
    nodes = set(roots)
    for uri, consumers in list(graph.consumers.items()):
        for event, _ in consumers:
            for quantity in event.quantities(LotRole.OUTPUT):
                edges[uri].add(quantity.uri)
                nodes.update({uri, quantity.uri})
    order_of_nodes, acyclic = _topological(nodes, edges)
    amounts: dict[str, Fraction] = defaultdict(Fraction)
    for uri, amount in roots.items():
        amounts[uri] += amount
    flows: dict[int, dict[tuple[str, str], Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for uri in order_of_nodes:
        amount = amounts.get(uri, Fraction(0))
        consumers = graph.consumers.get(uri, [])
        if not amount or not consumers:
            continue
        total = graph.produced(uri)
        if not total:
            complete = False
            continue
        for event, grams in consumers:
            out_total = _Graph.total(event, LotRole.OUTPUT)
            if not out_total or grams is None:
                complete = False
                continue
            used = amount * grams / total  # grams of the traced produce fed into this transformation
            flows[event.pk][("input", uri)] += used
            for quantity in event.quantities(LotRole.OUTPUT):
                if quantity.grams is None:
                    complete = False
                    continue
                made = used * quantity.grams / out_total  # each output carries its share of what was fed in
                flows[event.pk][("output", quantity.uri)] += made
                amounts[quantity.uri] += made
    trace.complete = complete and acyclic
    trace.lots = {uri: _round_exact(value) for uri, value in sorted(amounts.items()) if value}
    trace.steps = _steps(graph, flows)
    _origins(graph, {uri: amounts[uri] for uri in roots}, trace)
    trace.orders = _order_uses(graph, amounts)
    trace.event_pks = [event.pk for event in events]
    return trace


def _order_uses(graph: _Graph, amounts: dict[str, Fraction], *, order: str | None = None) -> list[OrderUse]:
    """Sales, dispatches and receipts of traced lots (forward), or of the traced order itself (backward)."""
    uses = []
    for event in graph.events:
        for order_uri in event.orders():
            if order is not None and order_uri != order:
                continue
            for quantity in event.quantities(LotRole.OBSERVED, LotRole.CHILD):
                amount = amounts.get(quantity.uri)
                if not amount and order is None:
                    continue
                total = graph.produced(quantity.uri)
                if order is not None:
                    traced = Fraction(quantity.grams or 0)
                elif quantity.grams is not None and total:
                    traced = amount * quantity.grams / total
                else:
                    traced = Fraction(0)
                uses.append(
                    OrderUse(
                        order=order_uri,
                        order_number=_order_number(order_uri),
                        event_id=event.event_id,
                        event_type=event.event_type,
                        action=event.action,
                        biz_step=event.biz_step,
                        lot=quantity.uri,
                        grams=quantity.grams,
                        traced_grams=_round_exact(min(traced, Fraction(quantity.grams or 0))),
                    )
                )
    return uses


def _jsonb(value) -> str:
    return json.dumps(value, separators=(",", ":"))
