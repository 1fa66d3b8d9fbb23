"""Writes for the event store (house rule 1): what the catalogue and orders apps call to record each physical step.

Services API
============
Every service is keyword-only, typed, and atomic: it runs in `transaction.atomic`, so called inside the
caller's own transaction the event commits or rolls back with the caller's change. Bad input raises
`marketplace.core.errors.ValidationFailed` (a 400 with a message that says what to fix) before anything is
written. These services record facts; they trust the calling service to have checked that `actor` may act
for `organisation`, and they keep `actor` on the event (`recorded_by`; None for system actions).

Quantities are integer grams (house rule 6); the EPCIS export shows them in kilograms (KGM). A list of lots
is a list of `(lot_uri, grams)` pairs; grams may be None when unknown. Build identifiers with
`traceability.identifiers` (`lot_uri`, `delivery_uri`, `location_uri`, `order_uri`, ...).

    event_record(*, actor, organisation, event_type, action, biz_step="", disposition="", event_time=None,
                 event_time_zone_offset="", read_point="", biz_location="", lots=(), inputs=(), outputs=(),
                 parent_id="", transformation_id="", sources=(), destinations=(), biz_transactions=(),
                 sensor_elements=(), ilmd=None, event_id=None) -> Event
        The generic append. `lots` is the quantityList of an ObjectEvent or TransactionEvent and the
        childQuantityList of an AggregationEvent; `inputs`/`outputs` belong to a TransformationEvent (whose
        action is ""). `sources`/`destinations` are (type, uri) pairs with type owning_party, possessing_party
        or location; `biz_transactions` are (type, uri) pairs (type "po", "recadv", "desadv", ... or "").
        bizStep and disposition are CBV 2.0 short names ("receiving") or URIs outside the CBV namespaces.

    harvest_recorded(*, actor, organisation, produce_uri, grams, farmer, plot=None, event_time=None) -> Event
        ObjectEvent ADD commissioning at the plot: the farmer's produce comes into existence.
    delivery_recorded(*, actor, organisation, delivery_uri, grams, farmer, plot=None, location="", grade="",
                      moisture_percent=None, receipt_number="", event_time=None) -> Event
        ObjectEvent OBSERVE receiving: a member delivers produce to the cooperative (farmer and plot are the
        sources, the cooperative the destination; grade and moisture go to sensorElementList).
    lots_transformed(*, actor, organisation, inputs, outputs, location="", biz_step="commissioning",
                     disposition="active", transformation_id="", event_time=None) -> Event
        TransformationEvent for bulking deliveries into a lot, splitting a lot, or merging lots. To top up an
        existing lot, name it as an output only (with the grams added), never as input and output at once.
    inspection_recorded(*, actor, organisation, lot_uri, conformant, grams=None, grade="", moisture_percent=None,
                        reports=(), location="", event_time=None) -> Event
        ObjectEvent OBSERVE inspecting, disposition conformant / non_conformant, results in sensorElementList.
    storage_recorded(*, actor, organisation, lot_uri, location, grams=None,
                     disposition="sellable_not_accessible", event_time=None) -> Event
        ObjectEvent OBSERVE storing.
    sale_recorded(*, actor, organisation, order_number, lots, buyer, event_time=None) -> Event
        TransactionEvent ADD: the lots are tied to the order (bizTransaction type "po"); seller and buyer are the
        owning parties. CBV 2.0 has no business step for a B2B sale, so none is set.
    dispatch_recorded(*, actor, organisation, order_number, lots, destination, location="", event_time=None) -> Event
        ObjectEvent OBSERVE shipping, disposition in_transit.
    receipt_recorded(*, actor, organisation, order_number, lots, source, receipt_number="", location="",
                     disposition="in_progress", event_time=None) -> Event
        ObjectEvent OBSERVE receiving by the buyer (`organisation` is the buyer, `source` the seller).
    error_declared(*, actor, organisation, event_id, reason, corrective=None, corrective_event_ids=(),
                   declaration_time=None) -> ErrorCorrection
        Declares an event erroneous (reason "did_not_occur", "incorrect_data" or a URI) and, with
        `corrective` (a mapping of event_record arguments to change, the rest copied from the original),
        records the corrective event right after the declaration. Events are never edited.

Each organisation's events form a hash chain (`traceability.chain`): an append locks the organisation's
`ChainHead` row, so concurrent appends queue up and the chain never forks.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.core.errors import Conflict, NotFound, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.organisations.models import MemberFarmer, Organisation, Plot, User
from traceability import identifiers
from traceability.chain import event_hash
from traceability.lineage import lineage_on_append
from traceability.models import Action, ChainHead, Event, EventLot, EventType, LotRole, StatementReference

LotQuantity = tuple[str, int | None]
Party = tuple[str, str]

# CBV 2.0 short names (the values EPCIS 2.0 JSON allows without a URI).
BIZ_STEPS = frozenset(
    [
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
        "sensor_reporting",
        "sampling",
    ]
)
DISPOSITIONS = frozenset(
    [
        "active",
        "container_closed",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "no_pedigree_match",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unknown",
        "available",
        "completeness_verified",
        "completeness_inferred",
        "conformant",
        "container_open",
        "mismatch_instance",
        "mismatch_class",
        "mismatch_quantity",
        "needs_replacement",
        "non_conformant",
        "unavailable",
    ]
)
BIZ_TRANSACTION_TYPES = frozenset(
    [
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ]
)
SOURCE_DESTINATION_TYPES = frozenset({"owning_party", "possessing_party", "location"})
ERROR_REASONS = frozenset({"did_not_occur", "incorrect_data"})
_CBV_URI_PREFIXES = {
    "biz_step": ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-", "https://ns.gs1.org/cbv/BizStep-"),
    "disposition": ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-", "https://ns.gs1.org/cbv/Disp-"),
}
_CBV_NAMESPACE_RE = re.compile(r"^(urn:epcglobal:cbv|https?://ns\.gs1\.org/cbv/)")
_OFFSET_RE = re.compile(r"^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$")
_MAX_JSON_INT = 2**53 - 1
_MAX_JSON_FLOAT = 1e15
MOISTURE_UOM = "P1"  # UN/ECE Rec 20: percent


@dataclass(frozen=True)
class ErrorCorrection:
    declaration: Event
    corrective: Event | None


def new_event_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# --- Validation and normalisation ----------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            summary = "; ".join(f"{name}: {msgs[0]}" for name, msgs in self.fields.items())
            raise ValidationFailed(summary, fields=self.fields)


def _vocabulary(value: str, kind: str, allowed: frozenset[str], errors: _Errors) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    for prefix in _CBV_URI_PREFIXES.get(kind, ()):
        if value.startswith(prefix) and value[len(prefix) :] in allowed:
            return value[len(prefix) :]
    if value in allowed:
        return value
    if identifiers.is_uri(value) and not _CBV_NAMESPACE_RE.match(value):
        return value
    errors.add(kind, f"{value!r} is neither a CBV 2.0 term nor a URI of your own vocabulary.")
    return value


def _uri(value: str, field: str, errors: _Errors, *, required: bool = False) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            errors.add(field, "An identifier (an absolute URI) is required.")
        return ""
    if not identifiers.is_uri(value):
        errors.add(field, f"{value!r} is not an absolute URI (for example https://... or urn:...).")
    return value


def _grams(value: Any, field: str, errors: _Errors) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, f"Quantities are whole grams (an integer); got {value!r}.")
        return None
    if value <= 0:
        errors.add(field, f"A quantity must be more than 0 g; got {value}.")
        return None
    if value > _MAX_JSON_INT:
        errors.add(field, "This quantity is too large.")
        return None
    return value


def _lot_list(values: Sequence[LotQuantity], field: str, errors: _Errors) -> list[LotQuantity]:
    result: list[LotQuantity] = []
    seen: set[str] = set()
    for index, item in enumerate(values or ()):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            errors.add(field, f"Item {index} must be a (lot identifier, grams) pair.")
            continue
        uri = _uri(item[0], field, errors, required=True)
        if uri in seen:
            errors.add(field, f"{uri} is listed twice; give each lot once with its total quantity.")
        seen.add(uri)
        result.append((uri, _grams(item[1], field, errors)))
    return result


def _party_list(values: Sequence[Party], field: str, key: str, errors: _Errors) -> list[dict]:
    result = []
    for index, item in enumerate(values or ()):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            errors.add(field, f"Item {index} must be a (type, identifier) pair.")
            continue
        kind = _vocabulary(item[0], field, SOURCE_DESTINATION_TYPES, errors)
        if not kind:
            errors.add(field, "Each entry needs a type: owning_party, possessing_party or location.")
        result.append({"type": kind, key: _uri(item[1], field, errors, required=True)})
    return result


def _transaction_list(values: Sequence[Party], errors: _Errors) -> list[dict]:
    result = []
    for index, item in enumerate(values or ()):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            errors.add("biz_transactions", f"Item {index} must be a (type, identifier) pair.")
            continue
        entry = {"bizTransaction": _uri(item[1], "biz_transactions", errors, required=True)}
        kind = _vocabulary(item[0], "biz_transactions", BIZ_TRANSACTION_TYPES, errors)
        if kind:
            entry = {"type": kind, **entry}
        result.append(entry)
    return result


def _plain_json(value: Any, field: str, errors: _Errors) -> Any:
    """JSON as PostgreSQL's jsonb will give it back, so that the chain hash is stable."""

    def convert(item: Any) -> Any:
        if isinstance(item, Decimal):
            item = float(item)
        if isinstance(item, bool) or item is None or isinstance(item, str):
            if isinstance(item, str) and "\x00" in item:
                raise ValueError("text must not contain NUL characters")
            return item
        if isinstance(item, int):
            if abs(item) > _MAX_JSON_INT:
                raise ValueError(f"{item} is too large a number")
            return item
        if isinstance(item, float):
            if item != item or abs(item) >= _MAX_JSON_FLOAT:
                raise ValueError(f"{item} is not a usable number")
            return item
        if isinstance(item, Mapping):
            return {str(key): convert(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [convert(inner) for inner in item]
        raise ValueError(f"{type(item).__name__} values cannot be stored")

    try:
        return json.loads(json.dumps(convert(value), allow_nan=False))
    except (ValueError, TypeError) as error:
        errors.add(field, str(error))
        return value


def _sensor_elements(values: Sequence[Mapping], errors: _Errors) -> list[dict]:
    elements = _plain_json(list(values or ()), "sensor_elements", errors)
    if not isinstance(elements, list):
        return []
    for index, element in enumerate(elements):
        reports = element.get("sensorReport") if isinstance(element, dict) else None
        if not isinstance(reports, list) or not reports:
            errors.add("sensor_elements", f"Element {index} needs a non-empty sensorReport list.")
            continue
        for report in reports:
            if not isinstance(report, dict) or not report.get("type"):
                errors.add("sensor_elements", f"Each sensorReport of element {index} needs a measurement type.")
    return elements


def _time_zone_offset(event_time: datetime, given: str, errors: _Errors) -> str:
    if given:
        if not _OFFSET_RE.match(given):
            errors.add("event_time_zone_offset", f"{given!r} is not a time-zone offset like +03:00 or -05:00.")
        return given
    offset = event_time.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    text = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    if not _OFFSET_RE.match(text):
        errors.add("event_time", f"The time zone offset {text} is out of range.")
    return text


@dataclass
class _Spec:
    fields: dict[str, Any]
    lots: list[tuple[str, str, int | None]]  # (role, uri, grams)


def _build_spec(
    *,
    event_type: str,
    action: str = "",
    biz_step: str = "",
    disposition: str = "",
    event_time: datetime | None = None,
    event_time_zone_offset: str = "",
    read_point: str = "",
    biz_location: str = "",
    lots: Sequence[LotQuantity] = (),
    inputs: Sequence[LotQuantity] = (),
    outputs: Sequence[LotQuantity] = (),
    parent_id: str = "",
    transformation_id: str = "",
    sources: Sequence[Party] = (),
    destinations: Sequence[Party] = (),
    biz_transactions: Sequence[Party] = (),
    sensor_elements: Sequence[Mapping] = (),
    ilmd: Mapping[str, Any] | None = None,
    event_id: str | None = None,
) -> _Spec:
    errors = _Errors()
    if event_type not in EventType.values:
        errors.add("event_type", f"{event_type!r} is not one of {', '.join(EventType.values)}.")
    action = (action or "").upper()
    if event_type == EventType.TRANSFORMATION:
        if action:
            errors.add("action", "A TransformationEvent has no action.")
    elif action not in Action.values:
        errors.add("action", "The action must be ADD, OBSERVE or DELETE.")

    now = timezone.now()
    event_time = event_time or now
    if timezone.is_naive(event_time):
        errors.add("event_time", "Give the event time with its time zone.")
        event_time = timezone.make_aware(event_time, timezone.get_default_timezone())
    elif event_time > now + timedelta(days=1):
        errors.add("event_time", "The event time is more than a day in the future; check the device's clock.")
    offset = _time_zone_offset(event_time, event_time_zone_offset, errors)

    lot_list = _lot_list(lots, "lots", errors)
    input_list = _lot_list(inputs, "inputs", errors)
    output_list = _lot_list(outputs, "outputs", errors)
    elements = _sensor_elements(sensor_elements, errors)
    transactions = _transaction_list(biz_transactions, errors)
    read_point = _uri(read_point, "read_point", errors)
    parent_id = _uri(parent_id, "parent_id", errors)
    transformation_id = _uri(transformation_id, "transformation_id", errors)

    if event_type == EventType.TRANSFORMATION:
        if lot_list or parent_id:
            errors.add("lots", "A TransformationEvent names its lots as inputs and outputs.")
        if not transformation_id and not (input_list and output_list):
            errors.add("inputs", "A transformation needs at least one input and one output lot.")
        if not (input_list or output_list):
            errors.add("inputs", "A transformation needs input or output lots.")
        both = {uri for uri, _ in input_list} & {uri for uri, _ in output_list}
        if both:
            errors.add(
                "outputs",
                f"{', '.join(sorted(both))} is both input and output; to top up a lot, name it as an output only.",
            )
    else:
        if input_list or output_list or transformation_id:
            errors.add("inputs", "Only a TransformationEvent has inputs, outputs and a transformation ID.")
        if event_type == EventType.OBJECT and not lot_list and not (elements and read_point):
            errors.add("lots", "An ObjectEvent needs at least one lot (or sensor readings at a read point).")
        if event_type == EventType.TRANSACTION:
            if not transactions:
                errors.add("biz_transactions", "A TransactionEvent needs at least one business transaction.")
            if not lot_list and action != Action.DELETE:
                errors.add("lots", "A TransactionEvent needs at least one lot.")
        if event_type == EventType.AGGREGATION:
            if action in (Action.ADD, Action.DELETE) and not parent_id:
                errors.add("parent_id", "An AggregationEvent that adds or removes children needs a parent ID.")
            if not lot_list and action != Action.DELETE:
                errors.add("lots", "An AggregationEvent needs at least one child lot.")
        if event_type == EventType.OBJECT and parent_id:
            errors.add("parent_id", "An ObjectEvent has no parent ID.")

    ilmd_value = _plain_json(dict(ilmd or {}), "ilmd", errors)
    if ilmd_value:
        if not (action == Action.ADD and event_type == EventType.OBJECT) and event_type != EventType.TRANSFORMATION:
            errors.add("ilmd", "Lot master data (ILMD) belongs only to an ADD ObjectEvent or a TransformationEvent.")
        for key in ilmd_value:
            if not identifiers.is_uri(key):
                errors.add("ilmd", f"ILMD keys must be URIs of your vocabulary; {key!r} is not.")

    event_id = event_id or new_event_id()
    if not identifiers.is_uri(event_id) or len(event_id) > 100:
        errors.add("event_id", f"{event_id!r} is not a usable event ID (a URI of at most 100 characters).")

    fields = {
        "event_id": event_id,
        "event_type": event_type,
        "action": action,
        "biz_step": _vocabulary(biz_step, "biz_step", BIZ_STEPS, errors),
        "disposition": _vocabulary(disposition, "disposition", DISPOSITIONS, errors),
        "event_time": event_time,
        "event_time_zone_offset": offset,
        "read_point": read_point,
        "biz_location": _uri(biz_location, "biz_location", errors),
        "parent_id": parent_id,
        "transformation_id": transformation_id,
        "source_list": _party_list(sources, "sources", "source", errors),
        "destination_list": _party_list(destinations, "destinations", "destination", errors),
        "biz_transaction_list": transactions,
        "sensor_element_list": elements,
        "ilmd": ilmd_value if isinstance(ilmd_value, dict) else {},
    }
    errors.raise_if_any()
    observed_role = LotRole.CHILD if event_type == EventType.AGGREGATION else LotRole.OBSERVED
    rows = [(observed_role, uri, grams) for uri, grams in lot_list]
    rows += [(LotRole.INPUT, uri, grams) for uri, grams in input_list]
    rows += [(LotRole.OUTPUT, uri, grams) for uri, grams in output_list]
    return _Spec(fields=fields, lots=rows)


# --- Appending to the chain -------------------------------------------------------------


def _lock_head(organisation: Organisation) -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=organisation.pk).first()
    if head is None:
        ChainHead.objects.bulk_create([ChainHead(organisation_id=organisation.pk)], ignore_conflicts=True)
        head = ChainHead.objects.select_for_update().get(pk=organisation.pk)
    return head


def _append(
    *, actor: User | None, organisation: Organisation, fields: dict, lots: list, declares: Event | None = None
) -> Event:
    head = _lock_head(organisation)
    if Event.objects.filter(event_id=fields["event_id"]).exists():
        raise Conflict(gettext("An event with ID %(event_id)s is already recorded.") % {"event_id": fields["event_id"]})
    event = Event(
        organisation_id=organisation.pk,
        sequence=head.last_sequence + 1,
        previous_hash=head.last_hash,
        record_time=timezone.now(),
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        declares=declares,
        **fields,
    )
    positions: dict[str, int] = {}
    rows = []
    for role, uri, grams in lots:
        positions[role] = positions.get(role, 0) + 1
        rows.append(EventLot(role=role, position=positions[role], lot_uri=uri, grams=grams))
    event.hash = event_hash(event, rows, declares_event_id=declares.event_id if declares else None)
    event.save(force_insert=True)
    for row in rows:
        row.event = event
    EventLot.objects.bulk_create(rows)
    ChainHead.objects.filter(pk=organisation.pk).update(last_sequence=event.sequence, last_hash=event.hash)
    lineage_on_append(event, rows)
    return event


@transaction.atomic
def event_record(
    *,
    actor: User | None,
    organisation: Organisation,
    event_type: str,
    action: str,
    biz_step: str = "",
    disposition: str = "",
    event_time: datetime | None = None,
    event_time_zone_offset: str = "",
    read_point: str = "",
    biz_location: str = "",
    lots: Sequence[LotQuantity] = (),
    inputs: Sequence[LotQuantity] = (),
    outputs: Sequence[LotQuantity] = (),
    parent_id: str = "",
    transformation_id: str = "",
    sources: Sequence[Party] = (),
    destinations: Sequence[Party] = (),
    biz_transactions: Sequence[Party] = (),
    sensor_elements: Sequence[Mapping] = (),
    ilmd: Mapping[str, Any] | None = None,
    event_id: str | None = None,
) -> Event:
    """Append one EPCIS event to the organisation's chain (see the module docstring)."""
    spec = _build_spec(
        event_type=event_type,
        action=action,
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        event_time_zone_offset=event_time_zone_offset,
        read_point=read_point,
        biz_location=biz_location,
        lots=lots,
        inputs=inputs,
        outputs=outputs,
        parent_id=parent_id,
        transformation_id=transformation_id,
        sources=sources,
        destinations=destinations,
        biz_transactions=biz_transactions,
        sensor_elements=sensor_elements,
        ilmd=ilmd,
        event_id=event_id,
    )
    return _append(actor=actor, organisation=organisation, fields=spec.fields, lots=spec.lots)


# --- Domain helpers -------------------------------------------------------------------------


def _check_farmer(organisation: Organisation, farmer: MemberFarmer, plot: Plot | None) -> None:
    if farmer.organisation_id != organisation.pk:
        raise ValidationFailed("This member farmer belongs to another organisation.", fields={"farmer": "Unknown."})
    if plot is not None and plot.farmer_id != farmer.pk:
        raise ValidationFailed("This plot is not the farmer's.", fields={"plot": "Choose one of the farmer's plots."})


def _origin(farmer: MemberFarmer, plot: Plot | None) -> list[Party]:
    parties: list[Party] = [("owning_party", identifiers.farmer_uri(farmer))]
    if plot is not None:
        parties.append(("location", identifiers.plot_uri(plot)))
    return parties


def _quality_reports(*, grade: str = "", moisture_percent: Decimal | float | None = None) -> list[dict]:
    reports: list[dict] = []
    if grade:
        reports.append({"type": identifiers.vocabulary_uri("grade"), "stringValue": str(grade)})
    if moisture_percent is not None:
        value = Decimal(str(moisture_percent))
        if not (0 <= value <= 100):
            raise ValidationFailed(
                "Moisture is a percentage between 0 and 100.", fields={"moisture_percent": "Out of range."}
            )
        reports.append(
            {"type": identifiers.vocabulary_uri("moistureContent"), "value": float(value), "uom": MOISTURE_UOM}
        )
    return reports


@transaction.atomic
def harvest_recorded(
    *,
    actor: User | None,
    organisation: Organisation,
    produce_uri: str,
    grams: int | None,
    farmer: MemberFarmer,
    plot: Plot | None = None,
    event_time: datetime | None = None,
) -> Event:
    """ObjectEvent ADD commissioning: the farmer's harvest on the plot."""
    _check_farmer(organisation, farmer, plot)
    place = identifiers.plot_uri(plot) if plot is not None else ""
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.OBJECT,
        action=Action.ADD,
        biz_step="commissioning",
        disposition="active",
        event_time=event_time,
        read_point=place,
        biz_location=place,
        lots=[(produce_uri, grams)],
        sources=_origin(farmer, plot),
    )


@transaction.atomic
def delivery_recorded(
    *,
    actor: User | None,
    organisation: Organisation,
    delivery_uri: str,
    grams: int,
    farmer: MemberFarmer,
    plot: Plot | None = None,
    location: str = "",
    grade: str = "",
    moisture_percent: Decimal | float | None = None,
    receipt_number: str = "",
    event_time: datetime | None = None,
) -> Event:
    """ObjectEvent OBSERVE receiving: a member's delivery to the cooperative (not CBV `collecting`)."""
    _check_farmer(organisation, farmer, plot)
    if grams is None:
        raise ValidationFailed("A delivery needs its weight.", fields={"grams": "Weigh the delivery."})
    location = location or identifiers.location_uri(organisation)
    reports = _quality_reports(grade=grade, moisture_percent=moisture_percent)
    transactions = [("recadv", identifiers.receipt_uri(receipt_number))] if receipt_number else []
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.OBJECT,
        action=Action.OBSERVE,
        biz_step="receiving",
        disposition="in_progress",
        event_time=event_time,
        read_point=location,
        biz_location=location,
        lots=[(delivery_uri, grams)],
        sources=_origin(farmer, plot),
        destinations=[("owning_party", identifiers.organisation_uri(organisation)), ("location", location)],
        biz_transactions=transactions,
        sensor_elements=[{"sensorReport": reports}] if reports else [],
    )


@transaction.atomic
def lots_transformed(
    *,
    actor: User | None,
    organisation: Organisation,
    inputs: Sequence[LotQuantity],
    outputs: Sequence[LotQuantity],
    location: str = "",
    biz_step: str = "commissioning",
    disposition: str = "active",
    transformation_id: str = "",
    event_time: datetime | None = None,
) -> Event:
    """TransformationEvent: bulking deliveries into a lot, splitting a lot, or merging lots (grams per lot)."""
    location = location or identifiers.location_uri(organisation)
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.TRANSFORMATION,
        action="",
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        read_point=location,
        biz_location=location,
        inputs=inputs,
        outputs=outputs,
        transformation_id=transformation_id,
    )


@transaction.atomic
def inspection_recorded(
    *,
    actor: User | None,
    organisation: Organisation,
    lot_uri: str,
    conformant: bool,
    grams: int | None = None,
    grade: str = "",
    moisture_percent: Decimal | float | None = None,
    reports: Sequence[Mapping] = (),
    location: str = "",
    event_time: datetime | None = None,
) -> Event:
    """ObjectEvent OBSERVE inspecting; `reports` are extra EPCIS sensorReport objects."""
    location = location or identifiers.location_uri(organisation)
    all_reports = _quality_reports(grade=grade, moisture_percent=moisture_percent) + [dict(r) for r in reports]
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.OBJECT,
        action=Action.OBSERVE,
        biz_step="inspecting",
        disposition="conformant" if conformant else "non_conformant",
        event_time=event_time,
        read_point=location,
        biz_location=location,
        lots=[(lot_uri, grams)],
        sensor_elements=[{"sensorReport": all_reports}] if all_reports else [],
    )


@transaction.atomic
def storage_recorded(
    *,
    actor: User | None,
    organisation: Organisation,
    lot_uri: str,
    location: str,
    grams: int | None = None,
    disposition: str = "sellable_not_accessible",
    event_time: datetime | None = None,
) -> Event:
    """ObjectEvent OBSERVE storing at `location` (a warehouse: `identifiers.location_uri(org, code)`)."""
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.OBJECT,
        action=Action.OBSERVE,
        biz_step="storing",
        disposition=disposition,
        event_time=event_time,
        read_point=location,
        biz_location=location,
        lots=[(lot_uri, grams)],
    )


@transaction.atomic
def sale_recorded(
    *,
    actor: User | None,
    organisation: Organisation,
    order_number: str | int,
    lots: Sequence[LotQuantity],
    buyer: Organisation,
    event_time: datetime | None = None,
) -> Event:
    """TransactionEvent ADD: the seller (`organisation`) ties lots to the buyer's order."""
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.TRANSACTION,
        action=Action.ADD,
        event_time=event_time,
        biz_location=identifiers.location_uri(organisation),
        lots=lots,
        biz_transactions=[("po", identifiers.order_uri(order_number))],
        sources=[("owning_party", identifiers.organisation_uri(organisation))],
        destinations=[("owning_party", identifiers.organisation_uri(buyer))],
    )


@transaction.atomic
def dispatch_recorded(
    *,
    actor: User | None,
    organisation: Organisation,
    order_number: str | int,
    lots: Sequence[LotQuantity],
    destination: Organisation,
    location: str = "",
    event_time: datetime | None = None,
) -> Event:
    """ObjectEvent OBSERVE shipping, in transit from the seller (`organisation`) to `destination`."""
    location = location or identifiers.location_uri(organisation)
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.OBJECT,
        action=Action.OBSERVE,
        biz_step="shipping",
        disposition="in_transit",
        event_time=event_time,
        read_point=location,
        lots=lots,
        biz_transactions=[("po", identifiers.order_uri(order_number))],
        sources=[("owning_party", identifiers.organisation_uri(organisation)), ("location", location)],
        destinations=[
            ("owning_party", identifiers.organisation_uri(destination)),
            ("location", identifiers.location_uri(destination)),
        ],
    )


@transaction.atomic
def receipt_recorded(
    *,
    actor: User | None,
    organisation: Organisation,
    order_number: str | int,
    lots: Sequence[LotQuantity],
    source: Organisation,
    receipt_number: str = "",
    location: str = "",
    disposition: str = "in_progress",
    event_time: datetime | None = None,
) -> Event:
    """ObjectEvent OBSERVE receiving by the buyer (`organisation`) of goods from `source`."""
    location = location or identifiers.location_uri(organisation)
    transactions: list[Party] = [("po", identifiers.order_uri(order_number))]
    if receipt_number:
        transactions.append(("recadv", identifiers.receipt_uri(receipt_number)))
    return event_record(
        actor=actor,
        organisation=organisation,
        event_type=EventType.OBJECT,
        action=Action.OBSERVE,
        biz_step="receiving",
        disposition=disposition,
        event_time=event_time,
        read_point=location,
        biz_location=location,
        lots=lots,
        biz_transactions=transactions,
        sources=[
            ("owning_party", identifiers.organisation_uri(source)),
            ("location", identifiers.location_uri(source)),
        ],
        destinations=[("owning_party", identifiers.organisation_uri(organisation)), ("location", location)],
    )


# --- Corrections --------------------------------------------------------------------------

CORRECTABLE = frozenset(
    {
        "action",
        "biz_step",
        "disposition",
        "event_time",
        "event_time_zone_offset",
        "read_point",
        "biz_location",
        "lots",
        "inputs",
        "outputs",
        "parent_id",
        "transformation_id",
        "sources",
        "destinations",
        "biz_transactions",
        "sensor_elements",
        "ilmd",
    }
)


def _event_arguments(event: Event) -> dict[str, Any]:
    """The event_record arguments that would record `event` again."""
    lots = sorted(event.lots.all(), key=lambda lot: (lot.role, lot.position))
    by_role: dict[str, list[LotQuantity]] = {role: [] for role in LotRole.values}
    for lot in lots:
        by_role[lot.role].append((lot.lot_uri, lot.grams))
    return {
        "event_type": event.event_type,
        "action": event.action,
        "biz_step": event.biz_step,
        "disposition": event.disposition,
        "event_time": event.event_time,
        "event_time_zone_offset": event.event_time_zone_offset,
        "read_point": event.read_point,
        "biz_location": event.biz_location,
        "lots": by_role[LotRole.OBSERVED] + by_role[LotRole.CHILD],
        "inputs": by_role[LotRole.INPUT],
        "outputs": by_role[LotRole.OUTPUT],
        "parent_id": event.parent_id,
        "transformation_id": event.transformation_id,
        "sources": [(item["type"], item["source"]) for item in event.source_list],
        "destinations": [(item["type"], item["destination"]) for item in event.destination_list],
        "biz_transactions": [(item.get("type", ""), item["bizTransaction"]) for item in event.biz_transaction_list],
        "sensor_elements": event.sensor_element_list,
        "ilmd": event.ilmd,
    }


@transaction.atomic
def error_declared(
    *,
    actor: User | None,
    organisation: Organisation,
    event_id: str,
    reason: str,
    corrective: Mapping[str, Any] | None = None,
    corrective_event_ids: Sequence[str] = (),
    declaration_time: datetime | None = None,
) -> ErrorCorrection:
    """Declare an event erroneous and, with `corrective`, record its correction right after (never edit)."""
    _lock_head(organisation)  # taken first: the "already declared?" check and the append are one step
    original = (
        Event.objects.filter(organisation_id=organisation.pk, event_id=event_id)
        .select_related("declares")
        .prefetch_related("lots")
        .first()
    )
    if original is None:
        raise NotFound("No such event in this organisation's records.")
    if original.declares_id is not None:
        raise ValidationFailed("An error declaration cannot itself be declared erroneous.")
    if Event.objects.filter(declares=original).exists():
        raise Conflict("This event has already been declared erroneous.")
    errors = _Errors()
    reason = (reason or "").strip()
    if reason not in ERROR_REASONS and not (identifiers.is_uri(reason) and not _CBV_NAMESPACE_RE.match(reason)):
        errors.add("reason", "The reason is did_not_occur, incorrect_data, or a URI of your own vocabulary.")
    linked = [_uri(value, "corrective_event_ids", errors, required=True) for value in corrective_event_ids]
    errors.raise_if_any()
    known = set(
        Event.objects.filter(organisation_id=organisation.pk, event_id__in=linked).values_list("event_id", flat=True)
    )
    missing = [value for value in linked if value not in known]
    if missing:
        raise NotFound(gettext("No such corrective event: %(missing)s.") % {"missing": ", ".join(missing)})

    spec = None
    if corrective is not None:
        unknown = set(corrective) - CORRECTABLE
        if unknown:
            raise ValidationFailed(
                gettext("These cannot be changed in a correction: %(unknown)s.")
                % {"unknown": ", ".join(sorted(unknown))},
                fields={
                    "corrective": gettext("Allowed: %(correctable)s.") % {"correctable": ", ".join(sorted(CORRECTABLE))}
                },
            )
        arguments = {**_event_arguments(original), **corrective, "event_id": new_event_id()}
        spec = _build_spec(**arguments)
        linked = [spec.fields["event_id"], *linked]

    declared_at = declaration_time or timezone.now()
    if timezone.is_naive(declared_at):
        raise ValidationFailed("Give the declaration time with its time zone.")
    declaration = _append(
        actor=actor,
        organisation=organisation,
        declares=original,
        fields={
            "event_id": new_event_id(),
            "event_type": original.event_type,
            "action": original.action,
            "event_time": original.event_time,
            "event_time_zone_offset": original.event_time_zone_offset,
            "declaration_time": declared_at,
            "error_reason": reason,
            "corrective_event_ids": linked,
        },
        lots=[],
    )
    corrective_event = None
    if spec is not None:
        corrective_event = _append(actor=actor, organisation=organisation, fields=spec.fields, lots=spec.lots)
    return ErrorCorrection(declaration=declaration, corrective=corrective_event)


# --- Upstream due-diligence statements ----------------------------------------------------------

STATEMENT_REFERENCE = re.compile(r"^[A-Za-z0-9-]{1,14}$")


@transaction.atomic
def statement_reference_add(
    *, actor: User, organisation_id: int, subject: str, reference_number: str, verification_number: str
) -> StatementReference:
    """Record an upstream statement's reference and verification numbers for a lot or order of the organisation.

    The caller has checked that the organisation may see `subject`. Recording the same reference again returns
    the first record unchanged (a double submit does nothing)."""
    reference_number = (reference_number or "").strip().upper()
    verification_number = (verification_number or "").strip()
    errors: dict[str, str] = {}
    if not STATEMENT_REFERENCE.match(reference_number):
        errors["reference_number"] = "Give the statement's reference number: 1 to 14 letters, digits or dashes."
    if not 5 <= len(verification_number) <= 35 or "\x00" in verification_number:
        errors["verification_number"] = "Give the statement's verification number: 5 to 35 characters."
    if errors:
        raise ValidationFailed(" ".join(errors.values()), fields=errors)
    reference, created = StatementReference.objects.get_or_create(
        organisation_id=organisation_id,
        subject=subject,
        reference_number=reference_number,
        defaults={"verification_number": verification_number, "recorded_by": actor},
    )
    if not created and reference.verification_number != verification_number:
        raise Conflict(
            gettext("Statement %(reference_number)s is already recorded with another verification number.")
            % {"reference_number": reference_number},
            fields={"verification_number": "Differs from the one recorded."},
        )
    if created:
        audit_record(
            actor=actor, action="statement_reference.added", subject=reference, organisation_id=organisation_id,
            data={"subject": subject, "reference_number": reference_number},
        )  # fmt: skip
    return reference
