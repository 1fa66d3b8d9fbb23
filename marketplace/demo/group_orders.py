"""Demo group input orders, through the orders services (and the offline payment provider):

- Trans Nzoia Maize Growers: a completed window of the last short rains, bought on credit from Kitale Farm Inputs
  (ordered, paid into escrow, dispatched, received one bag short, distributed and handed over; the members' input
  credit is posted, and the payouts demo that runs next recovers it from their harvest payout), and an open window
  for the long rains with the requests of 24 members against Kitale Farm Inputs' offers;
- Nawa Cacao: a completed window paid in cash, bought from Soubré Agro-Intrants.

A cooperative that already has a window is left as it is, so seeding again changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.utils import timezone

from catalogue.models import LotContribution, SupplierOffer
from marketplace.demo.organisations import organisation
from marketplace.organisations.models import MemberFarmer, Membership, Organisation
from marketplace.organisations.roles import Capability, Role, role_can
from orders.group_models import GroupOrder, MemberAllocation, OrderingWindow
from orders.models import Order, OrderEvent
from orders.services import group_windows
from orders.services.group_orders import (
    allocation_hand_over,
    group_order_follow_order,
    group_order_transition,
    window_place_orders,
)
from payments.services.payments import payment_offline_confirm, payment_start


def _confirm(payment, order) -> None:
    """The operator confirms the (demo) transfer was received, as an offline payment is confirmed in production."""
    from marketplace.demo.orders import OPERATOR
    from marketplace.demo.organisations import account

    payment_offline_confirm(actor=account(OPERATOR), payment_id=payment.pk, transfer_reference=f"DEMO-{order.number}")


def _user(org: Organisation, capability: Capability = Capability.DECIDE, role: str | None = None):
    memberships = Membership.objects.filter(organisation=org).select_related("user").order_by("user__email")
    for membership in memberships:
        if (role is None or membership.role == role) and role_can(membership.role, capability):
            return membership.user
    return None


def _products(supplier: Organisation, names: list[str]) -> list:
    offers = SupplierOffer.objects.filter(organisation=supplier, status="active").select_related("product")
    by_name = {offer.product.name: offer.product for offer in offers}
    return [by_name[name] for name in names if name in by_name]


HARVEST_NOTE = "Harvest sale (group input order demo)"


def _members(coop: Organisation, count: int, lot=None) -> list[MemberFarmer]:
    """Members who sold produce first (so a payout can recover their credit), then the others."""
    contributions = (
        LotContribution.objects.filter(lot=lot) if lot else LotContribution.objects.filter(lot__organisation=coop)
    )
    sellers = list(contributions.values_list("farmer_id", flat=True))
    farmers = list(MemberFarmer.objects.filter(organisation=coop, status="active").order_by("member_number"))
    farmers.sort(key=lambda f: (f.pk not in sellers, f.member_number))
    return farmers[:count]


def _window(coop, manager, name, products, *, days_open: int, days_left: int, **fields) -> OrderingWindow:
    now = timezone.now()
    window = group_windows.window_create(
        actor=manager, organisation_id=coop.pk, name=name, opens_at=now - timedelta(days=days_open),
        closes_at=now + timedelta(days=days_left), product_ids=[p.pk for p in products], **fields,
    )  # fmt: skip
    return group_windows.window_transition(actor=manager, window_id=window.pk, to_status="open")


def _ask(window, clerk, farmer, product, kg: int, tolerance_kg: int = 0) -> None:
    group_windows.request_change(actor=clerk, window_id=window.pk, member_number=farmer.member_number,
                                 product_id=product.pk, quantity_delta=kg * 1000,
                                 tolerance_delta=tolerance_kg * 1000)  # fmt: skip


def _complete(window, manager, clerk, supplier_user, *, short_bags: int = 0) -> list[GroupOrder]:
    """Close, order, accept, pay (offline provider), dispatch, receive (`short_bags` short on the first line),
    distribute and hand over everything."""
    group_windows.window_transition(actor=manager, window_id=window.pk, to_status="closed")
    orders = window_place_orders(actor=manager, window_id=window.pk)
    if not orders:
        raise RuntimeError(f"The demo window {window.name} found no offer for a line; check the offers' regions.")
    for group_order in orders:
        group_order_transition(actor=manager, group_order_id=group_order.pk, to_status="submitted")
        group_order = group_order_transition(actor=supplier_user, group_order_id=group_order.pk, to_status="accepted")
        order = group_order.order
        payment = payment_start(actor=manager, order_id=order.pk, amount=order.total_amount, currency=order.currency)
        _confirm(payment, order)
        # The order's paid event reaches the group order through the outbox after the commit; the demo runs in one
        # transaction, so it follows the event here (the service is idempotent).
        event = OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).latest("pk")
        group_order_follow_order(order_event_id=event.pk)
        group_order_transition(actor=supplier_user, group_order_id=group_order.pk, to_status="dispatched",
                               document_number=f"DN-{group_order.reference}")  # fmt: skip
        lines = list(group_order.lines.order_by("pk"))
        received = {str(line.pk): line.packs - (short_bags if n == 0 else 0) for n, line in enumerate(lines)}
        group_order_transition(actor=manager, group_order_id=group_order.pk, to_status="received", lines=received)
        group_order_transition(actor=manager, group_order_id=group_order.pk, to_status="distributed")
        for allocation in MemberAllocation.objects.filter(group_order=group_order).order_by("pk"):
            allocation_hand_over(actor=clerk, allocation_id=allocation.pk)
        group_order_transition(actor=manager, group_order_id=group_order.pk, to_status="completed")
    group_windows.window_transition(actor=manager, window_id=window.pk, to_status="completed")
    return orders


def _harvest_sale_paid_out(coop: Organisation, listing) -> str:
    """A buyer buys the cooperative's listing, pays (offline), receives it; the escrow is released and the members'
    payout batch executed, which recovers their input credit first."""
    from orders.services import LineInput, order_transition, purchase_place
    from payments.payouts.services import payout_batch_approve, payout_batch_execute, payout_batch_propose
    from payments.services.escrow import escrow_settle

    buyer = organisation("mavuno-millers")
    buyer_manager, manager = _user(buyer), _user(coop)
    clerk = _user(coop, Capability.RECORD, Role.CLERK) or manager
    purchase = purchase_place(actor=buyer_manager, buyer_id=buyer.pk, note=HARVEST_NOTE,
                              lines=[LineInput(quantity=listing.min_order_grams, listing_id=listing.pk)])  # fmt: skip
    order = purchase.orders.get()
    order_transition(actor=manager, order_id=order.pk, to_status="accepted")
    payment = payment_start(actor=buyer_manager, order_id=order.pk, amount=order.total_amount, currency=order.currency)
    _confirm(payment, order)
    order_transition(actor=clerk, order_id=order.pk, to_status="dispatched", document_number=f"DN-{order.number[-6:]}")
    line = order.lines.get()
    order_transition(actor=buyer_manager, order_id=order.pk, to_status="delivered",
                     lines={line.pk: {"quantity": line.quantity}})  # fmt: skip
    order_transition(actor=buyer_manager, order_id=order.pk, to_status="completed", reason="As agreed.")
    escrow_settle(actor=None, order_id=order.pk)  # the outbox would do it after the commit; the demo needs it now
    batch = payout_batch_propose(actor=manager, organisation_id=coop.pk, order_ids=[order.pk])
    payout_batch_approve(actor=manager, batch_id=batch.pk)
    payout_batch_execute(actor=manager, batch_id=batch.pk)
    return f"{order.number} sold and paid out ({batch.reference}, input credit recovered {batch.credit_amount:,})"


def seed(*, stdout: TextIO) -> None:
    made = []
    maize, kitale = organisation("maize-transnzoia"), organisation("kitale-inputs")
    if not OrderingWindow.objects.filter(organisation=maize).exists():
        manager, clerk = _user(maize), _user(maize, Capability.RECORD, Role.CLERK) or _user(maize)
        supplier = _user(kitale)
        dap, can, seed_maize = _products(kitale, ["DAP 18-46-0", "CAN 26-0-0 top dressing", "Hybrid maize H614D"])
        from catalogue.models import Listing
        from payments.input_credit import input_credit_post

        listing = Listing.objects.filter(organisation=maize, status="active", lot__isnull=False).order_by("pk").first()
        members = _members(maize, 24, lot=listing.lot if listing else None)
        past = _window(maize, manager, "Short rains 2026 inputs", [dap, can], days_open=40, days_left=1,
                       on_credit=True, allocation_rule="first_come", moq_action="extend")  # fmt: skip
        for n, farmer in enumerate(members[:10]):
            _ask(past, clerk, farmer, dap, 75 + 25 * (n % 4), 25)
            _ask(past, clerk, farmer, can, 50 * (1 + n % 2))
        _complete(past, manager, clerk, supplier, short_bags=1)
        for allocation in MemberAllocation.objects.filter(group_order__window=past).order_by("pk"):
            input_credit_post(allocation_id=allocation.pk)  # the outbox would post it after the commit
        made.append(f"{past.name} completed (on credit)")
        if listing is not None:
            made.append(_harvest_sale_paid_out(maize, listing))
        window = _window(maize, manager, "Long rains 2027 inputs", [dap, can, seed_maize], days_open=3,
                         days_left=11, on_credit=True, allocation_rule="pro_rata", moq_action="extend",
                         box_fill_at=timezone.now() + timedelta(days=9))  # fmt: skip
        for n, farmer in enumerate(members):
            _ask(window, clerk, farmer, dap, 50 + 25 * (n % 5), 25 if n % 3 == 0 else 0)
            if n % 2 == 0:
                _ask(window, clerk, farmer, can, 50 + 50 * (n % 3))
            if n % 4 == 1:
                _ask(window, clerk, farmer, seed_maize, 10 * (1 + n % 3), 10)
        _ask(window, clerk, members[0], dap, -25)  # a member changed their mind
        made.append(f"{window.name} open with {len(members)} members' requests")
    nawa, soubre = organisation("cocoa-nawa"), organisation("soubre-intrants")
    if not OrderingWindow.objects.filter(organisation=nawa).exists():
        manager, clerk = _user(nawa), _user(nawa, Capability.RECORD, Role.CLERK) or _user(nawa)
        npk, copper = _products(soubre, ["NPK 0-23-19 cacao", "Hydroxyde de cuivre 50 WP"])
        members = _members(nawa, 12)
        window = _window(nawa, manager, "Campagne intermédiaire 2026 — intrants", [npk, copper], days_open=30,
                         days_left=1, on_credit=False, allocation_rule="pro_rata", moq_action="cancel")  # fmt: skip
        for n, farmer in enumerate(members):
            _ask(window, clerk, farmer, npk, 100 + 50 * (n % 3), 50)
            _ask(window, clerk, farmer, copper, 2 * (1 + n % 2))
        _complete(window, manager, clerk, _user(soubre))
        made.append(f"{window.name} completed (cash)")
    stdout.write(f"group orders: {'; '.join(made)}\n" if made else "group orders: nothing new\n")
