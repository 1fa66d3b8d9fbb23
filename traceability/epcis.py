"""GS1 EPCIS 2.0 JSON-LD export of stored events.

`epcis_document(events)` renders events as an EPCISDocument: @context is GS1's context URL, quantities are
kilograms (uom KGM) in quantityList / childQuantityList / inputQuantityList / outputQuantityList, bizStep and
disposition are CBV 2.0 short names or the URIs they were recorded with, and eventID is the urn:uuid URI
given at recording. An error declaration is rendered as EPCIS 2.0 wants it: a copy of the declared event
(same eventID) with its own recordTime and an `errorDeclaration` member.

`epcis_document_errors(document, schema_path=...)` checks a document against GS1's EPCIS 2.0 JSON Schema
(draft-07) with format checking (uri, date-time), for tests and for `manage.py epcis_export --schema`.
GS1's schema file is read from where it lies (see EPCIS_SCHEMA_PATH); it is not part of this project.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.utils import timezone as django_timezone

from traceability.models import Event, EventType, LotRole

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"
KILOGRAM = "KGM"


def kilograms(grams: int) -> int | float:
    """Grams as a JSON number of kilograms: exact for every integer number of grams."""
    value = Decimal(grams) / 1000
    return int(value) if value == value.to_integral_value() else float(value)


def _local_time(value: datetime, offset: str) -> str:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    return value.astimezone(zone).isoformat(timespec="milliseconds")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _quantities(event: Event, role: str) -> list[dict]:
    items = []
    for lot in sorted((lot for lot in event.lots.all() if lot.role == role), key=lambda lot: lot.position):
        item: dict = {"epcClass": lot.lot_uri}
        if lot.grams is not None:
            item.update(quantity=kilograms(lot.grams), uom=KILOGRAM)
        items.append(item)
    return items


def event_epcis(event: Event) -> dict:
    """One stored event (not a declaration) as an EPCIS 2.0 event object."""
    data: dict = {
        "type": event.event_type,
        "eventID": event.event_id,
        "eventTime": _local_time(event.event_time, event.event_time_zone_offset),
        "eventTimeZoneOffset": event.event_time_zone_offset,
        "recordTime": _utc(event.record_time),
    }
    if event.event_type == EventType.AGGREGATION and event.parent_id:
        data["parentID"] = event.parent_id
    if event.event_type == EventType.AGGREGATION:
        children = _quantities(event, LotRole.CHILD)
        if children:
            data["childQuantityList"] = children
    elif event.event_type == EventType.TRANSFORMATION:
        for key, role in (("inputQuantityList", LotRole.INPUT), ("outputQuantityList", LotRole.OUTPUT)):
            items = _quantities(event, role)
            if items:
                data[key] = items
        if event.transformation_id:
            data["transformationID"] = event.transformation_id
    else:
        items = _quantities(event, LotRole.OBSERVED)
        if items:
            data["quantityList"] = items
    if event.action:
        data["action"] = event.action
    if event.biz_step:
        data["bizStep"] = event.biz_step
    if event.disposition:
        data["disposition"] = event.disposition
    if event.read_point:
        data["readPoint"] = {"id": event.read_point}
    if event.biz_location:
        data["bizLocation"] = {"id": event.biz_location}
    for key, value in (
        ("bizTransactionList", event.biz_transaction_list),
        ("sourceList", event.source_list),
        ("destinationList", event.destination_list),
        ("sensorElementList", event.sensor_element_list),
    ):
        if value:
            data[key] = value
    if event.ilmd:
        data["ilmd"] = event.ilmd
    return data


def declaration_epcis(declaration: Event) -> dict:
    """An error declaration: the declared event again, with errorDeclaration and the declaration's recordTime."""
    data = event_epcis(declaration.declares)
    data["recordTime"] = _utc(declaration.record_time)
    error: dict = {"declarationTime": _utc(declaration.declaration_time)}
    if declaration.error_reason:
        error["reason"] = declaration.error_reason
    if declaration.corrective_event_ids:
        error["correctiveEventIDs"] = list(declaration.corrective_event_ids)
    data["errorDeclaration"] = error
    return data


def epcis_document(events: Iterable[Event], *, creation_date: datetime | None = None) -> dict:
    """An EPCISDocument with the events in the order given (load them with lots and `declares` prefetched)."""
    event_list = [declaration_epcis(e) if e.declares_id else event_epcis(e) for e in events]
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": _utc(creation_date or django_timezone.now()),
        "epcisBody": {"eventList": event_list},
    }


@lru_cache(maxsize=4)
def _validator(schema_path: str):
    from jsonschema import Draft7Validator

    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def epcis_document_errors(document: dict, *, schema_path: str | Path) -> list[str]:
    """Every way the document breaks GS1's EPCIS 2.0 JSON Schema (empty when it is valid)."""
    validator = _validator(str(schema_path))
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(map(str, error.absolute_path)) or '(document)'}: {error.message}" for error in errors]
