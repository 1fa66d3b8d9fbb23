from collections import defaultdict
from fractions import Fraction

import pytest

from marketplace.core.errors import NotFound, ValidationFailed
from tests.factories import MemberFarmerFactory, OrganisationFactory, PlotFactory
from traceability import identifiers, selectors, services
from traceability.genealogy import trace_backward, trace_forward

pytestmark = pytest.mark.django_db


class Mixer:
    """An independent model of the same history: each lot's composition, tracked forward as it is made.

    composition[lot][x] = grams of x (a delivery or an earlier lot) consumed per gram of lot.
    """

    def __init__(self) -> None:
        self.composition: dict[str, dict[str, Fraction]] = {}
        self.made: dict[str, int] = {}
        self.farmer_of: dict[str, str] = {}
        self.plot_of: dict[str, str] = {}

    def deliver(self, uri: str, farmer: str, plot: str) -> None:
        self.composition[uri] = {uri: Fraction(1)}
        self.farmer_of[uri], self.plot_of[uri] = farmer, plot

    def transform(self, inputs: list[tuple[str, int]], outputs: list[tuple[str, int]]) -> None:
        made = sum(grams for _, grams in outputs)
        mixture: dict[str, Fraction] = defaultdict(Fraction)
        for uri, grams in inputs:
            for part, share in self.composition[uri].items():
                mixture[part] += share * grams / made
        for uri, grams in outputs:
            self.composition[uri] = {**mixture, uri: Fraction(1)}
            self.made[uri] = grams

    def in_(self, uri: str, grams: int) -> dict[str, Fraction]:
        return {part: share * grams for part, share in self.composition[uri].items()}


@pytest.fixture
def history(coop, clerk, lot, delivery, when):
    """Three farmers deliver; the lot is then split 25 times and merged 25 times (a new delivery each time)."""
    farmers = [MemberFarmerFactory(organisation=coop) for _ in range(3)]
    plots = [PlotFactory(farmer=farmer) for farmer in farmers]
    mixer = Mixer()
    minute = 0

    def deliver(reference: str, grams: int, n: int) -> str:
        nonlocal minute
        minute += 1
        uri = delivery(reference)
        services.delivery_recorded(
            actor=clerk,
            organisation=coop,
            delivery_uri=uri,
            grams=grams,
            farmer=farmers[n],
            plot=plots[n],
            event_time=when(minute),
        )
        mixer.deliver(uri, identifiers.farmer_uri(farmers[n]), identifiers.plot_uri(plots[n]))
        return uri

    def transform(inputs, outputs) -> None:
        nonlocal minute
        minute += 1
        services.lots_transformed(
            actor=clerk, organisation=coop, inputs=inputs, outputs=outputs, event_time=when(minute)
        )
        mixer.transform(inputs, outputs)

    d1, d2 = deliver("D1", 600_000, 0), deliver("D2", 400_000, 1)
    current, grams = lot("L0"), 990_000
    transform([(d1, 600_000), (d2, 400_000)], [(current, grams)])
    set_aside = []
    for step in range(1, 26):
        kept = grams * 3 // 5
        part, aside = lot(f"A{step}"), lot(f"S{step}")
        transform([(current, grams)], [(part, kept), (aside, grams - kept)])
        set_aside.append((aside, grams - kept))
        added = deliver(f"D{step + 2}", 10_000 + step * 137, step % 3)
        merged = (kept + 10_000 + step * 137) * 98 // 100
        transform([(part, kept), (added, 10_000 + step * 137)], [(lot(f"L{step}"), merged)])
        current, grams = lot(f"L{step}"), merged
    sold = grams - 1_234
    buyer = OrganisationFactory(kind="buyer")
    services.sale_recorded(actor=clerk, organisation=coop, order_number=900, lots=[(current, sold)], buyer=buyer)
    services.sale_recorded(actor=clerk, organisation=coop, order_number=901, lots=set_aside[:2], buyer=buyer)
    return {
        "mixer": mixer,
        "final": current,
        "sold": sold,
        "farmers": farmers,
        "plots": plots,
        "set_aside": set_aside,
        "buyer": buyer,
    }


def by_party(mixer: Mixer, contents: dict[str, Fraction], which: dict[str, str]) -> dict[str, int]:
    totals: dict[str, Fraction] = defaultdict(Fraction)
    for part, grams in contents.items():
        if part in which:
            totals[which[part]] += grams
    return {party: round(value) for party, value in sorted(totals.items())}


def test_backward_through_50_splits_and_merges_in_one_query(history, django_assert_max_num_queries):
    mixer, final, sold = history["mixer"], history["final"], history["sold"]
    with django_assert_max_num_queries(1):
        trace = trace_backward(identifier="order:900")
    contents = mixer.in_(final, sold)
    assert trace.complete
    assert len(trace.steps) == 51  # the bulking, 25 splits and 25 merges
    assert trace.lots == {uri: round(grams) for uri, grams in sorted(contents.items()) if grams}
    assert trace.farmers == by_party(mixer, contents, mixer.farmer_of)
    assert trace.plots == by_party(mixer, contents, mixer.plot_of)
    assert len(trace.origins) == 27
    first = next(origin for origin in trace.origins if origin.uri.endswith("/D1"))
    assert (first.delivered_grams, first.traced_grams) == (600_000, round(contents[first.uri]))
    assert first.farmers == [identifiers.farmer_uri(history["farmers"][0])]
    assert [(use.order_number, use.grams) for use in trace.orders] == [("900", sold)]
    # Every step reports, for each input, the grams of it that went into the order.
    for step in trace.steps:
        for side in step.inputs:
            assert side["traced_grams"] == round(contents.get(side["uri"], 0))


def test_backward_from_a_lot_takes_the_whole_lot(history, django_assert_max_num_queries):
    mixer, final = history["mixer"], history["final"]
    produced = mixer.made[final]
    with django_assert_max_num_queries(1):
        trace = trace_backward(identifier=final)
    contents = mixer.in_(final, produced)
    assert trace.farmers == by_party(mixer, contents, mixer.farmer_of)
    assert trace.lots[final] == produced


def test_forward_from_a_farmer_reaches_every_lot_and_order(history, django_assert_max_num_queries):
    mixer = history["mixer"]
    farmer = identifiers.farmer_uri(history["farmers"][0])
    with django_assert_max_num_queries(1):
        trace = trace_forward(identifier=farmer)
    assert trace.complete
    theirs = {uri for uri, who in mixer.farmer_of.items() if who == farmer}
    delivered = {origin.uri: origin.delivered_grams for origin in trace.origins}
    assert set(delivered) == theirs
    assert trace.farmers == {farmer: sum(delivered.values())}
    # How much of the farmer's produce each downstream lot holds, per the independent model.
    downstream = {uri: grams for uri, grams in trace.lots.items() if uri not in theirs}
    assert len(downstream) == 1 + 25 * 3  # L0, then A, S and L of every step
    for uri, grams in downstream.items():
        expected = sum(share * mixer.made[uri] for part, share in mixer.composition[uri].items() if part in theirs)
        assert grams == round(expected), uri
    sold = {(use.order_number, use.lot): use.traced_grams for use in trace.orders}
    final, amount = history["final"], history["sold"]
    assert sold[("900", final)] == round(sum(g for p, g in mixer.in_(final, amount).items() if p in theirs))
    aside, aside_grams = history["set_aside"][0]
    assert sold[("901", aside)] == round(sum(g for p, g in mixer.in_(aside, aside_grams).items() if p in theirs))


def test_forward_from_a_plot_and_from_a_delivery(history, delivery):
    plot = identifiers.plot_uri(history["plots"][1])
    trace = trace_forward(identifier=plot)
    assert {origin.uri for origin in trace.origins} == {
        uri for uri, where in history["mixer"].plot_of.items() if where == plot
    }
    single = trace_forward(identifier=delivery("D2"))
    assert single.lots[delivery("D2")] == 400_000
    assert single.lots[history["final"]] > 0
    assert {use.order_number for use in single.orders} == {"900", "901"}


def test_erroneous_events_are_left_out_and_corrections_count(coop, clerk, farmer, lot, delivery, when):
    services.delivery_recorded(
        actor=clerk, organisation=coop, delivery_uri=delivery(1), grams=10_000, farmer=farmer, event_time=when(0)
    )
    services.delivery_recorded(
        actor=clerk, organisation=coop, delivery_uri=delivery(2), grams=30_000, farmer=farmer, event_time=when(1)
    )
    wrong = services.lots_transformed(
        actor=clerk,
        organisation=coop,
        inputs=[(delivery(1), 10_000)],
        outputs=[(lot("L"), 10_000)],
        event_time=when(2),
    )
    services.error_declared(
        actor=clerk,
        organisation=coop,
        event_id=wrong.event_id,
        reason="incorrect_data",
        corrective={"inputs": [(delivery(2), 30_000)], "outputs": [(lot("L"), 30_000)]},
    )
    trace = trace_backward(identifier=lot("L"))
    assert [origin.uri for origin in trace.origins] == [delivery(2)]
    assert trace.lots == {delivery(2): 30_000, lot("L"): 30_000}
    assert wrong.pk not in trace.event_pks
    assert trace_forward(identifier=delivery(1)).lots == {delivery(1): 10_000}


def test_a_topped_up_lot_draws_on_each_addition_in_proportion(coop, clerk, farmer, lot, delivery):
    for reference, grams in ((1, 20_000), (2, 60_000)):
        services.delivery_recorded(
            actor=clerk, organisation=coop, delivery_uri=delivery(reference), grams=grams, farmer=farmer
        )
        services.lots_transformed(
            actor=clerk, organisation=coop, inputs=[(delivery(reference), grams)], outputs=[(lot("BULK"), grams)]
        )
    services.lots_transformed(
        actor=clerk, organisation=coop, inputs=[(lot("BULK"), 40_000)], outputs=[(lot("PART"), 40_000)]
    )
    trace = trace_backward(identifier=lot("PART"))
    assert {origin.uri: origin.traced_grams for origin in trace.origins} == {delivery(1): 10_000, delivery(2): 30_000}


def test_other_organisations_events_are_not_followed(coop, clerk, farmer, lot, delivery):
    services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(1), grams=5_000, farmer=farmer)
    services.lots_transformed(
        actor=clerk, organisation=coop, inputs=[(delivery(1), 5_000)], outputs=[(lot("X"), 5_000)]
    )
    other = OrganisationFactory()
    # Another cooperative (wrongly) records a transformation into our lot's identifier.
    services.lots_transformed(
        actor=None, organisation=other, inputs=[(lot("Z", other), 7_000)], outputs=[(lot("X"), 7_000)]
    )
    mine = trace_backward(identifier=lot("X"), organisation_ids=[coop.pk])
    assert mine.lots == {delivery(1): 5_000, lot("X"): 5_000}
    assert trace_backward(identifier=lot("X"), organisation_ids=[other.pk]).origins == []
    assert not trace_backward(identifier=lot("X"), organisation_ids=[]).found


def test_viewer_scoped_selectors(coop, clerk, farmer, lot, delivery, make_member):
    services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(1), grams=5_000, farmer=farmer)
    services.lots_transformed(
        actor=clerk, organisation=coop, inputs=[(delivery(1), 5_000)], outputs=[(lot("CODE-1"), 5_000)]
    )
    assert selectors.lot_trace_backward(viewer=clerk, identifier="CODE-1").lots[lot("CODE-1")] == 5_000
    stranger = make_member()
    with pytest.raises(NotFound):
        selectors.lot_trace_backward(viewer=stranger, identifier=lot("CODE-1"))
    with pytest.raises(NotFound):
        selectors.lot_trace_backward(viewer=stranger, identifier="CODE-1")
    with pytest.raises(NotFound):
        selectors.lot_trace_forward(viewer=stranger, identifier=identifiers.farmer_uri(farmer))
    with pytest.raises(NotFound):
        selectors.lot_trace_backward(
            viewer=clerk, identifier="CODE-1", organisation_id=stranger.memberships.get().organisation_id
        )
    # A code two lots share must be given in full.
    other = OrganisationFactory()
    services.lots_transformed(
        actor=None, organisation=other, inputs=[(delivery(1, other), 1)], outputs=[(lot("CODE-1", other), 1)]
    )
    with pytest.raises(ValidationFailed, match="Several lots"):
        selectors.lot_identifier_resolve(value="CODE-1", organisation_ids=None)


def test_a_cancelled_sale_takes_its_lots_out_of_the_order(coop, clerk, farmer, lot, delivery):
    services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(1), grams=9_000, farmer=farmer)
    services.lots_transformed(
        actor=clerk,
        organisation=coop,
        inputs=[(delivery(1), 9_000)],
        outputs=[(lot("A"), 3_000), (lot("B"), 6_000)],
    )
    buyer = OrganisationFactory(kind="buyer")
    services.sale_recorded(
        actor=clerk, organisation=coop, order_number=5, lots=[(lot("A"), 3_000), (lot("B"), 6_000)], buyer=buyer
    )
    services.event_record(
        actor=clerk,
        organisation=coop,
        event_type="TransactionEvent",
        action="DELETE",
        lots=[(lot("B"), 6_000)],
        biz_transactions=[("po", identifiers.order_uri(5))],
    )
    trace = trace_backward(identifier="order:5")
    assert trace.farmers == {identifiers.farmer_uri(farmer): 3_000}
    assert [(use.action, use.lot, use.traced_grams) for use in trace.orders] == [
        ("ADD", lot("A"), 3_000),
        ("ADD", lot("B"), 6_000),
        ("DELETE", lot("B"), 6_000),
    ]
