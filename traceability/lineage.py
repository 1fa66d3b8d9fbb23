"""Precomputed lineage: the backward trace of every lot a transformation made and of every order, kept in
`Lineage` rows so that the public trace page and the due-diligence statements read one row instead of walking the
genealogy per request.

Refreshing is exact, not approximate: a backward trace (`genealogy.trace_backward`) depends only on the live events
that name a lot on its way (its `reach`) or, for an order, on the events that name the order. So when an event is
appended, the rows to recompute are those of the organisation whose reach holds a lot the event names as output,
observed or child (or any lot of the event it declares erroneous), the outputs of a transformation (new lots), and
the orders the event names. Each is recomputed by the same walk the live read does, inside the appending transaction
under the chain lock, so a reader never sees a lineage that disagrees with the events. Reads fall back to the live
walk for a subject without a row (a delivery, or a lot no transformation made).

Beside the trace, each row keeps its contributing deliveries aggregated (`origin_summary`): per member farmer, plot
and collection point, how many deliveries, their grams and first and last day, plus the deliveries that name no plot
and the pks of the deliveries' own events. The public trace page and the due-diligence statements read that instead
of loading every delivery (a lot of 2,000 deliveries is about 400 groups, one per member's plot).

From both, each row keeps a digest of what the readers show (`traceability.digest`): the public page's steps, totals,
regions and producers, the contributing plots' ids and the EUDR verdict. Its plot part is checked against a stamp of
the cooperative's plots in the query that reads it and recomputed when a plot changed (`lineage_digest_read`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from traceability import identifiers
from traceability.digest import DIGEST_VERSION, PLOTS_STAMP_SQL, digest_build, plots_part
from traceability.genealogy import OrderUse, Origin, Step, Trace, trace_backward
from traceability.models import Event, EventLot, EventType, Lineage, LotRole


def trace_as_json(trace: Trace) -> dict:
    data = asdict(trace)
    for step in data["steps"]:
        step["event_time"] = step["event_time"].isoformat()
    return data


def trace_from_json(data: dict) -> Trace:
    return Trace(
        direction=data["direction"],
        identifier=data["identifier"],
        found=data["found"],
        lots=data["lots"],
        steps=[Step(**{**step, "event_time": datetime.fromisoformat(step["event_time"])}) for step in data["steps"]],
        origins=[Origin(**origin) for origin in data["origins"]],
        farmers=data["farmers"],
        plots=data["plots"],
        orders=[OrderUse(**use) for use in data["orders"]],
        event_pks=data["event_pks"],
        complete=data["complete"],
    )


def _reach(trace: Trace) -> list[str]:
    uris = set(trace.lots)
    for step in trace.steps:
        uris.update(item["uri"] for item in (*step.inputs, *step.outputs))
    uris.update(origin.uri for origin in trace.origins)
    return sorted(uris)


def _reach_of_events(pks: list[int]) -> set[str]:
    return set(EventLot.objects.filter(event_id__in=pks).values_list("lot_uri", flat=True))


SUMMARY_VERSION = 1


def origin_summary(trace: Trace, *, organisation_id: int) -> dict:
    """The contributing deliveries of a trace (its origins that are this organisation's member deliveries),
    aggregated per (farmer URI, plot URI, collection point): `{"version", "deliveries", "grams", "first", "last",
    "groups": [{"farmer", "plot", "place", "deliveries", "grams", "first", "last"}], "unplotted": [delivery URIs],
    "origin_event_pks": [...]}`. A delivery's day is the local day of its receiving event (the delivery day the
    catalogue recorded it with); grams are the delivered grams. One query (the origins' events)."""
    ours = [
        origin
        for origin in trace.origins
        if (parsed := identifiers.delivery_reference_of(origin.uri)) is not None and parsed[0] == organisation_id
    ]
    event_ids = sorted({event_id for origin in ours for event_id in origin.event_ids})
    events = {}
    if event_ids:
        for pk, event_id, event_time, read_point in Event.objects.filter(
            organisation_id=organisation_id, event_id__in=event_ids
        ).values_list("pk", "event_id", "event_time", "read_point"):
            events[event_id] = (pk, timezone.localtime(event_time).date(), read_point)
    groups: dict[tuple[str, str, str], dict] = {}
    unplotted: list[str] = []
    for origin in ours:
        known = sorted((events[e] for e in origin.event_ids if e in events), key=lambda item: (item[1], item[0]))
        day = known[0][1].isoformat() if known else None
        place = known[0][2] if known else ""
        key = (origin.farmers[0] if origin.farmers else "", origin.plots[0] if origin.plots else "", place)
        group = groups.setdefault(
            key,
            {"farmer": key[0], "plot": key[1], "place": key[2], "deliveries": 0, "grams": 0, "first": day,
             "last": day},
        )  # fmt: skip
        group["deliveries"] += 1
        group["grams"] += origin.delivered_grams if origin.delivered_grams is not None else origin.traced_grams
        if day is not None:
            group["first"] = min(filter(None, (group["first"], day)))
            group["last"] = max(filter(None, (group["last"], day)))
        if not origin.plots:
            unplotted.append(origin.uri)
    rows = [groups[key] for key in sorted(groups)]
    days = [day for group in rows for day in (group["first"], group["last"]) if day]
    return {
        "version": SUMMARY_VERSION,
        "deliveries": len(ours),
        "grams": sum(group["grams"] for group in rows),
        "first": min(days) if days else None,
        "last": max(days) if days else None,
        "groups": rows,
        "unplotted": sorted(unplotted),
        "origin_event_pks": sorted(pk for pk, _day, _place in events.values()),
    }


def lineage_refresh(*, organisation_id: int, subjects: Iterable[str]) -> int:
    """Recompute the lineage of each subject (a lot URI or `order:<n>`); a subject nothing is recorded about loses
    its row. Returns how many rows were written."""
    written = 0
    now = timezone.now()
    for subject in sorted(set(subjects)):
        trace = trace_backward(identifier=subject, organisation_ids=[organisation_id])
        if not trace.found:
            Lineage.objects.filter(organisation_id=organisation_id, subject=subject).delete()
            continue
        reach = sorted(set(_reach(trace)) | _reach_of_events(trace.event_pks))
        summary = origin_summary(trace, organisation_id=organisation_id)
        Lineage.objects.update_or_create(
            organisation_id=organisation_id,
            subject=subject,
            defaults={
                "trace": trace_as_json(trace),
                "reach": reach,
                "origin_count": len(trace.origins),
                "summary": summary,
                "digest": digest_build(trace, summary, organisation_id=organisation_id),
                "computed_at": now,
            },
        )
        written += 1
    return written


def subjects_affected(*, event: Event, rows: list) -> set[str]:
    """The lineage subjects an appended event (with its `EventLot` rows) may change (see the module docstring)."""
    # A backward walk follows a lot to the events that name it as output, observed or child (never as input), so an
    # event that only consumes a lot (a split, a merge) changes no trace of that lot.
    uris = {row.lot_uri for row in rows if row.role != LotRole.INPUT}
    if event.declares_id is not None:
        uris |= _reach_of_events([event.declares_id])
        declared = Event.objects.filter(pk=event.declares_id).values_list("biz_transaction_list", flat=True).first()
    else:
        declared = None
    subjects: set[str] = set()
    if event.event_type == EventType.TRANSFORMATION and event.declares_id is None:
        subjects.update(row.lot_uri for row in rows if row.role == LotRole.OUTPUT)
    for item in [*(event.biz_transaction_list or []), *(declared or [])]:
        if isinstance(item, dict) and item.get("type") == "po":
            number = identifiers.parse_order(str(item.get("bizTransaction", "")))
            if number is not None:
                subjects.add(f"{identifiers.ORDER_PREFIX}{number}")
    if uris:
        subjects.update(
            Lineage.objects.filter(organisation_id=event.organisation_id, reach__overlap=sorted(uris)).values_list(
                "subject", flat=True
            )
        )
    return subjects


def lineage_on_append(event: Event, rows: list) -> None:
    """Called by the event services right after an event and its lot rows are written, under the chain lock."""
    subjects = subjects_affected(event=event, rows=rows)
    if subjects:
        lineage_refresh(organisation_id=event.organisation_id, subjects=subjects)


def lineage_read(*, identifier: str, organisation_id: int) -> tuple[Trace, dict]:
    """The backward trace of a lot URI or `order:<n>` and its contributing deliveries aggregated
    (`origin_summary`), from the precomputed lineage (one query), or walked and aggregated live when it has none
    (or when its row predates the summary: run `manage.py lineage_rebuild`)."""
    subject = identifier
    number = identifiers.parse_order(identifier)
    if number is not None:
        subject = f"{identifiers.ORDER_PREFIX}{number}"
    row = (
        Lineage.objects.filter(organisation_id=organisation_id, subject=subject).values_list("trace", "summary").first()
    )
    if row is None:
        trace = trace_backward(identifier=identifier, organisation_ids=[organisation_id])
        return trace, origin_summary(trace, organisation_id=organisation_id)
    trace = trace_from_json(row[0])
    summary = row[1] if (row[1] or {}).get("version") == SUMMARY_VERSION else None
    if summary is None:
        summary = origin_summary(trace, organisation_id=organisation_id)
    return trace, summary


def _subject(identifier: str) -> str:
    number = identifiers.parse_order(identifier)
    return identifier if number is None else f"{identifiers.ORDER_PREFIX}{number}"


def lineage_digest_live(*, identifier: str, organisation_id: int) -> dict:
    """The digest computed afresh from the recursive walk: the oracle of the stored one (tests, benchmark)."""
    trace = trace_backward(identifier=identifier, organisation_ids=[organisation_id])
    return digest_build(trace, origin_summary(trace, organisation_id=organisation_id), organisation_id=organisation_id)


def _digest_store(pk: int, computed_at: datetime, digest: dict) -> None:
    """Store a digest a reader recomputed, unless an event refreshed the row meanwhile (its `computed_at` moved) or
    an appending transaction holds it (that transaction writes its own): never wait, never overwrite newer data."""
    with transaction.atomic():
        free = Lineage.objects.filter(pk=pk, computed_at=computed_at).select_for_update(skip_locked=True)
        Lineage.objects.filter(pk__in=free.values("pk")).update(digest=digest)


def lineage_digest_read(*, identifier: str, organisation_id: int) -> dict:
    """The digest of a lot URI or `order:<n>` (`traceability.digest`): one query when its plot part was computed from
    the cooperative's plots as they are now. When a plot changed since, the plot part is recomputed (and stored for
    the next reader); a row from before the digest existed gets one computed from its stored trace; a subject without
    a row is walked live."""
    row = (
        Lineage.objects.filter(organisation_id=organisation_id, subject=_subject(identifier))
        .annotate(stamp=RawSQL(PLOTS_STAMP_SQL, [organisation_id]))  # noqa: S611 - a constant statement
        .values_list("pk", "computed_at", "digest", "stamp")
        .first()
    )
    if row is None:
        return lineage_digest_live(identifier=identifier, organisation_id=organisation_id)
    pk, computed_at, digest, stamp = row
    if (digest or {}).get("version") != DIGEST_VERSION:
        trace, summary = lineage_read(identifier=identifier, organisation_id=organisation_id)
        digest = digest_build(trace, summary, organisation_id=organisation_id)
    elif digest["plots"]["stamp"] != stamp:
        digest = {**digest, "plots": plots_part(digest["events"], organisation_id=organisation_id, stamp=stamp)}
    else:
        return digest
    _digest_store(pk, computed_at, digest)
    return digest


def lineage_trace(*, identifier: str, organisation_id: int) -> Trace:
    """The backward trace of a lot URI or `order:<n>` within one organisation's events, from its precomputed
    lineage (one query), or walked live when it has none."""
    subject = identifier
    number = identifiers.parse_order(identifier)
    if number is not None:
        subject = f"{identifiers.ORDER_PREFIX}{number}"
    data = (
        Lineage.objects.filter(organisation_id=organisation_id, subject=subject).values_list("trace", flat=True).first()
    )
    if data is None:
        return trace_backward(identifier=identifier, organisation_ids=[organisation_id])
    return trace_from_json(data)
