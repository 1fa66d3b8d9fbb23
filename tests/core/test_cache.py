"""The Redis cache keeps one client object per connection pool (Django's builds one per operation), and works as
Django's: set, get, add, incr and delete against a real Redis."""

import os

import pytest

from marketplace.core.cache import RedisCache

REDIS = os.environ.get("TEST_CELERY_BROKER_URL", "")


@pytest.mark.skipif(not REDIS, reason="set TEST_CELERY_BROKER_URL to a Redis to run it")
def test_the_client_is_reused_and_the_cache_works():
    cache = RedisCache(REDIS, {"KEY_PREFIX": "test-core-cache"})
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is first is cache._cache.get_client(write=True)
    cache.set("k", {"a": 1}, 30)
    assert cache.get("k") == {"a": 1}
    assert cache.add("k", 2, 30) is False and cache.add("n", 1, 30) is True
    assert cache.incr("n") == 2
    cache.delete_many(["k", "n"])
    assert cache.get("k") is None and cache.get("n") is None
