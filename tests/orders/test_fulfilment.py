"""Payment, dispatch, receipt, disputes and completion: stock and lots follow, the amount due is computed from
what arrived and explained, disputes open within the window only, decisions are stored for the payments app."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue.models import Listing, Lot
from marketplace.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orders.models import Order, OrderLine
from orders.selectors import order_settlement
from orders.services import order_mark_paid, order_transition
from orders.services.pricing import GradeInfo, amount_for, settle_line
from orders.tasks import complete_orders_past_dispute_window
from tests.orders.factories import TONNE, advance, make_listing, make_lot, place
from traceability.models import Event

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def receive(world, order, grams, grade=None, actor=None):
    line = order.lines.get()
    entry = {"quantity": grams}
    if grade is not None:
        entry["grade"] = grade.pk
    return order_transition(
        actor=actor or world.buyer.clerk, order_id=order.pk, to_status="delivered", lines={line.pk: entry},
        inspection_notes="Checked 20 bags",
    )  # fmt: skip


def test_payment_by_the_operator_is_idempotent_per_reference(world):
    order = advance(world, place(world), "accepted")
    order_mark_paid(actor=world.operator.manager, order_id=order.pk, payment_reference="BANK-77")
    again = order_mark_paid(actor=world.operator.manager, order_id=order.pk, payment_reference="BANK-77")
    assert again.status == "paid" and again.events.filter(to_status="paid").count() == 1
    with pytest.raises(Conflict):
        order_mark_paid(actor=world.operator.manager, order_id=order.pk, payment_reference="BANK-78")
    with pytest.raises(ValidationFailed, match="payment's reference"):
        order_mark_paid(actor=world.operator.manager, order_id=advance(world, place(world), "accepted").pk,
                        payment_reference=" ")  # fmt: skip
    system = advance(world, place(world), "accepted")
    assert order_mark_paid(actor=None, order_id=system.pk, payment_reference="pi_123").status == "paid"


def test_dispatch_sells_what_left_releases_the_rest_and_issues_the_invoice(world):
    order = advance(world, place(world, 2 * TONNE), "paid")
    line = order.lines.get()
    order_transition(
        actor=world.seller.clerk, order_id=order.pk, to_status="dispatched", document_number="WB-0042",
        vehicle="1234 AB 01", driver="Yao Koffi", dispatched_on=timezone.localdate().isoformat(),
        quantities={str(line.pk): 1_500_000},
    )  # fmt: skip
    order.refresh_from_db()
    listing = Listing.objects.get(pk=world.listing.pk)
    assert (listing.quantity_sold_grams, listing.quantity_reserved_grams, listing.quantity_available_grams) == (
        1_500_000, 0, 28_500_000,
    )  # fmt: skip
    assert (order.dispatch.document_number, order.dispatch.vehicle, order.dispatch.driver) == (
        "WB-0042", "1234 AB 01", "Yao Koffi",
    )  # fmt: skip
    assert order.invoice.amount == 2_250_000 and order.invoice.number == f"INV-{timezone.localdate().year}-00001"
    kinds = set(
        Event.objects.filter(biz_transaction_list__contains=[{"type": "po"}])
        .filter(Q(biz_step="shipping") | Q(event_type="TransactionEvent"))
        .values_list("event_type", flat=True)
    )
    assert kinds == {"ObjectEvent", "TransactionEvent"}


@pytest.mark.parametrize(
    "quantities, message",
    [("x", "not a line"), (None, None), ("neg", "cannot be negative"), ("more", "more than the")],
)
def test_bad_dispatch_quantities_are_refused_and_nothing_is_written(world, quantities, message):
    order = advance(world, place(world, 2 * TONNE), "paid")
    line = order.lines.get()
    given_quantities = {"x": {"x": 1}, "neg": {line.pk: -1}, "more": {line.pk: 3 * TONNE}}.get(quantities)
    details = {"quantities": given_quantities} if quantities is not None else {}
    if quantities is None:
        details["document_number"] = ""
        message = "waybill"
    else:
        details["document_number"] = "WB-1"
    with pytest.raises(ValidationFailed, match=message):
        order_transition(actor=world.seller.clerk, order_id=order.pk, to_status="dispatched", **details)
    order.refresh_from_db()
    assert order.status == "paid"
    assert not Order.objects.filter(pk=order.pk, dispatch__isnull=False).exists()
    assert Listing.objects.get(pk=world.listing.pk).quantity_reserved_grams == 2 * TONNE
    assert OrderLine.objects.get(pk=line.pk).quantity_dispatched is None


def test_invoice_numbers_are_sequential_per_seller(world):
    numbers = [advance(world, place(world, TONNE), "dispatched").invoice.number for _ in range(3)]
    year = timezone.localdate().year
    assert numbers == [f"INV-{year}-0000{n}" for n in (1, 2, 3)]
    from orders.services import LineInput, purchase_place

    inputs = purchase_place(
        actor=world.buyer.manager,
        buyer_id=world.buyer.organisation.pk,
        lines=[LineInput(quantity=10, offer_id=world.offer.pk)],
    ).orders.get()
    order_transition(actor=world.supplier.manager, order_id=inputs.pk, to_status="accepted")
    order_mark_paid(actor=world.operator.manager, order_id=inputs.pk, payment_reference="B-9")
    order_transition(actor=world.supplier.clerk, order_id=inputs.pk, to_status="dispatched", document_number="DN-1")
    assert Order.objects.get(pk=inputs.pk).invoice.number == f"INV-{year}-00001"


def test_the_lot_follows_once_all_of_it_is_sold_and_dispatched(world):
    lot = make_lot(world.seller, grams=5 * TONNE, grade=world.grade_1, warehouse=world.warehouse,
                   collection_point=world.extra["collection_point"])  # fmt: skip
    listing = make_listing(world.seller, lot, world.warehouse)
    first = advance(world, place(world, 3 * TONNE, listing=listing), "dispatched")
    assert Lot.objects.get(pk=lot.pk).status == "listed"
    advance(world, place(world, 2 * TONNE, listing=listing), "dispatched")
    assert Lot.objects.get(pk=lot.pk).status == "dispatched"
    assert first.status == "dispatched"


def test_receipt_within_the_weight_tolerance_pays_the_dispatched_weight(world):
    order = advance(world, place(world, 2 * TONNE), "dispatched")
    receive(world, order, 1_995_000)  # 0.25 % short; the tolerance is 0.5 %
    order.refresh_from_db()
    line = order.lines.get()
    assert order.amount_due == 3_000_000 == line.amount_due
    assert line.settlement["billable_quantity"] == 2 * TONNE
    assert "within the 0.5 % weight tolerance" in " ".join(line.settlement["reasons"])
    assert order.dispute_until == pytest.approx(
        timezone.now() + datetime.timedelta(hours=72), abs=datetime.timedelta(minutes=1)
    )
    assert order.receipt.inspection_notes == "Checked 20 bags" and order.receipt.weight_tolerance_bp == 50
    assert Event.objects.filter(biz_step="receiving", organisation=world.buyer.organisation).exists()


def test_receipt_beyond_the_tolerance_pays_what_arrived(world):
    order = advance(world, place(world, 2 * TONNE), "dispatched")
    receive(world, order, 1_900_000)
    order.refresh_from_db()
    assert order.amount_due == 2_850_000
    assert "more than the 0.5 % weight tolerance" in " ".join(order.lines.get().settlement["reasons"])


def test_a_lower_grade_on_arrival_is_paid_at_the_price_agreed_on_the_order(world):
    order = place(world, 2 * TONNE, grade_prices={world.grade_2.pk: 1300})
    order = advance(world, order, "dispatched")
    receive(world, order, 2 * TONNE, grade=world.grade_2)
    order.refresh_from_db()
    line = order.lines.get()
    assert order.amount_due == 2_600_000 and line.grade_received == world.grade_2
    assert "price agreed for Grade II" in " ".join(line.settlement["reasons"]) or "price agreed" in str(line.settlement)


def test_the_seller_can_agree_grade_prices_when_accepting(world):
    order = place(world, 2 * TONNE)
    line = order.lines.get()
    order_transition(actor=world.seller.manager, order_id=order.pk, to_status="accepted",
                     grade_prices={line.pk: {world.grade_2.pk: 1200}})  # fmt: skip
    order = advance(world, order, "dispatched")
    receive(world, order, 2 * TONNE, grade=world.grade_2)
    assert Order.objects.get(pk=order.pk).amount_due == 2_400_000


def test_a_lower_grade_without_an_agreed_price_keeps_the_listed_price_and_says_so(world):
    order = advance(world, place(world, 2 * TONNE), "dispatched")
    receive(world, order, 2 * TONNE, grade=world.grade_2)
    line = OrderLine.objects.get(order=order)
    assert line.amount_due == 3_000_000
    assert "no price was agreed" in " ".join(line.settlement["reasons"])


@pytest.mark.parametrize("grams, message", [(-1, "cannot be negative"), (2 * TONNE + 1, "more than the")])
def test_a_receipt_quantity_negative_or_above_what_was_dispatched_is_refused(world, grams, message):
    order = advance(world, place(world, 2 * TONNE), "dispatched")
    with pytest.raises(ValidationFailed, match=message):
        receive(world, order, grams)
    order.refresh_from_db()
    assert order.status == "dispatched" and order.amount_due is None
    assert OrderLine.objects.get(order=order).quantity_received is None


def test_a_receipt_with_a_grade_of_another_commodity_is_refused(world):
    from catalogue.models import Grade

    order = advance(world, place(world, 2 * TONNE), "dispatched")
    other = Grade.objects.exclude(commodity_id=world.grade_1.commodity_id).first()
    with pytest.raises(ValidationFailed, match="Choose a grade of"):
        receive(world, order, 2 * TONNE, grade=other)


def test_a_dispute_within_the_window_keeps_the_reason_and_the_evidence(world):
    order = advance(world, place(world, 2 * TONNE), "delivered")
    photo = SimpleUploadedFile("mould.pdf", PDF, content_type="application/pdf")
    order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="disputed",
                     reason="A third of the bags are mouldy", evidence=[photo])  # fmt: skip
    dispute = Order.objects.get(pk=order.pk).dispute
    assert dispute.reason == "A third of the bags are mouldy" and dispute.is_open
    evidence = dispute.evidence.get()
    assert (evidence.original_name, evidence.content_type, evidence.size) == ("mould.pdf", "application/pdf", len(PDF))


def test_evidence_must_be_a_document_or_a_picture(world):
    order = advance(world, place(world, 2 * TONNE), "delivered")
    script = SimpleUploadedFile("run.sh", b"#!/bin/sh\nrm -rf /\n")
    with pytest.raises(ValidationFailed, match="not a PDF, JPEG, PNG or WebP"):
        order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="disputed", reason="x",
                         evidence=[script])  # fmt: skip
    assert Order.objects.get(pk=order.pk).status == "delivered"


def test_a_dispute_after_the_window_is_refused(world):
    order = advance(world, place(world, 2 * TONNE), "delivered")
    Order.objects.filter(pk=order.pk).update(dispute_until=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(Conflict, match=r"dispute window .* closed") as caught:
        order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="disputed", reason="Too late")
    assert caught.value.status_code == 409
    assert Order.objects.get(pk=order.pk).status == "delivered"


@pytest.mark.parametrize(
    "decision, refund, to_seller",
    [("release", None, 3_000_000), ("partial_refund", 500_000, 2_500_000), ("full_refund", None, 0)],
)
def test_the_operator_resolves_a_dispute_and_the_decision_is_stored_for_payments(world, decision, refund, to_seller):
    order = advance(world, place(world, 2 * TONNE), "disputed")
    details = {"decision": decision} | ({"refund_amount": refund} if refund else {})
    order_transition(actor=world.operator.manager, order_id=order.pk, to_status="resolved",
                     reason="Inspection report and photos", **details)  # fmt: skip
    dispute = Order.objects.get(pk=order.pk).dispute
    assert (dispute.decision, dispute.decided_by, dispute.decision_reasons) == (
        decision, world.operator.manager, "Inspection report and photos",
    )  # fmt: skip
    settlement = order_settlement(order_id=order.pk)
    assert settlement.final and settlement.decision == decision
    assert settlement.to_seller.amount == to_seller
    assert settlement.to_seller.amount + settlement.to_buyer.amount == settlement.paid.amount == 3_000_000


@pytest.mark.parametrize("refund", [0, 3_000_000, None])
def test_a_partial_refund_must_be_between_nothing_and_the_amount_due(world, refund):
    order = advance(world, place(world, 2 * TONNE), "disputed")
    with pytest.raises(ValidationFailed):
        order_transition(actor=world.operator.manager, order_id=order.pk, to_status="resolved", reason="r",
                         decision="partial_refund", refund_amount=refund)  # fmt: skip
    with pytest.raises(ValidationFailed, match="Choose one of"):
        order_transition(actor=world.operator.manager, order_id=order.pk, to_status="resolved", reason="r",
                         decision="split_the_difference")  # fmt: skip
    assert Order.objects.get(pk=order.pk).dispute.is_open


def test_the_beat_task_completes_orders_past_the_dispute_window_only(world):
    due = advance(world, place(world, TONNE), "delivered")
    fresh = advance(world, place(world, TONNE), "delivered")
    disputed = advance(world, place(world, TONNE), "disputed")
    Order.objects.filter(pk__in=[due.pk, disputed.pk]).update(
        dispute_until=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert complete_orders_past_dispute_window.apply().result == 1
    assert complete_orders_past_dispute_window.apply().result == 0
    statuses = dict(Order.objects.filter(pk__in=[due.pk, fresh.pk, disputed.pk]).values_list("pk", "status"))
    assert statuses == {due.pk: "completed", fresh.pk: "delivered", disputed.pk: "disputed"}
    settlement = order_settlement(order_id=due.pk)
    assert settlement.final and settlement.to_seller.amount == 1_500_000


def test_a_short_receipt_refunds_the_difference_on_completion(world):
    order = advance(world, place(world, 2 * TONNE), "dispatched")
    receive(world, order, 1_000_000)
    advance(world, order, "completed")
    settlement = order_settlement(order_id=order.pk)
    assert (settlement.to_seller.amount, settlement.to_buyer.amount) == (1_500_000, 1_500_000)


def test_strangers_and_the_wrong_side_cannot_act(world):
    order = advance(world, place(world, 2 * TONNE), "dispatched")
    with pytest.raises(NotFound):
        receive(world, order, 2 * TONNE, actor=world.stranger.manager)
    with pytest.raises(PermissionDenied):
        receive(world, order, 2 * TONNE, actor=world.seller.manager)
    with pytest.raises(PermissionDenied):
        receive(world, order, 2 * TONNE, actor=world.buyer.viewer)
    with pytest.raises(NotFound):
        order_settlement(order_id=order.pk, viewer=world.stranger.manager)


quantities = st.integers(min_value=1, max_value=50 * TONNE)


@settings(max_examples=200, deadline=None)
@given(
    ordered=quantities,
    dispatched_share=st.floats(min_value=0, max_value=1),
    received_share=st.floats(min_value=0, max_value=1),
    price=st.integers(min_value=1, max_value=5_000_000),
    unit=st.sampled_from(["KGM", "TNE"]),
    tolerance=st.integers(min_value=0, max_value=500),
    lower_price=st.one_of(st.none(), st.integers(min_value=1, max_value=5_000_000)),
)
def test_the_amount_due_never_exceeds_the_line_total_nor_pays_for_more_than_was_ordered(
    ordered, dispatched_share, received_share, price, unit, tolerance, lower_price
):
    dispatched = int(ordered * dispatched_share)
    received = int(dispatched * received_share)
    total = amount_for(ordered, price, unit)
    result = settle_line(
        currency="XOF", quantity_unit="GRM", price_unit=unit, unit_price_amount=price, line_total_amount=total,
        ordered=ordered, dispatched=dispatched, received=received, listed_grade=GradeInfo(1, "Grade I"),
        received_grade=GradeInfo(2, "Grade II"), grade_prices={2: lower_price} if lower_price else {},
        tolerance_bp=tolerance,
    )  # fmt: skip
    assert 0 <= result.amount <= total
    assert received <= result.billable <= dispatched <= ordered
    if result.billable > received:
        assert dispatched - received <= dispatched * tolerance // 10_000
    assert result.reasons[-1].startswith("Amount due:")


@pytest.mark.django_db
def test_the_receipt_records_an_inspection_per_lot_conformant_only_when_the_grade_held(world):
    from traceability.models import Event

    order = advance(world, place(world), "dispatched")
    line = order.lines.get()
    receipt = {line.pk: {"quantity": line.quantity_dispatched, "grade": world.grade_2.pk}}
    advance(world, order, "delivered", receipt=receipt)
    inspection = Event.objects.get(biz_step="inspecting", organisation=world.buyer.organisation)
    assert inspection.disposition == "non_conformant"
    assert [lot.grams for lot in inspection.lots.all()] == [line.quantity_dispatched]
