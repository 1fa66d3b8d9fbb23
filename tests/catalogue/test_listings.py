"""Listings: publishing a lot or part of it, refusals, quantity guards, reserve/release/sale and transitions."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalogue import services
from catalogue.models import Listing, Lot
from catalogue.services.listings import LISTING_TRANSITIONS
from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.core.money import Money
from marketplace.organisations.models import Organisation
from tests.catalogue.factories import CertificationFactory, WarehouseFactory
from tests.dates import today

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_listing_offers_part_of_a_lot(make_lot, make_listing, manager, warehouse, fairtrade):
    lot = make_lot((250_000, 250_000))
    listing = make_listing(
        lot, quantity_grams=300_000, min_order_grams=50_000, certification_ids=[fairtrade.pk],
        photo=SimpleUploadedFile("cocoa.png", PNG, content_type="image/png"),
    )  # fmt: skip
    assert listing.quantity_offered_grams == listing.quantity_available_grams == 300_000
    assert listing.price == Money(1500, "XOF") and listing.price_per_tonne_minor == 1_500_000
    assert (listing.commodity_id, listing.grade_id, listing.grade_rank) == (lot.commodity_id, lot.grade_id, 1)
    assert listing.country == "CI" and listing.region == "Nawa" and listing.latitude == warehouse.latitude
    assert list(listing.certifications.all()) == [fairtrade]
    assert listing.photo.name.endswith(".png")
    lot.refresh_from_db()
    assert lot.status == Lot.Status.LISTED
    assert AuditEvent.objects.filter(action="listing.created", subject_id=str(listing.pk)).exists()
    second = make_listing(lot, quantity_grams=200_000)
    assert second.lot == lot


def test_price_per_tonne_is_kept_as_given(make_lot, make_listing):
    listing = make_listing(make_lot((300_000,)), price=Money(1_450_000, "XOF"), price_unit="TNE")
    assert listing.price_per_tonne_minor == 1_450_000


def test_delivered_listings_name_a_region(make_lot, make_listing):
    listing = make_listing(
        make_lot((300_000,)), delivery_terms="delivered", pickup_location_id=None, delivery_country="CI",
        delivery_region="Abidjan",
    )  # fmt: skip
    assert (listing.country, listing.region, listing.pickup_location) == ("CI", "Abidjan", None)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"price": Money(3, "EUR")}, "currency", "your cooperative's currency, XOF; you gave EUR"),
        ({"price": Money(0, "XOF")}, "price", "more than 0"),
        ({"price_unit": "LBS"}, "price_unit", "per kilogram"),
        ({"quantity_grams": 0}, "quantity", "more than 0 kg"),
        ({"quantity_grams": 300_001}, "quantity", "at most 300 kg"),
        ({"min_order_grams": 0}, "min_order", "more than 0 kg"),
        ({"quantity_grams": 100_000, "min_order_grams": 200_000}, "min_order", "exceeds the quantity"),
        ({"valid_until": today() - datetime.timedelta(days=1), "available_from": today() - datetime.timedelta(days=5)},
         "valid_until", "has passed"),
        ({"valid_until": today(), "available_from": today() + datetime.timedelta(days=3)}, "valid_until",
         "at least until"),
        ({"pickup_location_id": None}, "pickup_location", "warehouses"),
        ({"delivery_terms": "delivered", "delivery_country": "XX"}, "delivery_country", "two-letter"),
        ({"delivery_terms": "delivered", "delivery_country": "CI"}, "delivery_region", "region"),
        ({"delivery_terms": "teleport"}, "delivery_terms", "Choose one of"),
        ({"title": " "}, "title", "title"),
        ({"photo": SimpleUploadedFile("x.gif", b"GIF89a" + b"\x00" * 20)}, "photo", "JPEG, PNG or WebP"),
    ],
)  # fmt: skip
def test_bad_listings_are_refused_and_nothing_is_written(make_lot, make_listing, overrides, field, words):
    lot = make_lot((300_000,))
    with pytest.raises(ValidationFailed) as refused:
        make_listing(lot, **overrides)
    assert words in refused.value.fields[field][0], refused.value.fields
    assert Listing.objects.count() == 0
    lot.refresh_from_db()
    assert lot.status == Lot.Status.OPEN


def test_a_second_listing_cannot_offer_what_the_first_offers(make_lot, make_listing):
    lot = make_lot((300_000,))
    make_listing(lot, quantity_grams=200_000)
    with pytest.raises(ValidationFailed) as refused:
        make_listing(lot, quantity_grams=150_000)
    assert "200 kg are already offered; you can offer at most 100 kg" in refused.value.fields["quantity"][0]


def test_certifications_must_be_the_cooperatives_and_valid(make_lot, make_listing, other_coop, coop):
    lot = make_lot((300_000,))
    foreign = CertificationFactory(organisation=other_coop)
    with pytest.raises(ValidationFailed, match="certifications"):
        make_listing(lot, certification_ids=[foreign.pk])
    expired = CertificationFactory(organisation=coop, valid_until=today() - datetime.timedelta(days=1))
    with pytest.raises(ValidationFailed, match="Not valid on"):
        make_listing(lot, certification_ids=[expired.pk])


def test_only_managers_of_verified_cooperatives_list(make_lot, make_listing, clerk, outsider, coop):
    lot = make_lot((300_000,))
    with pytest.raises(PermissionDenied):
        make_listing(lot, actor=clerk)
    with pytest.raises(NotFound):
        make_listing(lot, actor=outsider)
    Organisation.objects.filter(pk=coop.pk).update(verification_status=Organisation.Verification.SUSPENDED)
    with pytest.raises(PermissionDenied, match="not verified"):
        make_listing(lot)


def test_a_closed_lot_cannot_be_listed(make_lot, make_listing, manager):
    lot = make_lot((300_000,))
    services.lot_status_transition(actor=manager, lot_id=lot.pk, to_status="closed", reason="Spoiled")
    with pytest.raises(Conflict, match="only open or listed"):
        make_listing(lot)


def test_update_price_and_quantity(make_lot, make_listing, manager):
    lot = make_lot((300_000,))
    listing = make_listing(lot, quantity_grams=200_000)
    services.listing_reserve(listing_id=listing.pk, grams=50_000)
    updated = services.listing_update(
        actor=manager, listing_id=listing.pk, price=Money(1600, "XOF"), quantity_grams=300_000
    )
    assert updated.price == Money(1600, "XOF")
    assert (updated.quantity_offered_grams, updated.quantity_available_grams) == (300_000, 250_000)
    with pytest.raises(ValidationFailed, match="reserved or sold"):
        services.listing_update(actor=manager, listing_id=listing.pk, quantity_grams=40_000)
    with pytest.raises(ValidationFailed, match="at most 300 kg"):
        services.listing_update(actor=manager, listing_id=listing.pk, quantity_grams=300_001)
    with pytest.raises(ValidationFailed, match="XOF"):
        services.listing_update(actor=manager, listing_id=listing.pk, price=Money(100, "EUR"))
    event = AuditEvent.objects.filter(action="listing.updated", subject_id=str(listing.pk)).get()
    assert event.data["before"]["price"] == "1,500 XOF" and event.data["after"]["price"] == "1,600 XOF"


# --- Reserve, release, sale ---------------------------------------------------------------


def test_reserve_release_and_sell(make_lot, make_listing):
    listing = make_listing(make_lot((300_000,)))
    services.listing_reserve(listing_id=listing.pk, grams=120_000, reference="order:1")
    services.listing_release(listing_id=listing.pk, grams=20_000, reference="order:1")
    services.listing_commit_sale(listing_id=listing.pk, grams=100_000, reference="order:1")
    listing.refresh_from_db()
    assert (
        listing.quantity_available_grams, listing.quantity_reserved_grams, listing.quantity_sold_grams
    ) == (200_000, 0, 100_000)  # fmt: skip
    actions = AuditEvent.objects.filter(subject_id=str(listing.pk)).values_list("action", flat=True)
    assert {"listing.reserved", "listing.released", "listing.sold"} <= set(actions)


def test_reserving_more_than_available_is_refused(make_lot, make_listing):
    listing = make_listing(make_lot((300_000,)))
    with pytest.raises(Conflict, match="Only 300 kg of this listing are available"):
        services.listing_reserve(listing_id=listing.pk, grams=300_001)
    with pytest.raises(Conflict, match="reserved"):
        services.listing_release(listing_id=listing.pk, grams=1)
    with pytest.raises(Conflict, match="reserved"):
        services.listing_commit_sale(listing_id=listing.pk, grams=1)
    with pytest.raises(ValidationFailed):
        services.listing_reserve(listing_id=listing.pk, grams=0)
    with pytest.raises(NotFound):
        services.listing_reserve(listing_id=999_999, grams=1)
    listing.refresh_from_db()
    assert listing.quantity_available_grams == 300_000


def test_paused_listings_cannot_be_reserved(make_lot, make_listing, manager):
    listing = make_listing(make_lot((300_000,)))
    services.listing_status_transition(actor=manager, listing_id=listing.pk, to_status="paused")
    with pytest.raises(Conflict, match="paused"):
        services.listing_reserve(listing_id=listing.pk, grams=1_000)


def test_a_listing_with_reservations_cannot_be_withdrawn(make_lot, make_listing, manager):
    listing = make_listing(make_lot((300_000,)))
    services.listing_reserve(listing_id=listing.pk, grams=1_000)
    with pytest.raises(Conflict, match="reserved by orders"):
        services.listing_status_transition(actor=manager, listing_id=listing.pk, to_status="withdrawn")


# Written out here, not read from the code.
LISTING_MOVES = {("active", "paused"), ("active", "withdrawn"), ("paused", "active"), ("paused", "withdrawn")}


def test_the_listing_table_is_the_one_written_here():
    assert LISTING_TRANSITIONS.pairs() == LISTING_MOVES


@pytest.mark.parametrize(
    ("from_status", "to_status"), [(a, b) for a in Listing.Status.values for b in Listing.Status.values]
)
def test_every_listing_transition_pair(make_lot, make_listing, manager, from_status, to_status):
    listing = make_listing(make_lot((300_000,)))
    if from_status != "active":
        services.listing_status_transition(actor=manager, listing_id=listing.pk, to_status=from_status)
    call = {"actor": manager, "listing_id": listing.pk, "to_status": to_status}
    if (from_status, to_status) in LISTING_MOVES:
        services.listing_status_transition(**call)
        listing.refresh_from_db()
        assert listing.status == to_status
        assert AuditEvent.objects.filter(
            action=f"listing.{to_status}", subject_id=str(listing.pk), from_status=from_status, to_status=to_status
        ).exists()
    else:
        with pytest.raises(InvalidTransition):
            services.listing_status_transition(**call)


def test_listing_transitions_are_for_the_cooperatives_managers(make_lot, make_listing, clerk, outsider):
    listing = make_listing(make_lot((300_000,)))
    with pytest.raises(PermissionDenied):
        services.listing_status_transition(actor=clerk, listing_id=listing.pk, to_status="paused")
    with pytest.raises(NotFound):
        services.listing_status_transition(actor=outsider, listing_id=listing.pk, to_status="paused")
    with pytest.raises(NotFound):
        services.listing_update(actor=outsider, listing_id=listing.pk, title="Mine now")


def test_withdrawn_listings_free_the_lot_for_a_new_listing(make_lot, make_listing, manager, coop):
    lot = make_lot((300_000,))
    first = make_listing(lot)
    services.listing_status_transition(actor=manager, listing_id=first.pk, to_status="withdrawn")
    second = make_listing(lot, pickup_location_id=WarehouseFactory(organisation=coop).pk)
    assert second.quantity_offered_grams == 300_000
