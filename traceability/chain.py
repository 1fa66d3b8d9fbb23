"""Tamper evidence: each organisation's events form a hash chain.

An event's hash is SHA-256 over the RFC 8785 canonical JSON (JCS) of its stored content, which includes the
previous event's hash (`previousHash`) and its place in the chain (`sequence`). The first event of a chain
links to 64 zeros. The content is rebuilt from the stored columns and lot rows, never from a cached copy,
so `chains_verify` notices a changed column, a changed or removed lot row, a removed event, or a tail cut
off behind the chain head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import rfc8785

from traceability.models import GENESIS_HASH, ChainHead, Event, EventLot

HASH_VERSION = 1


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_content(event: Event, lots: Iterable[EventLot], *, declares_event_id: str | None) -> dict:
    """The hashed content of an event: every stored column, its lot rows, and the previous link."""
    return {
        "v": HASH_VERSION,
        "organisation": event.organisation_id,
        "sequence": event.sequence,
        "previousHash": event.previous_hash,
        "eventID": event.event_id,
        "type": event.event_type,
        "action": event.action,
        "bizStep": event.biz_step,
        "disposition": event.disposition,
        "eventTime": _time(event.event_time),
        "eventTimeZoneOffset": event.event_time_zone_offset,
        "recordTime": _time(event.record_time),
        "readPoint": event.read_point,
        "bizLocation": event.biz_location,
        "parentID": event.parent_id,
        "transformationID": event.transformation_id,
        "sourceList": event.source_list,
        "destinationList": event.destination_list,
        "bizTransactionList": event.biz_transaction_list,
        "sensorElementList": event.sensor_element_list,
        "ilmd": event.ilmd,
        "declares": declares_event_id,
        "declarationTime": _time(event.declaration_time),
        "errorReason": event.error_reason,
        "correctiveEventIDs": event.corrective_event_ids,
        "recordedBy": event.recorded_by_id,
        "lots": [
            {"role": lot.role, "position": lot.position, "uri": lot.lot_uri, "grams": lot.grams}
            for lot in sorted(lots, key=lambda lot: (lot.role, lot.position))
        ],
    }


def event_hash(event: Event, lots: Iterable[EventLot], *, declares_event_id: str | None) -> str:
    content = canonical_content(event, lots, declares_event_id=declares_event_id)
    return hashlib.sha256(rfc8785.dumps(content)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    organisation_id: int
    sequence: int | None
    event_id: str
    reason: str

    def __str__(self) -> str:
        where = f"event #{self.sequence} ({self.event_id})" if self.sequence is not None else "chain head"
        return f"organisation {self.organisation_id}: {where}: {self.reason}"


@dataclass
class ChainReport:
    chains: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    # Per organisation, the last link verified: (sequence, hash); where the next incremental run starts.
    verified: dict[int, tuple[int, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _hash_holds(event: Event) -> bool:
    declares = event.declares.event_id if event.declares_id else None
    return event_hash(event, event.lots.all(), declares_event_id=declares) == event.hash


def _verify_one(
    organisation_id: int, head: ChainHead | None, report: ChainReport, since: tuple[int, str] | None = None
) -> None:
    """Walk one chain from its start, or from a link verified before (`since`: its sequence and hash): that
    event is re-hashed and must still carry that hash, then only the events after it are walked."""
    events = (
        Event.objects.filter(organisation_id=organisation_id)
        .select_related("declares")
        .prefetch_related("lots")
        .order_by("sequence")
    )
    expected_sequence = 1
    previous = GENESIS_HASH
    last: Event | None = None
    if since is not None and since[0] > 0:
        anchor = events.filter(sequence=since[0]).first()
        if anchor is None or anchor.hash != since[1] or not _hash_holds(anchor):
            report.breaks.append(
                ChainBreak(organisation_id, since[0], anchor.event_id if anchor else "",
                           "the last verified event changed or disappeared since the previous check")
            )  # fmt: skip
            return
        report.events += 1
        events = events.filter(sequence__gt=since[0])
        expected_sequence, previous, last = since[0] + 1, since[1], anchor
    for event in events.iterator(chunk_size=1000):
        report.events += 1
        problem = ""
        if event.sequence != expected_sequence:
            problem = f"sequence gap: expected #{expected_sequence}, found #{event.sequence} (an event was removed)"
        elif event.previous_hash != previous:
            problem = "the link to the previous event is broken (previous hash differs)"
        elif not _hash_holds(event):
            problem = "the stored content no longer matches its hash (the event or its lots were altered)"
        if problem:
            report.breaks.append(ChainBreak(organisation_id, event.sequence, event.event_id, problem))
            return
        previous = event.hash
        expected_sequence += 1
        last = event
    last_sequence = last.sequence if last else 0
    last_hash = last.hash if last else GENESIS_HASH
    head_sequence = head.last_sequence if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    if (head_sequence, head_hash) != (last_sequence, last_hash):
        report.breaks.append(
            ChainBreak(
                organisation_id,
                None,
                "",
                f"the chain head says #{head_sequence} but the last stored event is #{last_sequence}"
                " (events were removed from the end, or the head was changed)",
            )
        )
        return
    report.verified[organisation_id] = (last_sequence, last_hash)


def chains_verify(
    *, organisation_ids: Iterable[int] | None = None, since: dict[int, tuple[int, str]] | None = None
) -> ChainReport:
    """Recompute every chain (or the given organisations' chains) and report the first broken link of each.
    With `since` (organisation -> the last link a previous run verified), a chain is walked only after that
    link; a chain it does not name is walked from its start."""
    heads = {head.organisation_id: head for head in ChainHead.objects.all()}
    with_events = set(Event.objects.order_by().values_list("organisation_id", flat=True).distinct())
    ids = set(heads) | with_events
    if organisation_ids is not None:
        ids &= set(organisation_ids)
    report = ChainReport()
    for organisation_id in sorted(ids):
        report.chains += 1
        _verify_one(organisation_id, heads.get(organisation_id), report, (since or {}).get(organisation_id))
    return report


CHECK_NAME = "trace_chains"


def chains_check(*, full: bool = False) -> ChainReport:
    """Verify the chains from the checkpoint the last run stored (a chain's last verified link), or from their
    start with `full` or when no run was stored; store this run's result and checkpoint (a broken chain keeps its
    old checkpoint, so the break is reported again until it is dealt with)."""
    from marketplace.core.selectors import check_run_last
    from marketplace.core.services import check_run_record

    last = None if full else check_run_last(name=CHECK_NAME)
    since = {int(k): (v[0], v[1]) for k, v in last.checkpoint.items()} if last is not None else None
    report = chains_verify(since=since)
    checkpoint = dict(last.checkpoint) if last is not None else {}
    checkpoint.update({str(k): [sequence, link] for k, (sequence, link) in report.verified.items()})
    check_run_record(
        name=CHECK_NAME,
        full=since is None,
        checkpoint=checkpoint,
        problems=[str(b) for b in report.breaks],
        checked={"chains": report.chains, "events": report.events},
    )
    return report
