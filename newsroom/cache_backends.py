"""A Redis cache that a stopped Redis cannot take the site down with.

The page cache (articles.cache) is an optimisation: when Redis is unreachable every read
is a miss and every write is dropped, so pages are built from the database as if nothing
were cached, and Redis is used again as soon as it answers. Connections time out quickly
(see OPTIONS in settings) so a hung Redis costs a fraction of a second, not a request.

A Redis that comes back with its data (a network blip, not a restart) may hold pages whose
dependency versions were bumped while it was away; NEWSROOM_PAGE_CACHE_SECONDS bounds how
long such a page can be served.
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("newsroom.faults")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _tolerant(default):
    def wrap(method):
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as error:
                logger.warning("cache unavailable (%s): %s", method.__name__, error)
                return default(args, kwargs) if callable(default) else default

        call.__name__ = method.__name__
        return call

    return wrap


def _default_value(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


class ResilientRedisCache(RedisCache):
    get = _tolerant(_default_value)(RedisCache.get)
    get_many = _tolerant({})(RedisCache.get_many)
    has_key = _tolerant(False)(RedisCache.has_key)
    set = _tolerant(None)(RedisCache.set)
    set_many = _tolerant(lambda args, kwargs: list(args[0]) if args else [])(RedisCache.set_many)
    add = _tolerant(False)(RedisCache.add)
    touch = _tolerant(False)(RedisCache.touch)
    delete = _tolerant(False)(RedisCache.delete)
    delete_many = _tolerant(None)(RedisCache.delete_many)
    clear = _tolerant(False)(RedisCache.clear)
