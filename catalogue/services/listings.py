"""Listings: a cooperative offers a lot, or part of one, at a price in its own currency.

Quantities are guarded by the database: check constraints keep available + reserved + sold = offered and
nothing negative, and a trigger (which locks the lot row) keeps a lot's open listings within the lot.
listing_reserve, listing_release and listing_commit_sale are single conditional UPDATEs, for the orders app.
"""

from datetime import date

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Sum, When
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django_countries import countries

from catalogue.models import Certification, Listing, Lot, PriceUnit
from catalogue.services._common import acting_organisation, fail, full_clean, kg, location_of, require_verified
from catalogue.services.lots import OPEN_LISTING_STATUSES, lot_transition_locked
from marketplace.core import outbox
from marketplace.core.errors import Conflict, NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_record
from marketplace.core.transitions import TransitionTable, transition_locked
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_SIGNATURES = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}

LS = Listing.Status
LISTING_TRANSITIONS = TransitionTable(
    "listing",
    {
        LS.ACTIVE: {LS.PAUSED, LS.WITHDRAWN},
        LS.PAUSED: {LS.ACTIVE, LS.WITHDRAWN},
        LS.WITHDRAWN: set(),
    },
)


def committed_on_lot(lot_id: int, *, exclude_listing_id: int | None = None) -> int:
    """What the lot's listings hold: open listings what they offer, withdrawn ones what they reserved or sold."""
    queryset = Listing.objects.filter(lot_id=lot_id)
    if exclude_listing_id is not None:
        queryset = queryset.exclude(pk=exclude_listing_id)
    total = queryset.aggregate(
        committed=Sum(
            Case(
                When(status__in=OPEN_LISTING_STATUSES, then=F("quantity_offered_grams")),
                default=F("quantity_reserved_grams") + F("quantity_sold_grams"),
            )
        )
    )["committed"]
    return total or 0


def _check_photo(photo: UploadedFile | None, errors: dict[str, str]) -> None:
    if photo is None:
        return
    if photo.size is not None and photo.size > MAX_PHOTO_BYTES:
        errors["photo"] = gettext("The photo is %(size)s KB; the limit is %(limit)s MB.") % {
            "size": photo.size // 1024,
            "limit": MAX_PHOTO_BYTES // 1024 // 1024,
        }
        return
    head = photo.read(12)
    photo.seek(0)
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if not is_webp and not any(head.startswith(signature) for signature in PHOTO_SIGNATURES):
        errors["photo"] = gettext("The photo must be a JPEG, PNG or WebP image.")


def _check_price(price: Money, price_unit: str, organisation: Organisation, errors: dict[str, str]) -> None:
    if price.currency != organisation.currency:
        errors["currency"] = gettext("Prices are in your cooperative's currency, %(currency)s; you gave %(given)s.") % {
            "currency": organisation.currency,
            "given": price.currency,
        }
    if price.amount <= 0:
        errors["price"] = gettext("The price must be more than 0.")
    if price_unit not in PriceUnit.values:
        errors["price_unit"] = gettext("Price per kilogram (KGM) or per tonne (TNE), not %(price_unit)s.") % {
            "price_unit": repr(price_unit)
        }


def _certifications(organisation: Organisation, ids, day: date, errors: dict[str, str]) -> list[Certification]:
    ids = sorted(set(ids or []))
    found = list(Certification.objects.filter(organisation=organisation, pk__in=ids))
    if len(found) != len(ids):
        errors["certifications"] = gettext("Choose among your organisation's certifications.")
        return []
    expired = [str(c) for c in found if not c.is_valid_on(day)]
    if expired:
        errors["certifications"] = gettext("Not valid on %(day)s: %(expired)s.") % {
            "day": day.isoformat(),
            "expired": ", ".join(expired),
        }
    return found


def _place(
    lot: Lot, organisation: Organisation, delivery_terms: str, pickup_location_id, country: str, region: str,
    errors: dict[str, str],
) -> dict:  # fmt: skip
    """Where the buyer takes delivery (country, region) and where the goods are (coordinates)."""
    goods = lot.storage_location
    place = {"pickup_location": None, "country": country, "region": region.strip()}
    if delivery_terms == Listing.DeliveryTerms.EX_WAREHOUSE:
        location = location_of(organisation, pickup_location_id, purpose="storage")
        if location is None:
            errors["pickup_location"] = gettext("Ex-warehouse listings name one of your active warehouses.")
            return place
        goods = location
        place.update(pickup_location=location, country=location.country.code, region=location.region)
    elif delivery_terms == Listing.DeliveryTerms.DELIVERED:
        if not country or country not in countries:
            errors["delivery_country"] = gettext("Give the country you deliver to (a two-letter ISO code, e.g. CI).")
        if not place["region"]:
            errors["delivery_region"] = gettext("Give the region you deliver to.")
    else:
        errors["delivery_terms"] = gettext("Choose one of: %(choices)s.") % {
            "choices": ", ".join(Listing.DeliveryTerms.values)
        }
    if goods.latitude is not None:
        place.update(latitude=goods.latitude, longitude=goods.longitude)
    elif organisation.latitude is not None:
        place.update(latitude=organisation.latitude, longitude=organisation.longitude)
    return place


@transaction.atomic
def listing_create(
    *,
    actor: User,
    lot_id: int,
    title: str,
    price: Money,
    price_unit: str,
    quantity_grams: int,
    min_order_grams: int,
    delivery_terms: str,
    available_from: date,
    valid_until: date,
    pickup_location_id: int | None = None,
    delivery_country: str = "",
    delivery_region: str = "",
    certification_ids: list[int] | None = None,
    photo: UploadedFile | None = None,
    description: str = "",
) -> Listing:
    """Offer a lot, or part of it. The lot becomes listed."""
    lot = Lot.objects.select_for_update().select_related("storage_location").filter(pk=lot_id).first()
    if lot is None:
        raise NotFound(gettext("No such lot."))
    try:
        organisation = acting_organisation(actor, lot.organisation_id, Capability.DECIDE)
    except NotFound:
        raise NotFound(gettext("No such lot.")) from None
    require_verified(organisation, "listings")
    if lot.status not in (Lot.Status.OPEN, Lot.Status.LISTED):
        raise Conflict(
            gettext("Lot %(code)s is %(status)s; only open or listed lots can be offered.")
            % {"code": lot.code, "status": lot.get_status_display().lower()}
        )

    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = gettext("Give the listing a title buyers will recognise, e.g. 'Cocoa Grade I, 12 t'.")
    _check_price(price, price_unit, organisation, errors)
    free = lot.quantity_grams - committed_on_lot(lot.pk)
    if quantity_grams <= 0:
        errors["quantity"] = gettext("The quantity must be more than 0 kg; %(quantity)s is not.") % {
            "quantity": kg(quantity_grams)
        }
    elif quantity_grams > free:
        errors["quantity"] = gettext(
            "Lot %(code)s holds %(held)s, of which %(offered)s are already offered; you can offer at most %(free)s."
        ) % {
            "code": lot.code,
            "held": kg(lot.quantity_grams),
            "offered": kg(lot.quantity_grams - free),
            "free": kg(free),
        }
    if min_order_grams <= 0:
        errors["min_order"] = gettext("The minimum order must be more than 0 kg.")
    elif quantity_grams > 0 and min_order_grams > quantity_grams:
        errors["min_order"] = gettext("The minimum order (%(min_order)s) exceeds the quantity (%(quantity)s).") % {
            "min_order": kg(min_order_grams),
            "quantity": kg(quantity_grams),
        }
    if valid_until < available_from:
        errors["valid_until"] = gettext(
            "The listing must stay valid at least until it is available (%(available_from)s)."
        ) % {"available_from": available_from}
    elif valid_until < timezone.localdate():
        errors["valid_until"] = gettext("%(day)s has passed; give a date from today on.") % {
            "day": valid_until.isoformat()
        }
    place = _place(lot, organisation, delivery_terms, pickup_location_id, delivery_country, delivery_region, errors)
    certifications = _certifications(organisation, certification_ids, max(available_from, timezone.localdate()), errors)
    _check_photo(photo, errors)
    fail(errors)

    listing = Listing(
        organisation=organisation,
        lot=lot,
        title=title.strip(),
        description=description,
        commodity_id=lot.commodity_id,
        grade_id=lot.grade_id,
        grade_rank=lot.grade.rank,
        price_amount=price.amount,
        currency=price.currency,
        price_unit=price_unit,
        quantity_offered_grams=quantity_grams,
        quantity_available_grams=quantity_grams,
        min_order_grams=min_order_grams,
        delivery_terms=delivery_terms,
        available_from=available_from,
        valid_until=valid_until,
        created_by=actor,
        **place,
    )
    full_clean(listing, exclude=["organisation", "lot", "commodity", "grade", "created_by", "photo", "pickup_location"])
    if photo is not None:
        listing.photo = photo
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError:
        raise Conflict(
            gettext("Lot %(code)s does not hold enough to offer %(quantity_grams)s more.")
            % {"code": lot.code, "quantity_grams": kg(quantity_grams)}
        ) from None
    listing.certifications.set(certifications)
    if lot.status == Lot.Status.OPEN:
        lot_transition_locked(actor=actor, lot=lot, to_status=Lot.Status.LISTED, reason=f"listing {listing.pk}")
    audit_record(
        actor=actor, action="listing.created", subject=listing, organisation_id=organisation.pk,
        to_status=listing.status,
        data={"lot": lot.code, "price": str(price), "price_unit": price_unit, "quantity_grams": quantity_grams},
    )  # fmt: skip
    listing_event_publish(listing.pk, "created")
    return listing


def listing_event_publish(listing_id: int, event: str) -> None:
    """Tell the layers above of a listing event once this transaction commits: each task named in
    settings.LISTING_EVENT_SUBSCRIBERS[event] (dotted paths, imported here; catalogue imports no higher app) gets the
    listing id through the outbox and must be idempotent.

    Events: "created" (a new listing: saved searches), and "changed" for anything that changes what a buyer could
    get, a creation included (created, changed, paused, resumed, withdrawn, or more available after a reservation is
    released: matching re-matches). Reservations, which only lower what is available, are not published: an order
    taking the last kilos must stay one short transaction."""
    events = ("created", "changed") if event == "created" else (event,)
    for name in events:
        for path in settings.LISTING_EVENT_SUBSCRIBERS.get(name, ()):
            key = f"listing-created:{listing_id}:{path}" if name == "created" else None
            outbox.enqueue(import_string(path), args=[listing_id], key=key)


def _lock_listing(actor: User, listing_id: int) -> tuple[Listing, Organisation]:
    listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
    if listing is None:
        raise NotFound(gettext("No such listing."))
    try:
        organisation = acting_organisation(actor, listing.organisation_id, Capability.DECIDE)
    except NotFound:
        raise NotFound(gettext("No such listing.")) from None
    return listing, organisation


@transaction.atomic
def listing_update(
    *,
    actor: User,
    listing_id: int,
    title: str | None = None,
    description: str | None = None,
    price: Money | None = None,
    price_unit: str | None = None,
    quantity_grams: int | None = None,
    min_order_grams: int | None = None,
    valid_until: date | None = None,
    certification_ids: list[int] | None = None,
) -> Listing:
    """Change the terms of a listing that is not withdrawn. Reservations and sales stay as they are."""
    listing = Listing.objects.filter(pk=listing_id).only("lot_id").first()
    if listing is None:
        raise NotFound(gettext("No such listing."))
    Lot.objects.select_for_update().filter(pk=listing.lot_id).first()
    listing, organisation = _lock_listing(actor, listing_id)
    if listing.status == LS.WITHDRAWN:
        raise Conflict(gettext("This listing is withdrawn; create a new one."))
    errors: dict[str, str] = {}
    before = {"price": str(listing.price), "price_unit": listing.price_unit, "quantity": listing.quantity_offered_grams}
    if title is not None:
        if not title.strip():
            errors["title"] = gettext("The title cannot be empty.")
        listing.title = title.strip()
    if description is not None:
        listing.description = description
    if price is not None or price_unit is not None:
        price = price or listing.price
        price_unit = price_unit or listing.price_unit
        _check_price(price, price_unit, organisation, errors)
        listing.price_amount, listing.currency, listing.price_unit = price.amount, price.currency, price_unit
    if quantity_grams is not None:
        taken = listing.quantity_reserved_grams + listing.quantity_sold_grams
        lot = Lot.objects.get(pk=listing.lot_id)
        free = lot.quantity_grams - committed_on_lot(lot.pk, exclude_listing_id=listing.pk)
        if quantity_grams < taken:
            errors["quantity"] = gettext("%(taken)s of this listing are reserved or sold; offer at least that.") % {
                "taken": kg(taken)
            }
        elif quantity_grams > free:
            errors["quantity"] = gettext("Lot %(code)s can offer at most %(free)s in this listing.") % {
                "code": lot.code,
                "free": kg(free),
            }
        else:
            listing.quantity_offered_grams = quantity_grams
            listing.quantity_available_grams = quantity_grams - taken
    if min_order_grams is not None:
        if min_order_grams <= 0:
            errors["min_order"] = gettext("The minimum order must be more than 0 kg.")
        listing.min_order_grams = min_order_grams
    if listing.min_order_grams > listing.quantity_offered_grams and "min_order" not in errors:
        errors["min_order"] = gettext("The minimum order (%(min_order)s) exceeds the quantity (%(quantity)s).") % {
            "min_order": kg(listing.min_order_grams),
            "quantity": kg(listing.quantity_offered_grams),
        }
    if valid_until is not None:
        if valid_until < listing.available_from:
            errors["valid_until"] = gettext("The listing must stay valid at least until %(available_from)s.") % {
                "available_from": listing.available_from
            }
        listing.valid_until = valid_until
    certifications = None
    if certification_ids is not None:
        day = max(listing.available_from, timezone.localdate())
        certifications = _certifications(organisation, certification_ids, day, errors)
    fail(errors)
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError:
        raise Conflict(gettext("The lot does not hold enough for this quantity.")) from None
    if certifications is not None:
        listing.certifications.set(certifications)
    after = {"price": str(listing.price), "price_unit": listing.price_unit, "quantity": listing.quantity_offered_grams}
    audit_record(
        actor=actor, action="listing.updated", subject=listing, organisation_id=organisation.pk,
        data={"before": before, "after": after},
    )  # fmt: skip
    listing_event_publish(listing.pk, "changed")
    return listing


@transaction.atomic
def listing_status_transition(*, actor: User, listing_id: int, to_status: str, reason: str = "") -> Listing:
    """Pause, resume or withdraw a listing. When a lot's last open listing goes, the lot is open again."""
    listing = Listing.objects.filter(pk=listing_id).only("lot_id").first()
    if listing is None:
        raise NotFound(gettext("No such listing."))
    lot = Lot.objects.select_for_update().filter(pk=listing.lot_id).first()
    listing, organisation = _lock_listing(actor, listing_id)

    def nothing_reserved(locked: Listing) -> None:
        if to_status == LS.WITHDRAWN and locked.quantity_reserved_grams > 0:
            raise Conflict(
                gettext("%(quantity_reserved_grams)s of this listing are reserved by orders; settle them first.")
                % {"quantity_reserved_grams": kg(locked.quantity_reserved_grams)}
            )

    transition_locked(
        obj=listing, table=LISTING_TRANSITIONS, to_status=to_status, actor=actor, reason=reason,
        organisation_id=organisation.pk, apply=nothing_reserved, update_fields=[], label="The listing",
    )  # fmt: skip
    if (
        to_status == LS.WITHDRAWN
        and lot is not None
        and lot.status == Lot.Status.LISTED
        and not Listing.objects.filter(lot=lot, status__in=OPEN_LISTING_STATUSES).exists()
        and not Listing.objects.filter(lot=lot, quantity_sold_grams__gt=0).exists()
    ):
        lot_transition_locked(actor=actor, lot=lot, to_status=Lot.Status.OPEN, reason="listings withdrawn")
    listing_event_publish(listing.pk, "changed")
    return listing


def _explain_listing_refusal(listing_id: int, grams: int, *, needs_active: bool, column: str) -> None:
    listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None:
        raise NotFound(gettext("No such listing."))
    if needs_active and listing.status != LS.ACTIVE:
        raise Conflict(
            gettext("This listing is %(status)s; nothing can be reserved on it.")
            % {"status": listing.get_status_display().lower()}
        )
    held = getattr(listing, column)
    what = {"quantity_available_grams": "available", "quantity_reserved_grams": "reserved"}[column]
    raise Conflict(
        gettext("Only %(held)s of this listing are %(what)s; %(grams)s were asked for.")
        % {"held": kg(held), "what": what, "grams": kg(grams)},
        fields={"grams": gettext("At most %(held)s g.") % {"held": held}},
    )


def _check_grams(grams: int) -> None:
    if not isinstance(grams, int) or isinstance(grams, bool) or grams <= 0:
        raise ValidationFailed(
            gettext("The quantity must be a whole number of grams above 0."), fields={"grams": gettext("Must be > 0.")}
        )


def _after_quantity_change(actor: User | None, listing_id: int, action: str, grams: int, reference: str) -> Listing:
    listing = Listing.objects.get(pk=listing_id)
    _audit_quantity_change(actor, listing, action, grams, reference)
    return listing


def _audit_quantity_change(actor: User | None, listing: Listing, action: str, grams: int, reference: str) -> None:
    audit_record(
        actor=actor, action=action, subject=listing, organisation_id=listing.organisation_id,
        data={"grams": grams, "reference": reference, "available": listing.quantity_available_grams,
              "reserved": listing.quantity_reserved_grams, "sold": listing.quantity_sold_grams},
    )  # fmt: skip


def listing_reserve(*, listing_id: int, grams: int, actor: User | None = None, reference: str = "") -> Listing:
    """Move `grams` from available to reserved, atomically: UPDATE ... WHERE quantity_available_grams >= grams.
    Of two orders for the last kilos, exactly one succeeds; the other gets a Conflict. One UPDATE ... RETURNING
    and the audit record: no savepoint, since a refusal writes nothing."""
    _check_grams(grams)
    with transaction.atomic(savepoint=False):
        listing = _move_grams(listing_id, grams, "quantity_available_grams", "quantity_reserved_grams", active=True)
        if listing is not None:
            _audit_quantity_change(actor, listing, "listing.reserved", grams, reference)
    if listing is None:
        _explain_listing_refusal(listing_id, grams, needs_active=True, column="quantity_available_grams")
    return listing  # type: ignore[return-value]


def _move_grams(listing_id: int, grams: int, source: str, target: str, *, active: bool) -> Listing | None:
    """The conditional UPDATE of a listing's quantities, returning the updated listing (None if refused)."""
    fields = list(Listing._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Listing._meta.db_table)
    status = "AND status = %s " if active else ""
    # identifiers from the model, values as parameters
    sql = (
        f"UPDATE {table} SET {source} = {source} - %s, {target} = {target} + %s, updated_at = %s "  # noqa: S608
        f"WHERE id = %s {status}AND {source} >= %s RETURNING {columns}"
    )
    params = [grams, grams, timezone.now(), listing_id, *([LS.ACTIVE] if active else []), grams]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
        for f, v in zip(fields, row, strict=True)
    ]
    return Listing.from_db(connection.alias, [f.attname for f in fields], values)


@transaction.atomic
def listing_release(*, listing_id: int, grams: int, actor: User | None = None, reference: str = "") -> Listing:
    """Give reserved grams back to available (an order was cancelled or cut)."""
    _check_grams(grams)
    updated = Listing.objects.filter(pk=listing_id, quantity_reserved_grams__gte=grams).update(
        quantity_available_grams=F("quantity_available_grams") + grams,
        quantity_reserved_grams=F("quantity_reserved_grams") - grams,
        updated_at=timezone.now(),
    )
    if not updated:
        _explain_listing_refusal(listing_id, grams, needs_active=False, column="quantity_reserved_grams")
    listing_event_publish(listing_id, "changed")  # more is available again
    return _after_quantity_change(actor, listing_id, "listing.released", grams, reference)


@transaction.atomic
def listing_commit_sale(*, listing_id: int, grams: int, actor: User | None = None, reference: str = "") -> Listing:
    """Turn reserved grams into sold ones (the order was paid)."""
    _check_grams(grams)
    updated = Listing.objects.filter(pk=listing_id, quantity_reserved_grams__gte=grams).update(
        quantity_reserved_grams=F("quantity_reserved_grams") - grams,
        quantity_sold_grams=F("quantity_sold_grams") + grams,
        updated_at=timezone.now(),
    )
    if not updated:
        _explain_listing_refusal(listing_id, grams, needs_active=False, column="quantity_reserved_grams")
    return _after_quantity_change(actor, listing_id, "listing.sold", grams, reference)
