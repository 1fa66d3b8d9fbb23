"""Reads for the event store; every selector that serves a person takes the viewer (house rule 2).

A viewer sees the events of the organisations where their role allows VIEW, and nothing else: a lot or order
known only to another organisation is "not found", never a hint that it exists. The `*_in` variants take
organisation ids (None for all) and serve management commands and tasks run by the operator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from urllib.parse import quote

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext

from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.organisations.models import User
from marketplace.organisations.roles import Capability, role_can
from traceability import identifiers
from traceability.genealogy import Trace, trace_backward, trace_forward
from traceability.models import Action, Event, EventLot, EventType, LotRole


def visible_organisation_ids(*, viewer: User) -> list[int]:
    """The organisations whose events the viewer may read."""
    if not viewer.is_authenticated:
        return []
    return sorted(m.organisation_id for m in viewer.memberships.all() if role_can(m.role, Capability.VIEW))


def _scope(viewer: User, organisation_id: int | None) -> list[int]:
    ids = visible_organisation_ids(viewer=viewer)
    if organisation_id is not None:
        if organisation_id not in ids:
            raise NotFound("No such organisation.")
        return [organisation_id]
    return ids


def _events(organisation_ids: Iterable[int] | None) -> QuerySet[Event]:
    queryset = Event.objects.select_related("declares").prefetch_related("lots", "declares__lots")
    if organisation_ids is not None:
        queryset = queryset.filter(organisation_id__in=list(organisation_ids))
    return queryset


def lot_identifier_resolve(*, value: str, organisation_ids: list[int] | None) -> str:
    """A lot URI from a URI or a bare lot code (the last part of a lot URI) known to these organisations."""
    value = (value or "").strip()
    if not value:
        raise ValidationFailed("Name a lot by its URI or its code.", fields={"lot": "Required."})
    if value.startswith(("http://", "https://", "urn:")):
        return value
    lots = EventLot.objects.filter(lot_uri__endswith="/" + quote(value, safe=""))
    if organisation_ids is not None:
        lots = lots.filter(event__organisation_id__in=organisation_ids)
    uris = set(lots.values_list("lot_uri", flat=True))
    candidates = sorted(uri for uri in uris if identifiers.lot_code_of(uri) == value)
    if not candidates:
        raise NotFound(gettext("No lot with code %(value)s in your records.") % {"value": repr(value)})
    if len(candidates) > 1:
        raise ValidationFailed(
            gettext("Several lots have the code %(value)s; give the full identifier.") % {"value": repr(value)},
            fields={"lot": candidates},
        )
    return candidates[0]


def parse_since(value: str | date | datetime) -> datetime:
    """A date or date-time (ISO 8601) as an aware date-time; a date means its midnight UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    else:
        invalid = ValidationFailed(
            gettext("%(value)s is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS+HH:MM).")
            % {"value": repr(value)},
            fields={"since": "Use ISO 8601, for example 2026-01-31."},
        )
        try:  # well-formed but impossible (9999-99-99, 2026-02-30) raises ValueError
            moment = parse_datetime(value.strip()) if "T" in value or " " in value.strip() else None
            day = parse_date(value.strip()) if moment is None else None
        except ValueError:
            raise invalid from None
        if moment is None and day is None:
            raise invalid
        moment = moment or datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    try:
        moment.astimezone(UTC)  # the database stores UTC: 0001-01-01T00:00+01:00 has no UTC time
    except OverflowError:
        raise ValidationFailed(
            gettext("%(value)s is out of range.") % {"value": repr(value)},
            fields={"since": "Give a date between the years 1 and 9999."},
        ) from None
    return moment


def origin_event_id(*, organisation_id: int, lot_uri: str) -> str | None:
    """The event ID of the live receiving (or commissioning) event that brought `lot_uri` into the
    organisation's records, for the service that declares it erroneous; None when there is none."""
    return (
        Event.objects.filter(
            organisation_id=organisation_id,
            declares__isnull=True,
            error_declarations__isnull=True,
            biz_step__in=("receiving", "commissioning"),
            lots__lot_uri=lot_uri,
            lots__role=LotRole.OBSERVED,
        )
        .order_by("sequence")
        .values_list("event_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Sale:
    """An order as the sale events record it: who sold, to which party, and the net grams of each lot
    (TransactionEvent ADD less DELETE; events declared erroneous left out)."""

    order_number: str
    seller_id: int
    buyers: tuple[str, ...]  # owning-party URIs of the destination
    lots: dict[str, int]

    @property
    def grams(self) -> int:
        return sum(self.lots.values())


def sales_in(*, lot_uri: str | None = None, order_number: str | None = None) -> list[Sale]:
    """The sales that name a lot, or the sale of one order (every organisation's: callers scope the result)."""
    if (lot_uri is None) == (order_number is None):
        raise ValueError("give a lot or an order")
    events = Event.objects.filter(
        event_type=EventType.TRANSACTION, declares__isnull=True, error_declarations__isnull=True
    ).prefetch_related("lots")
    if order_number is not None:
        events = events.filter(biz_transaction_list__contains=[{"bizTransaction": identifiers.order_uri(order_number)}])
    else:
        events = events.filter(lots__lot_uri=lot_uri).distinct()
    sales: dict[tuple[str, int], dict] = {}
    for event in events.order_by("sequence", "pk"):
        sign = -1 if event.action == Action.DELETE else 1
        for item in event.biz_transaction_list:
            number = identifiers.parse_order(item.get("bizTransaction", "")) if item.get("type") == "po" else None
            if number is None or (order_number is not None and number != str(order_number)):
                continue
            entry = sales.setdefault((number, event.organisation_id), {"buyers": set(), "lots": {}})
            entry["buyers"].update(d["destination"] for d in event.destination_list if d.get("type") == "owning_party")
            for lot in event.lots.all():
                if lot.grams is not None:
                    entry["lots"][lot.lot_uri] = entry["lots"].get(lot.lot_uri, 0) + sign * lot.grams
    return [
        Sale(number, seller, tuple(sorted(entry["buyers"])), {u: g for u, g in entry["lots"].items() if g > 0})
        for (number, seller), entry in sorted(sales.items())
    ]


# --- Genealogy -----------------------------------------------------------------------------


def trace_backward_in(*, identifier: str, organisation_ids: list[int] | None) -> Trace:
    if identifiers.parse_order(identifier) is None:
        identifier = lot_identifier_resolve(value=identifier, organisation_ids=organisation_ids)
    trace = trace_backward(identifier=identifier, organisation_ids=organisation_ids)
    if not trace.found:
        raise NotFound("Nothing is recorded about this lot or order in your records.")
    return trace


def trace_forward_in(*, identifier: str, organisation_ids: list[int] | None) -> Trace:
    trace = trace_forward(identifier=identifier, organisation_ids=organisation_ids)
    if not trace.found:
        raise NotFound("Nothing is recorded about this delivery, farmer or plot in your records.")
    return trace


def lot_trace_backward(*, viewer: User, identifier: str, organisation_id: int | None = None) -> Trace:
    """A lot (URI or code) or an order (`order:<n>`) traced back to deliveries, farmers and plots."""
    return trace_backward_in(identifier=identifier, organisation_ids=_scope(viewer, organisation_id))


def lot_trace_forward(*, viewer: User, identifier: str, organisation_id: int | None = None) -> Trace:
    """A delivery or lot URI, or a farmer's or plot's URI, traced forward to every lot and order."""
    return trace_forward_in(identifier=identifier, organisation_ids=_scope(viewer, organisation_id))


def trace_events(trace: Trace, *, summary: bool = False) -> list[Event]:
    """The live events a trace went through, in the order they happened, with their lots. `summary` loads only
    what a list of steps shows (type, action, step, disposition, time, places), not the parties and sensor data."""
    events = Event.objects.filter(pk__in=trace.event_pks)
    if summary:
        events = events.only(
            "pk",
            "organisation_id",
            "event_type",
            "action",
            "biz_step",
            "disposition",
            "event_time",
            "read_point",
            "biz_location",
        )
    lots = Prefetch("lots", queryset=EventLot.objects.only("pk", "event_id", "role", "position", "lot_uri", "grams"))
    return list(events.prefetch_related(lots).order_by("event_time", "pk"))


# --- EPCIS export selection -------------------------------------------------------------------


def _with_corrections(organisation_ids: list[int] | None, events: list[Event], lot_uris: set[str]) -> list[Event]:
    """Add what EPCIS readers need to judge the events: erroneous events about the same lots, their
    declarations, and the corrective events those declarations name."""
    chosen = {event.pk: event for event in events}
    if lot_uris:
        erroneous = _events(organisation_ids).filter(
            declares__isnull=True, error_declarations__isnull=False, lots__lot_uri__in=lot_uris
        )
        chosen.update({event.pk: event for event in erroneous})
    declarations = list(_events(organisation_ids).filter(declares_id__in=list(chosen)))
    chosen.update({event.pk: event for event in declarations})
    corrective_ids = {value for d in declarations for value in d.corrective_event_ids}
    if corrective_ids:
        chosen.update({e.pk: e for e in _events(organisation_ids).filter(event_id__in=corrective_ids)})
    return sorted(chosen.values(), key=lambda event: (event.record_time, event.pk))


def epcis_events_in(
    *,
    organisation_ids: list[int] | None,
    lot: str | None = None,
    order: str | None = None,
    since: datetime | None = None,
) -> list[Event]:
    """Events for an export: a lot's history, an order's history (both back to the deliveries), or all
    events recorded since a moment. Exactly one of lot, order and since."""
    if sum(value is not None and value != "" for value in (lot, order, since)) != 1:
        raise ValidationFailed("Give exactly one of lot, order or since.", fields={"lot": "Choose one filter."})
    if since is not None:
        events = list(_events(organisation_ids).filter(record_time__gte=since).order_by("record_time", "pk"))
        return events
    if order is not None:
        number = identifiers.parse_order(order) or str(order).strip()
        identifier = f"{identifiers.ORDER_PREFIX}{number}"
    else:
        identifier = lot_identifier_resolve(value=lot or "", organisation_ids=organisation_ids)
    trace = trace_backward_in(identifier=identifier, organisation_ids=organisation_ids)
    live = list(_events(organisation_ids).filter(pk__in=trace.event_pks))
    lot_uris = {lot.lot_uri for event in live for lot in event.lots.all()}
    return _with_corrections(organisation_ids, live, lot_uris)


def epcis_events(
    *,
    viewer: User,
    lot: str | None = None,
    order: str | None = None,
    since: datetime | None = None,
    organisation_id: int | None = None,
) -> list[Event]:
    """The events of the viewer's organisations for an EPCIS export (see `epcis_events_in`)."""
    return epcis_events_in(organisation_ids=_scope(viewer, organisation_id), lot=lot, order=order, since=since)


def event_list(*, viewer: User, organisation_id: int | None = None) -> QuerySet[Event]:
    """The viewer's organisations' events, newest first."""
    return _events(_scope(viewer, organisation_id)).order_by("-record_time", "-pk")
