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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from django.utils import timezone

from traceability import identifiers
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
        Lineage.objects.update_or_create(
            organisation_id=organisation_id,
            subject=subject,
            defaults={
                "trace": trace_as_json(trace),
                "reach": reach,
                "origin_count": len(trace.origins),
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
