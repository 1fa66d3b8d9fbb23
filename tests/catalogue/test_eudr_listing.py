"""Listing a lot that is not EUDR-ready: the form warns first, says in words what is missing on which plots,
links to where to fix it, and publishes only once the manager ticks that they list it anyway."""

import datetime

import pytest

from catalogue import services
from catalogue.models import Listing
from tests.dates import today

pytestmark = pytest.mark.django_db


@pytest.fixture
def unready_lot(record, manager, coop, warehouse, farmers):
    delivery = record(farmers[0])
    return services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[delivery.pk],
                             storage_location_id=warehouse.pk)  # fmt: skip


def _form(lot, warehouse, **changes):
    return {
        "lot": lot.pk, "title": "Cocoa Grade I", "price": "1450", "price_unit": "KGM", "quantity_kg": "10",
        "min_order_kg": "5", "delivery_terms": "ex_warehouse", "pickup_location": warehouse.pk,
        "available_from": today().isoformat(), "valid_until": (today() + datetime.timedelta(days=30)).isoformat(),
        **changes,
    }  # fmt: skip


def test_the_form_warns_before_listing_and_links_to_the_plot(login, manager, unready_lot, farmers):
    client = login(manager)
    html = client.get(f"/catalogue/my-listings/new/?lot={unready_lot.pk}").content.decode()
    plot = farmers[0].plots.get()
    assert 'id="eudr-warning"' in html and "no boundary or centre point recorded" in html
    assert f"Plot {plot.name} of member {farmers[0].member_number}" in html and "GEOMETRY_MISSING" not in html
    assert f'href="/members/{farmers[0].pk}/plots/{plot.pk}/edit/"' in html
    assert 'type="checkbox" name="eudr_acknowledged"' in html


def test_a_not_ready_lot_is_listed_only_when_the_manager_says_so(login, manager, unready_lot, warehouse):
    client = login(manager)
    refused = client.post("/catalogue/my-listings/new/", _form(unready_lot, warehouse))
    assert refused.status_code == 400 and not Listing.objects.exists()
    assert "tick the box" in refused.content.decode()
    listed = client.post("/catalogue/my-listings/new/", _form(unready_lot, warehouse, eudr_acknowledged="on"))
    assert listed.status_code == 302 and Listing.objects.count() == 1


def test_a_ready_lot_or_maize_gets_no_warning(login, manager, ready_lot_for_listing, warehouse):
    html = login(manager).get(f"/catalogue/my-listings/new/?lot={ready_lot_for_listing.pk}").content.decode()
    assert 'id="eudr-warning"' not in html and 'name="eudr_acknowledged"' in html  # hidden, not asked


@pytest.fixture
def ready_lot_for_listing(record, manager, coop, warehouse, farmers, maize, maize_grade_1):
    from decimal import Decimal

    delivery = record(farmers[0], commodity_id=maize.pk, grade_id=maize_grade_1.pk, moisture_pct=Decimal("12.0"))
    return services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[delivery.pk],
                             storage_location_id=warehouse.pk)  # fmt: skip
