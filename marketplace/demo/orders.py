"""Demo orders: one order in every status between the Nawa cocoa cooperative and Amstel Origins, including a
settled dispute with its evidence and a completed order with its purchase order, delivery note and invoice.

Everything goes through the services: the stock (a warehouse, members' deliveries, a lot and a listing kept
for these orders) through the catalogue's, the orders through `orders.services`. Each demo order is found
again by its purchase note, so running the seeder twice changes nothing. The notifications of demo moves are
marked sent without being delivered, so seeding does not flood the console with email.
"""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal
from typing import TextIO

from django.core.files.base import ContentFile
from django.utils import timezone

from catalogue import services as catalogue
from catalogue.models import Commodity, Grade, Listing, Location, Lot
from marketplace.core.money import Money
from marketplace.demo.organisations import account, organisation
from marketplace.organisations.models import MemberFarmer
from orders.models import Notification, Order, Purchase
from orders.services import LineInput, order_mark_paid, order_transition, purchase_place

SELLER, BUYER = "cocoa-nawa", "amstel-origins"
SELLER_MANAGER, SELLER_CLERK = "manager@cocoa-nawa.demo", "clerk@cocoa-nawa.demo"
BUYER_MANAGER = "manager@amstel-origins.demo"
OPERATOR = "operator@coopmarket.demo"
LISTING_TITLE = "Cocoa Grade I, main crop (orders demo)"
WAREHOUSE, COLLECTION_POINT = "orders-demo-wh", "orders-demo-cp"
DELIVERY_GRAMS = [3_500_000, 3_000_000, 2_800_000, 3_200_000, 2_500_000, 3_000_000, 2_000_000]
TONNE = 1_000_000
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

# (status to reach, tonnes, what happens on the way)
PLAN = [
    ("placed", 1.5),
    ("accepted", 2.0),
    ("rejected", 1.0),
    ("expired", 1.0),
    ("cancelled", 1.2),
    ("paid", 2.5),
    ("dispatched", 2.0),
    ("delivered", 1.8),
    ("disputed", 1.5),
    ("resolved", 2.2),
    ("completed", 3.0),
]


def _note(status: str) -> str:
    return f"Demo order ({status})"


def _reference_data() -> None:
    """The commodities and grades come from the catalogue's data migration; a test database that was flushed
    has lost them, so put them back (the loader is idempotent)."""
    if not Commodity.objects.filter(code="cocoa-beans").exists():
        from django.apps import apps

        importlib.import_module("catalogue.migrations.0003_reference_data").load(apps, None)


def _listing(stdout: TextIO) -> Listing:
    _reference_data()
    seller = organisation(SELLER)
    existing = Listing.objects.filter(organisation=seller, title=LISTING_TITLE).first()
    if existing is not None:
        return existing
    manager, clerk = account(SELLER_MANAGER), account(SELLER_CLERK)
    locations = {loc.code: loc for loc in Location.objects.filter(organisation=seller)}
    if WAREHOUSE not in locations:
        locations[WAREHOUSE] = catalogue.location_create(
            actor=manager, organisation_id=seller.pk, code=WAREHOUSE, name="Soubré export warehouse",
            is_collection_point=False, is_warehouse=True, region=seller.region,
            latitude=Decimal("5.787100"), longitude=Decimal("-6.594300"),
        )  # fmt: skip
    if COLLECTION_POINT not in locations:
        locations[COLLECTION_POINT] = catalogue.location_create(
            actor=manager, organisation_id=seller.pk, code=COLLECTION_POINT, name="Okrouyo buying post",
            is_collection_point=True, is_warehouse=False, region=seller.region,
        )  # fmt: skip
    cocoa = Commodity.objects.get(code="cocoa-beans")
    grade = Grade.objects.get(commodity=cocoa, code="grade-1")
    farmers = list(
        MemberFarmer.objects.filter(organisation=seller, status=MemberFarmer.Status.ACTIVE)
        .order_by("member_number")
        .prefetch_related("plots")[: len(DELIVERY_GRAMS)]
    )
    deliveries = [
        catalogue.delivery_record(
            actor=clerk,
            organisation_id=seller.pk,
            collection_point_id=locations[COLLECTION_POINT].pk,
            farmer_id=farmer.pk,
            plot_id=(farmer.plots.all()[0].pk if farmer.plots.all() else None),
            commodity_id=cocoa.pk,
            grade_id=grade.pk,
            moisture_pct=Decimal("7.2"),
            net_grams=grams,
            delivered_on=timezone.localdate() - datetime.timedelta(days=20),
        )
        for farmer, grams in zip(farmers, DELIVERY_GRAMS, strict=False)
    ]
    lot = catalogue.lot_bulk(
        actor=manager, organisation_id=seller.pk, delivery_ids=[d.pk for d in deliveries],
        storage_location_id=locations[WAREHOUSE].pk,
    )  # fmt: skip
    today = timezone.localdate()
    listing = catalogue.listing_create(
        actor=manager, lot_id=lot.pk, title=LISTING_TITLE, price=Money(1450, "XOF"), price_unit="KGM",
        quantity_grams=lot.quantity_grams, min_order_grams=500_000, delivery_terms="ex_warehouse",
        pickup_location_id=locations[WAREHOUSE].pk, available_from=today,
        valid_until=today + datetime.timedelta(days=120),
        description="Fermented and sun-dried, 7 % moisture, in 62.5 kg jute bags.",
    )  # fmt: skip
    stdout.write(f"orders: stock for the demo orders: lot {Lot.objects.get(pk=lot.pk).code}, listing {listing.pk}\n")
    return listing


def _drive(order: Order, to: str, *, grade_2: Grade) -> None:
    seller_manager, clerk = account(SELLER_MANAGER), account(SELLER_CLERK)
    buyer, operator = account(BUYER_MANAGER), account(OPERATOR)
    if to == "rejected":
        order_transition(actor=seller_manager, order_id=order.pk, to_status="rejected",
                         reason="This lot is promised to a long-standing customer.")  # fmt: skip
        return
    if to == "expired":
        Order.objects.filter(pk=order.pk).update(accept_by=timezone.now() - datetime.timedelta(minutes=1))
        order_transition(actor=None, order_id=order.pk, to_status="expired", reason="Not accepted within 48 hours.")
        return
    if to == "cancelled":
        order_transition(actor=buyer, order_id=order.pk, to_status="cancelled",
                         reason="Ordered twice by mistake.")  # fmt: skip
        return
    if to == "placed":
        return
    line = order.lines.get()
    order_transition(actor=seller_manager, order_id=order.pk, to_status="accepted",
                     grade_prices={line.pk: {grade_2.pk: 1300}})  # fmt: skip
    if to == "accepted":
        return
    order_mark_paid(actor=operator, order_id=order.pk, payment_reference=f"DEMO-PAY-{order.number}")
    if to == "paid":
        return
    order_transition(
        actor=clerk, order_id=order.pk, to_status="dispatched", document_number=f"LV-{order.number[-6:]}",
        vehicle="4521 HJ 01", driver="Yao Kouadio",
    )  # fmt: skip
    if to == "dispatched":
        return
    received = line.quantity - (8_000 if to in ("disputed", "resolved") else 3_000)
    grade = {"grade": grade_2.pk} if to in ("disputed", "resolved") else {}
    order_transition(
        actor=buyer, order_id=order.pk, to_status="delivered", lines={line.pk: {"quantity": received, **grade}},
        inspection_notes="Weighed at the Abidjan warehouse; cut test on 300 beans.",
    )  # fmt: skip
    if to == "delivered":
        return
    if to == "completed":
        order_transition(actor=buyer, order_id=order.pk, to_status="completed",
                         reason="Goods as agreed; released early.")  # fmt: skip
        return
    order_transition(
        actor=buyer, order_id=order.pk, to_status="disputed",
        reason="Cut test shows 9 % mouldy beans, above the 4 % allowed for Grade II.",
        evidence=[ContentFile(MINIMAL_PDF, name="cut-test-report.pdf")],
    )  # fmt: skip
    if to == "resolved":
        order_transition(
            actor=operator, order_id=order.pk, to_status="resolved", decision="partial_refund",
            refund_amount=150_000, reason="The independent report confirms the mould; 150,000 XOF is refunded.",
        )  # fmt: skip


def seed(*, stdout: TextIO) -> None:
    buyer = organisation(BUYER)
    listing = _listing(stdout)
    grade_2 = Grade.objects.get(commodity=listing.commodity, code="grade-2")
    made = []
    for status, tonnes in PLAN:
        if Purchase.objects.filter(buyer=buyer, note=_note(status)).exists():
            continue
        purchase = purchase_place(
            actor=account(BUYER_MANAGER), buyer_id=buyer.pk, note=_note(status),
            lines=[LineInput(quantity=int(tonnes * TONNE), listing_id=listing.pk)],
        )  # fmt: skip
        order = purchase.orders.get()
        _drive(order, status, grade_2=grade_2)
        made.append(order.pk)
    Notification.objects.filter(order_id__in=made, sent_at__isnull=True).update(sent_at=timezone.now())
    if made:
        statuses = ", ".join(Order.objects.filter(pk__in=made).order_by("pk").values_list("status", flat=True))
        stdout.write(f"orders: {len(made)} demo orders ({statuses})\n")
    else:
        stdout.write("orders: nothing new\n")
