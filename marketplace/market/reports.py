"""Exports for managers: deliveries, lots, orders, payouts and members of the current organisation over a date
range, as CSV or XLSX, streamed row by row (house rule 2: every read goes through the owning app's selector,
scoped by the viewer; a clerk or viewer is refused, another organisation's rows are never reachable)."""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext

from catalogue.selectors import delivery_list, lot_list
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.organisations.models import User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import member_farmer_list, organisation_for
from orders.selectors import order_list
from payments.payouts.models import PayoutLine
from payments.payouts.selectors import payout_batch_list

KINDS = ["deliveries", "lots", "orders", "payouts", "members"]
FORMATS = ["csv", "xlsx"]
MAX_DAYS = 5 * 366
CHUNK = 2000


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)


def _deliveries(viewer, organisation_id, start, end):
    yield ["receipt", "kind", "delivered_on", "member_number", "member", "commodity", "grade", "net_kg", "moisture_pct",
           "collection_point"]  # fmt: skip
    rows = delivery_list(viewer=viewer, organisation_id=organisation_id, delivered_from=start, delivered_to=end)
    for d in rows.iterator(chunk_size=CHUNK):
        yield [d.receipt_number, d.kind, d.delivered_on.isoformat(), d.farmer.member_number, d.farmer.name,
               d.commodity.name, d.grade.name, d.net_grams / 1000, str(d.moisture_pct),
               d.collection_point.name]  # fmt: skip


def _lots(viewer, organisation_id, start, end):
    yield ["code", "created", "status", "commodity", "grade", "tonnes", "origin", "storage"]
    low, high = _bounds(start, end)
    rows = lot_list(viewer=viewer, organisation_id=organisation_id).filter(created_at__gte=low, created_at__lt=high)
    for lot in rows.iterator(chunk_size=CHUNK):
        yield [lot.code, lot.created_at.date().isoformat(), lot.status, lot.commodity.name, lot.grade.name,
               lot.quantity_grams / 1_000_000, lot.origin, lot.storage_location.name]  # fmt: skip


def _orders(viewer, organisation_id, start, end):
    yield ["number", "placed", "side", "status", "buyer", "seller", "currency", "total", "amount_due"]
    low, high = _bounds(start, end)
    rows = order_list(viewer=viewer, organisation_id=organisation_id).filter(created_at__gte=low, created_at__lt=high)
    for o in rows.iterator(chunk_size=CHUNK):
        side = "selling" if o.seller_id == organisation_id else "buying"
        due = "" if o.due is None else str(o.due.to_decimal())
        yield [o.number, o.created_at.date().isoformat(), side, o.status, o.buyer.name, o.seller.name, o.currency,
               str(o.total.to_decimal()), due]  # fmt: skip


def _payouts(viewer, organisation_id, start, end):
    from marketplace.core.money import Money

    yield ["batch", "proposed", "batch_status", "member_number", "member", "currency", "gross", "levy",
           "input_credit", "net", "paid_at"]  # fmt: skip
    low, high = _bounds(start, end)
    batches = payout_batch_list(viewer=viewer, organisation_id=organisation_id).filter(
        proposed_at__gte=low, proposed_at__lt=high
    )
    lines = (
        PayoutLine.objects.filter(batch__in=batches.values("pk"))
        .select_related("batch", "farmer")
        .order_by("batch_id", "farmer__member_number")
    )
    for line in lines.iterator(chunk_size=CHUNK):
        money = lambda amount, c=line.batch.currency: str(Money(amount, c).to_decimal())  # noqa: E731
        yield [line.batch_id, line.batch.proposed_at.date().isoformat(), line.batch.status,
               line.farmer.member_number, line.farmer.name, line.batch.currency, money(line.gross_amount),
               money(line.levy_amount), money(line.credit_amount), money(line.net_amount),
               line.paid_at.isoformat() if line.paid_at else ""]  # fmt: skip


def _members(viewer, organisation_id, start, end):
    yield ["member_number", "name", "gender", "birth_year", "village", "phone", "joined_on", "status", "plots"]
    # the register as it stood at the end of the range: everyone who had joined by then
    rows = (
        member_farmer_list(viewer=viewer, organisation_id=organisation_id)
        .filter(joined_on__lte=end)
        .order_by("member_number")
    )
    for f in rows.iterator(chunk_size=CHUNK):
        yield [f.member_number, f.name, f.gender, f.birth_year or "", f.village, str(f.phone or ""),
               f.joined_on.isoformat() if f.joined_on else "", f.status, f.plot_count]  # fmt: skip


BUILDERS = {"deliveries": _deliveries, "lots": _lots, "orders": _orders, "payouts": _payouts, "members": _members}


def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = f"{value!r} is not a date; write it as YYYY-MM-DD."
        return None


def report_rows(*, viewer: User, organisation_id: int, kind: str, start: str, end: str) -> Iterator[list]:
    """The header and rows of one report; managers and admins of the organisation only."""
    if kind not in BUILDERS:
        raise NotFound(gettext("No such report; choose one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)})
    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.DECIDE)
    errors: dict[str, str] = {}
    first, last = _day(start, "from", errors), _day(end, "to", errors)
    if first and last and first > last:
        errors["to"] = "The end of the range comes before its start."
    elif first and last and (last - first).days > MAX_DAYS:
        errors["to"] = "Export at most five years at a time."
    if errors:
        raise ValidationFailed("Give a date range.", fields=errors)
    return BUILDERS[kind](viewer, organisation.pk, first, last)
