"""Django's Redis cache, keeping one `redis.Redis` client per connection pool.

Django's `RedisCacheClient` builds a new `redis.Redis` object for every cache operation; building one fills its
table of response callbacks (some hundreds of entries), which costs more CPU than the round trip of a small GET.
Every API request throttles through the cache (a read and a write), so the client is kept and reused here. A
`redis.Redis` client is safe to share between threads (each command borrows a connection from the pool), and
Django already keeps one cache object per thread.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
