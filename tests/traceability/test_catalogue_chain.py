"""The catalogue's services record every physical step in the event store, so a lot or an order traces back to
the member deliveries, farmers and plots with exact grams, and a farmer traces forward to the order.

The chain: five deliveries by three farmers -> two bulked lots -> a split -> a merge -> an order of 2/5 of the
merged lot, paid, dispatched and received through the orders' services."""

from decimal import Decimal

import pytest

from catalogue import services as catalogue
from catalogue.models import LotContribution
from catalogue.tracing import delivery_identifier, lot_identifier
from tests.catalogue.factories import WarehouseFactory
from tests.factories import MemberFarmerFactory, PlotFactory
from tests.orders.factories import advance, make_listing, make_world, place
from traceability import identifiers
from traceability.epcis import epcis_document
from traceability.genealogy import trace_backward, trace_forward
from traceability.models import Event
from traceability.selectors import epcis_events_in

pytestmark = pytest.mark.django_db
KG = 1000


@pytest.fixture(autouse=True)
def _no_order_subscribers(settings):
    """Orders publish their moves to higher layers; this module is about the event store alone."""
    settings.ORDER_EVENT_SUBSCRIBERS = []


@pytest.fixture
def chain():
    world = make_world()
    seller = world.seller
    coop = seller.organisation
    point = world.extra["collection_point"]
    farmers = [MemberFarmerFactory(organisation=coop) for _ in range(3)]
    plots = [PlotFactory(farmer=farmer) for farmer in farmers]

    def deliver(n: int, kg: int):
        return catalogue.delivery_record(
            actor=seller.clerk, organisation_id=coop.pk, collection_point_id=point.pk, farmer_id=farmers[n].pk,
            plot_id=plots[n].pk, commodity_id=world.grade_1.commodity_id, grade_id=world.grade_1.pk,
            moisture_pct=Decimal("7.1"), net_grams=kg * KG,
        )  # fmt: skip

    a, b, c = deliver(0, 250), deliver(1, 180), deliver(2, 320)
    d, e = deliver(0, 100), deliver(1, 150)
    bulk = lambda deliveries: catalogue.lot_bulk(  # noqa: E731
        actor=seller.manager, organisation_id=coop.pk, delivery_ids=[x.pk for x in deliveries],
        storage_location_id=world.warehouse.pk,
    )  # fmt: skip
    first, second = bulk([a, b, c]), bulk([d, e])
    part, rest = catalogue.lot_split(actor=seller.manager, lot_id=first.pk, parts_grams=[300 * KG])
    merged = catalogue.lot_merge(actor=seller.manager, lot_ids=[part.pk, second.pk])
    listing = make_listing(seller, merged, world.warehouse, min_order=100 * KG)
    order = place(world, 220 * KG, listing=listing)
    order = advance(world, order, "delivered")
    return {
        "world": world, "farmers": farmers, "plots": plots, "deliveries": [a, b, c, d, e],
        "lots": {"first": first, "second": second, "part": part, "rest": rest, "merged": merged}, "order": order,
    }  # fmt: skip


def test_every_step_is_an_event_of_the_cooperative(chain):
    coop = chain["world"].seller.organisation
    steps = list(Event.objects.filter(organisation=coop).values_list("event_type", "biz_step"))
    receiving = [s for s in steps if s == ("ObjectEvent", "receiving")]
    transformations = [s for s in steps if s[0] == "TransformationEvent"]
    assert len(receiving) == 3 + 5  # make_world's own three deliveries, and ours
    assert len(transformations) == 1 + 2 + 1 + 1  # its bulking; our two bulkings, the split and the merge
    assert ("TransactionEvent", "") in steps and ("ObjectEvent", "shipping") in steps
    delivery = chain["deliveries"][0]
    event = Event.objects.get(lots__lot_uri=delivery_identifier(delivery), biz_step="receiving")
    assert event.biz_transaction_list == [
        {"type": "recadv", "bizTransaction": identifiers.receipt_uri(delivery.receipt_number)}
    ]
    assert {"type": "owning_party", "source": identifiers.farmer_uri(chain["farmers"][0])} in event.source_list
    assert {"type": "location", "source": identifiers.plot_uri(chain["plots"][0])} in event.source_list
    reports = event.sensor_element_list[0]["sensorReport"]
    assert {r["type"].rsplit("/", 1)[-1]: r.get("stringValue", r.get("value")) for r in reports} == {
        "grade": "grade-1",
        "moistureContent": 7.1,
    }
    assert event.read_point.endswith(f"/{chain['world'].extra['collection_point'].code}")


def test_the_split_and_merge_carry_exact_grams(chain):
    lots = chain["lots"]
    split = Event.objects.get(event_type="TransformationEvent", lots__lot_uri=lot_identifier(lots["part"]),
                              lots__role="output")  # fmt: skip
    assert sorted((lot.role, lot.lot_uri, lot.grams) for lot in split.lots.all()) == sorted(
        [
            ("input", lot_identifier(lots["first"]), 750 * KG),
            ("output", lot_identifier(lots["part"]), 300 * KG),
            ("output", lot_identifier(lots["rest"]), 450 * KG),
        ]
    )
    merge = Event.objects.get(event_type="TransformationEvent", lots__lot_uri=lot_identifier(lots["merged"]))
    assert sorted((lot.role, lot.lot_uri, lot.grams) for lot in merge.lots.all()) == sorted(
        [
            ("input", lot_identifier(lots["part"]), 300 * KG),
            ("input", lot_identifier(lots["second"]), 250 * KG),
            ("output", lot_identifier(lots["merged"]), 550 * KG),
        ]
    )


def test_the_order_traces_back_to_the_farmers_and_plots_with_exact_grams(chain):
    farmers, plots, deliveries = chain["farmers"], chain["plots"], chain["deliveries"]
    coop = chain["world"].seller.organisation
    trace = trace_backward(identifier=f"order:{chain['order'].number}", organisation_ids=[coop.pk])
    assert trace.found and trace.complete
    # 220 kg of the 550 kg merged lot: 2/5 of the 300 kg part (itself 2/5 of the first lot) and of the second lot.
    expected_deliveries = {
        delivery_identifier(deliveries[0]): 40 * KG,
        delivery_identifier(deliveries[1]): 28_800,
        delivery_identifier(deliveries[2]): 51_200,
        delivery_identifier(deliveries[3]): 40 * KG,
        delivery_identifier(deliveries[4]): 60 * KG,
    }
    assert {origin.uri: origin.traced_grams for origin in trace.origins} == expected_deliveries
    assert trace.farmers == {
        identifiers.farmer_uri(farmers[0]): 80 * KG,
        identifiers.farmer_uri(farmers[1]): 88_800,
        identifiers.farmer_uri(farmers[2]): 51_200,
    }
    assert trace.plots == {
        identifiers.plot_uri(plots[0]): 80 * KG,
        identifiers.plot_uri(plots[1]): 88_800,
        identifiers.plot_uri(plots[2]): 51_200,
    }
    lots = chain["lots"]
    assert trace.lots[lot_identifier(lots["merged"])] == 220 * KG
    assert trace.lots[lot_identifier(lots["part"])] == 120 * KG
    assert trace.lots[lot_identifier(lots["second"])] == 100 * KG
    assert trace.lots[lot_identifier(lots["first"])] == 120 * KG
    assert lot_identifier(lots["rest"]) not in trace.lots
    assert len(trace.steps) == 4  # two bulkings, the split, the merge
    for step in trace.steps:
        assert all(side["traced_grams"] > 0 for side in step.inputs)
    split = next(step for step in trace.steps if len(step.outputs) == 2)
    assert {side["uri"]: side["traced_grams"] for side in split.outputs} == {
        lot_identifier(lots["part"]): 120 * KG,
        lot_identifier(lots["rest"]): 0,  # the other part of the split went elsewhere
    }
    assert {(use.biz_step, use.grams) for use in trace.orders} == {("", 220 * KG), ("shipping", 220 * KG)}


def test_each_lot_traces_back_to_its_member_shares(chain):
    for lot in chain["lots"].values():
        trace = trace_backward(identifier=lot_identifier(lot))
        shares: dict[str, int] = {}
        for contribution in LotContribution.objects.filter(lot=lot).select_related("farmer"):
            uri = identifiers.farmer_uri(contribution.farmer)
            shares[uri] = shares.get(uri, 0) + contribution.grams
        assert trace.farmers == shares, lot.code


def test_a_farmer_traces_forward_to_the_order(chain):
    farmer = chain["farmers"][0]
    order = chain["order"]
    trace = trace_forward(identifier=identifiers.farmer_uri(farmer))
    assert trace.found and trace.complete
    uses = {(use.order_number, use.biz_step): use.traced_grams for use in trace.orders}
    assert uses[(order.number, "")] == 80 * KG  # the sale
    assert uses[(order.number, "shipping")] == 80 * KG
    lots = chain["lots"]
    assert trace.lots[lot_identifier(lots["merged"])] == 200 * KG  # 100 kg through the split part, 100 kg direct
    assert trace.lots[lot_identifier(lots["rest"])] == 150 * KG
    other = trace_forward(identifier=identifiers.plot_uri(chain["plots"][2]))
    assert {(u.order_number, u.biz_step): u.traced_grams for u in other.orders}[(order.number, "")] == 51_200


def test_the_order_exports_as_epcis_with_every_step(chain):
    events = epcis_events_in(organisation_ids=None, order=chain["order"].number)
    document = epcis_document(events)
    steps = sorted({e.get("bizStep", e["type"]) for e in document["epcisBody"]["eventList"]})
    assert steps == ["TransactionEvent", "commissioning", "inspecting", "receiving", "shipping"]


def test_a_move_is_a_storing_event(chain, django_assert_max_num_queries):
    world = chain["world"]
    other = WarehouseFactory(organisation=world.seller.organisation, code="annex")
    rest = chain["lots"]["rest"]
    catalogue.lot_move(actor=world.seller.manager, lot_id=rest.pk, storage_location_id=other.pk)
    event = Event.objects.get(biz_step="storing", lots__lot_uri=lot_identifier(rest))
    assert event.biz_location.endswith("/annex")
    assert [lot.grams for lot in event.lots.all()] == [450 * KG]


def test_a_split_into_another_warehouse_records_where_the_part_is_stored(chain):
    world = chain["world"]
    annex = WarehouseFactory(organisation=world.seller.organisation, code="annex-2")
    rest = chain["lots"]["rest"]
    parts = catalogue.lot_split(actor=world.seller.manager, lot_id=rest.pk, parts_grams=[50 * KG],
                                storage_location_ids=[annex.pk])  # fmt: skip
    stored = Event.objects.filter(biz_step="storing").values_list("lots__lot_uri", flat=True)
    assert list(stored) == [lot_identifier(parts[0])]


def test_a_reversed_delivery_is_declared_erroneous_and_leaves_the_trace(chain):
    world = chain["world"]
    seller = world.seller
    farmer = chain["farmers"][2]
    delivery = catalogue.delivery_record(
        actor=seller.clerk, organisation_id=seller.organisation.pk,
        collection_point_id=world.extra["collection_point"].pk, farmer_id=farmer.pk,
        plot_id=chain["plots"][2].pk, commodity_id=world.grade_1.commodity_id, grade_id=world.grade_1.pk,
        moisture_pct=Decimal("7.0"), net_grams=90 * KG,
    )  # fmt: skip
    uri = delivery_identifier(delivery)
    assert uri in trace_forward(identifier=identifiers.farmer_uri(farmer)).lots
    catalogue.delivery_reverse(actor=seller.clerk, delivery_id=delivery.pk, reason="Wrong member.")
    original = Event.objects.get(lots__lot_uri=uri, declares__isnull=True)
    declaration = Event.objects.get(declares=original)
    assert declaration.error_reason == "did_not_occur" and declaration.corrective_event_ids == []
    assert uri not in trace_forward(identifier=identifiers.farmer_uri(farmer)).lots
    assert not trace_backward(identifier=uri).found


def test_a_refused_write_records_no_event(chain):
    world = chain["world"]
    before = Event.objects.count()
    with pytest.raises(Exception, match="parts add up"):
        catalogue.lot_split(actor=world.seller.manager, lot_id=chain["lots"]["rest"].pk, parts_grams=[900 * KG])
    assert Event.objects.count() == before
