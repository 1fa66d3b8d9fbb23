"""What each move of an order does besides changing its status, run by `order_transition` under the order's
lock and in its transaction: stock held or released on the catalogue, the sale, dispatch and receipt recorded
in the event store, the receipt's amount due, disputes and their decisions, invoices.

Every effect takes the move's `details` (a dict it pops its own keys from; what is left over is refused) and
returns the JSON-friendly facts to keep on the order's event. Validation comes first, so a refusal writes
nothing (and the transaction rolls back whatever an effect wrote before a later refusal).
"""

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from catalogue.models import Grade, Listing, Lot
from catalogue.services import (
    listing_commit_sale,
    listing_release,
    supplier_offer_return_stock,
)
from catalogue.services.lots import lot_transition_locked
from marketplace.core.errors import Conflict
from marketplace.core.money import Money
from marketplace.organisations.models import User
from orders.models import Dispatch, Dispute, DisputeEvidence, GradePrice, Order, OrderLine, Receipt
from orders.services._common import SYSTEM, Acting, fail, parse_day, whole_number
from orders.services.invoices import invoice_issue
from orders.services.pricing import GradeInfo, amount_for, describe_quantity, settle_line
from traceability import identifiers
from traceability import services as trace
from traceability.models import Action, EventType

S = Order.Status
MAX_EVIDENCE_FILES = 10
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
EVIDENCE_SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def _lines(order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("lot", "grade", "listing").order_by("position"))


def _by_line_id(mapping: Any, lines: list[OrderLine], field: str) -> dict[int, Any]:
    """A mapping keyed by line id (int or str) checked against the order's lines."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        fail({field: gettext("Give a mapping from line id to a value.")})
    ids = {line.pk for line in lines}
    result: dict[int, Any] = {}
    for key, value in mapping.items():
        try:
            line_id = int(key)
        except (TypeError, ValueError):
            line_id = None
        if line_id not in ids:
            fail(
                {
                    f"{field}.{key}": gettext("Line %(key)s is not a line of this order; its lines are %(ids)s.")
                    % {"key": key, "ids": sorted(ids)}
                }
            )
        result[line_id] = value  # type: ignore[index]
    return result


# --- Grade prices (placement and acceptance) ----------------------------------------------


def grade_prices_check(line: OrderLine, prices: Any, field: str, errors: dict[str, str]) -> dict[int, int]:
    """Grade id -> unit price (minor units, in the line's price unit) for other grades of the line's commodity."""
    if not prices:
        return {}
    if line.listing_id is None:
        errors[field] = gettext("Grade prices apply to produce lines only.")
        return {}
    if not isinstance(prices, dict):
        errors[field] = gettext("Give a mapping from grade id to a price in minor units.")
        return {}
    grades = {g.pk: g for g in Grade.objects.filter(commodity_id=line.grade.commodity_id)}
    cleaned: dict[int, int] = {}
    for key, amount in prices.items():
        try:
            grade_id = int(key)
        except (TypeError, ValueError):
            grade_id = -1
        if grade_id not in grades:
            errors[f"{field}.{key}"] = gettext("Grade %(key)s is not a grade of %(commodity)s.") % {
                "key": key,
                "commodity": line.grade.commodity,
            }
            continue
        if grade_id == line.grade_id:
            errors[f"{field}.{key}"] = gettext("The listed grade already has its price; give prices for other grades.")
            continue
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors[f"{field}.{key}"] = gettext("%(amount)s is not a price above 0 in minor units.") % {
                "amount": repr(amount)
            }
            continue
        cleaned[grade_id] = amount
    return cleaned


def grade_prices_save(line: OrderLine, prices: dict[int, int]) -> None:
    for grade_id, amount in prices.items():
        GradePrice.objects.update_or_create(line=line, grade_id=grade_id, defaults={"unit_price_amount": amount})


def accept(*, order: Order, details: dict, **_: Any) -> dict:
    lines = _lines(order)
    given = _by_line_id(details.pop("grade_prices", None), lines, "grade_prices")
    errors: dict[str, str] = {}
    cleaned = {
        line.pk: grade_prices_check(line, given[line.pk], f"grade_prices.{line.pk}", errors)
        for line in lines
        if line.pk in given
    }
    fail(errors)
    for line in lines:
        if cleaned.get(line.pk):
            grade_prices_save(line, cleaned[line.pk])
    return {"grade_prices": {str(k): {str(g): a for g, a in v.items()} for k, v in cleaned.items()}} if cleaned else {}


# --- Stock held on the catalogue ----------------------------------------------------------


def release_stock(order: Order, actor: User | None) -> dict:
    """Give the reserved quantities back to the listings and offers (rejection, cancellation, expiry)."""
    released = []
    for line in sorted(_lines(order), key=lambda line: (line.listing_id or 0, line.offer_id or 0)):
        if line.listing_id is not None:
            listing_release(listing_id=line.listing_id, grams=line.quantity, actor=actor, reference=order.number)
        else:
            supplier_offer_return_stock(
                offer_id=line.offer_id, packs=line.quantity, actor=actor, reference=order.number
            )
        released.append({"line": line.pk, "quantity": line.quantity, "unit": line.quantity_unit})
    return {"released": released}


def reject(*, order: Order, actor: User | None, **_: Any) -> dict:
    return release_stock(order, actor)


def expire(*, order: Order, actor: User | None, **_: Any) -> dict:
    if timezone.now() < order.accept_by:
        raise Conflict(
            gettext("Order %(number)s can be accepted until %(accept_by)s UTC; it has not expired.")
            % {"number": order.number, "accept_by": format(order.accept_by, "%Y-%m-%d %H:%M")}
        )
    return release_stock(order, actor)


def cancel(*, order: Order, actor: User | None, from_status: str, reason: str, **_: Any) -> dict:
    recorded = release_stock(order, actor)
    if from_status == S.PAID and order.kind == Order.Kind.PRODUCE:
        lots = _lot_quantities(order, "quantity")
        if lots:
            trace.event_record(
                actor=actor,
                organisation=order.seller,
                event_type=EventType.TRANSACTION,
                action=Action.DELETE,
                biz_location=identifiers.location_uri(order.seller),
                lots=lots,
                biz_transactions=[("po", identifiers.order_uri(order.number))],
                sources=[("owning_party", identifiers.organisation_uri(order.seller))],
                destinations=[("owning_party", identifiers.organisation_uri(order.buyer))],
            )
    return recorded


# --- Payment ---------------------------------------------------------------------------


def _lot_quantities(order: Order, attribute: str) -> list[tuple[str, int]]:
    per_lot: dict[int, int] = defaultdict(int)
    lots: dict[int, Lot] = {}
    for line in _lines(order):
        grams = getattr(line, attribute) or 0
        if line.lot is not None and grams > 0:
            per_lot[line.lot.pk] += grams
            lots[line.lot.pk] = line.lot
    return [
        (identifiers.lot_uri(organisation=order.seller, lot_code=lots[lot_id].code), grams)
        for lot_id, grams in sorted(per_lot.items())
    ]


def _record_inspections(order: Order, actor: User | None) -> None:
    """The buyer's inspection on arrival: one `inspecting` event per lot line, conformant when the grade held."""
    for line in _lines(order):
        if line.lot is None or not line.quantity_received:
            continue
        grade = line.grade_received or line.grade
        trace.inspection_recorded(
            actor=actor,
            organisation=order.buyer,
            lot_uri=identifiers.lot_uri(organisation=order.seller, lot_code=line.lot.code),
            conformant=line.grade_received_id in (None, line.grade_id),
            grams=line.quantity_received,
            grade=grade.code if grade else "",
        )


def paid(*, order: Order, actor: User | None, details: dict, **_: Any) -> dict:
    reference = str(details.pop("payment_reference", "") or "").strip()
    if not reference:
        fail(
            {"payment_reference": gettext("Give the payment's reference (from the bank, the provider or the receipt).")}
        )
    if len(reference) > 100:
        fail({"payment_reference": gettext("The payment reference is at most 100 characters.")})
    order.payment_reference = reference
    if order.kind == Order.Kind.PRODUCE:
        lots = _lot_quantities(order, "quantity")
        if lots:
            trace.sale_recorded(
                actor=actor, organisation=order.seller, order_number=order.number, lots=lots, buyer=order.buyer
            )
    return {"payment_reference": reference}


# --- Dispatch ----------------------------------------------------------------------------


def _follow_lots(order: Order, lines: list[OrderLine], actor: User | None) -> list[dict]:
    """Once every gram of a lot is sold and dispatched, the lot becomes sold, then dispatched."""
    moved = []
    for lot_id in sorted({line.lot_id for line in lines if line.lot_id}):
        lot = Lot.objects.select_for_update(no_key=True).get(pk=lot_id)
        sold = Listing.objects.filter(lot_id=lot_id).aggregate(total=Sum("quantity_sold_grams"))["total"] or 0
        if sold < lot.quantity_grams:
            continue
        if lot.status in (Lot.Status.LISTED, Lot.Status.RESERVED):
            lot_transition_locked(actor=actor, lot=lot, to_status=Lot.Status.SOLD, reason=f"order {order.number}")
        if lot.status == Lot.Status.SOLD:
            lot_transition_locked(actor=actor, lot=lot, to_status=Lot.Status.DISPATCHED, reason=f"order {order.number}")
            moved.append({"lot": lot.code, "status": lot.status})
    return moved


def dispatch(*, order: Order, actor: User | None, details: dict, **_: Any) -> dict:
    lines = _lines(order)
    errors: dict[str, str] = {}
    day = parse_day(details.pop("dispatched_on", None), "dispatched_on", errors, default=timezone.localdate())
    document_number = str(details.pop("document_number", "") or "").strip()
    vehicle = str(details.pop("vehicle", "") or "").strip()
    driver = str(details.pop("driver", "") or "").strip()
    if not document_number:
        errors["document_number"] = gettext("Give the number of the waybill or delivery document.")
    elif len(document_number) > 60:
        errors["document_number"] = gettext("The document number is at most 60 characters.")
    if len(vehicle) > 60:
        errors["vehicle"] = gettext("The vehicle is at most 60 characters (e.g. its registration).")
    if len(driver) > 120:
        errors["driver"] = gettext("The driver's name is at most 120 characters.")
    given = _by_line_id(details.pop("quantities", None), lines, "quantities")
    quantities: dict[int, int] = {}
    for line in lines:
        if line.pk not in given:
            quantities[line.pk] = line.quantity
            continue
        field = f"quantities.{line.pk}"
        value = whole_number(given[line.pk], field, errors)
        if value is None:
            continue
        if value < 0:
            errors[field] = gettext("The quantity dispatched cannot be negative (%(value)s).") % {"value": value}
        elif value > line.quantity:
            errors[field] = gettext("%(quantity)s is more than the %(ordered)s ordered.") % {
                "quantity": describe_quantity(value, line.quantity_unit),
                "ordered": describe_quantity(line.quantity, line.quantity_unit),
            }
        else:
            quantities[line.pk] = value
    if not errors and not any(quantities.values()):
        errors["quantities"] = gettext(
            "Nothing would be dispatched; give the quantity dispatched for at least one line."
        )
    fail(errors)

    # Lots first, then listings, as the catalogue's own services lock them.
    for lot_id in sorted({line.lot_id for line in lines if line.lot_id}):
        Lot.objects.select_for_update(no_key=True).filter(pk=lot_id).first()
    for line in sorted(lines, key=lambda line: (line.listing_id or 0, line.offer_id or 0)):
        sent = quantities[line.pk]
        rest = line.quantity - sent
        if line.listing_id is not None:
            if sent:
                listing_commit_sale(listing_id=line.listing_id, grams=sent, actor=actor, reference=order.number)
            if rest:
                listing_release(listing_id=line.listing_id, grams=rest, actor=actor, reference=order.number)
        elif rest:
            supplier_offer_return_stock(offer_id=line.offer_id, packs=rest, actor=actor, reference=order.number)
        line.quantity_dispatched = sent
        line.save(update_fields=["quantity_dispatched"])
    Dispatch.objects.create(
        order=order, dispatched_on=day, vehicle=vehicle, driver=driver, document_number=document_number,
        recorded_by=actor,
    )  # fmt: skip
    invoice = invoice_issue(
        order=order,
        amount=sum(amount_for(line.quantity_dispatched, line.unit_price_amount, line.price_unit) for line in lines),
    )
    lots_moved = _follow_lots(order, lines, actor) if order.kind == Order.Kind.PRODUCE else []
    if order.kind == Order.Kind.PRODUCE:
        lots = _lot_quantities(order, "quantity_dispatched")
        if lots:
            trace.dispatch_recorded(
                actor=actor, organisation=order.seller, order_number=order.number, lots=lots, destination=order.buyer
            )
    return {
        "dispatched_on": day.isoformat(),  # type: ignore[union-attr]
        "document_number": document_number,
        "vehicle": vehicle,
        "driver": driver,
        "quantities": {str(k): v for k, v in quantities.items()},
        "invoice": invoice.number,
        "lots": lots_moved,
    }


# --- Receipt -----------------------------------------------------------------------------


def receive(*, order: Order, actor: User | None, details: dict, **_: Any) -> dict:
    lines = _lines(order)
    errors: dict[str, str] = {}
    day = parse_day(details.pop("received_on", None), "received_on", errors, default=timezone.localdate())
    notes = str(details.pop("inspection_notes", "") or "").strip()
    given = _by_line_id(details.pop("lines", None), lines, "lines")
    received: dict[int, tuple[int, Grade | None]] = {}
    grade_ids = set()
    for entry in given.values():
        if isinstance(entry, dict) and entry.get("grade") not in (None, ""):
            grade_ids.add(entry.get("grade"))
    grades = {g.pk: g for g in Grade.objects.filter(pk__in=[g for g in grade_ids if isinstance(g, int)])}
    for line in lines:
        field = f"lines.{line.pk}"
        entry = given.get(line.pk)
        if entry is None:
            errors[field] = gettext(
                "Give the quantity received for line %(line)s (%(description)s); %(dispatched)s were dispatched."
            ) % {
                "line": line.pk,
                "description": line.description,
                "dispatched": describe_quantity(line.quantity_dispatched or 0, line.quantity_unit),
            }
            continue
        if not isinstance(entry, dict):
            entry = {"quantity": entry}
        quantity = whole_number(entry.get("quantity"), f"{field}.quantity", errors)
        grade = None
        grade_id = entry.get("grade")
        if grade_id not in (None, ""):
            try:
                grade_id = int(grade_id)
            except (TypeError, ValueError):
                grade_id = -1
            grade = grades.get(grade_id) or Grade.objects.filter(pk=grade_id).first()
            if line.listing_id is None:
                errors[f"{field}.grade"] = gettext("Inputs have no grade; leave it empty.")
            elif grade is None or grade.commodity_id != line.grade.commodity_id:
                errors[f"{field}.grade"] = gettext("Choose a grade of %(commodity)s.") % {
                    "commodity": line.grade.commodity
                }
        if quantity is None:
            continue
        dispatched = line.quantity_dispatched or 0
        if quantity < 0:
            errors[f"{field}.quantity"] = gettext("The quantity received cannot be negative (%(quantity)s).") % {
                "quantity": quantity
            }
        elif quantity > dispatched:
            errors[f"{field}.quantity"] = gettext("%(quantity)s is more than the %(dispatched)s dispatched.") % {
                "quantity": describe_quantity(quantity, line.quantity_unit),
                "dispatched": describe_quantity(dispatched, line.quantity_unit),
            }
        else:
            received[line.pk] = (quantity, grade)
    if len(notes) > 5000:
        errors["inspection_notes"] = gettext("Keep the inspection notes under 5,000 characters.")
    fail(errors)

    tolerance = settings.ORDER_WEIGHT_TOLERANCE_BP
    total = 0
    settlements = {}
    agreed = defaultdict(dict)
    for price in GradePrice.objects.filter(line__order=order):
        agreed[price.line_id][price.grade_id] = price.unit_price_amount
    for line in lines:
        quantity, grade = received[line.pk]
        grade = grade or line.grade
        result = settle_line(
            currency=order.currency,
            quantity_unit=line.quantity_unit,
            price_unit=line.price_unit,
            unit_price_amount=line.unit_price_amount,
            line_total_amount=line.line_total_amount,
            ordered=line.quantity,
            dispatched=line.quantity_dispatched or 0,
            received=quantity,
            listed_grade=GradeInfo(line.grade.pk, line.grade.name) if line.grade else None,
            received_grade=GradeInfo(grade.pk, grade.name) if grade else None,
            grade_prices=agreed.get(line.pk),
            tolerance_bp=tolerance,
        )
        line.quantity_received = quantity
        line.grade_received = grade
        line.amount_due = result.amount
        line.settlement = result.as_json()
        line.save(update_fields=["quantity_received", "grade_received", "amount_due", "settlement"])
        settlements[str(line.pk)] = {
            "quantity": quantity,
            "grade": grade.pk if grade else None,
            "amount": result.amount,
        }
        total += result.amount
    Receipt.objects.create(
        order=order, received_on=day, inspection_notes=notes, weight_tolerance_bp=tolerance, recorded_by=actor
    )
    order.amount_due = total
    order.dispute_until = timezone.now() + timedelta(hours=settings.ORDER_DISPUTE_WINDOW_HOURS)
    if order.kind == Order.Kind.PRODUCE:
        lots = _lot_quantities(order, "quantity_received")
        if lots:
            trace.receipt_recorded(
                actor=actor, organisation=order.buyer, order_number=order.number, lots=lots, source=order.seller,
                receipt_number=f"{order.number}-R",
            )  # fmt: skip
            _record_inspections(order, actor)
    return {
        "received_on": day.isoformat(),  # type: ignore[union-attr]
        "lines": settlements,
        "amount_due": total,
        "amount_due_display": str(Money(total, order.currency)),
        "dispute_until": order.dispute_until.isoformat(),
    }


# --- Disputes ----------------------------------------------------------------------------


def _evidence(files: Any, errors: dict[str, str]) -> list[tuple[File, str]]:
    if not files:
        return []
    if not isinstance(files, list | tuple):
        files = [files]
    if len(files) > MAX_EVIDENCE_FILES:
        errors["evidence"] = gettext("Attach at most %(max_files)s files.") % {"max_files": MAX_EVIDENCE_FILES}
        return []
    checked = []
    for index, upload in enumerate(files):
        field = f"evidence.{index}"
        if not isinstance(upload, File):
            errors[field] = gettext("Attach a file.")
            continue
        if upload.size is not None and upload.size > MAX_EVIDENCE_BYTES:
            errors[field] = gettext("%(name)s is %(size)s KB; the limit is 10 MB per file.") % {
                "name": upload.name,
                "size": upload.size // 1024,
            }
            continue
        head = upload.read(12)
        upload.seek(0)
        kind = next((t for sig, t in EVIDENCE_SIGNATURES.items() if head.startswith(sig)), None)
        if kind is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            kind = "image/webp"
        if kind is None:
            errors[field] = gettext("%(name)s is not a PDF, JPEG, PNG or WebP file.") % {"name": upload.name}
            continue
        checked.append((upload, kind))
    return checked


def dispute(*, order: Order, actor: User | None, reason: str, details: dict, **_: Any) -> dict:
    if order.dispute_until is None or timezone.now() >= order.dispute_until:
        hours = settings.ORDER_DISPUTE_WINDOW_HOURS
        if order.dispute_until:
            message = ngettext(
                "The dispute window for order %(number)s closed on %(closed)s UTC; disputes are opened within "
                "%(order_dispute_window_hours)s hour of receipt.",
                "The dispute window for order %(number)s closed on %(closed)s UTC; disputes are opened within "
                "%(order_dispute_window_hours)s hours of receipt.",
                hours,
            )
        else:
            message = ngettext(
                "The dispute window for order %(number)s is closed; disputes are opened within "
                "%(order_dispute_window_hours)s hour of receipt.",
                "The dispute window for order %(number)s is closed; disputes are opened within "
                "%(order_dispute_window_hours)s hours of receipt.",
                hours,
            )
        closed = f"{order.dispute_until:%Y-%m-%d %H:%M}" if order.dispute_until else ""
        raise Conflict(
            message % {"number": order.number, "closed": closed, "order_dispute_window_hours": hours},
            code="dispute_window_closed",
        )
    errors: dict[str, str] = {}
    files = _evidence(details.pop("evidence", None), errors)
    fail(errors)
    record = Dispute.objects.create(order=order, reason=reason, opened_by=actor)
    for upload, kind in files:
        DisputeEvidence.objects.create(
            dispute=record, file=upload, original_name=(upload.name or "evidence")[:200], content_type=kind,
            size=upload.size or 0, uploaded_by=actor,
        )  # fmt: skip
    return {"dispute": record.pk, "evidence": [upload.name for upload, _ in files]}


def resolve(*, order: Order, actor: User | None, reason: str, details: dict, **_: Any) -> dict:
    decision = str(details.pop("decision", "") or "")
    refund = details.pop("refund_amount", None)
    record = Dispute.objects.select_for_update().filter(order=order).first()
    if record is None or not record.is_open:
        raise Conflict(gettext("Order %(number)s has no open dispute.") % {"number": order.number})
    due = order.amount_due or 0
    errors: dict[str, str] = {}
    if decision not in Dispute.Decision.values:
        errors["decision"] = gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Dispute.Decision.values)}
    elif decision == Dispute.Decision.PARTIAL_REFUND:
        value = whole_number(refund, "refund_amount", errors)
        if value is not None and not 0 < value < due:
            errors["refund_amount"] = gettext(
                "A partial refund is more than 0 and less than the amount due (%(due)s); %(refund)s is not."
            ) % {"due": Money(due, order.currency), "refund": Money(value, order.currency)}
        refund = value
    elif refund not in (None, ""):
        errors["refund_amount"] = gettext("Give a refund amount only with a partial refund.")
    fail(errors)
    if decision == Dispute.Decision.RELEASE:
        refund = 0
    elif decision == Dispute.Decision.FULL_REFUND:
        refund = due
    record.decision = decision
    record.refund_amount = refund
    record.decision_reasons = reason
    record.decided_by = actor
    record.decided_at = timezone.now()
    record.save()
    return {"decision": decision, "refund_amount": refund}


def complete(*, order: Order, acting: Acting, **_: Any) -> dict:
    if acting.side == SYSTEM and order.dispute_until and timezone.now() < order.dispute_until:
        raise Conflict(gettext("The dispute window of order %(number)s is still open.") % {"number": order.number})
    return {}


EFFECTS = {
    S.ACCEPTED: accept,
    S.REJECTED: reject,
    S.EXPIRED: expire,
    S.CANCELLED: cancel,
    S.PAID: paid,
    S.DISPATCHED: dispatch,
    S.DELIVERED: receive,
    S.DISPUTED: dispute,
    S.RESOLVED: resolve,
    S.COMPLETED: complete,
}
