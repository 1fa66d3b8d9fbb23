"""Placing purchases: one order per seller, line totals computed once, stock reserved atomically; bad input is
refused with a clear message and nothing written; rejection, cancellation and expiry give the stock back."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from catalogue.models import Listing, SupplierOffer
from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.money import Money
from orders.models import Order, OrderEvent, OrderLine, Purchase
from orders.services import LineInput, order_transition, purchase_place
from orders.tasks import expire_unaccepted_orders
from tests.orders.factories import TONNE, advance, make_listing, make_lot, make_side, place


def counts() -> tuple[int, int, int, int]:
    return Purchase.objects.count(), Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count()


def test_one_listing_makes_one_order_with_its_line_total_and_reserves_the_quantity(world):
    order = place(world, 2 * TONNE)
    line = order.lines.get()
    assert order.number.startswith(f"PO-{timezone.localdate().year}-")
    assert order.purchase.reference.startswith("PU-")
    assert (order.status, order.kind, order.currency) == ("placed", "produce", "XOF")
    assert (line.quantity, line.unit_price_amount, line.price_unit) == (2 * TONNE, 1500, "KGM")
    assert line.line_total_amount == 3_000_000 == order.total_amount
    assert line.lot_id == world.listing.lot_id and line.grade_id == world.grade_1.pk
    listing = Listing.objects.get(pk=world.listing.pk)
    assert listing.quantity_reserved_grams == 2 * TONNE
    assert listing.quantity_available_grams == 28 * TONNE
    assert order.accept_by == pytest.approx(
        order.created_at + datetime.timedelta(hours=48), abs=datetime.timedelta(seconds=5)
    )
    event = order.events.get()
    assert (event.from_status, event.to_status, event.side, event.actor) == ("", "placed", "buyer", world.buyer.manager)


def test_line_totals_round_half_even_once(world):
    lot = make_lot(world.seller, grams=5 * TONNE, grade=world.grade_1, warehouse=world.warehouse,
                   collection_point=world.extra["collection_point"])  # fmt: skip
    per_tonne = make_listing(world.seller, lot, world.warehouse, price=Money(1_250_001, "XOF"), price_unit="TNE",
                             min_order=1000)  # fmt: skip
    # 1,500.5 g at 1,250,001 XOF per tonne = 1,875.6265... -> 1,876; 2,500 g -> 3,125.0025 -> 3,125
    order = place(world, 1_500_500, listing=per_tonne)
    assert order.lines.get().line_total_amount == 1_875_627  # 1.5005 t * 1,250,001 = 1,875,626.5005 -> half-even up
    second = place(world, 2_000, listing=per_tonne)
    assert second.lines.get().line_total_amount == 2_500  # 0.002 t * 1,250,001 = 2,500.002 -> 2,500


def test_a_basket_from_two_cooperatives_and_a_supplier_makes_one_order_per_seller(world):
    other = make_side(legal_name="Coopérative Beta", currency="XOF")
    from tests.catalogue.factories import LocationFactory, WarehouseFactory

    warehouse = WarehouseFactory(organisation=other.organisation)
    lot = make_lot(other, grams=10 * TONNE, grade=world.grade_1, warehouse=warehouse,
                   collection_point=LocationFactory(organisation=other.organisation))  # fmt: skip
    second = make_listing(other, lot, warehouse, price=Money(1450, "XOF"))
    purchase = purchase_place(
        actor=world.buyer.manager,
        buyer_id=world.buyer.organisation.pk,
        lines=[
            LineInput(quantity=3 * TONNE, listing_id=world.listing.pk),
            LineInput(quantity=5 * TONNE, listing_id=second.pk),
            LineInput(quantity=120, offer_id=world.offer.pk),
        ],
        note="One truck, pick-up on Monday",
    )
    orders = {o.seller_id: o for o in purchase.orders.all()}
    assert set(orders) == {world.seller.organisation.pk, other.organisation.pk, world.supplier.organisation.pk}
    assert orders[other.organisation.pk].total_amount == 7_250_000
    inputs = orders[world.supplier.organisation.pk]
    assert inputs.kind == "inputs"
    line = inputs.lines.get()
    assert (line.quantity, line.quantity_unit, line.unit_price_amount, line.line_total_amount) == (
        120, "H87", 16_500, 1_980_000,
    )  # fmt: skip
    assert SupplierOffer.objects.get(pk=world.offer.pk).stock_packs == 380
    assert Listing.objects.get(pk=second.pk).quantity_reserved_grams == 5 * TONNE
    assert len({o.purchase_id for o in orders.values()}) == 1


def refused(world, lines, error=ValidationFailed, actor=None, buyer=None):
    before = counts()
    listing_before = Listing.objects.get(pk=world.listing.pk)
    with pytest.raises(error) as caught:
        purchase_place(actor=actor or world.buyer.manager, buyer_id=(buyer or world.buyer.organisation).pk, lines=lines)
    assert counts() == before
    listing = Listing.objects.get(pk=world.listing.pk)
    assert (listing.quantity_available_grams, listing.quantity_reserved_grams) == (
        listing_before.quantity_available_grams, listing_before.quantity_reserved_grams,
    )  # fmt: skip
    return caught.value


def test_below_the_minimum_or_above_what_is_available_is_refused_and_nothing_is_written(world):
    error = refused(world, [LineInput(quantity=500_000, listing_id=world.listing.pk)])
    assert "minimum order" in error.fields["lines.0.quantity"][0] and "1,000 kg" in error.message
    error = refused(world, [LineInput(quantity=31 * TONNE, listing_id=world.listing.pk)])
    assert "Only 30,000 kg" in error.fields["lines.0.quantity"][0]
    error = refused(world, [LineInput(quantity=0, listing_id=world.listing.pk)])
    assert "above 0" in error.message
    # A valid line next to a bad one: the whole basket is refused.
    refused(world, [LineInput(quantity=TONNE, listing_id=world.listing.pk), LineInput(quantity=1, offer_id=-5)])


def test_a_listing_in_another_currency_from_the_rest_of_the_basket_is_refused(world):
    euro = make_side(legal_name="Cooperativa Gamma", currency="EUR", country="ES")
    from tests.catalogue.factories import LocationFactory, WarehouseFactory

    warehouse = WarehouseFactory(organisation=euro.organisation)
    lot = make_lot(euro, grams=5 * TONNE, grade=world.grade_1, warehouse=warehouse,
                   collection_point=LocationFactory(organisation=euro.organisation))  # fmt: skip
    in_euro = make_listing(euro, lot, warehouse, price=Money(250, "EUR"))
    error = refused(
        world,
        [LineInput(quantity=TONNE, listing_id=world.listing.pk), LineInput(quantity=TONNE, listing_id=in_euro.pk)],
    )
    assert "priced in EUR; the rest of the basket is in XOF" in error.fields["lines.1.listing"][0]


def test_other_bad_baskets_are_refused(world):
    assert "at least one line" in refused(world, []).message
    assert (
        "already in the basket" in refused(world, [LineInput(quantity=TONNE, listing_id=world.listing.pk)] * 2).message
    )
    assert "not on sale" in refused(world, [LineInput(quantity=TONNE, listing_id=987654)]).message
    assert "either a listing or" in refused(world, [LineInput(quantity=TONNE)]).message
    assert "own organisation" in refused(
        world, [LineInput(quantity=TONNE, listing_id=world.listing.pk)], actor=world.seller.manager,
        buyer=world.seller.organisation,
    ).message  # fmt: skip
    assert "packs are in stock" in refused(world, [LineInput(quantity=501, offer_id=world.offer.pk)]).message


def test_only_managers_of_the_buyer_place_orders(world):
    refused(world, [LineInput(quantity=TONNE, listing_id=world.listing.pk)], PermissionDenied, world.buyer.clerk)
    refused(world, [LineInput(quantity=TONNE, listing_id=world.listing.pk)], NotFound, world.stranger.manager)


def test_what_another_order_reserved_is_no_longer_available(world):
    place(world, 29 * TONNE)
    error = refused(world, [LineInput(quantity=2 * TONNE, listing_id=world.listing.pk)])
    assert "Only 1,000 kg" in error.message


@pytest.mark.parametrize("to", ["rejected", "cancelled", "expired"])
def test_rejection_cancellation_and_expiry_release_the_reservation(world, to):
    order = place(world, 4 * TONNE)
    advance(world, order, to)
    listing = Listing.objects.get(pk=world.listing.pk)
    assert (listing.quantity_available_grams, listing.quantity_reserved_grams) == (30 * TONNE, 0)


def test_cancelling_after_acceptance_and_after_payment_releases_the_reservation(world):
    first = advance(world, place(world, 2 * TONNE), "accepted")
    order_transition(actor=world.seller.manager, order_id=first.pk, to_status="cancelled", reason="Truck broke down")
    second = advance(world, place(world, 3 * TONNE), "paid")
    order_transition(actor=world.operator.manager, order_id=second.pk, to_status="cancelled", reason="Buyer asked")
    listing = Listing.objects.get(pk=world.listing.pk)
    assert (listing.quantity_available_grams, listing.quantity_reserved_grams) == (30 * TONNE, 0)


def test_inputs_go_back_to_stock_when_the_order_is_rejected(world):
    purchase = purchase_place(
        actor=world.buyer.manager,
        buyer_id=world.buyer.organisation.pk,
        lines=[LineInput(quantity=40, offer_id=world.offer.pk)],
    )
    order = purchase.orders.get()
    assert SupplierOffer.objects.get(pk=world.offer.pk).stock_packs == 460
    order_transition(actor=world.supplier.manager, order_id=order.pk, to_status="rejected", reason="Out of season")
    assert SupplierOffer.objects.get(pk=world.offer.pk).stock_packs == 500


def test_the_beat_task_expires_orders_not_accepted_in_time(world):
    late = place(world, 2 * TONNE)
    fresh = place(world, 3 * TONNE)
    accepted = advance(world, place(world, TONNE), "accepted")
    Order.objects.filter(pk__in=[late.pk, accepted.pk]).update(accept_by=timezone.now() - datetime.timedelta(minutes=1))
    assert expire_unaccepted_orders.apply().result == 1
    assert expire_unaccepted_orders.apply().result == 0
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {late.pk: "expired", fresh.pk: "placed", accepted.pk: "accepted"}
    event = late.events.get(to_status="expired")
    assert event.actor is None and event.side == "system" and "48 hours" in event.reason
    listing = Listing.objects.get(pk=world.listing.pk)
    assert listing.quantity_reserved_grams == 4 * TONNE


def test_an_order_cannot_expire_before_its_deadline(world):
    order = place(world)
    with pytest.raises(Conflict, match="has not expired"):
        order_transition(actor=None, order_id=order.pk, to_status="expired")


def test_placement_notifies_both_sides_once(world, sms_outbox, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order = place(world)
    recipients = sorted(m.to[0] for m in mail.outbox)
    expected = sorted(
        u.email for side in (world.buyer, world.seller) for u in (side.admin, side.manager, side.clerk, side.viewer)
    )
    assert recipients == expected
    assert all(order.number in m.subject for m in mail.outbox)
    assert sorted(s.to for s in sms_outbox) == ["+2252720000002", "+2252722000001"]
