"""The precomputed lineage equals the live recursive walk after every event, for random histories of deliveries,
bulking, splits, merges, storage, sales and error declarations; reads use it; isolation between organisations."""

import datetime
from dataclasses import asdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import MemberFarmerFactory, OrganisationFactory, PlotFactory
from traceability import identifiers, services
from traceability.genealogy import trace_backward
from traceability.lineage import (
    lineage_digest_live,
    lineage_digest_read,
    lineage_read,
    lineage_trace,
    origin_summary,
    trace_as_json,
    trace_from_json,
)
from traceability.models import Lineage

pytestmark = pytest.mark.django_db


def assert_lineages_match(coop) -> int:
    rows = list(Lineage.objects.filter(organisation=coop))
    for row in rows:
        live = trace_backward(identifier=row.subject, organisation_ids=[coop.pk])
        assert asdict(trace_from_json(row.trace)) == asdict(live), row.subject
        # The aggregate the page and the statements read equals the live walk's, aggregated afresh.
        assert row.summary == origin_summary(live, organisation_id=coop.pk), row.subject
        assert row.summary["deliveries"] == sum(g["deliveries"] for g in row.summary["groups"])
        assert_digest_matches(coop, row, live)
    return len(rows)


def assert_digest_matches(coop, row, live) -> None:
    """The stored digest's event part equals the walk's; read, the whole digest (the EUDR verdict included) equals
    the walk's as the plots are now; and the verdict agrees with the statement builder's own rules."""
    from catalogue.due_diligence import _build, digest_origins

    walked = lineage_digest_live(identifier=row.subject, organisation_id=coop.pk)
    assert row.digest["events"] == walked["events"], row.subject
    assert lineage_digest_read(identifier=row.subject, organisation_id=coop.pk) == walked, row.subject
    package = _build(kind="lot", reference="x", identifier=row.subject, cooperative=coop, commodities=[],
                     origins=digest_origins(walked["events"], coop))  # fmt: skip
    verdict = walked["plots"]["verdict"]["ordinary"]
    assert verdict["ready"] == package.ready, row.subject
    rules: dict[str, int] = {}
    for missing in package.missing:
        rules[missing.rule] = rules.get(missing.rule, 0) + 1
    assert verdict["rules"] == dict(sorted(rules.items())), row.subject
    assert {p.pk for p in package.plots} == set(walked["events"]["plot_ids"]), row.subject


def test_the_aggregate_sums_deliveries_per_member_plot_and_day(coop, clerk, farmer, plot, lot, delivery,
                                                              django_assert_num_queries):  # fmt: skip
    days = [datetime.datetime(2026, 3, day, 12, 0, tzinfo=datetime.UTC) for day in (2, 5, 9)]
    for i, when in enumerate(days):
        services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(i), grams=1_000 * (i + 1),
                                   farmer=farmer, plot=plot, event_time=when)  # fmt: skip
    services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(9), grams=500, farmer=farmer,
                               plot=None, event_time=days[0])  # fmt: skip
    inputs = [(delivery(i), 1_000 * (i + 1)) for i in range(3)] + [(delivery(9), 500)]
    services.lots_transformed(actor=clerk, organisation=coop, inputs=inputs, outputs=[(lot("L"), 6_500)])
    summary = Lineage.objects.get(subject=lot("L")).summary
    assert (summary["deliveries"], summary["grams"]) == (4, 6_500)
    assert (summary["first"], summary["last"]) == ("2026-03-02", "2026-03-09")
    assert summary["unplotted"] == [delivery(9)]
    with_plot = [g for g in summary["groups"] if g["plot"] == identifiers.plot_uri(plot)]
    assert len(with_plot) == 1 and with_plot[0]["deliveries"] == 3 and with_plot[0]["grams"] == 6_000
    assert with_plot[0]["farmer"] == identifiers.farmer_uri(farmer)
    assert len(summary["origin_event_pks"]) == 4
    with django_assert_num_queries(1):
        _trace, read = lineage_read(identifier=lot("L"), organisation_id=coop.pk)
    assert read == summary
    # An old row without a summary (before `lineage_rebuild`) is aggregated on read.
    Lineage.objects.filter(subject=lot("L")).update(summary={})
    assert lineage_read(identifier=lot("L"), organisation_id=coop.pk)[1] == summary


def test_a_bulked_lot_gets_its_lineage_and_a_split_refreshes_what_it_touches(coop, clerk, farmer, plot, lot, delivery):
    for i in range(3):
        services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(i), grams=1_000 + i,
                                   farmer=farmer, plot=plot)  # fmt: skip
    assert not Lineage.objects.exists()  # a delivery alone needs none
    services.lots_transformed(actor=clerk, organisation=coop, inputs=[(delivery(i), 1_000 + i) for i in range(3)],
                              outputs=[(lot("L1"), 3_003)])  # fmt: skip
    row = Lineage.objects.get(organisation=coop, subject=lot("L1"))
    assert row.origin_count == 3 and set(row.reach) == {lot("L1"), *(delivery(i) for i in range(3))}
    services.lots_transformed(actor=clerk, organisation=coop, inputs=[(lot("L1"), 3_003)],
                              outputs=[(lot("A"), 2_000), (lot("B"), 1_003)])  # fmt: skip
    assert {r.subject for r in Lineage.objects.all()} == {lot("L1"), lot("A"), lot("B")}
    # Storage of L1 is part of L1's, A's and B's histories: all three are refreshed with the new event.
    event = services.storage_recorded(actor=clerk, organisation=coop, lot_uri=lot("L1"),
                                      location=identifiers.location_uri(coop))  # fmt: skip
    for subject in (lot("L1"), lot("A"), lot("B")):
        assert event.pk in Lineage.objects.get(subject=subject).trace["event_pks"]
    assert assert_lineages_match(coop) == 3
    assert (
        trace_as_json(lineage_trace(identifier=lot("A"), organisation_id=coop.pk))
        == Lineage.objects.get(subject=lot("A")).trace
    )


def test_reading_a_lineage_is_one_query_and_falls_back_to_the_walk(
    coop, clerk, farmer, plot, lot, delivery, django_assert_num_queries
):
    services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(1), grams=500, farmer=farmer,
                               plot=plot)  # fmt: skip
    services.lots_transformed(actor=clerk, organisation=coop, inputs=[(delivery(1), 500)], outputs=[(lot("L"), 500)])
    with django_assert_num_queries(1):
        trace = lineage_trace(identifier=lot("L"), organisation_id=coop.pk)
    assert [o.uri for o in trace.origins] == [delivery(1)]
    with django_assert_num_queries(2):  # no lineage for a delivery: the lookup, then the live walk
        walked = lineage_trace(identifier=delivery(1), organisation_id=coop.pk)
    assert walked.found and asdict(walked) == asdict(trace_backward(identifier=delivery(1), organisation_ids=[coop.pk]))


def test_another_organisation_never_sees_or_changes_the_lineage(coop, clerk, farmer, plot, lot, delivery):
    services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(1), grams=500, farmer=farmer,
                               plot=plot)  # fmt: skip
    services.lots_transformed(actor=clerk, organisation=coop, inputs=[(delivery(1), 500)], outputs=[(lot("L"), 500)])
    other = OrganisationFactory()
    # The other organisation names our lot URI in its own events: our lineage is untouched, theirs is separate.
    services.lots_transformed(actor=None, organisation=other, inputs=[(lot("L"), 500)], outputs=[(lot("X"), 500)])
    ours = lineage_trace(identifier=lot("L"), organisation_id=coop.pk)
    assert [o.uri for o in ours.origins] == [delivery(1)]
    assert not lineage_trace(identifier=lot("L"), organisation_id=other.pk).origins
    assert lineage_trace(identifier=lot("X"), organisation_id=coop.pk).found is False
    assert assert_lineages_match(coop) == 1 and assert_lineages_match(other) == 1


def test_an_error_declaration_refreshes_the_lineages_it_changes(coop, clerk, farmer, plot, lot, delivery):
    for i in (1, 2):
        services.delivery_recorded(actor=clerk, organisation=coop, delivery_uri=delivery(i), grams=10_000 * i,
                                   farmer=farmer, plot=plot)  # fmt: skip
    wrong = services.lots_transformed(actor=clerk, organisation=coop, inputs=[(delivery(1), 10_000)],
                                      outputs=[(lot("L"), 10_000)])  # fmt: skip
    services.lots_transformed(actor=clerk, organisation=coop, inputs=[(lot("L"), 10_000)],
                              outputs=[(lot("M"), 10_000)])  # fmt: skip
    services.sale_recorded(actor=clerk, organisation=coop, order_number=77, lots=[(lot("M"), 10_000)],
                           buyer=OrganisationFactory(kind="buyer"))  # fmt: skip
    correction = {"inputs": [(delivery(2), 20_000)], "outputs": [(lot("L"), 10_000)]}
    services.error_declared(
        actor=clerk, organisation=coop, event_id=wrong.event_id, reason="incorrect_data", corrective=correction
    )
    for subject in (lot("L"), lot("M"), "order:77"):
        trace = lineage_trace(identifier=subject, organisation_id=coop.pk)
        assert [o.uri for o in trace.origins] == [delivery(2)], subject
    assert assert_lineages_match(coop) == 3


# --- Random histories ------------------------------------------------------------------------------

PLOT_EDITS = ("valid", "open_ring", "no_cutoff", "late_cutoff", "overlap", "no_geometry")


def plot_edit(plots: list, index: int, edit: str) -> None:
    """Change a plot as an edit of the register would (a bare update: the verdict must follow whatever writes)."""
    import random

    from marketplace.demo.organisations import plot_polygon
    from marketplace.organisations.models import Plot

    plot = plots[index]
    geometry, area = plot_polygon(random.Random(index), lon=-6.6 + index * 0.01, lat=5.78, hectares=1.2)
    fields = {"geometry": geometry, "area_hectares": area, "established_on": datetime.date(2012, 1, 1)}
    if edit == "open_ring":
        fields["geometry"] = {"type": "Polygon", "coordinates": [geometry["coordinates"][0][:-1]]}
    elif edit == "no_cutoff":
        fields["established_on"] = None
    elif edit == "late_cutoff":
        fields["established_on"] = datetime.date(2023, 1, 1)
    elif edit == "overlap":  # the same land as the next member's plot
        other = Plot.objects.get(pk=plots[(index + 1) % len(plots)].pk)
        if other.geometry:
            fields["geometry"], fields["area_hectares"] = other.geometry, other.area_hectares
    elif edit == "no_geometry":
        fields["geometry"] = None
    Plot.objects.filter(pk=plot.pk).update(**fields)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(1, 50_000)),
        st.tuples(st.just("bulk"), st.integers(1, 4)),
        st.tuples(st.just("split"), st.integers(0, 50), st.integers(2, 3)),
        st.tuples(st.just("merge"), st.integers(0, 50), st.integers(0, 50)),
        st.tuples(st.just("store"), st.integers(0, 50)),
        st.tuples(st.just("sell"), st.integers(0, 50)),
        st.tuples(st.just("declare"), st.integers(0, 50)),
        st.tuples(st.just("edit_plot"), st.integers(0, 2), st.sampled_from(PLOT_EDITS)),
    ),
    min_size=3,
    max_size=14,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_lineage_equals_the_walk_after_random_histories(ops):
    coop = OrganisationFactory()
    farmers = [MemberFarmerFactory(organisation=coop) for _ in range(3)]
    plots = [PlotFactory(farmer=farmer) for farmer in farmers]
    plot_edit(plots, 0, "valid")
    buyer = OrganisationFactory(kind="buyer")
    loose: list[tuple[str, int]] = []  # deliveries not bulked yet
    stock: list[tuple[str, int]] = []  # lots (uri, grams) that are not used up
    transformations = []
    minute = [0]
    counter = [0]

    def when():
        minute[0] += 1
        return datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC) + datetime.timedelta(minutes=minute[0])

    def new_lot() -> str:
        counter[0] += 1
        return identifiers.lot_uri(organisation=coop, lot_code=f"L{counter[0]}")

    for op in ops:
        kind = op[0]
        if kind == "deliver":
            counter[0] += 1
            uri = identifiers.delivery_uri(organisation=coop, reference=f"D{counter[0]}")
            n = counter[0] % 3  # the third member's deliveries name no plot
            services.delivery_recorded(actor=None, organisation=coop, delivery_uri=uri, grams=op[1],
                                       farmer=farmers[n], plot=plots[n] if n < 2 else None,
                                       event_time=when())  # fmt: skip
            loose.append((uri, op[1]))
        elif kind == "bulk" and loose:
            taken, loose[:] = loose[: op[1]], loose[op[1] :]
            output = (new_lot(), sum(g for _, g in taken) * 99 // 100 or 1)
            transformations.append(services.lots_transformed(actor=None, organisation=coop, inputs=taken,
                                                             outputs=[output], event_time=when()))  # fmt: skip
            stock.append(output)
        elif kind == "split" and stock:
            uri, grams = stock.pop(op[1] % len(stock))
            if grams < op[2]:
                stock.append((uri, grams))
                continue
            parts = [grams // op[2]] * (op[2] - 1)
            parts.append(grams - sum(parts))
            outputs = [(new_lot(), part) for part in parts]
            transformations.append(services.lots_transformed(actor=None, organisation=coop, inputs=[(uri, grams)],
                                                             outputs=outputs, event_time=when()))  # fmt: skip
            stock.extend(outputs)
        elif kind == "merge" and len(stock) >= 2:
            first = stock.pop(op[1] % len(stock))
            second = stock.pop(op[2] % len(stock))
            output = (new_lot(), first[1] + second[1])
            transformations.append(services.lots_transformed(actor=None, organisation=coop, inputs=[first, second],
                                                             outputs=[output], event_time=when()))  # fmt: skip
            stock.append(output)
        elif kind == "store" and stock:
            uri, grams = stock[op[1] % len(stock)]
            services.storage_recorded(actor=None, organisation=coop, lot_uri=uri, grams=grams,
                                      location=identifiers.location_uri(coop), event_time=when())  # fmt: skip
        elif kind == "sell" and stock:
            uri, grams = stock.pop(op[1] % len(stock))
            counter[0] += 1
            services.sale_recorded(actor=None, organisation=coop, order_number=counter[0], lots=[(uri, grams)],
                                   buyer=buyer, event_time=when())  # fmt: skip
        elif kind == "edit_plot":
            plot_edit(plots, op[1], op[2])
        elif kind == "declare" and transformations:
            event = transformations.pop(op[1] % len(transformations))
            services.error_declared(actor=None, organisation=coop, event_id=event.event_id, reason="did_not_occur")
        assert_lineages_match(coop)
    outputs = {uri for event in transformations for uri in event.lots.filter(role="output").values_list(
        "lot_uri", flat=True)}  # fmt: skip
    assert outputs <= set(Lineage.objects.filter(organisation=coop).values_list("subject", flat=True))
