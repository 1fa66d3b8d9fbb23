"""Demo market prices: two maize cooperatives of Trans Nzoia (Kenya) sell to Mavuno Millers every month for six
months, so the public market page shows a published series (4 trades from 2 sellers a month, all received in the
same week, so the weekly cells are published too), quoted per 90 kg bag.

The second cooperative, Saboti Maize Farmers, is created like the others (the operator invites its admin, who
invites a clerk; the clerk records its members). Everything goes through the services: deliveries, a lot and a
listing per cooperative through the catalogue's, the orders through `orders.services` (accepted, marked paid, the
money recorded through `payments.services`, dispatched, received on a past day, completed), so `ledger_check` and
`trace_verify` hold. Each order is found again by its purchase note: running the seeder twice adds nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TextIO

from django.utils import timezone

from catalogue import services as catalogue
from catalogue.models import Commodity, Grade, Listing, Location
from marketplace.core.money import Money
from marketplace.demo.organisations import (
    _BY_KEY,
    MAIZE,
    PLANS,
    CooperativePlan,
    OrganisationSpec,
    _account,
    _Counter,
    _seed_invited,
    _seed_lead,
    _seed_members,
    _seed_organisation,
    account,
    organisation,
)
from marketplace.market.services import market_refresh
from marketplace.organisations.models import MemberFarmer, Organisation
from marketplace.organisations.roles import Role
from orders.models import Notification, Purchase
from orders.services import LineInput, order_mark_paid, order_transition, purchase_place
from payments.services.payments import payment_record_received

BUYER, BUYER_MANAGER, OPERATOR = "mavuno-millers", "manager@mavuno-millers.demo", "operator@coopmarket.demo"
TONNE = 1_000_000
MONTHS = 6
ORDER_TONNES = 5
LISTING_TITLE = "White maize Grade 1 (market demo)"

SABOTI = OrganisationSpec(
    key="maize-saboti",
    kind=Organisation.Kind.COOPERATIVE,
    legal_name="Saboti Maize Farmers Cooperative Society Ltd",
    display_name="Saboti Maize Farmers",
    country="KE",
    region=MAIZE.region,
    address="Saboti Market, P.O. Box 312-30200 Kitale",
    latitude="1.041200",
    longitude="34.947300",
    registration_number="CS-16890",
    currency="KES",
    preferred_language="sw",
    email="contact@maize-saboti.demo",
    phone="+254532030400",
)
SABOTI_MANAGER = _account("manager", SABOTI, "Ruth Nanjala", Role.ADMIN, lead=True)
SABOTI_CLERK = _account("clerk", SABOTI, "Brian Wekesa", Role.CLERK)
SABOTI_PLAN = CooperativePlan(
    spec=SABOTI, member_prefix="SAB", farmers=24, women_share=0.4, founded=datetime.date(2017, 5, 8),
    surname_first=False,
    women_first=["Mercy", "Grace", "Faith", "Lilian", "Purity", "Janet", "Rose", "Sarah", "Emily", "Nancy"],
    men_first=["Joseph", "Peter", "Dennis", "Moses", "Nicholas", "John", "Samuel", "Evans", "Kennedy", "Brian"],
    women_surnames=["Nafula", "Nekesa", "Naliaka", "Nasimiyu", "Chebet", "Wambui", "Nanjala", "Khisa"],
    men_surnames=["Wafula", "Wanjala", "Simiyu", "Barasa", "Wekesa", "Khaemba", "Wamalwa", "Kiprop", "Mutai"],
    villages=["Saboti", "Kiminini", "Kapsara", "Makutano", "Sikinwa"],
    phone_prefixes=["+25470", "+25471", "+25472"], phone_digits=7, plot_word="Shamba", plot_area_ha=(0.4, 3.5),
    max_plots=2, geolocated_share=0.0, grid_spacing_deg=0.004, left_reasons=["Moved to Kitale town."],
)  # fmt: skip
# KES per kg, month by month (oldest first), for the first and second order of each cooperative.
PRICES = {MAIZE.key: [3_450, 3_500, 3_650, 3_900, 4_150, 4_400], SABOTI.key: [3_400, 3_520, 3_600, 3_850, 4_100, 4_350]}


def _saboti(counter: _Counter) -> Organisation:
    """The second maize cooperative, with its admin, clerk and members, as the organisations seeder does it."""
    operator_admin = account(OPERATOR)
    cooperative = _seed_organisation(SABOTI, operator_admin=operator_admin, counter=counter)
    manager = _seed_lead(SABOTI_MANAGER, organisation=cooperative, operator_admin=operator_admin, counter=counter)
    clerk = _seed_invited(SABOTI_CLERK, organisation=cooperative, inviter=manager, counter=counter)
    # organisation() and farmer_plans() find a demo cooperative and its members' plan by key
    _BY_KEY.setdefault(SABOTI.key, SABOTI)
    PLANS.setdefault(SABOTI.key, SABOTI_PLAN)
    _seed_members(SABOTI.key, clerk=clerk, manager=manager, counter=counter)
    return cooperative


def _listing(cooperative: Organisation, manager, clerk, grade: Grade) -> Listing:
    existing = Listing.objects.filter(organisation=cooperative, title=LISTING_TITLE).first()
    if existing is not None:
        return existing
    locations = {loc.code: loc for loc in Location.objects.filter(organisation=cooperative)}
    if "market-demo-wh" not in locations:
        locations["market-demo-wh"] = catalogue.location_create(
            actor=manager, organisation_id=cooperative.pk, code="market-demo-wh", name="Kitale grain store",
            is_collection_point=False, is_warehouse=True, region=cooperative.region,
        )  # fmt: skip
    if "market-demo-cp" not in locations:
        locations["market-demo-cp"] = catalogue.location_create(
            actor=manager, organisation_id=cooperative.pk, code="market-demo-cp", name="Village buying centre",
            is_collection_point=True, is_warehouse=False, region=cooperative.region,
        )  # fmt: skip
    farmers = list(
        MemberFarmer.objects.filter(organisation=cooperative, status=MemberFarmer.Status.ACTIVE)
        .order_by("member_number")
        .prefetch_related("plots")[:20]
    )
    total = MONTHS * 2 * ORDER_TONNES * TONNE
    shares = [total // len(farmers)] * len(farmers)
    shares[-1] += total - sum(shares)
    deliveries = [
        catalogue.delivery_record(
            actor=clerk,
            organisation_id=cooperative.pk,
            collection_point_id=locations["market-demo-cp"].pk,
            farmer_id=farmer.pk,
            plot_id=(farmer.plots.all()[0].pk if farmer.plots.all() else None),
            commodity_id=grade.commodity_id,
            grade_id=grade.pk,
            moisture_pct=Decimal("13.0"),
            net_grams=grams,
            delivered_on=timezone.localdate() - datetime.timedelta(days=200),
        )
        for farmer, grams in zip(farmers, shares, strict=True)
    ]
    lot = catalogue.lot_bulk(
        actor=manager, organisation_id=cooperative.pk, delivery_ids=[d.pk for d in deliveries],
        storage_location_id=locations["market-demo-wh"].pk,
    )  # fmt: skip
    today = timezone.localdate()
    return catalogue.listing_create(
        actor=manager, lot_id=lot.pk, title=LISTING_TITLE, price=Money(PRICES[cooperative_key(cooperative)][0], "KES"),
        price_unit="KGM", quantity_grams=lot.quantity_grams, min_order_grams=TONNE, delivery_terms="ex_warehouse",
        pickup_location_id=locations["market-demo-wh"].pk, available_from=today,
        valid_until=today + datetime.timedelta(days=120), description="Dried to 13 %, in 90 kg bags.",
    )  # fmt: skip


def cooperative_key(cooperative: Organisation) -> str:
    return SABOTI.key if cooperative.registration_number == SABOTI.registration_number else MAIZE.key


def _received_on(months_back: int) -> datetime.date:
    """The 10th of the month `months_back` months ago (today, in the current month before the 10th)."""
    today = timezone.localdate()
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    day = datetime.date(year, month + 1, 10)
    return min(day, today)


def _trade(*, cooperative: Organisation, listing: Listing, price: int, received_on: datetime.date, note: str) -> int:
    manager = account(f"manager@{cooperative_key(cooperative)}.demo")
    clerk = account(f"clerk@{cooperative_key(cooperative)}.demo")
    buyer, operator = account(BUYER_MANAGER), account(OPERATOR)
    catalogue.listing_update(actor=manager, listing_id=listing.pk, price=Money(price, "KES"))
    order = purchase_place(
        actor=buyer, buyer_id=organisation(BUYER).pk, note=note,
        lines=[LineInput(quantity=ORDER_TONNES * TONNE, listing_id=listing.pk)],
    ).orders.get()  # fmt: skip
    order_transition(actor=manager, order_id=order.pk, to_status="accepted")
    order_mark_paid(actor=operator, order_id=order.pk, payment_reference=f"DEMO-PAY-{order.number}")
    payment_record_received(actor=operator, order_id=order.pk)
    order_transition(
        actor=clerk, order_id=order.pk, to_status="dispatched", document_number=f"DN-{order.number[-6:]}",
        dispatched_on=(received_on - datetime.timedelta(days=1)).isoformat(), vehicle="KCA 512Q",
        driver="Wycliffe Simiyu",
    )  # fmt: skip
    line = order.lines.get()
    order_transition(
        actor=buyer, order_id=order.pk, to_status="delivered", received_on=received_on.isoformat(),
        lines={line.pk: {"quantity": line.quantity_dispatched}}, inspection_notes="Moisture 13 %, clean.",
    )  # fmt: skip
    order_transition(actor=buyer, order_id=order.pk, to_status="completed", reason="Received as agreed.")
    return order.pk


def seed(*, stdout: TextIO) -> None:
    counter = _Counter()
    saboti = _saboti(counter)
    maize = Commodity.objects.get(code="maize-white")
    grade = Grade.objects.get(commodity=maize, code="grade-1")
    cooperatives = [organisation(MAIZE.key), saboti]
    buyer = organisation(BUYER)
    made = []
    for cooperative in cooperatives:
        key = cooperative_key(cooperative)
        manager, clerk = account(f"manager@{key}.demo"), account(f"clerk@{key}.demo")
        listing = None
        for index in range(MONTHS):
            months_back = MONTHS - 1 - index
            for k in range(2):
                note = f"Market demo {key} {months_back} months ago #{k + 1}"
                if Purchase.objects.filter(buyer=buyer, note=note).exists():
                    continue
                listing = listing or _listing(cooperative, manager, clerk, grade)
                price = PRICES[key][index] + 60 * k
                made.append(_trade(cooperative=cooperative, listing=listing, price=price,
                                   received_on=_received_on(months_back), note=note))  # fmt: skip
    Notification.objects.filter(order_id__in=made, sent_at__isnull=True).update(sent_at=timezone.now())
    result = market_refresh()
    created = counter.summary() if counter.created else ""
    if made or counter.created:
        stdout.write(f"market: {created + ', ' if created else ''}{len(made)} completed maize orders; "
                     f"{result['trades']} trades, {result['points']} price points\n")  # fmt: skip
    else:
        stdout.write("market: nothing new\n")
