"""Lots: bulking, splitting, merging, moving, the transition table, and the database's guard on shares."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from catalogue import services
from catalogue.models import Delivery, Listing, Lot, LotContribution, LotIntake, LotLineage
from catalogue.services.lots import LOT_TRANSITIONS
from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from tests.catalogue.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def shares_of(lot) -> dict[int, int]:
    totals: dict[int, int] = {}
    for contribution in LotContribution.objects.filter(lot=lot):
        totals[contribution.farmer_id] = totals.get(contribution.farmer_id, 0) + contribution.grams
    return totals


def test_bulk_makes_a_lot_with_each_members_share(make_lot, farmers, manager, coop, warehouse):
    lot = make_lot((250_000, 180_000, 320_000))
    assert lot.quantity_grams == 750_000 and lot.status == Lot.Status.OPEN and lot.origin == Lot.Origin.BULK
    assert lot.storage_location == warehouse and lot.created_by == manager
    assert shares_of(lot) == {farmers[0].pk: 250_000, farmers[1].pk: 180_000, farmers[2].pk: 320_000}
    assert LotIntake.objects.filter(lot=lot).count() == 3
    year = lot.created_at.year
    assert lot.code == f"CAN-{year}-0001" and lot.public_id
    assert AuditEvent.objects.filter(action="lot.created", subject_id=str(lot.pk), to_status="open").exists()


def test_lot_codes_follow_each_other(make_lot):
    first, second = make_lot((100_000,)), make_lot((100_000,))
    assert int(second.code.rsplit("-", 1)[1]) == int(first.code.rsplit("-", 1)[1]) + 1


def test_bulk_refuses_mixed_grades_reversed_and_already_bulked(
    record, farmers, manager, clerk, coop, warehouse, grade_2
):
    good = record(farmers[0])
    other_grade = record(farmers[1], grade_id=grade_2.pk)
    bulk = {"actor": manager, "organisation_id": coop.pk, "storage_location_id": warehouse.pk}
    with pytest.raises(ValidationFailed) as refused:
        services.lot_bulk(delivery_ids=[good.pk, other_grade.pk], **bulk)
    assert "one commodity and grade" in refused.value.message
    reversed_one = record(farmers[2])
    reversal = services.delivery_reverse(actor=clerk, delivery_id=reversed_one.pk, reason="Wrong")
    with pytest.raises(ValidationFailed) as refused:
        services.lot_bulk(delivery_ids=[good.pk, reversed_one.pk, reversal.pk], **bulk)
    assert f"{reversed_one.receipt_number} was reversed" in refused.value.message
    assert f"{reversal.receipt_number} is a reversal entry" in refused.value.message
    lot = services.lot_bulk(delivery_ids=[good.pk], **bulk)
    with pytest.raises(ValidationFailed, match=f"already in lot {lot.code}"):
        services.lot_bulk(delivery_ids=[good.pk], **bulk)
    with pytest.raises(ValidationFailed, match="at least one delivery"):
        services.lot_bulk(delivery_ids=[], **bulk)
    assert Lot.objects.count() == 1


def test_bulk_needs_the_cooperatives_own_deliveries_and_warehouse(record, farmers, manager, coop, other_coop, outsider):
    delivery = record(farmers[0])
    foreign_store = WarehouseFactory(organisation=other_coop)
    with pytest.raises(ValidationFailed) as refused:
        services.lot_bulk(
            actor=manager, organisation_id=coop.pk, delivery_ids=[delivery.pk], storage_location_id=foreign_store.pk
        )
    assert "warehouses" in refused.value.fields["storage_location"][0]
    with pytest.raises(ValidationFailed, match="no deliveries with ids"):
        services.lot_bulk(
            actor=outsider, organisation_id=other_coop.pk, delivery_ids=[delivery.pk],
            storage_location_id=foreign_store.pk,
        )  # fmt: skip


def test_clerks_and_outsiders_cannot_bulk(record, farmers, clerk, outsider, coop, warehouse):
    delivery = record(farmers[0])
    kwargs = {"organisation_id": coop.pk, "delivery_ids": [delivery.pk], "storage_location_id": warehouse.pk}
    with pytest.raises(PermissionDenied):
        services.lot_bulk(actor=clerk, **kwargs)
    with pytest.raises(NotFound):
        services.lot_bulk(actor=outsider, **kwargs)


def test_split_into_parts_that_sum_to_the_whole(make_lot, manager):
    lot = make_lot((250_000, 180_000, 320_000))
    before = shares_of(lot)
    parts = services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=[300_000, 450_000])
    lot.refresh_from_db()
    assert lot.status == Lot.Status.CLOSED and lot.closed_at is not None
    assert [p.quantity_grams for p in parts] == [300_000, 450_000]
    assert all(p.origin == Lot.Origin.SPLIT and p.status == Lot.Status.OPEN for p in parts)
    for part in parts:
        assert sum(shares_of(part).values()) == part.quantity_grams
    combined: dict[int, int] = {}
    for part in parts:
        for farmer_id, grams in shares_of(part).items():
            combined[farmer_id] = combined.get(farmer_id, 0) + grams
    assert combined == before
    assert shares_of(lot) == before  # the closed lot keeps its shares as history
    assert set(LotLineage.objects.filter(parent=lot).values_list("child_id", "grams")) == {
        (parts[0].pk, 300_000),
        (parts[1].pk, 450_000),
    }


def test_split_cuts_shares_by_largest_remainder(make_lot, manager):
    lot = make_lot((1, 1, 1))
    parts = services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=[2])
    assert [p.quantity_grams for p in parts] == [2, 1]
    assert sorted(shares_of(parts[0]).values()) == [1, 1]


def test_a_part_smaller_than_the_lot_leaves_the_rest_as_another_lot(make_lot, manager, coop):
    lot = make_lot((500_000,))
    parts = services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=[120_000])
    assert [p.quantity_grams for p in parts] == [120_000, 380_000]


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ([400_000, 400_000], "The parts add up to 800 kg, but lot"),
        ([750_001], "holds 750 kg"),
        ([750_000], "give parts smaller than the whole lot"),
        ([0, 750_000], "more than 0 kg"),
        ([-1, 751], "more than 0 kg"),
        ([], "at least one part"),
    ],
)
def test_bad_splits_are_refused_and_nothing_is_written(make_lot, manager, parts, words):
    lot = make_lot((250_000, 180_000, 320_000))
    lots_before = Lot.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=parts)
    assert words in refused.value.message
    lot.refresh_from_db()
    assert lot.status == Lot.Status.OPEN and Lot.objects.count() == lots_before


def test_merge_adds_up_lots_and_shares(make_lot, manager, farmers):
    first = make_lot((100_000, 200_000))
    second = make_lot((50_000,))
    merged = services.lot_merge(actor=manager, lot_ids=[first.pk, second.pk])
    assert merged.quantity_grams == 350_000 and merged.origin == Lot.Origin.MERGE
    assert shares_of(merged) == {farmers[0].pk: 150_000, farmers[1].pk: 200_000}
    for source in (first, second):
        source.refresh_from_db()
        assert source.status == Lot.Status.CLOSED
    assert LotLineage.objects.filter(child=merged).count() == 2


def test_merge_after_split_rejoins_shares_per_delivery(make_lot, manager):
    lot = make_lot((333_333, 222_222))
    parts = services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=[100_001, 200_002])
    merged = services.lot_merge(actor=manager, lot_ids=[p.pk for p in parts])
    assert merged.quantity_grams == lot.quantity_grams
    assert sorted(LotContribution.objects.filter(lot=merged).values_list("grams", flat=True)) == [222_222, 333_333]


def test_merging_lots_of_different_grades_is_refused(make_lot, manager, grade_2):
    first = make_lot((100_000,))
    second = make_lot((100_000,), grade_id=grade_2.pk)
    with pytest.raises(ValidationFailed) as refused:
        services.lot_merge(actor=manager, lot_ids=[first.pk, second.pk])
    assert "same grade" in refused.value.message and first.code in refused.value.message
    assert Lot.objects.filter(status=Lot.Status.OPEN).count() == 2


def test_merging_lots_of_different_commodities_is_refused(
    make_lot, manager, record, farmers, coop, warehouse, maize, maize_grade_1
):
    cocoa_lot = make_lot((100_000,))
    maize_delivery = record(farmers[0], commodity_id=maize.pk, grade_id=maize_grade_1.pk, moisture_pct=Decimal("12"))
    maize_lot = services.lot_bulk(
        actor=manager, organisation_id=coop.pk, delivery_ids=[maize_delivery.pk], storage_location_id=warehouse.pk
    )
    with pytest.raises(ValidationFailed, match="same commodity"):
        services.lot_merge(actor=manager, lot_ids=[cocoa_lot.pk, maize_lot.pk])


def test_merge_needs_two_open_lots_of_ones_own(make_lot, manager, outsider):
    first, second = make_lot((100_000,)), make_lot((100_000,))
    with pytest.raises(ValidationFailed, match="at least two"):
        services.lot_merge(actor=manager, lot_ids=[first.pk, first.pk])
    with pytest.raises(NotFound):
        services.lot_merge(actor=outsider, lot_ids=[first.pk, second.pk])
    with pytest.raises(NotFound):
        services.lot_merge(actor=manager, lot_ids=[first.pk, 999_999])
    services.lot_split(actor=manager, lot_id=second.pk, parts_grams=[50_000])
    with pytest.raises(Conflict, match="Only open lots"):
        services.lot_merge(actor=manager, lot_ids=[first.pk, second.pk])


def test_listed_lots_cannot_be_split(make_lot, make_listing, manager):
    lot = make_lot((300_000,))
    make_listing(lot)
    with pytest.raises(Conflict, match="only open lots can be split"):
        services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=[100_000])


def test_move_to_another_warehouse(make_lot, manager, coop):
    lot = make_lot((100_000,))
    other = WarehouseFactory(organisation=coop)
    moved = services.lot_move(actor=manager, lot_id=lot.pk, storage_location_id=other.pk)
    assert moved.storage_location == other
    assert AuditEvent.objects.filter(action="lot.moved", subject_id=str(lot.pk)).exists()
    with pytest.raises(ValidationFailed, match="already at"):
        services.lot_move(actor=manager, lot_id=lot.pk, storage_location_id=other.pk)


# --- Transition table: every pair ---------------------------------------------------------

ALL = [s.value for s in Lot.Status]


def _lot_in(status, make_lot, make_listing, manager):
    lot = make_lot((300_000,))
    if status in {"listed", "reserved", "sold", "dispatched"}:
        make_listing(lot)
    path = {"reserved": ["reserved"], "sold": ["sold"], "dispatched": ["sold", "dispatched"], "closed": ["closed"]}
    for step in path.get(status, []):
        services.lot_status_transition(actor=manager, lot_id=lot.pk, to_status=step, reason="test")
    lot.refresh_from_db()
    assert lot.status == status
    return lot


# Written out here, not read from the code, so that a wrong entry in the service's table fails this test.
LOT_MOVES = {
    ("open", "listed"), ("open", "closed"),
    ("listed", "open"), ("listed", "reserved"), ("listed", "sold"),
    ("reserved", "listed"), ("reserved", "sold"),
    ("sold", "dispatched"),
    ("dispatched", "closed"),
}  # fmt: skip


def test_the_lot_table_is_the_one_written_here():
    assert LOT_TRANSITIONS.pairs() == LOT_MOVES


@pytest.mark.parametrize(("from_status", "to_status"), [(a, b) for a in ALL for b in ALL])
def test_every_transition_pair(from_status, to_status, make_lot, make_listing, manager):
    lot = _lot_in(from_status, make_lot, make_listing, manager)
    allowed = (from_status, to_status) in LOT_MOVES
    # A lot is listed only while it has an open listing, and open only while it has none.
    has_listing = from_status in {"listed", "reserved", "sold", "dispatched"}
    guard_ok = {"listed": has_listing, "open": not has_listing}.get(to_status, True)
    call = {"actor": manager, "lot_id": lot.pk, "to_status": to_status, "reason": "test"}
    if allowed and guard_ok:
        services.lot_status_transition(**call)
        lot.refresh_from_db()
        assert lot.status == to_status
        assert AuditEvent.objects.filter(
            action=f"lot.{to_status}", subject_id=str(lot.pk), from_status=from_status, to_status=to_status
        ).exists()
    else:
        with pytest.raises((InvalidTransition, Conflict)):
            services.lot_status_transition(**call)
        lot.refresh_from_db()
        assert lot.status == from_status


def test_listed_lot_goes_back_to_open_when_its_listings_are_withdrawn(make_lot, make_listing, manager):
    lot = make_lot((300_000,))
    listing = make_listing(lot)
    services.listing_status_transition(actor=manager, listing_id=listing.pk, to_status="withdrawn")
    lot.refresh_from_db()
    assert lot.status == Lot.Status.OPEN


def test_closing_an_unsold_lot_needs_a_reason(make_lot, manager):
    lot = make_lot((300_000,))
    with pytest.raises(ValidationFailed, match="why"):
        services.lot_status_transition(actor=manager, lot_id=lot.pk, to_status="closed")


def test_transition_permissions(make_lot, clerk, outsider):
    lot = make_lot((300_000,))
    with pytest.raises(PermissionDenied):
        services.lot_status_transition(actor=clerk, lot_id=lot.pk, to_status="closed", reason="x")
    with pytest.raises(NotFound):
        services.lot_status_transition(actor=outsider, lot_id=lot.pk, to_status="closed", reason="x")


# --- The database's own guards ------------------------------------------------------------


def test_the_database_refuses_shares_that_do_not_add_up(make_lot, coop, manager, warehouse, cocoa, grade_1):
    make_lot((100_000,))
    delivery = Delivery.objects.first()
    with pytest.raises(IntegrityError, match="member shares"), transaction.atomic():
        lot = Lot.objects.create(
            organisation=coop, code="BAD-1", commodity=cocoa, grade=grade_1, quantity_grams=1_000, origin="bulk",
            storage_location=warehouse, created_by=manager,
        )  # fmt: skip
        LotContribution.objects.create(lot=lot, farmer_id=delivery.farmer_id, delivery=delivery, grams=999)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_database_refuses_to_change_a_lots_quantity_or_shares(make_lot):
    lot = make_lot((300_000,))
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Lot.objects.filter(pk=lot.pk).update(quantity_grams=1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LotContribution.objects.filter(lot=lot).update(grams=1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalogue_lot WHERE id = %s", [lot.pk])


def test_the_database_refuses_a_listing_bigger_than_its_lot(make_lot, make_listing):
    lot = make_lot((300_000,))
    listing = make_listing(lot, quantity_grams=200_000)
    with pytest.raises(IntegrityError, match="the lot holds"), transaction.atomic():
        Listing.objects.filter(pk=listing.pk).update(quantity_offered_grams=400_000, quantity_available_grams=400_000)
