import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory
from traceability import identifiers, services
from traceability.epcis import EPCIS_CONTEXT, epcis_document, epcis_document_errors, kilograms
from traceability.models import Event
from traceability.selectors import epcis_events_in, parse_since

SCHEMA = os.environ.get("EPCIS_SCHEMA_PATH", "")
needs_schema = pytest.mark.skipif(
    not SCHEMA, reason="EPCIS_SCHEMA_PATH is unset: point it at GS1's EPCIS-JSON-Schema.json (CI does)"
)


def examples_dir() -> Path:
    return Path(os.environ.get("EPCIS_EXAMPLES_DIR") or Path(SCHEMA).parent / "examples")


@pytest.fixture
def story(coop, clerk, farmer, plot, lot, delivery, when):
    """One of each event this app emits, from harvest to the buyer's receipt, with a correction on the way."""
    buyer = OrganisationFactory(kind="buyer", country="FR", currency="EUR")
    services.harvest_recorded(
        actor=clerk,
        organisation=coop,
        produce_uri=delivery(1),
        grams=50_500,
        farmer=farmer,
        plot=plot,
        event_time=when(0),
    )
    received = services.delivery_recorded(
        actor=clerk,
        organisation=coop,
        delivery_uri=delivery(1),
        grams=50_500,
        farmer=farmer,
        plot=plot,
        grade="A",
        moisture_percent=7.25,
        receipt_number="R1",
        event_time=when(60),
    )
    services.error_declared(
        actor=clerk,
        organisation=coop,
        event_id=received.event_id,
        reason="incorrect_data",
        corrective={"lots": [(delivery(1), 50_250)]},
    )
    services.lots_transformed(
        actor=clerk,
        organisation=coop,
        inputs=[(delivery(1), 50_250)],
        outputs=[(lot("L1"), 30_000), (lot("L2"), 20_001)],
        event_time=when(120),
    )
    services.inspection_recorded(
        actor=clerk, organisation=coop, lot_uri=lot("L1"), grams=30_000, conformant=True, moisture_percent=7
    )
    services.storage_recorded(
        actor=clerk, organisation=coop, lot_uri=lot("L1"), location=identifiers.location_uri(coop, "WH-1")
    )
    services.event_record(
        actor=clerk,
        organisation=coop,
        event_type="AggregationEvent",
        action="ADD",
        biz_step="packing",
        disposition="container_closed",
        parent_id="https://id.example.org/container/MSKU1234565",
        lots=[(lot("L1"), 30_000)],
        read_point=identifiers.location_uri(coop),
    )
    services.sale_recorded(actor=clerk, organisation=coop, order_number=55, lots=[(lot("L1"), 30_000)], buyer=buyer)
    services.dispatch_recorded(
        actor=clerk, organisation=coop, order_number=55, lots=[(lot("L1"), 30_000)], destination=buyer
    )
    services.receipt_recorded(
        actor=None, organisation=buyer, order_number=55, lots=[(lot("L1"), 29_950)], source=coop, receipt_number="G7"
    )
    return {"buyer": buyer, "received": received}


@pytest.mark.django_db
def test_the_order_export_is_an_epcis_document_with_kilograms(coop, story, lot, delivery):
    document = epcis_document(epcis_events_in(organisation_ids=[coop.pk], order="55"))
    assert document["@context"] == [EPCIS_CONTEXT]
    assert (document["type"], document["schemaVersion"]) == ("EPCISDocument", "2.0")
    events = document["epcisBody"]["eventList"]
    steps = [(e["type"], e.get("bizStep"), "errorDeclaration" in e) for e in events]
    assert steps == [
        ("ObjectEvent", "commissioning", False),
        ("ObjectEvent", "receiving", False),  # the erroneous delivery, as recorded
        ("ObjectEvent", "receiving", True),  # its error declaration
        ("ObjectEvent", "receiving", False),  # the corrective event
        ("TransformationEvent", "commissioning", False),
        ("ObjectEvent", "inspecting", False),
        ("ObjectEvent", "storing", False),
        ("AggregationEvent", "packing", False),
        ("TransactionEvent", None, False),
        ("ObjectEvent", "shipping", False),
    ]  # the buyer's receipt is the buyer's: not in the cooperative's export
    wrong, declaration, corrective = events[1], events[2], events[3]
    assert declaration["eventID"] == wrong["eventID"] == story["received"].event_id
    assert declaration["errorDeclaration"]["reason"] == "incorrect_data"
    assert declaration["errorDeclaration"]["correctiveEventIDs"] == [corrective["eventID"]]
    assert corrective["quantityList"] == [{"epcClass": delivery(1), "quantity": 50.25, "uom": "KGM"}]
    transformation = events[4]
    assert "action" not in transformation
    assert transformation["outputQuantityList"] == [
        {"epcClass": lot("L1"), "quantity": 30, "uom": "KGM"},
        {"epcClass": lot("L2"), "quantity": 20.001, "uom": "KGM"},
    ]
    assert events[7]["childQuantityList"][0]["epcClass"] == lot("L1")
    assert events[8]["bizTransactionList"] == [{"type": "po", "bizTransaction": identifiers.order_uri(55)}]
    assert all(e["eventTime"].endswith("+00:00") and e["eventTimeZoneOffset"] == "+00:00" for e in events)


@needs_schema
@pytest.mark.django_db
def test_every_exported_event_type_validates_against_gs1s_schema(coop, story):
    for organisations, selection in (
        ([coop.pk], {"order": "55"}),
        ([coop.pk], {"since": Event.objects.earliest("record_time").record_time}),
        ([story["buyer"].pk], {"order": "order:55"}),
        (None, {"lot": identifiers.lot_uri(organisation=coop, lot_code="L1")}),
    ):
        document = epcis_document(epcis_events_in(organisation_ids=organisations, **selection))
        assert epcis_document_errors(document, schema_path=SCHEMA) == []
    kinds = {(e["type"], "errorDeclaration" in e) for e in document["epcisBody"]["eventList"]}
    assert kinds == {
        ("ObjectEvent", False),
        ("ObjectEvent", True),
        ("TransformationEvent", False),
        ("AggregationEvent", False),
        ("TransactionEvent", False),
    }


@needs_schema
@pytest.mark.django_db
def test_a_cancellation_and_lot_master_data_validate(clerk, lot):
    organisation = OrganisationFactory()
    code = identifiers.lot_uri(organisation=organisation, lot_code="K1")
    services.event_record(
        actor=None,
        organisation=organisation,
        event_type="ObjectEvent",
        action="ADD",
        biz_step="commissioning",
        lots=[(code, 12_000)],
        ilmd={identifiers.vocabulary_uri("harvestSeason"): "2026-main"},
        read_point=identifiers.location_uri(organisation),
    )
    buyer = OrganisationFactory(kind="buyer")
    services.sale_recorded(actor=None, organisation=organisation, order_number=56, lots=[(code, 12_000)], buyer=buyer)
    services.event_record(
        actor=None,
        organisation=organisation,
        event_type="TransactionEvent",
        action="DELETE",
        lots=[(code, 12_000)],
        biz_transactions=[("po", identifiers.order_uri(56))],
    )
    document = epcis_document(epcis_events_in(organisation_ids=[organisation.pk], since=parse_since("2000-01-01")))
    events = document["epcisBody"]["eventList"]
    assert [(e["type"], e["action"]) for e in events] == [
        ("ObjectEvent", "ADD"),
        ("TransactionEvent", "ADD"),
        ("TransactionEvent", "DELETE"),
    ]
    assert events[0]["ilmd"] == {identifiers.vocabulary_uri("harvestSeason"): "2026-main"}
    assert epcis_document_errors(document, schema_path=SCHEMA) == []


@needs_schema
@pytest.mark.django_db
def test_gs1_digital_link_identifiers_validate(clerk, when):
    organisation = OrganisationFactory(gln="5012345000015")
    farmer = MemberFarmerFactory(organisation=organisation)
    lot_uri = identifiers.lot_uri(organisation=organisation, lot_code="LOT7/B", gtin="5012345000022")
    assert lot_uri == "https://id.gs1.org/01/05012345000022/10/LOT7%2FB"
    delivery = identifiers.delivery_uri(organisation=organisation, reference="9")
    services.delivery_recorded(
        actor=None,
        organisation=organisation,
        delivery_uri=delivery,
        grams=1_000,
        farmer=farmer,
        plot=PlotFactory(farmer=farmer),
    )
    services.lots_transformed(
        actor=None,
        organisation=organisation,
        inputs=[(delivery, 1_000)],
        outputs=[(lot_uri, 1_000)],
        location=identifiers.location_uri(organisation, "DRY-2"),
    )
    document = epcis_document(epcis_events_in(organisation_ids=[organisation.pk], lot=lot_uri))
    transformation = document["epcisBody"]["eventList"][-1]
    assert transformation["readPoint"] == {"id": "https://id.gs1.org/414/5012345000015/254/DRY-2"}
    assert {"type": "owning_party", "destination": "https://id.gs1.org/417/5012345000015"} in document["epcisBody"][
        "eventList"
    ][0]["destinationList"]
    assert epcis_document_errors(document, schema_path=SCHEMA) == []


@needs_schema
def test_the_validator_checks_formats_and_accepts_gs1s_own_examples():
    broken = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "yesterday",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-03-02T08:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "action": "OBSERVE",
                    "quantityList": [{"epcClass": "not a uri", "quantity": 1, "uom": "kg"}],
                }
            ]
        },
    }
    errors = epcis_document_errors(broken, schema_path=SCHEMA)
    assert any("creationDate" in error for error in errors)  # date-time format is checked
    examples = sorted(examples_dir().rglob("*.jsonld"))
    assert len(examples) > 40
    for example in examples:
        document = json.loads(example.read_text(encoding="utf-8"))
        assert epcis_document_errors(document, schema_path=SCHEMA) == [], example.name


def test_kilograms_are_exact():
    assert [kilograms(g) for g in (1, 1_000, 1_500, 123_456_789)] == [0.001, 1, 1.5, 123456.789]


# --- API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_exports_the_viewers_own_events_only(coop, clerk, story, as_user, lot, make_member):
    client = as_user(clerk)
    response = client.get("/api/v1/traceability/epcis/", {"order": "55"}, HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert len(response.json()["epcisBody"]["eventList"]) == 10
    by_code = client.get("/api/v1/traceability/epcis/", {"lot": "L2"})
    assert by_code.status_code == 200

    stranger = as_user(make_member(Role.ADMIN))
    assert stranger.get("/api/v1/traceability/epcis/", {"order": "55"}).status_code == 404
    assert stranger.get("/api/v1/traceability/epcis/", {"lot": lot("L1")}).status_code == 404
    assert stranger.get("/api/v1/traceability/epcis/", {"lot": "L1"}).status_code == 404
    since = stranger.get("/api/v1/traceability/epcis/", {"since": "2020-01-01"})
    assert since.status_code == 200 and since.json()["epcisBody"]["eventList"] == []

    buyer_view = as_user(MembershipFactory(organisation=story["buyer"], role=Role.VIEWER).user)
    receipt_only = buyer_view.get("/api/v1/traceability/epcis/", {"order": "55"}).json()["epcisBody"]["eventList"]
    assert [e["bizStep"] for e in receipt_only] == ["receiving"]
    assert coop.pk not in {
        e.organisation_id for e in Event.objects.filter(event_id__in=[e["eventID"] for e in receipt_only])
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [{}, {"lot": "L1", "order": "55"}, {"since": "last week"}, {"organisation": "abc", "order": "55"}],
)
def test_api_refuses_unclear_requests(clerk, as_user, query):
    response = as_user(clerk).get("/api/v1/traceability/epcis/", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_api_needs_a_signed_in_user(api_client):
    assert api_client.get("/api/v1/traceability/epcis/", {"order": "1"}).status_code in (401, 403)


@pytest.mark.django_db
def test_trace_endpoints(coop, clerk, farmer, story, as_user, lot, delivery, make_member):
    client = as_user(clerk)
    backward = client.get("/api/v1/traceability/trace/backward/", {"order": "55"})
    assert backward.status_code == 200
    body = backward.json()
    assert body["farmers"] == [{"uri": identifiers.farmer_uri(farmer), "grams": 50_250 * 30_000 // 50_001}]
    assert body["origins"][0]["uri"] == delivery(1)
    forward = client.get("/api/v1/traceability/trace/forward/", {"farmer": farmer.pk})
    assert forward.status_code == 200
    assert {use["order_number"] for use in forward.json()["orders"]} == {"55"}
    stranger = as_user(make_member())
    assert stranger.get("/api/v1/traceability/trace/forward/", {"farmer": farmer.pk}).status_code == 404
    assert stranger.get("/api/v1/traceability/trace/backward/", {"lot": lot("L1")}).status_code == 404
    assert client.get("/api/v1/traceability/trace/backward/", {}).status_code == 400


# --- Command ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_epcis_export_command_writes_a_document(coop, story, tmp_path, lot):
    output = tmp_path / "order.jsonld"
    call_command("epcis_export", "--order", "55", "--output", str(output), "--organisation", str(coop.pk))
    document = json.loads(output.read_text())
    assert len(document["epcisBody"]["eventList"]) == 10
    call_command("epcis_export", "--lot", "L1", "--output", str(output), "--organisation", str(coop.pk))
    assert json.loads(output.read_text())["epcisBody"]["eventList"]
    call_command("epcis_export", "--since", "2020-01-01", "--output", str(output))
    assert len(json.loads(output.read_text())["epcisBody"]["eventList"]) == Event.objects.count()
    if SCHEMA:
        call_command("epcis_export", "--order", "55", "--output", str(output), "--schema", SCHEMA)
    with pytest.raises(CommandError, match="No lot"):
        call_command("epcis_export", "--lot", "NOPE", "--output", str(output))
    with pytest.raises(CommandError, match="not a date"):
        call_command("epcis_export", "--since", "soon", "--output", str(output))
