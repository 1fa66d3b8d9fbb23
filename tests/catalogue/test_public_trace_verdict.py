"""The public trace page reads its lot's lineage digest: the EUDR badge follows every change that can change the
verdict (a plot's geometry, area or cut-off evidence, a new overlapping plot, a plot import, a bare database update,
a new event on the lot), and the page's query count does not grow with the lot's deliveries."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.cache import cache

from catalogue import services
from catalogue.due_diligence import lot_package
from catalogue.tracing import delivery_identifier
from marketplace.demo.organisations import plot_polygon
from marketplace.organisations.models import Plot
from marketplace.organisations.services import plot_create, plot_update
from tests.catalogue.factories import polygon_plot
from tests.factories import MemberFarmerFactory
from traceability import services as trace_services
from traceability.lineage import lineage_digest_live, lineage_digest_read
from traceability.models import Event, Lineage
from traceability.plot_import import plots_import

pytestmark = pytest.mark.django_db
KG = 1000
BADGE = "Plots geolocated (EUDR)"
PAGE_QUERIES = 7  # cache key, lot, digest with the plots' stamp, locations, trace settings, certifications, names
STATEMENT_QUERIES = 4


@pytest.fixture
def ready_lot(record, manager, coop, warehouse, growers):
    deliveries = [record(grower, net_grams=(100 + 10 * i) * KG) for i, grower in enumerate(growers)]
    return services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                             storage_location_id=warehouse.pk)  # fmt: skip


def badge(client, lot) -> bool:
    cache.clear()
    response = client.get(f"/catalogue/trace/{lot.public_id}/")
    assert response.status_code == 200
    return BADGE in response.content.decode()


def assert_digest_is_the_walks(lot):
    uri = Lineage.objects.get(organisation=lot.organisation, subject__endswith=lot.code).subject
    assert lineage_digest_read(identifier=uri, organisation_id=lot.organisation_id) == lineage_digest_live(
        identifier=uri, organisation_id=lot.organisation_id
    )


def test_a_ready_lot_shows_the_badge_and_the_statement_agrees(client, ready_lot):
    assert badge(client, ready_lot)
    assert lot_package(ready_lot).ready
    assert_digest_is_the_walks(ready_lot)


def test_a_geometry_edit_through_the_plot_service_turns_the_badge_off_and_on(client, manager, ready_lot, growers):
    plot = growers[1].plots.get()
    good = plot.geometry
    ring = good["coordinates"][0]
    plot_update(actor=manager, plot_id=plot.pk, geometry={"type": "Polygon", "coordinates": [ring[:-1]]})
    assert not badge(client, ready_lot)
    assert [m.rule for m in lot_package(ready_lot).missing] == ["POLYGON_NOT_CLOSED"]
    assert_digest_is_the_walks(ready_lot)
    plot_update(actor=manager, plot_id=plot.pk, geometry=good)
    assert badge(client, ready_lot)


def test_an_area_edit_that_disagrees_with_the_polygon_turns_the_badge_off(client, manager, ready_lot, growers):
    plot_update(actor=manager, plot_id=growers[0].plots.get().pk, area_hectares=Decimal("9.5"))
    assert not badge(client, ready_lot)
    assert [m.rule for m in lot_package(ready_lot).missing] == ["AREA_MISMATCH"]


@pytest.mark.parametrize(
    ("established_on", "rule"),
    [(None, "CUTOFF_EVIDENCE_MISSING"), (datetime.date(2022, 3, 1), "CLEARED_AFTER_CUTOFF")],
)
def test_cut_off_evidence_removed_or_too_late_turns_the_badge_off(client, manager, ready_lot, growers, established_on,
                                                                  rule):  # fmt: skip
    plot = growers[2].plots.get()
    plot_update(actor=manager, plot_id=plot.pk, established_on=established_on)
    assert not badge(client, ready_lot)
    assert [m.rule for m in lot_package(ready_lot).missing] == [rule]
    plot_update(actor=manager, plot_id=plot.pk, established_on=datetime.date(2012, 6, 1))
    assert badge(client, ready_lot)


def test_a_new_overlapping_plot_of_another_member_turns_the_badge_off(client, manager, coop, ready_lot, growers):
    neighbour = MemberFarmerFactory(organisation=coop, member_number="NAW-3999")
    source = growers[0].plots.get()
    plot = plot_create(actor=manager, farmer_id=neighbour.pk, name="Same land", area_hectares=source.area_hectares,
                       geometry=source.geometry, established_on=datetime.date(2010, 1, 1))  # fmt: skip
    assert not badge(client, ready_lot)
    assert {m.rule for m in lot_package(ready_lot).missing} == {"PLOT_OVERLAP"}
    assert_digest_is_the_walks(ready_lot)
    # Moving the new plot elsewhere removes the overlap.
    geometry, area = plot_polygon(random.Random(99), lon=-7.4, lat=6.4, hectares=1.2)
    plot_update(actor=manager, plot_id=plot.pk, geometry=geometry, area_hectares=area)
    assert badge(client, ready_lot)


def test_an_imported_plot_overlapping_a_contributing_plot_turns_the_badge_off(client, manager, coop, ready_lot,
                                                                             growers):  # fmt: skip
    import json

    neighbour = MemberFarmerFactory(organisation=coop, member_number="NAW-3998")
    source = growers[1].plots.get()
    properties = {"member_number": neighbour.member_number, "name": "Imported",
                  "area_hectares": float(source.area_hectares), "established_on": "2011-01-01"}  # fmt: skip
    feature = {"type": "Feature", "geometry": source.geometry, "properties": properties}
    plots_import(actor=manager, organisation_id=coop.pk, file_name="plots.geojson",
                 data=json.dumps({"type": "FeatureCollection", "features": [feature]}).encode())  # fmt: skip
    assert not badge(client, ready_lot)


def test_a_bare_database_update_of_a_plot_is_seen_too(client, ready_lot, growers):
    Plot.objects.filter(pk=growers[0].plots.get().pk).update(established_on=None)  # no service, no updated_at
    assert not badge(client, ready_lot)


def test_a_new_event_on_the_lot_refreshes_the_verdict(client, record, coop, clerk, ready_lot):
    """The bulking is declared wrong and corrected with one more delivery, from a plot that has no cut-off evidence:
    the lot's lineage (and its verdict) is recomputed in the appending transaction."""
    late = MemberFarmerFactory(organisation=coop, member_number="NAW-3777")
    polygon_plot(late, "Parcelle tardive", 7)
    late.plots.update(established_on=None)
    extra = record(late, net_grams=50 * KG)
    bulking = Event.objects.filter(organisation=coop, event_type="TransformationEvent").latest("sequence")
    inputs = [(lot.lot_uri, lot.grams) for lot in bulking.lots.filter(role="input")]
    outputs = [(lot.lot_uri, lot.grams + 50 * KG) for lot in bulking.lots.filter(role="output")]
    assert badge(client, ready_lot)
    trace_services.error_declared(
        actor=clerk, organisation=coop, event_id=bulking.event_id, reason="incorrect_data",
        corrective={"inputs": [*inputs, (delivery_identifier(extra), 50 * KG)], "outputs": outputs},
    )  # fmt: skip
    assert not badge(client, ready_lot)
    assert_digest_is_the_walks(ready_lot)


def test_the_page_costs_the_same_queries_for_a_small_and_a_larger_lot(client, record, manager, coop, warehouse,
                                                                      django_assert_max_num_queries):  # fmt: skip
    lots = []
    for size in (2, 12):
        deliveries = []
        for i in range(size):
            farmer = MemberFarmerFactory(organisation=coop, member_number=f"NAW-{size}-{i:03d}")
            polygon_plot(farmer, f"Parcelle {size}-{i}", 20 + size * 20 + i)
            deliveries.append(record(farmer, net_grams=(50 + i) * KG))
        lots.append(services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                                      storage_location_id=warehouse.pk))  # fmt: skip
    services.trace_settings_update(actor=manager, organisation_id=coop.pk, show_producers=True)
    for lot in lots:
        badge(client, lot)  # a first read may store a digest refreshed after the plots were drawn
        with django_assert_max_num_queries(PAGE_QUERIES):
            assert badge(client, lot)
        # The statement builder takes the plot list from the digest: the digest, the plots, the overlaps.
        with django_assert_max_num_queries(STATEMENT_QUERIES):
            package = lot_package(lot)
        assert package.ready and len(package.plots) == len(package.geojson["features"])


def test_a_stale_verdict_is_recomputed_once_and_stored(client, manager, ready_lot, growers,
                                                       django_assert_max_num_queries):  # fmt: skip
    plot_update(actor=manager, plot_id=growers[0].plots.get().pk, established_on=None)
    uri = Lineage.objects.get(subject__endswith=ready_lot.code).subject
    before = Lineage.objects.get(subject=uri).digest["plots"]["stamp"]
    assert not badge(client, ready_lot)
    after = Lineage.objects.get(subject=uri).digest
    assert after["plots"]["stamp"] != before and after["plots"]["verdict"]["ordinary"]["rules"] == {
        "CUTOFF_EVIDENCE_MISSING": 1
    }
    with django_assert_max_num_queries(1):
        lineage_digest_read(identifier=uri, organisation_id=ready_lot.organisation_id)


def test_the_page_names_the_first_producers_and_counts_the_others(client, manager, ready_lot, growers, monkeypatch):
    from traceability import digest

    monkeypatch.setattr(digest, "TOP_PRODUCERS", 2)
    Lineage.objects.update(digest={})  # recomputed on read with the smaller list
    services.trace_settings_update(actor=manager, organisation_id=ready_lot.organisation_id, show_producers=True)
    cache.clear()
    html = client.get(f"/catalogue/trace/{ready_lot.public_id}/").content.decode()
    # The two who delivered the most are named (120 and 110 kg), the third is counted.
    assert growers[2].name in html and growers[1].name in html and growers[0].name not in html
    assert "and 1 other member, who delivered less" in html
