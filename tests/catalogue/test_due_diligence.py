"""The EUDR due-diligence package of a lot or an order: its content, when it is ready, who may read it (API,
page download, command), and the trace endpoints' isolation between organisations."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalogue import services
from catalogue.due_diligence import lot_package
from catalogue.tracing import delivery_identifier, lot_identifier
from tests.factories import MemberFarmerFactory, PlotFactory
from tests.orders.factories import advance, make_world, member, place
from traceability import identifiers
from traceability.eudr import PROPERTIES, feature_collection_check

pytestmark = pytest.mark.django_db
KG = 1000
DAY = datetime.date(2026, 1, 12)


@pytest.fixture
def ready_lot(record, manager, coop, warehouse, growers):
    deliveries = [
        record(growers[0], net_grams=250 * KG, delivered_on=DAY),
        record(growers[1], net_grams=180 * KG, delivered_on=DAY + datetime.timedelta(days=3)),
        record(growers[2], net_grams=320 * KG, delivered_on=DAY + datetime.timedelta(days=9)),
    ]
    return services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                             storage_location_id=warehouse.pk)  # fmt: skip


def test_a_lot_whose_plots_all_have_valid_polygons_is_ready(ready_lot, growers, cocoa):
    package = lot_package(ready_lot)
    assert package.ready and package.covered and package.missing == []
    data = package.as_json()
    assert data["subject"] == {"type": "lot", "reference": ready_lot.code, "identifier": lot_identifier(ready_lot)}
    assert data["commodities"] == [
        {"code": cocoa.code, "name": cocoa.name, "eudr_commodity": "cocoa", "hs_code": cocoa.hs_code,
         "net_mass_kg": 750}
    ]  # fmt: skip
    assert data["net_mass_kg"] == 750
    assert data["countries_of_production"] == ["CI"]
    assert data["production_period"] == {"start": "2026-01-12", "end": "2026-01-21"}
    assert data["plot_count"] == 3 and data["eudr_ready"] is True
    geojson = data["geolocation"]
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 3
    for feature in geojson["features"]:
        assert tuple(feature["properties"]) == PROPERTIES
        assert feature["properties"]["ProducerCountry"] == "CI"
        assert isinstance(feature["properties"]["Area"], float)
    assert {f["properties"]["ProducerName"] for f in geojson["features"]} == {g.name for g in growers}
    assert feature_collection_check(geojson) == []


def test_a_plot_without_geometry_makes_the_lot_not_ready_and_is_named(record, manager, coop, warehouse, growers):
    bare = MemberFarmerFactory(organisation=coop, member_number="NAW-2999")
    plot = PlotFactory(farmer=bare, name="Parcelle sans carte")
    deliveries = [record(growers[0], net_grams=100 * KG), record(bare, net_grams=60 * KG, plot_id=plot.pk)]
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                            storage_location_id=warehouse.pk)  # fmt: skip
    package = lot_package(lot)
    assert not package.ready
    assert [(m.rule, m.plot_id, m.plot_name, m.farmer) for m in package.missing] == [
        ("GEOMETRY_MISSING", plot.pk, "Parcelle sans carte", "NAW-2999")
    ]
    data = package.as_json()
    assert data["eudr_ready"] is False and data["geolocation"] is None
    assert data["missing"][0]["message"].startswith("There is no geometry")


def test_a_bad_polygon_is_named_with_its_rule(record, manager, coop, warehouse, growers):
    plot = growers[1].plots.get()
    ring = plot.geometry["coordinates"][0]
    type(plot).objects.filter(pk=plot.pk).update(geometry={"type": "Polygon", "coordinates": [ring[:-1]]})
    deliveries = [record(growers[0], net_grams=100 * KG), record(growers[1], net_grams=60 * KG)]
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                            storage_location_id=warehouse.pk)  # fmt: skip
    assert [(m.rule, m.plot_id) for m in lot_package(lot).missing] == [("POLYGON_NOT_CLOSED", plot.pk)]


def test_a_split_part_names_only_the_plots_that_went_into_it(ready_lot, manager, growers):
    # A part takes from every member share pro rata, so every plot of the lot is in each part.
    parts = services.lot_split(actor=manager, lot_id=ready_lot.pk, parts_grams=[300 * KG])
    package = lot_package(parts[0])
    assert package.ready and package.net_grams == 300 * KG
    assert {plot.farmer_id for plot in package.plots} == {g.pk for g in growers}


# --- Who may read it --------------------------------------------------------------------------


def test_the_api_serves_the_cooperative_and_hides_the_lot_from_others(api, ready_lot, viewer, outsider):
    response = api(viewer).get(f"/api/v1/lots/{ready_lot.pk}/due-diligence/")
    assert response.status_code == 200, response.content
    assert response.json()["eudr_ready"] is True
    assert len(response.json()["geolocation"]["features"]) == 3
    assert api(outsider).get(f"/api/v1/lots/{ready_lot.pk}/due-diligence/").status_code == 404
    assert api(outsider).get("/api/v1/lots/999999/due-diligence/").status_code == 404
    assert api(None).get(f"/api/v1/lots/{ready_lot.pk}/due-diligence/").status_code in (401, 403)


def test_a_commodity_outside_the_eudr_gets_a_clear_400(api, manager, record, coop, warehouse, farmers, maize,
                                                       maize_grade_1):  # fmt: skip
    delivery = record(farmers[0], commodity_id=maize.pk, grade_id=maize_grade_1.pk, moisture_pct=Decimal("12.0"))
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[delivery.pk],
                            storage_location_id=warehouse.pk)  # fmt: skip
    response = api(manager).get(f"/api/v1/lots/{lot.pk}/due-diligence/")
    assert response.status_code == 400
    assert "not covered by the EU Deforestation Regulation" in response.json()["error"]["message"]


@pytest.fixture
def sold(settings):
    """make_world's lot, 2 t of it sold to the buyer and dispatched."""
    settings.ORDER_EVENT_SUBSCRIBERS = []
    world = make_world()
    order = advance(world, place(world), "dispatched")
    return world, order


def test_the_buyer_of_an_order_reads_the_lot_and_order_packages(api, sold):
    world, order = sold
    lot = world.listing.lot
    buyer = world.buyer.viewer
    lot_response = api(buyer).get(f"/api/v1/lots/{lot.pk}/due-diligence/")
    assert lot_response.status_code == 200, lot_response.content
    assert lot_response.json()["net_mass_kg"] == 30_000
    response = api(buyer).get(f"/api/v1/orders/{order.number}/due-diligence/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["subject"]["reference"] == order.number
    assert data["net_mass_kg"] == 2000 and data["commodities"][0]["hs_code"] == lot.commodity.hs_code
    # make_world's plots have no geometry: the package says so, plot by plot.
    assert data["eudr_ready"] is False
    assert {item["rule"] for item in data["missing"]} == {"GEOMETRY_MISSING"} and len(data["missing"]) == 3
    seller = api(world.seller.clerk).get(f"/api/v1/orders/{order.number}/due-diligence/")
    assert seller.status_code == 200


def test_strangers_get_404_for_the_lot_and_the_order(api, sold):
    world, order = sold
    lot = world.listing.lot
    for user in (world.stranger.manager, world.supplier.manager, member(world.stranger.organisation)):
        assert api(user).get(f"/api/v1/lots/{lot.pk}/due-diligence/").status_code == 404
        assert api(user).get(f"/api/v1/orders/{order.number}/due-diligence/").status_code == 404
    assert api(world.buyer.manager).get("/api/v1/orders/NOPE-1/due-diligence/").status_code == 404


def test_a_buyer_of_another_lot_cannot_read_this_one(api, sold, record, manager, coop, warehouse, growers):
    world, _ = sold
    other = services.lot_bulk(actor=manager, organisation_id=coop.pk,
                              delivery_ids=[record(growers[0], net_grams=10 * KG).pk],
                              storage_location_id=warehouse.pk)  # fmt: skip
    assert api(world.buyer.manager).get(f"/api/v1/lots/{other.pk}/due-diligence/").status_code == 404


# --- The lot page -----------------------------------------------------------------------------


def test_the_lot_page_shows_the_ready_badge_and_offers_the_download(login, viewer, ready_lot):
    client = login(viewer)
    page = client.get(f"/catalogue/lots/{ready_lot.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="eudr-badge">EUDR-ready<' in html
    assert f"/catalogue/lots/{ready_lot.pk}/eudr.json" in html
    download = client.get(f"/catalogue/lots/{ready_lot.pk}/eudr.json")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="eudr-lot-{ready_lot.code}.json"'
    assert json.loads(download.content)["eudr_ready"] is True


def test_the_lot_page_says_why_a_lot_is_not_ready(login, manager, record, coop, warehouse, farmers):
    delivery = record(farmers[0])
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[delivery.pk],
                            storage_location_id=warehouse.pk)  # fmt: skip
    html = login(manager).get(f"/catalogue/lots/{lot.pk}/").content.decode()
    assert 'data-testid="eudr-badge">Not EUDR-ready<' in html
    plot = farmers[0].plots.get()
    assert f"Plot {plot.name} of member {farmers[0].member_number}" in html
    assert "no boundary or centre point recorded" in html and "GEOMETRY_MISSING" not in html
    assert f'href="/members/{farmers[0].pk}/plots/{plot.pk}/edit/"' in html


def test_the_lot_page_has_no_badge_for_maize(login, manager, record, coop, warehouse, farmers, maize, maize_grade_1):
    delivery = record(farmers[0], commodity_id=maize.pk, grade_id=maize_grade_1.pk, moisture_pct=Decimal("12.0"))
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[delivery.pk],
                            storage_location_id=warehouse.pk)  # fmt: skip
    client = login(manager)
    assert "eudr-badge" not in client.get(f"/catalogue/lots/{lot.pk}/").content.decode()
    assert client.get(f"/catalogue/lots/{lot.pk}/eudr.json").status_code == 404


def test_another_organisation_cannot_open_the_lot_page_or_its_download(login, outsider, ready_lot):
    client = login(outsider)
    assert client.get(f"/catalogue/lots/{ready_lot.pk}/").status_code == 404
    assert client.get(f"/catalogue/lots/{ready_lot.pk}/eudr.json").status_code == 404


def test_the_trace_api_hides_a_cooperatives_records_from_other_organisations(api, ready_lot, outsider, viewer,
                                                                             growers):  # fmt: skip
    uri = lot_identifier(ready_lot)
    first_delivery = ready_lot.intakes.order_by("pk").first().delivery
    farmer_uri = identifiers.farmer_uri(growers[0])
    own = api(viewer)
    assert own.get("/api/v1/traceability/trace/backward/", {"lot": uri}).status_code == 200
    assert own.get("/api/v1/traceability/trace/backward/", {"lot": ready_lot.code}).status_code == 200
    assert own.get("/api/v1/traceability/trace/forward/", {"farmer": growers[0].pk}).status_code == 200
    assert own.get("/api/v1/traceability/epcis/", {"lot": uri}).status_code == 200
    other = api(outsider)
    for path, params in [
        ("/api/v1/traceability/trace/backward/", {"lot": uri}),
        ("/api/v1/traceability/trace/backward/", {"lot": ready_lot.code}),
        ("/api/v1/traceability/trace/forward/", {"identifier": farmer_uri}),
        ("/api/v1/traceability/trace/forward/", {"farmer": growers[0].pk}),
        ("/api/v1/traceability/trace/forward/", {"plot": growers[0].plots.get().pk}),
        ("/api/v1/traceability/trace/forward/", {"identifier": delivery_identifier(first_delivery)}),
        ("/api/v1/traceability/epcis/", {"lot": uri}),
        ("/api/v1/traceability/trace/backward/", {"lot": uri, "organisation": ready_lot.organisation_id}),
    ]:
        response = other.get(path, params)
        assert response.status_code == 404, (path, params, response.content)
        assert growers[0].name not in response.content.decode()
    since = other.get("/api/v1/traceability/epcis/", {"since": "2000-01-01"})
    assert since.status_code == 200 and since.json()["epcisBody"]["eventList"] == []


# --- The command ------------------------------------------------------------------------------


def test_the_command_writes_a_ready_package(ready_lot, tmp_path):
    target = tmp_path / "lot.json"
    call_command("eudr_export", "--lot", str(ready_lot.pk), "--output", str(target))
    data = json.loads(target.read_text())
    assert data["eudr_ready"] is True and len(data["geolocation"]["features"]) == 3
    by_code = tmp_path / "by-code.json"
    call_command("eudr_export", "--lot", ready_lot.code, "--output", str(by_code))
    assert json.loads(by_code.read_text())["subject"] == data["subject"]


def test_the_command_writes_the_order_package_and_fails_when_not_ready(sold, tmp_path, capsys):
    _, order = sold
    target = tmp_path / "order.json"
    with pytest.raises(CommandError, match=f"order {order.number} is not EUDR-ready: 3 problem"):
        call_command("eudr_export", "--order", order.number, "--output", str(target))
    assert json.loads(target.read_text())["missing"][0]["rule"] == "GEOMETRY_MISSING"
    assert "GEOMETRY_MISSING" in capsys.readouterr().err


def test_the_command_refuses_unknown_lots_and_orders(db, tmp_path):
    with pytest.raises(CommandError, match="No lot"):
        call_command("eudr_export", "--lot", "NOPE-2026-0001", "--output", str(tmp_path / "x.json"))
    with pytest.raises(CommandError, match="No sale of order"):
        call_command("eudr_export", "--order", "404", "--output", str(tmp_path / "x.json"))
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("backend", ["auto", "shapely"])
def test_a_plot_overlapping_another_members_plot_makes_the_lot_not_ready(
    backend, settings, record, manager, coop, warehouse, growers
):
    from marketplace.organisations import spatial

    settings.PLOT_SPATIAL_BACKEND = backend
    spatial.forget_backend()
    plot = growers[0].plots.get()
    intruder = MemberFarmerFactory(organisation=coop, member_number="NAW-2777")
    copy = PlotFactory(farmer=intruder, name="Same land", geometry=plot.geometry, area_hectares=plot.area_hectares)
    # Another cooperative's plot on the same land is not compared (isolation).
    PlotFactory(geometry=plot.geometry, area_hectares=plot.area_hectares)
    deliveries = [record(growers[0], net_grams=100 * KG), record(growers[1], net_grams=60 * KG)]
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                            storage_location_id=warehouse.pk)  # fmt: skip
    package = lot_package(lot)
    assert not package.ready
    assert [(m.rule, m.plot_id, m.farmer) for m in package.missing] == [("PLOT_OVERLAP", plot.pk, "NAW-2000")]
    assert "overlaps plot Same land of member NAW-2777 (100 % of the smaller plot)" in package.missing[0].message
    type(copy).objects.filter(pk=copy.pk).update(geometry=growers[2].plots.get().geometry)  # moved elsewhere
    assert lot_package(lot).ready
    spatial.forget_backend()
