"""Placing a purchase: one order per selling organisation, stock reserved atomically on the catalogue.

Every line is checked first (listing or offer on sale, minimum order, what is available, one currency for the
whole basket), so bad input is refused with every field to fix and nothing written. The reservations come last,
in listing and offer id order (so two baskets never wait on each other in a cycle); each is a conditional
UPDATE on the catalogue, and a refusal (someone else took the last kilos first) rolls the whole purchase back.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import Listing, SupplierOffer
from catalogue.selectors import price_for_quantity
from catalogue.services import listing_reserve, supplier_offer_take_stock
from marketplace.core.bounds import MAX_UNIT_PRICE
from marketplace.core.errors import PermissionDenied, ValidationFailed
from marketplace.core.money import Money
from marketplace.core.services import audit_batch, audit_record
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import membership_for
from orders.models import GradePrice, Order, OrderEvent, OrderLine, Purchase
from orders.services._common import BUYER, fail, insert_sql
from orders.services.effects import grade_prices_check
from orders.services.notifications import order_events_record
from orders.services.pricing import amount_for, describe_quantity

MAX_LINES = 50


@dataclass(frozen=True)
class LineInput:
    """One basket line: a listing and grams, or a supplier offer and packs; optionally prices proposed for
    other grades of the listed commodity (grade id -> minor units per the listing's price unit)."""

    quantity: int
    listing_id: int | None = None
    offer_id: int | None = None
    grade_prices: dict[int, int] = field(default_factory=dict)


def _listing_live(listing: Listing | None, today) -> bool:
    return (
        listing is not None
        and listing.status == Listing.Status.ACTIVE
        and listing.valid_until >= today
        and listing.organisation.verification_status == Organisation.Verification.VERIFIED
    )


def _offer_live(offer: SupplierOffer | None, today) -> bool:
    return (
        offer is not None
        and offer.status == SupplierOffer.Status.ACTIVE
        and offer.valid_from <= today <= offer.valid_until
        and offer.organisation.verification_status == Organisation.Verification.VERIFIED
    )


@dataclass
class _Prepared:
    index: int
    seller: Organisation
    kind: str
    currency: str
    line: OrderLine
    grade_prices: dict[int, int]


def _prepare_listing_line(
    index: int,
    given: LineInput,
    listing: Listing | None,
    buyer: Organisation,
    today,
    errors: dict[str, str],
    agreed_per_tonne: int | None = None,
) -> _Prepared | None:
    prefix = f"lines.{index}"
    if not _listing_live(listing, today):
        errors[f"{prefix}.listing"] = gettext("Listing %(listing)s is not on sale; choose another one.") % {
            "listing": given.listing_id
        }
        return None
    assert listing is not None
    if listing.organisation_id == buyer.pk:
        errors[f"{prefix}.listing"] = gettext("This is your own organisation's listing.")
        return None
    grams = given.quantity
    show = lambda q: describe_quantity(q, "GRM")  # noqa: E731
    if grams < listing.min_order_grams:
        errors[f"{prefix}.quantity"] = gettext(
            "The minimum order for '%(title)s' is %(min_order)s; you asked for %(asked)s."
        ) % {"title": listing.title, "min_order": show(listing.min_order_grams), "asked": show(grams)}
        return None
    if grams > listing.quantity_available_grams:
        errors[f"{prefix}.quantity"] = gettext(
            "Only %(available)s of '%(title)s' are available; you asked for %(asked)s."
        ) % {"available": show(listing.quantity_available_grams), "title": listing.title, "asked": show(grams)}
        return None
    if agreed_per_tonne is None:
        unit_price, price_unit = listing.price_amount, listing.price_unit
    else:  # a price the buyer and the seller agreed on (matching's counters), per tonne
        unit_price, price_unit = agreed_per_tonne, OrderLine.PriceUnit.PER_TONNE
    line = OrderLine(
        listing=listing,
        lot_id=listing.lot_id,
        grade=listing.grade,
        description=listing.title[:200],
        quantity=grams,
        quantity_unit=OrderLine.QuantityUnit.GRAM,
        unit_price_amount=unit_price,
        price_unit=price_unit,
        line_total_amount=amount_for(grams, unit_price, price_unit),
    )
    prices = grade_prices_check(line, given.grade_prices, f"{prefix}.grade_prices", errors)
    return _Prepared(index, listing.organisation, Order.Kind.PRODUCE, listing.currency, line, prices)


def _prepare_offer_line(
    index: int, given: LineInput, offer: SupplierOffer | None, buyer: Organisation, today, errors: dict[str, str]
) -> _Prepared | None:
    prefix = f"lines.{index}"
    if not _offer_live(offer, today):
        errors[f"{prefix}.offer"] = gettext("Supplier offer %(offer)s is not open; choose another one.") % {
            "offer": given.offer_id
        }
        return None
    assert offer is not None
    if offer.organisation_id == buyer.pk:
        errors[f"{prefix}.offer"] = gettext("This is your own organisation's offer.")
        return None
    if given.grade_prices:
        errors[f"{prefix}.grade_prices"] = gettext("Grade prices apply to produce lines only.")
        return None
    try:
        quote = price_for_quantity(
            list(offer.tiers.all()), given.quantity, currency=offer.currency, max_order_packs=offer.max_order_packs
        )
    except ValidationFailed as error:
        errors[f"{prefix}.quantity"] = error.message
        return None
    if given.quantity > offer.stock_packs:
        errors[f"{prefix}.quantity"] = gettext("Only %(stock_packs)s packs are in stock; you asked for %(asked)s.") % {
            "stock_packs": offer.stock_packs,
            "asked": given.quantity,
        }
        return None
    line = OrderLine(
        offer=offer,
        description=str(offer.product)[:200],
        quantity=given.quantity,
        quantity_unit=OrderLine.QuantityUnit.PACK,
        unit_price_amount=quote.unit_price.amount,
        price_unit=OrderLine.PriceUnit.PER_PACK,
        line_total_amount=quote.total.amount,
    )
    return _Prepared(index, offer.organisation, Order.Kind.INPUTS, offer.currency, line, {})


def _check_agreed_prices(agreed_prices: dict[int, int], lines: list[LineInput]) -> None:
    """Agreed prices name listings of this purchase, one whole price per tonne each, within the unit-price bound,
    and come without grade prices (those are quoted per the listing's own price)."""
    errors: dict[str, str] = {}
    if not isinstance(agreed_prices, dict):
        fail({"agreed_prices": gettext("Give agreed prices as listing id -> minor units per tonne.")})
    by_listing = {line.listing_id: line for line in lines if line.listing_id is not None}
    for listing_id, price in agreed_prices.items():
        key = f"agreed_prices.{listing_id}"
        if listing_id not in by_listing:
            errors[key] = gettext("Listing %(listing)s is not a line of this purchase.") % {"listing": listing_id}
        elif isinstance(price, bool) or not isinstance(price, int) or not 0 < price <= MAX_UNIT_PRICE:
            errors[key] = gettext("An agreed price is a whole number of minor units per tonne, 1 to %(max_price)s.") % {
                "max_price": format(MAX_UNIT_PRICE, ",")
            }
        elif by_listing[listing_id].grade_prices:
            errors[key] = gettext("A line with an agreed price takes no grade prices.")
    fail(errors)


def _check_lines(
    lines: list[LineInput], buyer: Organisation, agreed_prices: dict[int, int] | None = None
) -> list[_Prepared]:
    if not lines:
        fail({"lines": gettext("Add at least one line: a listing and a quantity in grams, or an offer and packs.")})
    if len(lines) > MAX_LINES:
        fail({"lines": gettext("A purchase has at most %(max_lines)s lines; split it.") % {"max_lines": MAX_LINES}})
    if agreed_prices:
        _check_agreed_prices(agreed_prices, lines)
    agreed_prices = agreed_prices or {}
    errors: dict[str, str] = {}
    listing_ids = {line.listing_id for line in lines if line.listing_id is not None}
    offer_ids = {line.offer_id for line in lines if line.offer_id is not None}
    listings = Listing.objects.select_related("organisation", "grade__commodity").in_bulk(listing_ids)
    offers = (
        SupplierOffer.objects.select_related("organisation", "product").prefetch_related("tiers").in_bulk(offer_ids)
    )
    today = timezone.localdate()
    prepared: list[_Prepared] = []
    seen: set[tuple[str, int]] = set()
    for index, given in enumerate(lines):
        prefix = f"lines.{index}"
        if (given.listing_id is None) == (given.offer_id is None):
            errors[prefix] = gettext("Name either a listing or a supplier offer.")
            continue
        if isinstance(given.quantity, bool) or not isinstance(given.quantity, int) or given.quantity <= 0:
            errors[f"{prefix}.quantity"] = (
                gettext("The quantity is a whole number of grams above 0.")
                if given.listing_id is not None
                else gettext("The quantity is a whole number of packs above 0.")
            )
            continue
        key = ("listing", given.listing_id) if given.listing_id is not None else ("offer", given.offer_id)
        if key in seen:
            errors[prefix] = (
                gettext("This listing is already in the basket; change that line's quantity instead.")
                if key[0] == "listing"
                else gettext("This offer is already in the basket; change that line's quantity instead.")
            )
            continue
        seen.add(key)  # type: ignore[arg-type]
        if given.listing_id is not None:
            item = _prepare_listing_line(
                index, given, listings.get(given.listing_id), buyer, today, errors, agreed_prices.get(given.listing_id)
            )
        else:
            item = _prepare_offer_line(index, given, offers.get(given.offer_id), buyer, today, errors)
        if item is not None:
            prepared.append(item)
    if prepared:
        currency = prepared[0].currency
        for item in prepared[1:]:
            if item.currency != currency:
                what = "listing" if item.kind == Order.Kind.PRODUCE else "offer"
                errors[f"lines.{item.index}.{what}"] = (
                    f"This {what} is priced in {item.currency}; the rest of the basket is in {currency}. "
                    f"Place a separate purchase for it."
                )
    fail(errors)
    return prepared


def _insert_purchase(purchase: Purchase, orders: list[Order], lines: list[list[_Prepared]]) -> None:
    """Insert the purchase, its orders (one per seller and kind) and their lines in one statement of three
    data-modifying CTEs; the purchase's reference and the orders' numbers (database defaults) and every id come
    back from it. Sets them on the objects, numbers the lines and counts them on their orders."""
    for order in orders:
        order.purchase_id = RawSQL("(SELECT id FROM p)", ())
    for order, items in zip(orders, lines, strict=True):
        order.line_count = len(items)
        order_id = RawSQL("(SELECT id FROM o WHERE seller_id = %s AND kind = %s)", (order.seller_id, order.kind))
        for position, item in enumerate(items, start=1):
            item.line.order_id, item.line.position = order_id, position
    parts = [
        insert_sql(Purchase, [purchase], "id, reference"),
        insert_sql(Order, orders, "id, number, seller_id, kind"),
        insert_sql(OrderLine, [item.line for items in lines for item in items], "id, order_id, position"),
    ]
    # Django's own INSERTs (identifiers from the models, values as parameters)
    sql = (
        f"WITH p AS ({parts[0][0]}), o AS ({parts[1][0]}), l AS ({parts[2][0]}) "  # noqa: S608
        "SELECT 'p', id, reference, NULL::bigint, NULL FROM p "
        "UNION ALL SELECT 'o', id, number, seller_id, kind FROM o "
        "UNION ALL SELECT 'l', id, NULL, order_id, position::text FROM l"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [param for _, params in parts for param in params])
        written = cursor.fetchall()
    by_kind: dict[str, list[tuple]] = defaultdict(list)
    for table, *row in written:
        by_kind[table].append(row)
    [(purchase.pk, purchase.reference, _, _)] = by_kind["p"]
    purchase._state.adding = False
    placed = {(seller_id, kind): (pk, number) for pk, number, seller_id, kind in by_kind["o"]}
    line_ids = {(order_id, int(position)): pk for pk, _, order_id, position in by_kind["l"]}
    for order, items in zip(orders, lines, strict=True):
        order.pk, order.number = placed[(order.seller_id, order.kind)]
        order.purchase = purchase
        order._state.adding = False
        for item in items:
            item.line.order = order
            item.line.pk = line_ids[(order.pk, item.line.position)]
            item.line._state.adding = False


@transaction.atomic
def purchase_place(
    *, actor: User, buyer_id: int, lines: list[LineInput], note: str = "", agreed_prices: dict[int, int] | None = None
) -> Purchase:
    """Place a purchase for the buyer organisation: one order per seller, linked by the purchase reference;
    the quantities are reserved on the listings and offers. Needs a manager (or admin) of the buyer.

    `agreed_prices` (listing id -> minor units per tonne) charges those lines a price the buyer and the seller
    agreed on instead of the listing's; only matching's consignments pass it (a proposal every party accepted),
    never the API or the pages, which charge the listing's price.

    A one-line purchase runs 8 statements between BEGIN and COMMIT: the membership, the listing, one INSERT
    each for the purchase, its orders (their numbers come back from the INSERTs), their lines, their events with
    their notifications (one statement), the reservation's conditional UPDATE, and the audit records."""
    membership = membership_for(viewer=actor, organisation_id=buyer_id, capability=Capability.DECIDE)
    buyer = membership.organisation
    if buyer.kind == Organisation.Kind.OPERATOR:
        fail({"organisation": gettext("The platform operator does not buy; act for a buying organisation.")})
    if buyer.verification_status != Organisation.Verification.VERIFIED:
        raise PermissionDenied(
            gettext(
                "%(name)s is not verified yet (%(verification_status)s); the platform "
                "operator must verify it before it can place orders."
            )
            % {"name": buyer.name, "verification_status": buyer.get_verification_status_display()}
        )
    if len(note) > 2000:
        fail({"note": gettext("Keep the note under 2,000 characters.")})
    prepared = _check_lines(lines, buyer, agreed_prices)
    role = membership.role
    now = timezone.now()
    groups: dict[tuple[int, str], list[_Prepared]] = defaultdict(list)
    for item in prepared:
        groups[(item.seller.pk, item.kind)].append(item)
    ordered_groups = sorted(groups.items())
    with audit_batch() as audits:
        audited_before = len(audits)  # an enclosing batch's records stay in it
        purchase = Purchase(buyer=buyer, placed_by=actor, currency=prepared[0].currency, note=note.strip())
        orders = [
            Order(
                kind=kind,
                buyer=buyer,
                seller=items[0].seller,
                placed_by=actor,
                currency=purchase.currency,
                total_amount=sum(item.line.line_total_amount for item in items),
                accept_by=now + timedelta(hours=settings.ORDER_ACCEPTANCE_HOURS),
            )
            for (_, kind), items in ordered_groups
        ]
        _insert_purchase(purchase, orders, [items for _, items in ordered_groups])
        GradePrice.objects.bulk_create(
            [
                GradePrice(line=item.line, grade_id=grade_id, unit_price_amount=amount)
                for item in prepared
                for grade_id, amount in item.grade_prices.items()
            ]
        )
        reservations: list[tuple[str, int, int, str]] = []
        for order, (_, items) in zip(orders, ordered_groups, strict=True):
            mine = []
            for item in items:
                source = ("listing", item.line.listing_id) if item.line.listing_id else ("offer", item.line.offer_id)
                mine.append((source[0], source[1], item.line.quantity, order.number))
            reservations.extend(mine)  # type: ignore[arg-type]
            audit_record(
                actor=actor,
                action="order.placed",
                subject=order,
                organisation_id=buyer.pk,
                to_status=Order.Status.PLACED,
                data={
                    "number": order.number,
                    "purchase": purchase.reference,
                    "total": str(Money(order.total_amount, order.currency)),
                    "lines": [{"source": f"{s[0]}:{s[1]}", "quantity": s[2]} for s in mine],
                },
            )
        # Reserve near the end, in a fixed order: the conditional UPDATEs hold their row locks until the commit, and
        # only one statement (the events') follows them.
        for kind, source_id, quantity, number in sorted(reservations):
            if kind == "listing":
                listing_reserve(listing_id=source_id, grams=quantity, actor=actor, reference=number)
            else:
                supplier_offer_take_stock(offer_id=source_id, packs=quantity, actor=actor, reference=number)
        # The events, their notifications and outbox messages, and the audit records: one statement, the last.
        placed = audits[audited_before:]
        del audits[audited_before:]
        order_events_record(
            events=[
                OrderEvent(order=order, to_status=Order.Status.PLACED, actor=actor, side=BUYER, role=role)
                for order in orders
            ],
            audit_events=placed,
        )
    purchase.placed_orders = orders  # as written, each with its line_count: the API answers without reading back
    return purchase
