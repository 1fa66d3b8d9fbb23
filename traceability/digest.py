"""What the public trace page and the due-diligence statements read of a lineage, computed when the lineage is,
so that a reader does a constant number of queries and no work per delivery or per plot.

A digest has two parts:

* `events`, a function of the lineage's events alone (`events_part`): the steps the page lists (every event of
  the trace but the deliveries' own receipts, as a kind, lot codes, a day, a place URI and grams), the contributing
  plots' ids, the origins that name no plot, whether the trace was found and complete, and the deliveries' totals.
  It is written with the lineage, by the event services, so a new event on the way refreshes it.
* `plots`, a function of the cooperative's plots as well (`plots_part`): the EUDR verdict with its reasons
  (the rules broken, with counts, and the first issues), per collection point and country of production the members,
  plots and hectares, and the producers who delivered the most with their plots' centres. It carries the stamp of
  the cooperative's plots it was computed from (`PLOTS_STAMP_SQL`, an md5 of where every plot's current row version
  lies): any plot created, edited (geometry, area, country, cut-off evidence, name, member) or removed changes the
  stamp, whichever code path wrote it, and a new overlap needs a plot created or edited. A reader that finds another
  stamp than the current one recomputes this part and stores it (`traceability.lineage.lineage_digest_read`), so a
  stale verdict is never shown.

The verdict follows the statement builder's rules (`catalogue.due_diligence`): no member delivery (TRACE_MISSING),
a quantity missing on the way (TRACE_INCOMPLETE), an origin that names no plot (PLOT_MISSING), a plot whose geometry
breaks one of the Commission's rules (`eudr.plot_geometry_check`) or the cut-off rule (`eudr.plot_cutoff_check`), a
plot that overlaps another member's (PLOT_OVERLAP); ready when none applies and at least one plot contributes. The
rules are checked twice, for an ordinary commodity and for cattle (a point may then stand for more than 4 ha), since
the commodity is the catalogue's to know.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.utils import timezone
from shapely.geometry import shape

from marketplace.organisations.models import Plot
from marketplace.organisations.spatial import plot_overlaps
from traceability import identifiers
from traceability.eudr import plot_cutoff_check, plot_geometry_checks
from traceability.genealogy import Trace
from traceability.models import Event, EventLot, EventType, LotRole

DIGEST_VERSION = 1
TOP_PRODUCERS = 100  # producers listed by name (when the cooperative opts in); the page says how many more
TOP_ISSUES = 20  # issues kept word for word; every rule broken is counted

# A digest of the cooperative's plots: every row's id, the transaction that wrote its current version (`xmin`) and
# where that version lies (`ctid`). Every UPDATE writes a new row version at a new place, and a place is reused only
# once the old version is vacuumed away, which needs its transaction to have ended, so the next write then carries
# another `xmin`. So any insert, update (through a service, the admin, an import or a bare queryset `update`, in
# this transaction or another) or delete changes the stamp, without reading the plots' geometry (which costs ten
# times more for 400 plots). A VACUUM FULL moves every row: the digests are then recomputed once, on read.
PLOTS_STAMP_SQL = (
    "SELECT md5(coalesce(string_agg(p.id::text || ':' || p.xmin::text || ':' || p.ctid::text, ',' "  # noqa: S608
    f"ORDER BY p.id), '')) FROM {Plot._meta.db_table} p WHERE p.organisation_id = %s"
)


def plots_stamp(organisation_id: int) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(PLOTS_STAMP_SQL, [organisation_id])
        return cursor.fetchone()[0]


def _code(uri: str) -> str:
    return identifiers.lot_code_of(uri) or uri.rsplit("/", 1)[-1]


def _step(event: Event, rows: list[EventLot], delivered: set[str]) -> dict | None:
    """One public step of an event: its kind, the lot codes it names, its day, place and grams."""
    base = {
        "day": timezone.localtime(event.event_time).date().isoformat(),
        "place": event.biz_location or event.read_point,
    }
    if event.event_type == EventType.TRANSFORMATION:
        inputs = [r.lot_uri for r in rows if r.role == LotRole.INPUT]
        outputs = [r for r in rows if r.role == LotRole.OUTPUT]
        if all(uri in delivered for uri in inputs):
            kind = "bulked"
        elif len(inputs) == 1 and len(outputs) > 1:
            kind = "split"
        elif len(inputs) > 1:
            kind = "merged"
        else:
            kind = "transformed"
        made = [_code(r.lot_uri) for r in outputs]
        grams = sum(r.grams or 0 for r in outputs) or None
        return {**base, "kind": kind, "inputs": [_code(uri) for uri in inputs], "lots": made, "grams": grams}
    codes = [_code(r.lot_uri) for r in rows]
    grams = sum(r.grams or 0 for r in rows) or None
    if event.event_type == EventType.TRANSACTION:
        kind = "sale_cancelled" if event.action == "DELETE" else "sold"
        return {**base, "kind": kind, "lots": codes, "grams": grams, "place": ""}
    kinds = {"storing": "stored", "inspecting": "inspected", "shipping": "dispatched", "receiving": "received"}
    kind = kinds.get(event.biz_step)
    if kind is None:
        return None
    step = {**base, "kind": kind, "lots": codes, "grams": grams}
    if kind == "inspected":
        step["conformant"] = event.disposition == "conformant"
        step["grams"] = None
    if kind in ("dispatched", "received"):
        step["place"] = ""
    return step


def _steps(trace: Trace, summary: dict, organisation_id: int) -> list[dict]:
    skipped = set(summary.get("origin_event_pks", []))
    pks = [pk for pk in trace.event_pks if pk not in skipped]
    if not pks:
        return []
    delivered = {
        origin.uri
        for origin in trace.origins
        if (parsed := identifiers.delivery_reference_of(origin.uri)) is not None and parsed[0] == organisation_id
    }
    events = list(
        Event.objects.filter(pk__in=pks)
        .only("pk", "event_type", "action", "biz_step", "disposition", "event_time", "read_point", "biz_location")
        .order_by("event_time", "pk")
    )
    rows: dict[int, list[EventLot]] = {}
    for row in EventLot.objects.filter(event_id__in=pks).only("event_id", "role", "position", "lot_uri", "grams"):
        rows.setdefault(row.event_id, []).append(row)
    steps = []
    for event in events:
        step = _step(event, sorted(rows.get(event.pk, []), key=lambda r: (r.role, r.position)), delivered)
        if step is not None:
            steps.append(step)
    return steps


def _group(group: dict) -> list:
    farmer = identifiers.farmer_id_of(group["farmer"]) if group["farmer"] else None
    plot = identifiers.plot_id_of(group["plot"]) if group["plot"] else None
    return [group["place"], farmer, plot, group["grams"]]


def events_part(trace: Trace, summary: dict, *, organisation_id: int) -> dict:
    """The part of the digest that only the events decide (see the module docstring). Two queries at most."""
    plot_ids = sorted({pk for pk in (identifiers.plot_id_of(uri) for uri in trace.plots) if pk is not None})
    groups = summary.get("groups", [])
    return {
        "found": trace.found,
        "complete": trace.complete,
        "origins": len(trace.origins),
        "unplotted_origins": [origin.uri for origin in trace.origins if not origin.plots],
        "plot_ids": plot_ids,
        "deliveries": summary.get("deliveries", 0),
        "grams": summary.get("grams", 0),
        "first": summary.get("first"),
        "last": summary.get("last"),
        "members": len({g["farmer"] for g in groups if g["farmer"]}),
        "places": sorted({g["place"] for g in groups}),
        # (place, farmer id, plot id, grams) of every aggregate group: what the regions and producers are built from.
        "groups": [_group(g) for g in groups],
        "steps": _steps(trace, summary, organisation_id),
    }


def _plot_issues(plots: list[Plot], *, cattle: bool) -> list[dict]:
    issues = []
    checks = plot_geometry_checks(plots, cattle=cattle)  # remembered in the cache by each plot's content
    for plot in plots:
        for issue in [*checks[plot.pk], *plot_cutoff_check(plot)]:
            issues.append({"rule": issue.rule, "plot": plot.pk, "plot_name": plot.name, "message": issue.message})
    return issues


def _verdict(events: dict, plots: list[Plot], organisation_id: int) -> dict:
    head: list[dict] = []
    if not events["found"] or not events["origins"]:
        head.append({"rule": "TRACE_MISSING", "plot": None, "plot_name": "", "message": ""})
    elif not events["complete"]:
        head.append({"rule": "TRACE_INCOMPLETE", "plot": None, "plot_name": "", "message": ""})
    head += [{"rule": "PLOT_MISSING", "plot": None, "plot_name": "", "message": uri}
             for uri in events["unplotted_origins"]]  # fmt: skip
    by_id = {plot.pk: plot for plot in plots}
    overlaps = [
        {"rule": "PLOT_OVERLAP", "plot": o.plot_id, "plot_name": by_id[o.plot_id].name, "message": str(o.other_plot_id)}
        for o in plot_overlaps(organisation_id=organisation_id, plot_ids=list(by_id))
    ]
    verdict: dict = {}
    for name, cattle in (("ordinary", False), ("cattle", True)):
        issues = [*head, *_plot_issues(plots, cattle=cattle), *overlaps]
        verdict[name] = {
            "ready": not issues and bool(plots),
            "rules": dict(sorted(Counter(issue["rule"] for issue in issues).items())),
            "issues": issues[:TOP_ISSUES],
        }
    return verdict


def _centre(geometry) -> list[float | None]:
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    try:
        point = shape(geometry).centroid
        return [round(point.y, 4), round(point.x, 4)]
    except Exception:  # any unreadable geometry simply has no centre on the page
        return [None, None]


def _regions(events: dict, by_id: dict[int, Plot]) -> list[dict]:
    """Per (collection point URI, country of the plot; "" for a delivery without a plot, which the reader takes to
    be the cooperative's country): the members' ids, and each plot's hectares."""
    entries: dict[tuple[str, str], dict] = {}
    for place, farmer, plot_id, _grams in events["groups"]:
        plot = by_id.get(plot_id or 0)
        key = (place, str(plot.country) if plot is not None else "")
        entry = entries.setdefault(key, {"place": key[0], "country": key[1], "farmers": set(), "plots": {}})
        entry["farmers"].add(farmer)
        if plot is not None:
            entry["plots"][str(plot.pk)] = str(plot.area_hectares)
    return [
        {**entry, "farmers": sorted(entry["farmers"], key=lambda farmer: (farmer is None, farmer or 0))}
        for _key, entry in sorted(entries.items())
    ]


def _producers(events: dict, plots: list[Plot]) -> dict:
    grams: Counter[int] = Counter()
    for _place, farmer, _plot, amount in events["groups"]:
        if farmer is not None:
            grams[farmer] += amount
    top = sorted(grams, key=lambda farmer: (-grams[farmer], farmer))[:TOP_PRODUCERS]
    chosen = set(top)
    listed: dict[int, list] = {farmer: [] for farmer in top}
    for plot in plots:
        if plot.farmer_id in chosen:
            latitude, longitude = _centre(plot.geometry) if plot.geometry else (None, None)
            listed[plot.farmer_id].append([plot.name, str(plot.area_hectares), latitude, longitude])
    return {"count": len(grams), "top": [[farmer, listed[farmer]] for farmer in top]}


def plots_part(events: dict, *, organisation_id: int, stamp: str) -> dict:
    """The part of the digest the cooperative's plots decide, as they are now; `stamp` is `plots_stamp` read BEFORE
    the plots, so that a plot changed in between makes the part look stale rather than fresh."""
    plots = list(
        Plot.objects.filter(pk__in=events["plot_ids"], organisation_id=organisation_id)
        .select_related("farmer")
        .order_by("farmer__member_number", "name", "pk")
    )
    by_id = {plot.pk: plot for plot in plots}
    return {
        "stamp": stamp,
        "verdict": _verdict(events, plots, organisation_id),
        "regions": _regions(events, by_id),
        "producers": _producers(events, plots),
        "hectares": str(sum((plot.area_hectares for plot in plots), Decimal(0))),
    }


def digest_build(trace: Trace, summary: dict, *, organisation_id: int) -> dict:
    stamp = plots_stamp(organisation_id)
    events = events_part(trace, summary, organisation_id=organisation_id)
    return {
        "version": DIGEST_VERSION,
        "events": events,
        "plots": plots_part(events, organisation_id=organisation_id, stamp=stamp),
    }
