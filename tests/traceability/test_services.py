import datetime

import pytest

from marketplace.core.errors import Conflict, NotFound, ValidationFailed
from tests.factories import MemberFarmerFactory, OrganisationFactory, PlotFactory
from traceability import identifiers, services
from traceability.models import Action, ChainHead, Event, EventType, LotRole

pytestmark = pytest.mark.django_db


def lots_of(event: Event) -> list[tuple[str, str, int | None]]:
    return [(lot.role, lot.lot_uri, lot.grams) for lot in event.lots.order_by("role", "position")]


def test_harvest_is_an_add_commissioning_object_event_at_the_plot(coop, clerk, farmer, plot, delivery, when):
    event = services.harvest_recorded(
        actor=clerk, organisation=coop, produce_uri=delivery("H1"), grams=80_000, farmer=farmer, plot=plot
    )
    assert (event.event_type, event.action, event.biz_step, event.disposition) == (
        EventType.OBJECT,
        Action.ADD,
        "commissioning",
        "active",
    )
    assert event.biz_location == event.read_point == identifiers.plot_uri(plot)
    assert {"type": "owning_party", "source": identifiers.farmer_uri(farmer)} in event.source_list
    assert lots_of(event) == [(LotRole.OBSERVED, delivery("H1"), 80_000)]
    assert event.recorded_by == clerk


def test_delivery_is_observe_receiving_with_quality_and_parties(coop, clerk, farmer, plot, delivery, when):
    event = services.delivery_recorded(
        actor=clerk,
        organisation=coop,
        delivery_uri=delivery(7),
        grams=61_250,
        farmer=farmer,
        plot=plot,
        grade="A",
        moisture_percent="7.5",
        receipt_number="R-0007",
        event_time=when(0, hours_offset=3),
    )
    event.refresh_from_db()
    assert (event.event_type, event.action, event.biz_step) == (EventType.OBJECT, Action.OBSERVE, "receiving")
    assert event.event_time_zone_offset == "+03:00"
    assert event.source_list == [
        {"type": "owning_party", "source": identifiers.farmer_uri(farmer)},
        {"type": "location", "source": identifiers.plot_uri(plot)},
    ]
    assert {"type": "owning_party", "destination": identifiers.organisation_uri(coop)} in event.destination_list
    assert event.biz_transaction_list == [{"type": "recadv", "bizTransaction": identifiers.receipt_uri("R-0007")}]
    reports = event.sensor_element_list[0]["sensorReport"]
    assert {"type": identifiers.vocabulary_uri("grade"), "stringValue": "A"} in reports
    assert {"type": identifiers.vocabulary_uri("moistureContent"), "value": 7.5, "uom": "P1"} in reports


def test_each_helper_uses_its_cbv_step(coop, clerk, lot, when):
    buyer = OrganisationFactory(kind="buyer")
    split = services.lots_transformed(
        actor=clerk, organisation=coop, inputs=[(lot("L1"), 10_000)], outputs=[(lot("A"), 4_000), (lot("B"), 6_000)]
    )
    inspection = services.inspection_recorded(actor=clerk, organisation=coop, lot_uri=lot("A"), conformant=False)
    storage = services.storage_recorded(
        actor=clerk, organisation=coop, lot_uri=lot("A"), location=identifiers.location_uri(coop, "WH1")
    )
    sale = services.sale_recorded(
        actor=clerk, organisation=coop, order_number=42, lots=[(lot("A"), 4_000)], buyer=buyer
    )
    dispatch = services.dispatch_recorded(
        actor=clerk, organisation=coop, order_number="order:42", lots=[(lot("A"), 4_000)], destination=buyer
    )
    receipt = services.receipt_recorded(
        actor=None, organisation=buyer, order_number=42, lots=[(lot("A"), 3_950)], source=coop, receipt_number="GR9"
    )
    assert (split.event_type, split.action, split.biz_step) == (EventType.TRANSFORMATION, "", "commissioning")
    assert lots_of(split) == [
        (LotRole.INPUT, lot("L1"), 10_000),
        (LotRole.OUTPUT, lot("A"), 4_000),
        (LotRole.OUTPUT, lot("B"), 6_000),
    ]
    assert (inspection.biz_step, inspection.disposition) == ("inspecting", "non_conformant")
    assert (storage.biz_step, storage.biz_location) == ("storing", identifiers.location_uri(coop, "WH1"))
    assert (sale.event_type, sale.action, sale.biz_step) == (EventType.TRANSACTION, Action.ADD, "")
    assert sale.biz_transaction_list == [{"type": "po", "bizTransaction": identifiers.order_uri(42)}]
    assert {"type": "owning_party", "destination": identifiers.organisation_uri(buyer)} in sale.destination_list
    assert (dispatch.biz_step, dispatch.disposition) == ("shipping", "in_transit")
    assert dispatch.biz_transaction_list == sale.biz_transaction_list
    assert (receipt.organisation_id, receipt.biz_step, receipt.recorded_by) == (buyer.pk, "receiving", None)
    assert {"type": "recadv", "bizTransaction": identifiers.receipt_uri("GR9")} in receipt.biz_transaction_list


def test_cbv_uris_become_short_names_and_own_vocabulary_is_kept(coop, clerk, lot):
    event = services.event_record(
        actor=clerk,
        organisation=coop,
        event_type=EventType.OBJECT,
        action=Action.OBSERVE,
        biz_step="https://ref.gs1.org/cbv/BizStep-sampling",
        disposition="https://example.org/voc/drying",
        lots=[(lot("L1"), None)],
    )
    assert (event.biz_step, event.disposition) == ("sampling", "https://example.org/voc/drying")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"event_type": "AssociationEvent", "action": "ADD"}, "event_type"),
        ({"event_type": EventType.OBJECT, "action": "MOVE"}, "action"),
        ({"event_type": EventType.TRANSFORMATION, "action": "ADD"}, "action"),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "lots": []}, "lots"),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "biz_step": "transforming"}, "biz_step"),
        (
            {"event_type": EventType.OBJECT, "action": "OBSERVE", "disposition": "urn:epcglobal:cbv:disp:x"},
            "disposition",
        ),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "lots": [("not a uri", 5)]}, "lots"),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "lots": [("urn:x:1", 1.5)]}, "lots"),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "lots": [("urn:x:1", 0)]}, "lots"),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "lots": [("urn:x:1", 1), ("urn:x:1", 2)]}, "lots"),
        ({"event_type": EventType.TRANSACTION, "action": "ADD"}, "biz_transactions"),
        ({"event_type": EventType.AGGREGATION, "action": "ADD"}, "parent_id"),
        ({"event_type": EventType.TRANSFORMATION, "action": "", "inputs": [("urn:x:1", 1)]}, "inputs"),
        (
            {
                "event_type": EventType.TRANSFORMATION,
                "action": "",
                "inputs": [("urn:x:1", 1)],
                "outputs": [("urn:x:1", 1)],
            },
            "outputs",
        ),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "sources": [("seller", "urn:x:2")]}, "sources"),
        ({"event_type": EventType.OBJECT, "action": "OBSERVE", "ilmd": {"https://x.org/a": 1}}, "ilmd"),
        (
            {"event_type": EventType.OBJECT, "action": "OBSERVE", "event_time_zone_offset": "+3"},
            "event_time_zone_offset",
        ),
        (
            {"event_type": EventType.OBJECT, "action": "OBSERVE", "event_time": datetime.datetime(2026, 1, 1)},
            "event_time",
        ),
        (
            {"event_type": EventType.OBJECT, "action": "OBSERVE", "sensor_elements": [{"sensorReport": []}]},
            "sensor_elements",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(coop, clerk, arguments, field):
    arguments = {"lots": [("urn:x:lot", 1_000)], **arguments}
    with pytest.raises(ValidationFailed) as error:
        services.event_record(actor=clerk, organisation=coop, **arguments)
    assert field in error.value.fields
    assert not Event.objects.exists()
    assert not ChainHead.objects.filter(pk=coop.pk, last_sequence__gt=0).exists()


def test_a_future_event_time_is_refused(coop, clerk, lot):
    with pytest.raises(ValidationFailed, match="future"):
        services.storage_recorded(
            actor=clerk,
            organisation=coop,
            lot_uri=lot("L1"),
            location=identifiers.location_uri(coop),
            event_time=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3),
        )


def test_another_cooperatives_farmer_or_a_foreign_plot_is_refused(coop, clerk, farmer, delivery):
    stranger = MemberFarmerFactory()
    with pytest.raises(ValidationFailed, match="another organisation"):
        services.delivery_recorded(
            actor=clerk, organisation=coop, delivery_uri=delivery(1), grams=1_000, farmer=stranger
        )
    with pytest.raises(ValidationFailed, match="not the farmer's"):
        services.delivery_recorded(
            actor=clerk,
            organisation=coop,
            delivery_uri=delivery(1),
            grams=1_000,
            farmer=farmer,
            plot=PlotFactory(farmer=MemberFarmerFactory(organisation=coop)),
        )


def test_an_event_id_is_recorded_only_once(coop, clerk, lot):
    services.event_record(
        actor=clerk,
        organisation=coop,
        event_type="ObjectEvent",
        action="OBSERVE",
        lots=[(lot("A"), 5)],
        event_id="urn:uuid:1",
    )
    with pytest.raises(Conflict):
        services.event_record(
            actor=clerk,
            organisation=coop,
            event_type="ObjectEvent",
            action="OBSERVE",
            lots=[(lot("A"), 5)],
            event_id="urn:uuid:1",
        )


def test_a_correction_declares_the_error_then_records_the_corrective_event(coop, clerk, farmer, delivery, when):
    wrong = services.delivery_recorded(
        actor=clerk, organisation=coop, delivery_uri=delivery(3), grams=5_000, farmer=farmer, event_time=when(0)
    )
    correction = services.error_declared(
        actor=clerk,
        organisation=coop,
        event_id=wrong.event_id,
        reason="incorrect_data",
        corrective={"lots": [(delivery(3), 50_000)]},
    )
    declaration, corrective = correction.declaration, correction.corrective
    assert declaration.declares == wrong
    assert declaration.sequence == wrong.sequence + 1
    assert corrective.sequence == wrong.sequence + 2
    assert declaration.corrective_event_ids == [corrective.event_id]
    assert declaration.error_reason == "incorrect_data"
    assert lots_of(corrective) == [(LotRole.OBSERVED, delivery(3), 50_000)]
    # Everything else is copied from the original, which itself is untouched.
    assert (corrective.biz_step, corrective.event_time, corrective.source_list) == (
        wrong.biz_step,
        wrong.event_time,
        wrong.source_list,
    )
    wrong.refresh_from_db()
    assert lots_of(wrong) == [(LotRole.OBSERVED, delivery(3), 5_000)]


def test_an_event_is_declared_erroneous_once_and_only_by_its_organisation(coop, clerk, lot):
    event = services.storage_recorded(
        actor=clerk, organisation=coop, lot_uri=lot("A"), location=identifiers.location_uri(coop)
    )
    with pytest.raises(NotFound):
        services.error_declared(
            actor=None, organisation=OrganisationFactory(), event_id=event.event_id, reason="did_not_occur"
        )
    with pytest.raises(ValidationFailed, match="reason"):
        services.error_declared(actor=clerk, organisation=coop, event_id=event.event_id, reason="oops")
    with pytest.raises(ValidationFailed, match="cannot be changed"):
        services.error_declared(
            actor=clerk, organisation=coop, event_id=event.event_id, reason="did_not_occur", corrective={"hash": "x"}
        )
    declared = services.error_declared(actor=clerk, organisation=coop, event_id=event.event_id, reason="did_not_occur")
    assert declared.corrective is None
    with pytest.raises(Conflict, match="already"):
        services.error_declared(actor=clerk, organisation=coop, event_id=event.event_id, reason="did_not_occur")
    with pytest.raises(ValidationFailed, match="itself"):
        services.error_declared(
            actor=clerk, organisation=coop, event_id=declared.declaration.event_id, reason="did_not_occur"
        )
