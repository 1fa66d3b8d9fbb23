"""The demo's traceability: every demo delivery and lot step is an event, the hash chains hold, the EPCIS export
of the whole demo validates against GS1's schema, and the demo shows EUDR-ready cocoa (Côte d'Ivoire) and coffee
(Rwanda) lots with their full journey beside one lot that is not ready because a plot lacks geometry."""

import datetime
import os
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from catalogue.due_diligence import lot_package
from catalogue.models import Delivery, Lot, LotIntake
from catalogue.selectors import lot_public_trace
from catalogue.tracing import delivery_identifier
from marketplace.demo.catalogue import NAMESPACE
from traceability.epcis import epcis_document, epcis_document_errors
from traceability.models import Event
from traceability.selectors import epcis_events_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(reference):
    call_command("seed_demo", allow_production=True, stdout=StringIO())


def _moved_part(key: str, warehouse: str) -> Lot:
    return Lot.objects.select_related("organisation", "commodity").get(
        organisation__catalogue_code__isnull=False, origin="split", storage_location__code=warehouse,
        organisation__email=f"contact@{key}.demo",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "warehouse", "country", "eudr"),
    [("cocoa-nawa", "sanpedro-wh", "CI", "cocoa"), ("coffee-nyamasheke", "rusizi-mill", "RW", "coffee")],
)
def test_the_demo_shows_an_eudr_ready_lot_with_its_full_journey(demo, key, warehouse, country, eudr):
    lot = _moved_part(key, warehouse)
    package = lot_package(lot)
    assert package.ready, package.missing
    data = package.as_json()
    assert data["countries_of_production"] == [country]
    assert data["commodities"][0]["eudr_commodity"] == eudr
    assert data["production_period"]["start"] and data["production_period"]["end"]
    assert len(data["geolocation"]["features"]) == data["plot_count"] >= 2
    steps = [step.kind for step in lot_public_trace(public_id=lot.public_id).steps]
    assert steps[:3] == ["delivered", "bulked", "split"] and "stored" in steps


def test_the_demo_has_a_lot_that_is_not_ready_because_a_plot_lacks_geometry(demo):
    delivery = Delivery.objects.get(client_reference=uuid.uuid5(NAMESPACE, "cocoa-nawa:delivery:unmapped:0"))
    lot = LotIntake.objects.get(delivery=delivery).lot
    package = lot_package(lot)
    assert not package.ready
    assert [(item.rule, item.plot_id) for item in package.missing] == [("GEOMETRY_MISSING", delivery.plot_id)]


def test_every_demo_delivery_is_an_event_and_the_reversal_is_declared(demo):
    for delivery in Delivery.objects.filter(kind="delivery").select_related("organisation"):
        events = Event.objects.filter(lots__lot_uri=delivery_identifier(delivery), biz_step="receiving")
        assert events.count() == 1, delivery.receipt_number
        reversed_ = Delivery.objects.filter(reverses=delivery).exists()
        assert events.get().error_declarations.exists() == reversed_, delivery.receipt_number
    bulkings = Event.objects.filter(event_type="TransformationEvent").count()
    assert bulkings >= Lot.objects.filter(origin="bulk").count() + Lot.objects.exclude(origin="bulk").count() // 2


def test_trace_verify_passes_on_the_demo(demo):
    out = StringIO()
    call_command("trace_verify", stdout=out)
    assert out.getvalue().startswith("OK:")


def test_the_epcis_export_of_the_whole_demo_validates_against_gs1s_schema(demo):
    schema = os.environ.get("EPCIS_SCHEMA_PATH")
    if not schema:
        pytest.skip("EPCIS_SCHEMA_PATH is not set: point it at GS1's EPCIS-JSON-Schema.json to validate the export.")
    events = epcis_events_in(organisation_ids=None, since=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    document = epcis_document(events)
    assert len(document["epcisBody"]["eventList"]) == Event.objects.count() > 100
    assert epcis_document_errors(document, schema_path=schema) == []
