"""The periodic re-matches: nightly for every market with open requests, and every few minutes for the markets
whose listings changed."""

import datetime

from django.utils import timezone

from catalogue.models import Listing
from marketplace.core.models import OutboxMessage
from marketplace.matching import tasks
from marketplace.matching.models import Proposal
from tests.matching.factories import post_request

REMATCH = "marketplace.matching.tasks.rematch_commodity"


def test_rematch_all_proposes_for_every_open_market(market):
    request = post_request(market)
    assert tasks.rematch_all() == 1
    assert Proposal.objects.filter(request=request, status="open").count() == 1
    assert tasks.rematch_all() == 1  # again: the same proposal is kept
    assert Proposal.objects.filter(request=request).count() == 1


def test_a_listing_change_schedules_a_rematch_of_its_market_only(market):
    post_request(market)
    OutboxMessage.objects.all().delete()
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    Listing.objects.update(updated_at=long_ago)
    assert tasks.rematch_changed_listings() == 0
    assert not OutboxMessage.objects.filter(task_name=REMATCH).exists()
    Listing.objects.filter(pk=market.listing_b.pk).update(updated_at=timezone.now())
    assert tasks.rematch_changed_listings() == 1
    (message,) = OutboxMessage.objects.filter(task_name=REMATCH)
    assert message.args == [market.grade_1.commodity_id, "XOF"]


def test_components_solved_apart_give_the_same_proposals_and_a_stale_result_is_not_applied(market):
    from marketplace.matching import services
    from tests.orders.factories import TONNE

    post_request(market)  # near both cooperatives
    post_request(
        market,
        quantity_grams=5 * TONNE,
        min_truckload_grams=5 * TONNE,
        delivery_latitude=6.877,
        delivery_longitude=-6.450,
        max_distance_km=20,
    )  # fmt: skip  (near cooperative B only)
    commodity_id = market.grade_1.commodity_id
    parts, fingerprint = services.rematch_parts(commodity_id=commodity_id, currency="XOF")
    assert len(parts) == 1  # both requests share listing B: one component
    results = [tasks.solve_component(part) for part in parts]
    applied = tasks.apply_rematch(results, commodity_id, "XOF", fingerprint)
    assert applied["created"] and not applied["stale"]
    whole = services.matching_rematch(commodity_id=commodity_id, currency="XOF")
    assert sorted(whole.proposals_kept) == sorted(applied["created"])  # the whole solve makes the same proposals

    # The instance changes between the solve and the apply: nothing is applied, a re-match is scheduled.
    parts, fingerprint = services.rematch_parts(commodity_id=commodity_id, currency="XOF")
    results = [tasks.solve_component(part) for part in parts]
    post_request(market, quantity_grams=6 * TONNE, min_truckload_grams=5 * TONNE)
    OutboxMessage.objects.all().delete()
    stale = tasks.apply_rematch(results, commodity_id, "XOF", fingerprint)
    assert stale["stale"] and not stale["created"]
    assert OutboxMessage.objects.filter(task_name=REMATCH).exists()


def test_an_instance_splits_into_components_that_solve_like_the_whole():
    import random
    from dataclasses import replace

    from marketplace.matching import engine
    from tests.matching.test_engine import random_instance

    first = random_instance(random.Random(11), 20, 15)
    far = random_instance(random.Random(12), 20, 15)  # 20 degrees further north: never feasible with the first
    instance = engine.Instance(
        first.transport_minor_per_tonne_km,
        first.lots + [replace(x, id=f"far-{x.id}", lat=x.lat + 20) for x in far.lots],
        first.requests + [replace(x, id=f"far-{x.id}", lat=x.lat + 20) for x in far.requests],
    )
    parts = engine.split(instance)
    assert len(parts) > 1
    merged = engine.merge([engine.result_to_dict(engine.solve(engine.load_instance(engine.instance_to_dict(p))))
                           for p in parts])  # fmt: skip
    whole = engine.solve(instance)
    assert merged.objective == whole.objective
    assert sorted((a.lot, a.request, a.kg) for a in merged.allocations) == sorted(
        (a.lot, a.request, a.kg) for a in whole.allocations
    )


def test_with_workers_each_component_is_its_own_task_in_a_chord(market, monkeypatch):
    from tests.orders.factories import TONNE

    for lat, lon in (("5.785630", "-6.606390"), ("6.877", "-6.450")):  # next to cooperative A, next to B
        post_request(market, quantity_grams=5 * TONNE, min_truckload_grams=5 * TONNE, delivery_latitude=lat,
                     delivery_longitude=lon, max_distance_km=20)  # fmt: skip
    sent = {}

    def fake_chord(header):
        sent["header"] = list(header)
        return lambda body: sent.setdefault("body", body)

    monkeypatch.setattr(tasks, "chords_available", lambda: True)
    monkeypatch.setattr(tasks, "chord", fake_chord)
    assert tasks.rematch_commodity(market.grade_1.commodity_id, "XOF") is None
    assert [s.task for s in sent["header"]] == ["marketplace.matching.tasks.solve_component"] * 2
    assert sent["body"].task == "marketplace.matching.tasks.apply_rematch"
    assert not Proposal.objects.exists()  # nothing written until the chord's body runs
    # Run the chord by hand: the body writes one proposal per request.
    results = [tasks.solve_component(*s.args) for s in sent["header"]]
    applied = tasks.apply_rematch(results, *sent["body"].args)
    assert len(applied["created"]) == 2
