"""Lots: bulking deliveries, splitting, merging, moving and status changes.

Each physical step has its own service (lot_bulk, lot_split, lot_merge, lot_move, and the dispatch
transition in lot_status_transition). A split or a merge closes its source lots and makes new ones, so a
lot's quantity and member shares never change once written; the closed lot keeps them as history.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import Delivery, Listing, Location, Lot, LotContribution, LotIntake, LotLineage
from catalogue.services._common import (
    acting_organisation,
    fail,
    kg,
    location_of,
    next_number,
    organisation_prefix,
)
from catalogue.tracing import delivery_identifier, lot_identifier, storage_traced, transformation_traced
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.money import allocate_largest_remainder
from marketplace.core.services import audit_record
from marketplace.core.transitions import TransitionTable, transition_locked
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability

S = Lot.Status
LOT_TRANSITIONS = TransitionTable(
    "lot",
    {
        S.OPEN: {S.LISTED, S.CLOSED},
        S.LISTED: {S.OPEN, S.RESERVED, S.SOLD},
        S.RESERVED: {S.LISTED, S.SOLD},
        S.SOLD: {S.DISPATCHED},
        S.DISPATCHED: {S.CLOSED},
        S.CLOSED: set(),
    },
)
OPEN_LISTING_STATUSES = (Listing.Status.ACTIVE, Listing.Status.PAUSED)


def split_shares(shares: list[int], parts: list[int]) -> list[list[int]]:
    """Cut member shares into parts. Returns matrix[part][share]: every part gets exactly its size and every
    share is handed out exactly. Each part but the last takes from what remains of every share in proportion
    (largest remainder, ties to the earlier share); the last part takes what is left."""
    if sum(shares) != sum(parts):
        raise ValueError("the parts must add up to the shares")
    if any(s <= 0 for s in shares) or any(p <= 0 for p in parts):
        raise ValueError("shares and parts must be positive")
    remaining = list(shares)
    matrix = []
    for index, part in enumerate(parts):
        row = list(remaining) if index == len(parts) - 1 else allocate_largest_remainder(part, remaining)
        remaining = [left - taken for left, taken in zip(remaining, row, strict=True)]
        matrix.append(row)
    return matrix


def _lot_code(organisation: Organisation) -> str:
    year = timezone.localdate().year
    return f"{organisation_prefix(organisation)}-{year}-{next_number(organisation.pk, 'lot', year):04d}"


def _lot_create(
    *, actor: User, organisation: Organisation, source: Lot | Delivery, quantity_grams: int, origin: str,
    storage_location: Location,
) -> Lot:  # fmt: skip
    lot = Lot.objects.create(
        organisation=organisation,
        code=_lot_code(organisation),
        commodity_id=source.commodity_id,
        grade_id=source.grade_id,
        quantity_grams=quantity_grams,
        status=S.OPEN,
        origin=origin,
        storage_location=storage_location,
        created_by=actor,
    )
    audit_record(
        actor=actor, action="lot.created", subject=lot, organisation_id=organisation.pk, to_status=lot.status,
        data={"code": lot.code, "origin": origin, "quantity_grams": quantity_grams},
    )  # fmt: skip
    return lot


def _lock_lot(actor: User, lot_id: int, capability: Capability = Capability.DECIDE) -> tuple[Lot, Organisation]:
    lot = Lot.objects.select_for_update().filter(pk=lot_id).first()
    if lot is None:
        raise NotFound(gettext("No such lot."))
    try:
        organisation = acting_organisation(actor, lot.organisation_id, capability)
    except NotFound:
        raise NotFound(gettext("No such lot.")) from None
    return lot, organisation


def _storage(organisation: Organisation, location_id: int | None, field: str) -> Location:
    location = location_of(organisation, location_id, purpose="storage")
    if location is None:
        fail({field: gettext("Choose one of your cooperative's active warehouses.")})
    return location  # type: ignore[return-value]


def lot_transition_locked(*, actor: User | None, lot: Lot, to_status: str, reason: str = "") -> Lot:
    """Change the status of a lot the caller has locked; checks the transition table and writes the audit."""

    def check_listings(locked: Lot) -> None:
        open_listings = Listing.objects.filter(lot=locked, status__in=OPEN_LISTING_STATUSES)
        if to_status == S.LISTED and not open_listings.exists():
            raise Conflict(
                gettext("Lot %(code)s has no active listing; create a listing to list it.") % {"code": locked.code}
            )
        if to_status == S.OPEN and open_listings.exists():
            raise Conflict(
                gettext("Lot %(code)s still has open listings; withdraw them first.") % {"code": locked.code}
            )
        if to_status == S.CLOSED:
            locked.closed_at = timezone.now()

    return transition_locked(
        obj=lot, table=LOT_TRANSITIONS, to_status=to_status, actor=actor, reason=reason,
        organisation_id=lot.organisation_id, apply=check_listings, update_fields=["closed_at"],
        label=f"Lot {lot.code}",
    )  # fmt: skip


@transaction.atomic
def lot_status_transition(*, actor: User, lot_id: int, to_status: str, reason: str = "") -> Lot:
    lot, _ = _lock_lot(actor, lot_id)
    if to_status not in S.values:
        fail({"status": gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(S.values)}})
    if to_status == S.CLOSED and lot.status == S.OPEN and not reason.strip():
        fail({"reason": gettext("Say why an unsold lot is closed (e.g. lost or spoiled).")})
    return lot_transition_locked(actor=actor, lot=lot, to_status=to_status, reason=reason)


@transaction.atomic
def lot_bulk(*, actor: User, organisation_id: int, delivery_ids: list[int], storage_location_id: int) -> Lot:
    """Bulk members' deliveries of one commodity and grade into a new lot; each delivery becomes a member share."""
    organisation = acting_organisation(actor, organisation_id, Capability.DECIDE, kind=Organisation.Kind.COOPERATIVE)
    ids = sorted(set(delivery_ids))
    if not ids:
        fail({"deliveries": gettext("Choose at least one delivery to bulk.")})
    location = _storage(organisation, storage_location_id, "storage_location")
    deliveries = list(
        Delivery.objects.select_for_update(of=("self",))
        .select_related("commodity", "grade")
        .filter(pk__in=ids, organisation=organisation)
        .order_by("pk")
    )
    missing = sorted(set(ids) - {d.pk for d in deliveries})
    if missing:
        fail(
            {
                "deliveries": gettext("Your cooperative has no deliveries with ids %(missing)s.")
                % {"missing": ", ".join(map(str, missing))}
            }
        )
    problems = [
        gettext("%(receipt_number)s is a reversal entry.") % {"receipt_number": d.receipt_number}
        for d in deliveries
        if d.kind != Delivery.Kind.DELIVERY
    ]
    problems += [
        gettext("%(receipt_number)s was reversed.") % {"receipt_number": receipt}
        for receipt in Delivery.objects.filter(reverses__in=ids).values_list("reverses__receipt_number", flat=True)
    ]
    problems += [
        gettext("%(receipt_number)s is already in lot %(code)s.")
        % {"receipt_number": intake.delivery.receipt_number, "code": intake.lot.code}
        for intake in LotIntake.objects.select_related("delivery", "lot").filter(delivery__in=ids)
    ]
    if problems:
        fail({"deliveries": " ".join(problems)})
    groups: dict[tuple[int, int], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        groups[(delivery.commodity_id, delivery.grade_id)].append(delivery)
    if len(groups) > 1:
        described = "; ".join(
            f"{members[0].commodity.name} {members[0].grade.name}: {', '.join(d.receipt_number for d in members)}"
            for members in groups.values()
        )
        fail(
            {
                "deliveries": gettext(
                    "A lot holds one commodity and grade; these deliveries are of several (%(described)s)."
                )
                % {"described": described}
            }
        )

    lot = _lot_create(
        actor=actor, organisation=organisation, source=deliveries[0], origin=Lot.Origin.BULK,
        quantity_grams=sum(d.net_grams for d in deliveries), storage_location=location,
    )  # fmt: skip
    LotIntake.objects.bulk_create([LotIntake(delivery=d, lot=lot, grams=d.net_grams) for d in deliveries])
    transformation_traced(
        actor=actor, organisation=organisation, location=location, outputs=[(lot, lot.quantity_grams)],
        inputs=[(delivery_identifier(d, organisation), d.net_grams) for d in deliveries],
    )  # fmt: skip
    LotContribution.objects.bulk_create(
        [LotContribution(lot=lot, farmer_id=d.farmer_id, delivery=d, grams=d.net_grams) for d in deliveries]
    )
    audit_record(
        actor=actor, action="lot.bulked", subject=lot, organisation_id=organisation.pk,
        data={"deliveries": [d.receipt_number for d in deliveries], "quantity_grams": lot.quantity_grams},
    )  # fmt: skip
    return lot


@transaction.atomic
def lot_split(
    *, actor: User, lot_id: int, parts_grams: list[int], storage_location_ids: list[int | None] | None = None
) -> list[Lot]:
    """Split an open lot into new lots of the given sizes; what the parts leave over becomes one more lot.
    Member shares follow exactly (largest remainder where a part cuts a share). The source lot is closed."""
    lot, organisation = _lock_lot(actor, lot_id)
    if lot.status != S.OPEN:
        raise Conflict(
            gettext("Lot %(code)s is %(status)s; only open lots can be split.")
            % {"code": lot.code, "status": lot.get_status_display().lower()}
        )
    if not parts_grams:
        fail({"parts": gettext("Give the size of at least one part.")})
    errors = {
        f"parts.{i}": gettext("Part %(number)s is %(size)s; every part must be more than 0 kg.")
        % {"number": i + 1, "size": kg(p)}
        for i, p in enumerate(parts_grams)
        if p <= 0
    }
    fail(errors)
    asked = sum(parts_grams)
    if asked > lot.quantity_grams:
        fail(
            {
                "parts": gettext("The parts add up to %(asked)s, but lot %(code)s holds %(quantity_grams)s.")
                % {"asked": kg(asked), "code": lot.code, "quantity_grams": kg(lot.quantity_grams)}
            }
        )
    parts = list(parts_grams)
    locations_ids = list(storage_location_ids or [])
    if len(locations_ids) > len(parts):
        fail({"storage_locations": gettext("Give at most one storage location per part.")})
    if asked < lot.quantity_grams:
        parts.append(lot.quantity_grams - asked)
    if len(parts) < 2:
        fail(
            {
                "parts": gettext("Lot %(code)s holds %(quantity_grams)s; give parts smaller than the whole lot.")
                % {"code": lot.code, "quantity_grams": kg(lot.quantity_grams)}
            }
        )
    locations = []
    for index in range(len(parts)):
        location_id = locations_ids[index] if index < len(locations_ids) else None
        locations.append(
            lot.storage_location if location_id is None else _storage(organisation, location_id, "storage_locations")
        )

    contributions = list(LotContribution.objects.filter(lot=lot).order_by("delivery_id"))
    matrix = split_shares([c.grams for c in contributions], parts)
    children = []
    for part, row, location in zip(parts, matrix, locations, strict=True):
        child = _lot_create(
            actor=actor, organisation=organisation, source=lot, quantity_grams=part, origin=Lot.Origin.SPLIT,
            storage_location=location,
        )  # fmt: skip
        LotContribution.objects.bulk_create(
            [
                LotContribution(lot=child, farmer_id=c.farmer_id, delivery_id=c.delivery_id, grams=grams)
                for c, grams in zip(contributions, row, strict=True)
                if grams > 0
            ]
        )
        LotLineage.objects.create(parent=lot, child=child, grams=part)
        children.append(child)
    transformation_traced(
        actor=actor, organisation=organisation, location=lot.storage_location,
        inputs=[(lot_identifier(lot, organisation), lot.quantity_grams)],
        outputs=[(child, child.quantity_grams) for child in children],
    )  # fmt: skip
    for child in children:
        if child.storage_location_id != lot.storage_location_id:
            storage_traced(actor=actor, organisation=organisation, lot=child, location=child.storage_location)
    lot_transition_locked(actor=actor, lot=lot, to_status=S.CLOSED, reason="split")
    audit_record(
        actor=actor, action="lot.split", subject=lot, organisation_id=organisation.pk,
        data={"into": {child.code: child.quantity_grams for child in children}},
    )  # fmt: skip
    return children


@transaction.atomic
def lot_merge(*, actor: User, lot_ids: list[int], storage_location_id: int | None = None) -> Lot:
    """Merge open lots of the same commodity and grade into a new lot; member shares are added up per delivery."""
    ids = sorted(set(lot_ids))
    if len(ids) < 2:
        fail({"lots": gettext("Choose at least two different lots to merge.")})
    lots = list(Lot.objects.select_for_update().select_related("commodity", "grade").filter(pk__in=ids).order_by("pk"))
    organisation_ids = {lot.organisation_id for lot in lots}
    organisations = {}
    for organisation_id in organisation_ids:
        try:
            organisations[organisation_id] = acting_organisation(actor, organisation_id, Capability.DECIDE)
        except NotFound:
            raise NotFound(gettext("No such lot.")) from None
    if len(lots) != len(ids):
        raise NotFound(gettext("No such lot."))
    if len(organisations) > 1:
        fail({"lots": gettext("Only lots of the same cooperative can be merged.")})
    organisation = organisations.popitem()[1]
    not_open = [
        gettext("%(code)s is %(status)s") % {"code": lot.code, "status": lot.get_status_display().lower()}
        for lot in lots
        if lot.status != S.OPEN
    ]
    if not_open:
        raise Conflict(gettext("Only open lots can be merged: %(not_open)s.") % {"not_open": "; ".join(not_open)})
    if len({lot.commodity_id for lot in lots}) > 1:
        described = ", ".join(
            gettext("%(code)s is %(name)s") % {"code": lot.code, "name": lot.commodity.name} for lot in lots
        )
        fail(
            {
                "lots": gettext("Only lots of the same commodity can be merged: %(described)s.")
                % {"described": described}
            }
        )
    if len({lot.grade_id for lot in lots}) > 1:
        described = ", ".join(
            gettext("%(code)s is %(name)s") % {"code": lot.code, "name": lot.grade.name} for lot in lots
        )
        fail({"lots": gettext("Only lots of the same grade can be merged: %(described)s.") % {"described": described}})
    location = (
        lots[0].storage_location
        if storage_location_id is None
        else _storage(organisation, storage_location_id, "storage_location")
    )
    shares: dict[int, list[int]] = {}
    for contribution in LotContribution.objects.filter(lot__in=lots).order_by("delivery_id"):
        entry = shares.setdefault(contribution.delivery_id, [contribution.farmer_id, 0])
        entry[1] += contribution.grams
    merged = _lot_create(
        actor=actor, organisation=organisation, source=lots[0], origin=Lot.Origin.MERGE,
        quantity_grams=sum(lot.quantity_grams for lot in lots), storage_location=location,
    )  # fmt: skip
    LotContribution.objects.bulk_create(
        [
            LotContribution(lot=merged, farmer_id=farmer_id, delivery_id=delivery_id, grams=grams)
            for delivery_id, (farmer_id, grams) in shares.items()
        ]
    )
    LotLineage.objects.bulk_create([LotLineage(parent=lot, child=merged, grams=lot.quantity_grams) for lot in lots])
    transformation_traced(
        actor=actor, organisation=organisation, location=location, outputs=[(merged, merged.quantity_grams)],
        inputs=[(lot_identifier(lot, organisation), lot.quantity_grams) for lot in lots],
    )  # fmt: skip
    for lot in lots:
        lot_transition_locked(actor=actor, lot=lot, to_status=S.CLOSED, reason=f"merged into {merged.code}")
    audit_record(
        actor=actor, action="lot.merged", subject=merged, organisation_id=organisation.pk,
        data={"from": {lot.code: lot.quantity_grams for lot in lots}},
    )  # fmt: skip
    return merged


@transaction.atomic
def lot_move(*, actor: User, lot_id: int, storage_location_id: int) -> Lot:
    """Record that a lot now lies in another of the cooperative's warehouses."""
    lot, organisation = _lock_lot(actor, lot_id)
    if lot.status in (S.DISPATCHED, S.CLOSED):
        raise Conflict(
            gettext("Lot %(code)s is %(status)s; it cannot be moved.")
            % {"code": lot.code, "status": lot.get_status_display().lower()}
        )
    location = _storage(organisation, storage_location_id, "storage_location")
    if location.pk == lot.storage_location_id:
        fail(
            {
                "storage_location": gettext("Lot %(code)s is already at %(name)s.")
                % {"code": lot.code, "name": location.name}
            }
        )
    before = lot.storage_location_id
    lot.storage_location = location
    lot.save(update_fields=["storage_location", "updated_at"])
    storage_traced(actor=actor, organisation=organisation, lot=lot, location=location)
    audit_record(
        actor=actor, action="lot.moved", subject=lot, organisation_id=organisation.pk,
        data={"from": before, "to": location.pk},
    )  # fmt: skip
    return lot
