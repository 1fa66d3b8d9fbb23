"""The EU-format due-diligence statement of a lot or an order, the EUDR cut-off rule, and upstream statements
recorded by a buyer: content, field rules, who may read or write them, pages and API."""

import base64
import datetime
import json
import random

import pytest

from catalogue import services
from catalogue.due_diligence import lot_package
from catalogue.eudr_statement import build_statements
from marketplace.core.errors import Conflict
from marketplace.demo.organisations import plot_polygon
from marketplace.organisations.models import Plot
from tests.factories import MemberFarmerFactory
from tests.orders.factories import mapped_and_dispatched
from traceability import dds
from traceability.models import StatementReference

pytestmark = pytest.mark.django_db
KG = 1000
DAY = datetime.date(2026, 1, 12)


@pytest.fixture
def ready_lot(record, manager, coop, warehouse, growers):
    deliveries = [record(g, net_grams=(100 + 50 * i) * KG, delivered_on=DAY) for i, g in enumerate(growers)]
    return services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                             storage_location_id=warehouse.pk)  # fmt: skip


# --- The cut-off rule ------------------------------------------------------------------------


def test_a_plot_without_a_clearing_date_makes_the_lot_not_ready(ready_lot, growers):
    plot = growers[1].plots.get()
    Plot.objects.filter(pk=plot.pk).update(established_on=None)
    package = lot_package(ready_lot)
    assert not package.ready
    assert [(m.rule, m.plot_id) for m in package.missing] == [("CUTOFF_EVIDENCE_MISSING", plot.pk)]
    assert "31 December 2020" in package.missing[0].message


@pytest.mark.parametrize(
    ("day", "ready"),
    [(datetime.date(2020, 12, 31), True), (datetime.date(2021, 1, 1), False), (datetime.date(1999, 6, 1), True)],
)
def test_the_cutoff_is_the_last_day_of_2020(ready_lot, growers, day, ready):
    plot = growers[0].plots.get()
    Plot.objects.filter(pk=plot.pk).update(established_on=day)
    package = lot_package(ready_lot)
    assert package.ready is ready
    if not ready:
        assert [m.rule for m in package.missing] == ["CLEARED_AFTER_CUTOFF"]


def test_a_clearing_date_in_the_future_is_refused_by_the_api(api, manager, growers):
    plot = growers[0].plots.get()
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    response = api(manager).patch(f"/api/v1/plots/{plot.pk}/", {"established_on": tomorrow}, format="json")
    assert response.status_code == 400, response.content
    assert "established_on" in response.json()["error"]["fields"]


# --- The statement -----------------------------------------------------------------------------


def test_a_ready_lot_gives_a_statement_that_passes_the_eu_field_rules(ready_lot, coop, growers, cocoa):
    result = build_statements(lot_package(ready_lot), operator=coop)
    assert result.errors == [] and not result.split
    [part] = result.parts
    assert part["operatorRole"] == "OPERATOR"
    assert part["operator"]["operatorName"] == coop.legal_name
    statement = part["statement"]
    assert statement["activityType"] == "EXPORT" and statement["geoLocationConfidential"] is True
    assert statement["internalReferenceNumber"] == f"L-{ready_lot.code}"
    [commodity] = statement["commodities"]
    assert commodity["hsHeading"] == cocoa.hs_code.replace(".", "")
    assert commodity["descriptors"]["goodsMeasure"]["netWeight"] == "450.000"
    assert [p["name"] for p in commodity["producers"]] == [g.name for g in growers]
    geojson = json.loads(base64.b64decode(commodity["producers"][0]["geometryGeojson"]))
    assert geojson["type"] == "FeatureCollection"
    assert geojson["features"][0]["properties"]["ProductionPlace"] == "Parcelle 1"
    assert dds.statement_errors({"operatorRole": "OPERATOR", "statement": statement}) == []


def test_a_lot_that_is_not_ready_gives_no_statement_and_says_why(ready_lot, coop, growers):
    Plot.objects.filter(farmer=growers[2]).update(geometry=None)
    with pytest.raises(Conflict) as refused:
        build_statements(lot_package(ready_lot), operator=coop)
    assert refused.value.code == "not_eudr_ready"
    assert "no geometry" in refused.value.message.lower()


def test_too_many_producers_split_the_statement_and_say_so(record, manager, coop, warehouse, monkeypatch):
    monkeypatch.setattr(dds, "MAX_PRODUCERS_PER_COMMODITY", 2)
    farmers = [MemberFarmerFactory(organisation=coop, member_number=f"NAW-4{i:03d}") for i in range(5)]
    for i, farmer in enumerate(farmers):
        geometry, area = plot_polygon(random.Random(i), lon=-6.5 + i * 0.01, lat=5.7, hectares=1.1)
        Plot.objects.create(farmer=farmer, organisation=coop, name=f"P{i}", geometry=geometry, area_hectares=area,
                            country="CI", established_on=datetime.date(2001, 1, 1))  # fmt: skip
    deliveries = [record(f, net_grams=10 * KG, plot_id=f.plots.get().pk) for f in farmers]
    lot = services.lot_bulk(actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in deliveries],
                            storage_location_id=warehouse.pk)  # fmt: skip
    result = build_statements(lot_package(lot), operator=coop)
    assert result.split and len(result.parts) == 3
    assert [len(p["statement"]["commodities"][0]["producers"]) for p in result.parts] == [2, 2, 1]
    assert "split into 3 parts" in result.notes[0]
    refs = [p["statement"]["internalReferenceNumber"] for p in result.parts]
    assert refs == [f"L-{lot.code}-1", f"L-{lot.code}-2", f"L-{lot.code}-3"]
    weights = [p["statement"]["commodities"][0]["descriptors"]["goodsMeasure"]["netWeight"] for p in result.parts]
    assert weights == ["50.000", "0.000", "0.000"]


def test_the_api_serves_the_lot_statement_to_its_cooperative_only(api, ready_lot, viewer, outsider):
    url = f"/api/v1/lots/{ready_lot.pk}/eudr-statement/"
    response = api(viewer).get(url, {"activity_type": "DOMESTIC", "confidential": "false"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["valid"] is True and data["activity_type"] == "DOMESTIC"
    assert data["statements"][0]["statement"]["geoLocationConfidential"] is False
    assert api(outsider).get(url).status_code == 404
    assert api(None).get(url).status_code in (401, 403)
    assert api(viewer).get(url, {"activity_type": "SELL"}).status_code == 400
    assert api(viewer).get(url, {"country_of_activity": "CI"}).status_code == 400


def test_the_api_answers_409_for_a_lot_that_is_not_ready(api, ready_lot, viewer, growers):
    Plot.objects.filter(farmer=growers[0]).update(established_on=None)
    response = api(viewer).get(f"/api/v1/lots/{ready_lot.pk}/eudr-statement/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_eudr_ready"


def test_the_lot_page_offers_the_statement_download(login, viewer, outsider, ready_lot):
    page = login(viewer).get(f"/catalogue/lots/{ready_lot.pk}/")
    assert f"/catalogue/lots/{ready_lot.pk}/eudr-statement.json" in page.content.decode()
    download = login(viewer).get(f"/catalogue/lots/{ready_lot.pk}/eudr-statement.json")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert json.loads(download.content)["valid"] is True
    assert login(outsider).get(f"/catalogue/lots/{ready_lot.pk}/eudr-statement.json").status_code == 404


# --- An order, its buyer and upstream statements -------------------------------------------------------


@pytest.fixture
def sold(settings):
    """make_world's lot with every plot mapped and dated, 2 t of it sold to the buyer and dispatched."""
    settings.ORDER_EVENT_SUBSCRIBERS = []
    return mapped_and_dispatched()


def test_the_buyer_records_upstream_statements_and_its_statement_names_them(api, sold):
    world, order = sold
    buyer = world.buyer.clerk
    url = f"/api/v1/orders/{order.number}/eudr-references/"
    created = api(buyer).post(url, {"reference_number": "25ciabc12345", "verification_number": "KX7T9Q2P"})
    assert created.status_code == 201, created.content
    assert created.json()["reference_number"] == "25CIABC12345"
    again = api(buyer).post(url, {"reference_number": "25CIABC12345", "verification_number": "KX7T9Q2P"})
    assert again.status_code == 201 and StatementReference.objects.count() == 1  # a double submit does nothing
    clash = api(buyer).post(url, {"reference_number": "25CIABC12345", "verification_number": "OTHER123"})
    assert clash.status_code == 409
    assert api(buyer).get(url).json()[0]["verification_number"] == "KX7T9Q2P"

    statement = api(buyer).get(f"/api/v1/orders/{order.number}/eudr-statement/")
    assert statement.status_code == 200, statement.content
    data = statement.json()
    assert data["valid"] is True and data["activity_type"] == "IMPORT"
    part = data["statements"][0]
    assert part["operator"]["operatorName"] == world.buyer.organisation.legal_name
    assert part["statement"]["groupedDeclarations"] == [
        {"referenceNumber": "25CIABC12345", "verificationNumber": "KX7T9Q2P"}
    ]
    assert part["statement"]["commodities"][0]["descriptors"]["goodsMeasure"]["netWeight"] == "2000.000"

    # The seller's statement is its own: it names none of the buyer's references, and the buyer's list is not its.
    seller = api(world.seller.manager).get(f"/api/v1/orders/{order.number}/eudr-statement/").json()
    assert "groupedDeclarations" not in seller["statements"][0]["statement"]
    assert seller["activity_type"] == "EXPORT"
    assert api(world.seller.manager).get(url).json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reference_number": "", "verification_number": "KX7T9Q2P"}, "reference_number"),
        ({"reference_number": "X" * 15, "verification_number": "KX7T9Q2P"}, "reference_number"),
        ({"reference_number": "25CI/1", "verification_number": "KX7T9Q2P"}, "reference_number"),
        ({"reference_number": "25CI1", "verification_number": "abc"}, "verification_number"),
        ({"reference_number": "25CI1", "verification_number": "v" * 36}, "verification_number"),
        ({"reference_number": "25CI1"}, "verification_number"),
    ],
)
def test_bad_references_get_a_clear_400(api, sold, body, field):
    world, order = sold
    response = api(world.buyer.clerk).post(f"/api/v1/orders/{order.number}/eudr-references/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not StatementReference.objects.exists()


def test_strangers_and_viewers_cannot_read_or_record_references(api, sold, make_member):
    world, order = sold
    stranger = make_member()
    url = f"/api/v1/orders/{order.number}/eudr-references/"
    body = {"reference_number": "25CI1", "verification_number": "KX7T9Q2P"}
    assert api(stranger).get(url).status_code == 404
    assert api(stranger).post(url, body).status_code == 404
    assert api(stranger).get(f"/api/v1/orders/{order.number}/eudr-statement/").status_code == 404
    assert api(world.buyer.viewer).post(url, body).status_code == 403
    assert not StatementReference.objects.exists()


def test_the_order_page_records_references_and_refuses_bad_ones(login, sold, make_member):
    world, order = sold
    client = login(world.buyer.clerk)
    detail = client.get(f"/orders/{order.number}/")
    assert f"/catalogue/eudr/orders/{order.number}/" in detail.content.decode()
    page = client.get(f"/catalogue/eudr/orders/{order.number}/")
    assert page.status_code == 200
    bad = client.post(f"/catalogue/eudr/orders/{order.number}/", {"reference_number": "!", "verification_number": "x"})
    assert bad.status_code == 400 and not StatementReference.objects.exists()
    good = client.post(
        f"/catalogue/eudr/orders/{order.number}/", {"reference_number": "25CI77", "verification_number": "ABCDE1"}
    )
    assert good.status_code == 302
    assert "25CI77" in client.get(f"/catalogue/eudr/orders/{order.number}/").content.decode()
    download = client.get(f"/catalogue/eudr/orders/{order.number}/statement.json")
    assert download.status_code == 200 and json.loads(download.content)["valid"] is True
    assert login(make_member()).get(f"/catalogue/eudr/orders/{order.number}/").status_code == 404
