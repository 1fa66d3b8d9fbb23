"""Re-matching a commodity with a real Celery worker on Redis: each connected component is solved by its own task,
a chord, and the chord's callback writes the proposals, the same ones one process would make."""

from decimal import Decimal

import pytest

from marketplace.matching import services, tasks
from marketplace.matching.models import Proposal
from tests.integration.test_celery_worker import BROKER_URL, broker_settings, worker  # noqa: F401 (fixtures)
from tests.matching.factories import make_market, post_request
from tests.orders.factories import TONNE

pytestmark = [
    pytest.mark.worker,
    pytest.mark.xdist_group("worker"),
    pytest.mark.skipif(not BROKER_URL, reason="set TEST_CELERY_BROKER_URL to run a real Celery worker"),
]


def test_components_are_solved_as_a_chord_by_the_worker(transactional_db, broker_settings, worker):  # noqa: F811
    from marketplace.celery import app as celery_app

    market = make_market()
    commodity_id = market.grade_1.commodity_id
    # Two requests, each within 30 km of one cooperative's listing only: two components.
    requests = []
    for listing in (market.listing_a, market.listing_b):
        lat, lon = services._listing_point(listing)
        requests.append(
            post_request(market, quantity_grams=8 * TONNE, min_truckload_grams=5 * TONNE, max_distance_km=30,
                         delivery_latitude=Decimal(str(round(lat, 6))), delivery_longitude=Decimal(str(round(lon, 6))))
        )  # fmt: skip
    parts, _fingerprint = services.rematch_parts(commodity_id=commodity_id, currency="XOF")
    assert len(parts) == 2
    Proposal.objects.all().delete()  # whatever the requests' own on-commit re-match made, if it ran already

    saved = celery_app.conf.result_backend
    celery_app.conf.result_backend = BROKER_URL  # this process sends the task; the worker makes the chord
    try:
        sent = tasks.rematch_commodity.apply_async(args=[commodity_id, "XOF"])
        assert worker.result(sent.id) is None  # the chord was sent: the callback writes the proposals
    finally:
        celery_app.conf.result_backend = saved
    proposals = worker.wait_for(
        lambda: (
            (found := list(Proposal.objects.filter(status="open").order_by("request_id"))) and len(found) == 2 and found
        ),
        "the chord's callback to write two proposals",
    )
    log = worker.log()
    assert log.count("marketplace.matching.tasks.solve_component[") >= 2
    assert "marketplace.matching.tasks.apply_rematch[" in log
    assert [p.request_id for p in proposals] == sorted(r.pk for r in requests)
    by_request = {p.request_id: {(x.listing_id, x.grams) for x in p.parts.all()} for p in proposals}
    assert by_request == {requests[0].pk: {(market.listing_a.pk, 8 * TONNE)},
                          requests[1].pk: {(market.listing_b.pk, 8 * TONNE)}}  # fmt: skip

    # One process solving the whole commodity makes the same proposals: it keeps them all.
    again = services.matching_rematch(commodity_id=commodity_id, currency="XOF")
    assert sorted(again.proposals_kept) == sorted(p.pk for p in proposals) and not again.proposals_created
