"""How the catalogue names its things in the event store, and how its services record their physical steps.

The identifiers are the ones `orders` uses for the same lots (`traceability.identifiers.lot_uri` with the lot's
organisation and code), so a sale, dispatch or receipt recorded by orders joins the lot genealogy recorded here.
Every `*_traced` helper is called by a catalogue service inside its own transaction: the event commits or rolls
back with the change it records.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from catalogue.models import Delivery, Location, Lot
from marketplace.core.errors import ValidationFailed
from marketplace.organisations.models import Organisation, User
from traceability import identifiers
from traceability import services as trace
from traceability.selectors import origin_event_id

# The reason a reversed delivery's receiving event is declared erroneous: the delivery, as recorded, did not
# happen (wrong member, wrong weight, recorded twice); the correct one, if any, is recorded as a new delivery.
REVERSAL_REASON = "did_not_occur"


def lot_identifier(lot: Lot, organisation: Organisation | None = None) -> str:
    return identifiers.lot_uri(organisation=organisation or lot.organisation, lot_code=lot.code)


def delivery_identifier(delivery: Delivery, organisation: Organisation | None = None) -> str:
    return identifiers.delivery_uri(
        organisation=organisation or delivery.organisation, reference=delivery.receipt_number
    )


def location_identifier(location: Location | None, organisation: Organisation) -> str:
    """A collection point or warehouse as a sub-site of its organisation (the organisation's site if the code
    cannot be a GS1 GLN extension)."""
    if location is None:
        return identifiers.location_uri(organisation)
    try:
        return identifiers.location_uri(organisation, location.code)
    except ValidationFailed:
        return identifiers.location_uri(organisation)


def day_time(day: datetime.date) -> datetime.datetime:
    """An event time for something known only by its day: now for today, else noon of that day (local time)."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12, 0)))


def delivery_traced(*, actor: User, organisation: Organisation, delivery: Delivery) -> None:
    trace.delivery_recorded(
        actor=actor,
        organisation=organisation,
        delivery_uri=delivery_identifier(delivery, organisation),
        grams=delivery.net_grams,
        farmer=delivery.farmer,
        plot=delivery.plot,
        location=location_identifier(delivery.collection_point, organisation),
        grade=delivery.grade.code,
        moisture_percent=delivery.moisture_pct,
        receipt_number=delivery.receipt_number,
        event_time=day_time(delivery.delivered_on),
    )


def delivery_reversal_traced(*, actor: User, organisation: Organisation, delivery: Delivery) -> None:
    """Declare the reversed delivery's receiving event erroneous, without a corrective event: a reversal takes
    the whole delivery back. Deliveries recorded before the event store was wired have no event to declare."""
    event_id = origin_event_id(organisation_id=organisation.pk, lot_uri=delivery_identifier(delivery, organisation))
    if event_id is not None:
        trace.error_declared(actor=actor, organisation=organisation, event_id=event_id, reason=REVERSAL_REASON)


def transformation_traced(
    *,
    actor: User,
    organisation: Organisation,
    inputs: list[tuple[str, int]],
    outputs: list[tuple[Lot, int]],
    location: Location,
) -> None:
    trace.lots_transformed(
        actor=actor,
        organisation=organisation,
        inputs=inputs,
        outputs=[(lot_identifier(lot, organisation), grams) for lot, grams in outputs],
        location=location_identifier(location, organisation),
    )


def storage_traced(*, actor: User, organisation: Organisation, lot: Lot, location: Location) -> None:
    trace.storage_recorded(
        actor=actor,
        organisation=organisation,
        lot_uri=lot_identifier(lot, organisation),
        location=location_identifier(location, organisation),
        grams=lot.quantity_grams,
    )
