"""Races on real PostgreSQL connections: the database decides, and exactly one contender wins."""

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from catalogue import services
from catalogue.models import DeliveryReceiptSms, Listing, Lot, LotIntake
from marketplace.core.errors import Conflict, DomainError
from marketplace.core.money import Money
from tests.catalogue.conftest import ensure_reference_data

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released at the same moment; each thread uses its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # the outcome is what the test checks
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture(autouse=True)
def _reference(transactional_db):
    ensure_reference_data()


def test_two_buyers_reserving_the_last_kilos_exactly_one_wins(make_lot, make_listing):
    listing = make_listing(make_lot((300_000,)))
    services.listing_reserve(listing_id=listing.pk, grams=290_000)
    for _ in range(5):
        results = race(
            lambda: services.listing_reserve(listing_id=listing.pk, grams=10_000, reference="order:a"),
            lambda: services.listing_reserve(listing_id=listing.pk, grams=10_000, reference="order:b"),
        )
        winners = [r for r in results if isinstance(r, Listing)]
        losers = [r for r in results if isinstance(r, Conflict)]
        listing.refresh_from_db()
        assert len(winners) == 1 and len(losers) == 1, results
        assert listing.quantity_available_grams == 0 and listing.quantity_reserved_grams == 300_000
        services.listing_release(listing_id=listing.pk, grams=10_000)


def test_many_concurrent_reservations_never_oversell(make_lot, make_listing):
    listing = make_listing(make_lot((100_000,)))
    results = race(*[lambda: services.listing_reserve(listing_id=listing.pk, grams=30_000) for _ in range(6)])
    winners = [r for r in results if isinstance(r, Listing)]
    assert len(winners) == 3
    listing.refresh_from_db()
    assert listing.quantity_available_grams == 10_000 and listing.quantity_reserved_grams == 90_000


def test_two_listings_of_the_same_lot_at_once_cannot_offer_more_than_it_holds(make_lot, manager, warehouse):
    lot = make_lot((300_000,))

    def publish():
        return services.listing_create(
            actor=manager, lot_id=lot.pk, title="Cocoa", price=Money(1500, "XOF"), price_unit="KGM",
            quantity_grams=200_000, min_order_grams=10_000, delivery_terms="ex_warehouse",
            pickup_location_id=warehouse.pk, available_from=datetime.date.today(),
            valid_until=datetime.date.today() + datetime.timedelta(days=30),
        )  # fmt: skip

    results = race(publish, publish)
    assert sum(isinstance(r, Listing) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert Listing.objects.filter(lot=lot).count() == 1


def test_two_managers_bulking_the_same_delivery_make_one_lot(record, farmers, manager, coop, warehouse):
    delivery = record(farmers[0])

    def bulk():
        return services.lot_bulk(
            actor=manager, organisation_id=coop.pk, delivery_ids=[delivery.pk], storage_location_id=warehouse.pk
        )

    results = race(bulk, bulk)
    assert sum(isinstance(r, Lot) for r in results) == 1, results
    assert LotIntake.objects.filter(delivery=delivery).count() == 1


def test_splitting_and_merging_the_same_lot_at_once(make_lot, manager):
    first, second = make_lot((100_000,)), make_lot((100_000,))
    results = race(
        lambda: services.lot_split(actor=manager, lot_id=first.pk, parts_grams=[40_000]),
        lambda: services.lot_merge(actor=manager, lot_ids=[first.pk, second.pk]),
    )
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    open_total = sum(Lot.objects.filter(status=Lot.Status.OPEN).values_list("quantity_grams", flat=True))
    assert open_total == 200_000


def test_the_same_form_submitted_twice_at_once_records_one_delivery(record, farmers):
    import uuid

    reference = uuid.uuid4()
    results = race(
        lambda: record(farmers[0], client_reference=reference), lambda: record(farmers[0], client_reference=reference)
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert results[0].pk == results[1].pk


def test_two_workers_sending_the_same_sms_receipt_send_it_once(record, farmers, sms_outbox):
    delivery = record(farmers[0])  # commits, so the eager task has sent the receipt once already: start again
    DeliveryReceiptSms.objects.filter(delivery=delivery).delete()
    sms_outbox.clear()
    results = race(
        lambda: services.delivery_receipt_sms_send(delivery_id=delivery.pk),
        lambda: services.delivery_receipt_sms_send(delivery_id=delivery.pk),
    )
    assert sorted(results) == [False, True], results
    assert len(sms_outbox) == 1
