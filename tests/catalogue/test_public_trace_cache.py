"""A QR scan of a public trace page is served from the cache until the cooperative records a new event, and the
page is throttled per address."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import services
from catalogue.selectors.public_trace import lot_public_trace_cached, public_trace_cache_key
from tests.catalogue.test_public_trace import journey  # noqa: F401 (the fixture)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_second_scan_runs_one_query_and_a_new_event_rebuilds_the_page(client, journey, manager, warehouse):  # noqa: F811
    part = journey["part"]
    url = f"/catalogue/trace/{part.public_id}/"
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as second:
        before_html = client.get(url).content.decode()
    assert len(second) <= 2 < len(first)  # the key (one query; a session lookup at most besides)
    assert "Méagui annex" in before_html
    before = public_trace_cache_key(public_id=part.public_id)
    services.lot_move(actor=manager, lot_id=part.pk, storage_location_id=warehouse.pk)  # a new event
    assert public_trace_cache_key(public_id=part.public_id) != before
    with CaptureQueriesContext(connection) as third:
        html = client.get(url).content.decode()
    assert len(third) > len(second)
    steps = [step.kind for step in lot_public_trace_cached(public_id=part.public_id).steps]
    assert steps == ["delivered", "bulked", "split", "stored", "stored"]  # the new storage step shows
    assert html.count(warehouse.name) > before_html.count(warehouse.name)


def test_the_page_is_throttled_per_address(client, journey, settings):  # noqa: F811
    settings.PUBLIC_TRACE_RATE = "3/minute"
    url = f"/catalogue/trace/{journey['part'].public_id}/"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many requests" in refused.content.decode()
    other = client.get(url, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_an_unknown_lot_is_not_found_and_not_cached(client, journey):  # noqa: F811
    assert client.get("/catalogue/trace/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert public_trace_cache_key(public_id="not-a-uuid") is None
