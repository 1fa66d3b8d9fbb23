"""The marketplace the fuzzer runs against, built through the real services: the orders tests' small world (a
cooperative, a buyer, an input supplier, the operator) plus one object in each state that an operation of the
API starts from, so that a generated request can reach every operation's success branch.

`build_world()` returns plain values (ids, numbers, tokens), read by `tests/fuzz/values.py`:
- `ids`: the id a path parameter names, by the collection before it in the path (`/lots/{id}/` -> `lots`);
- `by_operation`: the object to use per operation (`/orders/{number}/dispatch/` needs a paid order);
- `by_status`: for transitions whose body names the status to move to, per status an object that may move to it;
- `fields`: real values for body and query fields that carry ids of other rows (`lot`, `farmer`, `deliveries`...);
- `tokens`, `organisations`, `users`: the four people the fuzzer acts as.
"""

import datetime
import json
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.utils import timezone

from catalogue import services as catalogue
from marketplace.core.validators import gs1_check_digit
from marketplace.decisions import services as decisions
from marketplace.demo.organisations import plot_polygon
from marketplace.market.searches import saved_search_create
from marketplace.matching import services as matching
from marketplace.matching.models import Proposal
from marketplace.organisations import services as organisation_services
from marketplace.organisations.models import Organisation, Plot
from orders.group_models import MemberAllocation
from orders.models import DisputeEvidence
from orders.services import group_windows, order_transition
from orders.services.group_orders import group_order_transition, window_place_orders
from payments.payouts import services as payouts
from payments.services.payments import payment_offline_confirm, payment_start
from tests.catalogue.factories import LocationFactory, PackagingFactory
from tests.decisions.conftest import motion
from tests.factories import PASSWORD, MemberFarmerFactory, OrganisationFactory, PlotFactory
from tests.matching.factories import Market, post_request
from tests.orders.factories import TONNE, advance, make_listing, make_lot, place
from tests.orders.factories import make_world as make_orders_world
from tests.orders.group_factories import ask, make_group_world, make_offer
from tests.payments.conftest import pay
from tests.payouts.factories import release
from traceability.identifiers import lot_uri

ROLES = ["cooperative", "buyer", "supplier", "operator"]
FARMERS_CSV = b"member_number,name,phone,gender,birth_year,village,joined_on\nF-IMPORT-1,Awa Kone,,female,1980,Buyo,\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _order(world, state: str, grams: int = 1 * TONNE):
    order = place(world, grams)
    if state in ("placed",):
        return order
    if state == "accepted":
        return advance(world, order, "accepted")
    order = advance(world, order, "accepted")
    pay(world, order)
    return advance(world, order, state) if state != "paid" else order


def build_world() -> dict:
    with override_settings(OFFLINE_PAYMENTS=True):
        return _build()


def _build() -> dict:
    world = make_orders_world(lot_grams=60 * TONNE)
    seller, buyer, supplier, operator = world.seller, world.buyer, world.supplier, world.operator
    coop = seller.organisation
    warehouse, collection_point = world.warehouse, world.extra["collection_point"]

    # Orders, one per state an order action starts from.
    placed = place(world, 1 * TONNE)
    accepted = _order(world, "accepted")
    accepted_payment = payment_start(
        actor=buyer.manager, order_id=accepted.pk, amount=accepted.total_amount, currency=accepted.currency
    )
    accepted_unpaid = _order(world, "accepted")
    paid = _order(world, "paid")
    dispatched = _order(world, "dispatched")
    delivered = _order(world, "delivered")
    completed = _order(world, "completed")
    disputed = _order(world, "delivered")
    order_transition(
        actor=buyer.manager, order_id=disputed.pk, to_status="disputed", reason="Mouldy beans",
        evidence=[SimpleUploadedFile("photo.png", PNG, content_type="image/png")],
    )  # fmt: skip
    evidence = DisputeEvidence.objects.get(dispute__order=disputed)
    # Released orders and payout batches: one proposed (approve, cancel), one approved (execute).
    released_a = _order(world, "completed")
    release(released_a)
    approved_batch = payouts.payout_batch_propose(actor=seller.manager, organisation_id=coop.pk)
    approved_batch = payouts.payout_batch_transition(
        actor=seller.manager, batch_id=approved_batch.pk, to_status="approved"
    )
    released_b = _order(world, "completed")
    release(released_b)
    proposed_batch = payouts.payout_batch_propose(actor=seller.manager, organisation_id=coop.pk)
    released_c = _order(world, "completed")  # released, in no batch: a candidate for a new batch
    release(released_c)

    # Lots: the listed one, and two in stock of the same grade that can be merged, split or listed.
    listed_lot = world.listing.lot
    spare_lots = [
        make_lot(seller, grams=5 * TONNE, grade=world.grade_1, warehouse=warehouse, collection_point=collection_point)
        for _ in range(2)
    ]
    delivery = listed_lot.contributions.first().delivery
    farmer = delivery.farmer
    plot = farmer.plots.first()
    loose = MemberFarmerFactory(organisation=coop)
    PlotFactory(farmer=loose)
    loose_delivery = _loose_delivery(world, loose, collection_point)
    second_warehouse = LocationFactory(organisation=coop, is_warehouse=True, is_collection_point=False)
    reversible = _loose_delivery(world, loose, collection_point)
    pending = OrganisationFactory(verification_status=Organisation.Verification.PENDING)
    _map_every_plot(coop)

    # People: an invitation with a known token, sent to the supplier's manager (who accepts it signed in: the
    # fuzzer always sends a token), and one to revoke.
    invitation = organisation_services.invitation_create(
        actor=seller.admin, organisation_id=coop.pk, email=supplier.manager.email, role="viewer"
    )
    invitation_token = organisation_services.invitation_token(invitation)
    stale = organisation_services.invitation_create(
        actor=seller.admin, organisation_id=coop.pk, email="other@example.org", role="clerk"
    )

    # Decisions: an open one (votes, hands, close) with members to vote.
    members = [MemberFarmerFactory(organisation=coop) for _ in range(3)]
    decision = decisions.decision_create(actor=seller.manager, organisation_id=coop.pk, data=motion())
    decision = decisions.decision_transition(actor=seller.manager, decision_id=decision.pk, to_status="open")
    options = list(decision.options.values_list("pk", flat=True))

    # Group orders: an open window with requests, and an ordered window whose cheapest urea is the supplier's.
    group = make_group_world(side=seller, members=members)
    make_offer(supplier.organisation, supplier.manager, group.products[1], [(1, 9_000)])
    for member in members:  # requests for both products, so that a change may add to or remove from either
        ask(group, member, group.products[0], 100_000)
        ask(group, member, group.products[1], 100_000)
    supplier_offer_in_window = make_offer(supplier.organisation, supplier.manager, group.products[0], [(1, 30_000)])
    ordered, group_order = _ordered_window(world, members, "Short rains")
    _, to_answer = _ordered_window(world, members, "Late rains")
    group_order_transition(actor=seller.manager, group_order_id=to_answer.pk, to_status="submitted")
    closed = make_group_world(side=seller, members=members, name="Dry season")
    for member in members:
        ask(closed, member, closed.products[0], 100_000)
    group_windows.window_transition(actor=seller.manager, window_id=closed.window.pk, to_status="closed")

    # Matching: the buyer's request, matched against the cooperative's listing.
    market = Market(
        coop_a=seller, coop_b=seller, buyer=buyer, stranger_buyer=world.stranger, stranger_coop=world.stranger,
        listing_a=world.listing, listing_b=world.listing, grade_1=world.grade_1, grade_2=world.grade_2,
    )  # fmt: skip
    request = post_request(market, quantity_grams=10 * TONNE, min_truckload_grams=0)
    matching.matching_rematch(commodity_id=world.grade_1.commodity_id, currency="XOF")
    proposal = Proposal.objects.filter(request=request).order_by("-pk").first()
    part = proposal.parts.first() if proposal else None

    people = {
        "cooperative": (seller.manager, coop),
        "buyer": (buyer.manager, buyer.organisation),
        "supplier": (supplier.manager, supplier.organisation),
        "operator": (operator.admin, operator.organisation),
    }
    by_status = _by_status(world, group, closed, ordered, pending, group_order, to_answer)
    ids = {
        "deliveries": delivery.pk,
        "farmers": farmer.pk,
        "plots": plot.pk,
        "listings": world.listing.pk,
        "lots": spare_lots[0].pk,
        "offers": world.offer.pk,
        "memberships": seller.viewer.memberships.get().pk,  # the operator's admin: its own viewer's (below)
        "orders": paid.number,
        "purchases": placed.purchase.reference,
        "payments": accepted_payment.pk,
        "invitations": stale.pk,
        "evidence": evidence.pk,
        "decisions": decision.pk,
        "windows": group.window.pk,
        "products": group.products[0].pk,
        "allocations": _allocation_to_hand_over(world, members),
        "payout-batches": proposed_batch.pk,
        "requests": request.pk,
        "proposals": proposal.pk if proposal else None,
        "parts": part.pk if part else None,
        "saved-searches": None,
    }
    by_operation = {
        # order actions: the state each one starts from
        "/orders/{number}/accept/": placed.number,
        "/orders/{number}/reject/": placed.number,
        "/orders/{number}/cancel/": placed.number,
        "/orders/{number}/mark-paid/": accepted_unpaid.number,
        "/orders/{number}/dispatch/": paid.number,
        "/orders/{number}/receipt/": dispatched.number,
        "/orders/{number}/complete/": delivered.number,
        "/orders/{number}/dispute/": delivered.number,
        "/orders/{number}/resolve/": disputed.number,
        "/orders/{number}/evidence/{evidence_id}/": disputed.number,
        "/orders/{number}/documents/{kind}/": delivered.number,
        "/payments/orders/{number}/release/": completed.number,
        "/payments/orders/{number}/refunds/": disputed.number,
        "/payments/orders/{number}/": paid.number,
        "/payout-batches/{id}/execute/": approved_batch.pk,
        "/payout-batches/{id}/csv/": approved_batch.pk,
        "/group/windows/{window_id}/place-orders/": closed.window.pk,
        "/deliveries/{id}/reverse/": reversible.pk,
        "/organisations/{id}/verification/": pending.pk,
        "/group/orders/{group_order_id}/": group_order.pk,
        "/lots/{id}/due-diligence/": listed_lot.pk,
        "/lots/{id}/eudr-statement/": listed_lot.pk,
        "/lots/{id}/transition/": spare_lots[1].pk,
    }
    fields = {
        "farmer": [farmer.pk, loose.pk] + [m.pk for m in members],
        "plot": [plot.pk],
        "lot": [spare_lots[0].pk, listed_lot.pk],
        "lots": [[spare_lots[0].pk, spare_lots[1].pk]],
        "deliveries": [[loose_delivery.pk]],
        "storage_location": [second_warehouse.pk, warehouse.pk],
        "storage_locations": [[second_warehouse.pk]],
        "collection_point": [collection_point.pk],
        "pickup_location": [warehouse.pk],
        "commodity": [world.grade_1.commodity_id],
        "grade": [world.grade_1.pk, world.grade_2.pk],
        "min_grade": [world.grade_2.pk],
        "downgrade_to": [world.grade_2.pk],
        "packaging": [group.products[0].packaging_id],
        "product": [group.products[0].pk, group.products[1].pk],
        "products": [[group.products[0].pk]],
        "offer": [supplier_offer_in_window.pk],
        "listing": [world.listing.pk],
        "orders": [[released_c.pk]],
        "order": [accepted_unpaid.number],
        "part": [part.pk] if part else [],
        "option": options,
        "window": [group.window.pk],
        "request": [request.pk],
        "token": [invitation_token],
    }
    # Traceability queries name lots and orders by code, URI or number, not by id.
    fields_by_path = {
        "/traceability/": {
            "lot": [listed_lot.code, lot_uri(organisation=coop, lot_code=listed_lot.code)],
            "order": [delivered.number],
            "identifier": [lot_uri(organisation=coop, lot_code=listed_lot.code)],
        },
        "/group/orders/": {"window": [ordered.window.pk]},
        # Members' requests name a member of the window's cooperative (elsewhere a member number is a new one).
        "/group/windows/": {"member_number": [m.member_number for m in members]},
        "/market/": {"commodity": [world.grade_1.commodity.code], "country": ["CI"]},
        "/farmers/import/": {"file": [FARMERS_CSV]},
        "/plots/import/": {"file": [_plots_geojson(members[0])]},
        # A receipt names the lines of the dispatched order.
        "/orders/{number}/receipt/": {"line": list(dispatched.lines.values_list("pk", flat=True))},
        # Saved searches name the commodity and grade by code, and an SMS alert a mobile number.
        "/market/saved-searches/": {
            "commodity": [world.grade_1.commodity.code],
            "min_grade": [world.grade_2.code],
            "phone": ["+254712345678"],
        },
        # A lot moves to the warehouse it is not in (where it is already is a 400).
        "/lots/{id}/move/": {"storage_location": [second_warehouse.pk]},
        # Listings and offers are priced, and requests name prices, in the organisation's own currency.
        # A listing offers part of a lot in stock (at most its free stock), delivered to a real country.
        "/organisations/{organisation_id}/listings/": {
            "currency": [coop.currency],
            "lot": [spare_lots[0].pk],
            "quantity_kg.max": [Decimal(spare_lots[0].quantity_grams) / 1000],
            "delivery_country": ["CI"],
            "delivery_region": ["Lagunes"],
        },
        # A delivery names a member, the member's own plot (cocoa is an EUDR commodity), a grade of the
        # commodity and bags with a declared net mass; its moisture is within the limit of both grades.
        "/organisations/{organisation_id}/deliveries/": {
            "farmer": [farmer.pk],
            "plot": [plot.pk],
            "grade": [world.grade_1.pk],
            "moisture_pct.max": [_moisture_limit(world.grade_1, world.grade_2)],
            "packaging": [PackagingFactory().pk],
        },
        "/organisations/{organisation_id}/offers/": {
            "currency": [supplier.organisation.currency],
            "regions.country": ["CI"],
        },
        "/matching/requests/": {"currency": [buyer.organisation.currency]},
        # A new organisation's GLN has a valid GS1 check digit (not a pattern), and its phone number is one.
        "/organisations/": {"gln": [_gln("629000000001")], "phone": ["+22507" + "12345678"]},
        # A seed names its crop, a commodity.
        "/organisations/{organisation_id}/input-products/": {"crop": [world.grade_1.commodity_id]},
        # A purchase line's grade prices are keyed by grade ids of the listed commodity; a valid line names the
        # listing for a quantity between its minimum order and its stock.
        "/purchases/": {
            "grade_prices.keys": [world.grade_2.pk, world.grade_1.pk],
            **_purchase_limits(world.listing),
        },
        # A payment repeats the order's total and currency, as a confirmation of what the buyer pays.
        "/payments/": {"amount": [accepted_unpaid.total_amount], "currency": [accepted_unpaid.currency]},
    }
    ids_by_role = {"operator": {"memberships": operator.viewer.memberships.get().pk}}
    saved_search = saved_search_create(actor=buyer.manager, organisation_id=buyer.organisation.pk, name="Cocoa",
                                       commodity=world.grade_1.commodity.code)  # fmt: skip
    ids_by_role["buyer"] = {"saved-searches": saved_search.pk}
    return {
        "ids_by_role": ids_by_role,
        "fields_by_path": fields_by_path,
        "tokens": {role: organisation_services.auth_token_issue(user=user) for role, (user, _) in people.items()},
        "organisations": {role: organisation.pk for role, (_, organisation) in people.items()},
        "emails": {role: user.email for role, (user, _) in people.items()},
        "password": PASSWORD,
        "ids": ids,
        "by_operation": by_operation,
        "by_status": by_status,
        "fields": fields,
        "invitation": invitation.pk,
        "group_order": group_order.pk,
        "farmer_code": farmer.member_number,
    }


def _purchase_limits(listing) -> dict:
    listing.refresh_from_db()
    return {
        "listing": [listing.pk],
        "listing.grade": [listing.grade_id],
        "quantity.min": [listing.min_order_grams],
        "quantity.max": [listing.quantity_available_grams],
    }


def _moisture_limit(*grades) -> Decimal | None:
    limits = [grade.max_moisture_pct for grade in grades if grade.max_moisture_pct is not None]
    return min(limits) if limits else None


def _gln(first_twelve: str) -> str:
    return first_twelve + str(gs1_check_digit(first_twelve))


def _plots_geojson(farmer) -> bytes:
    """A GeoJSON file of one mapped plot of a member, as the plot import takes it."""
    geometry, area = plot_polygon(random.Random(99), lon=-6.2, lat=5.9, hectares=1.3)
    properties = {"member_number": farmer.member_number, "name": "Imported plot", "area_hectares": str(area),
                  "established_on": "2010-05-01"}  # fmt: skip
    feature = {"type": "Feature", "properties": properties, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def _map_every_plot(coop) -> None:
    """Every plot of the cooperative mapped (a polygon of its area) and cleared before the EUDR cut-off, so that
    its lots and orders are EUDR-ready and their due-diligence statements can be made."""
    for i, plot in enumerate(Plot.objects.filter(organisation=coop).order_by("pk")):
        geometry, area = plot_polygon(random.Random(i), lon=-6.4 + i * 0.01, lat=5.7, hectares=1.1)
        Plot.objects.filter(pk=plot.pk).update(geometry=geometry, area_hectares=area)


def _lot_in(world, status: str):
    """A listed lot of its own (with an active listing), moved on to `status` through the lot transitions."""
    lot = make_lot(world.seller, grams=5 * TONNE, grade=world.grade_1, warehouse=world.warehouse,
                   collection_point=world.extra["collection_point"])  # fmt: skip
    listing = make_listing(world.seller, lot, world.warehouse)
    path = {"listed": [], "reserved": ["reserved"], "sold": ["sold"], "dispatched": ["sold", "dispatched"]}[status]
    for step in path:
        catalogue.lot_status_transition(actor=world.seller.manager, lot_id=lot.pk, to_status=step)
    return lot, listing


def _listed_lot_without_open_listing(world):
    """A listed lot whose only listing sold part of it (an order dispatched) and was then withdrawn: the lot stays
    listed, and it is the one state from which a manager may move a lot to open."""
    lot, listing = _lot_in(world, "listed")
    order = advance(world, place(world, 1 * TONNE, listing=listing), "accepted")
    pay(world, order)
    advance(world, order, "dispatched")
    catalogue.listing_status_transition(actor=world.seller.manager, listing_id=listing.pk, to_status="withdrawn")
    return lot


def _ordered_window(world, members, name: str):
    """A closed window whose orders are placed; returns it and the group order to the world's supplier (the
    cheapest for urea), in draft."""
    manager, supplier = world.seller.manager, world.supplier
    ordered = make_group_world(side=world.seller, members=members, name=name)
    make_offer(supplier.organisation, supplier.manager, ordered.products[1], [(1, 9_000)])
    for member in members:
        ask(ordered, member, ordered.products[0], 100_000)
        ask(ordered, member, ordered.products[1], 50_000)
    group_windows.window_transition(actor=manager, window_id=ordered.window.pk, to_status="closed")
    group_orders = window_place_orders(actor=manager, window_id=ordered.window.pk)
    return ordered, next((g for g in group_orders if g.supplier_id == supplier.organisation.pk), group_orders[0])


def _allocation_to_hand_over(world, members) -> int:
    """A group order of the world's supplier submitted, accepted, paid into escrow, dispatched, received in full
    and distributed: the id of its first member allocation, which the cooperative hands over."""
    manager, supplier = world.seller.manager, world.supplier.manager
    _, group_order = _ordered_window(world, members, "Main season")
    group_order_transition(actor=manager, group_order_id=group_order.pk, to_status="submitted")
    group_order = group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="accepted")
    escrow = group_order.order
    with TestCase.captureOnCommitCallbacks(execute=True):  # the payments app moves the group order to paid
        payment = payment_start(actor=manager, order_id=escrow.pk, amount=escrow.total_amount, currency=escrow.currency)
        payment_offline_confirm(actor=world.operator.manager, payment_id=payment.pk, transfer_reference="BANK-GO")
    group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="dispatched",
                           document_number="WB-7")  # fmt: skip
    received = {str(line.pk): line.packs for line in group_order.lines.all()}
    with TestCase.captureOnCommitCallbacks(execute=True):
        group_order_transition(actor=manager, group_order_id=group_order.pk, to_status="received", lines=received)
    group_order_transition(actor=world.seller.clerk, group_order_id=group_order.pk, to_status="distributed")
    return MemberAllocation.objects.filter(group_order=group_order).order_by("pk").values_list("pk", flat=True)[0]


def _by_status(world, group, closed, ordered, pending, draft, submitted) -> dict:
    """For the transition operations whose body names the status to move to: per status, an object in a state
    that status may follow, so that whichever status the schema's enum gives has an object it is allowed for
    (a status no state leads to, such as draft, keeps the default object and gets the 409)."""
    manager = world.seller.manager
    listed, paused = _lot_in(world, "listed")
    catalogue.listing_status_transition(actor=manager, listing_id=paused.pk, to_status="paused")
    reserved, _ = _lot_in(world, "reserved")
    sold, _ = _lot_in(world, "sold")
    reopenable = _listed_lot_without_open_listing(world)
    dispatched, _ = _lot_in(world, "dispatched")
    V = Organisation.Verification
    rejected = OrganisationFactory(verification_status=V.REJECTED)
    verified = OrganisationFactory(verification_status=V.VERIFIED)
    suspended = OrganisationFactory(verification_status=V.SUSPENDED)
    draft_window = group_windows.window_create(
        actor=manager, organisation_id=group.coop.pk, product_ids=[p.pk for p in group.products], name="Next season",
        opens_at=timezone.now() + datetime.timedelta(days=1), closes_at=timezone.now() + datetime.timedelta(days=8),
    )  # fmt: skip
    return {
        "/lots/{id}/transition/": {
            "listed": reserved.pk,
            "reserved": listed.pk,
            "sold": listed.pk,
            "dispatched": sold.pk,
            "closed": dispatched.pk,
            "open": reopenable.pk,
        },
        "/listings/{id}/transition/": {"active": paused.pk, "paused": world.listing.pk, "withdrawn": world.listing.pk},
        "/organisations/{id}/verification/": {
            "verified": suspended.pk,
            "rejected": pending.pk,
            "pending": rejected.pk,
            "suspended": verified.pk,
        },
        "/group/windows/{window_id}/move/": {
            "open": draft_window.pk,
            "closed": group.window.pk,
            "cancelled": group.window.pk,
            "ordered": closed.window.pk,
            "completed": ordered.window.pk,
        },
        "/group/orders/{group_order_id}/move/": {
            "submitted": draft.pk,
            "cancelled": draft.pk,
            "accepted": submitted.pk,
            "countered": submitted.pk,
            "declined": submitted.pk,
        },
    }


def _loose_delivery(world, farmer, collection_point):
    return catalogue.delivery_record(
        actor=world.seller.clerk, organisation_id=world.seller.organisation.pk,
        collection_point_id=collection_point.pk, farmer_id=farmer.pk, plot_id=farmer.plots.first().pk,
        commodity_id=world.grade_1.commodity_id, grade_id=world.grade_1.pk, moisture_pct=Decimal("7.0"),
        net_grams=500_000,
    )  # fmt: skip
