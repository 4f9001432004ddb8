"""Cache backends: a Redis cache that a stopped Redis cannot take the site down with, and
the local-memory cache of a laptop or a single server, made cheaper for the page cache.

The page cache (articles.cache) is an optimisation: when Redis is unreachable every read
is a miss and every write is dropped, so pages are built from the database as if nothing
were cached, and Redis is used again as soon as it answers. Connections time out quickly
(see OPTIONS in settings) so a hung Redis costs a fraction of a second, not a request.

A Redis that comes back with its data (a network blip, not a restart) may hold pages whose
dependency versions were bumped while it was away; NEWSROOM_PAGE_CACHE_SECONDS bounds how
long such a page can be served.
"""

import logging
import pickle

from django.core.cache.backends.base import default_key_func
from django.core.cache.backends.locmem import LocMemCache
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


class LocalMemoryCache(LocMemCache):
    """Django's local-memory cache, with the reads a page-cache hit makes kept cheap.

    A cached page is checked against the versions of everything it shows (a story page:
    about 17 keys) on every hit. Django's get_many reads them one by one, each taking the
    lock and checking the key for memcached's rules; this reads them under one lock. The
    keys are the newsroom's own (short, ASCII), and this cache is never memcached, so the
    portability warnings are left out.
    """

    def validate_key(self, key):
        pass

    def get_many(self, keys, version=None):
        if self.key_func is default_key_func:
            prefix = f"{self.key_prefix}:{self.version if version is None else version}:"
            names = {prefix + key: key for key in keys}
        else:
            names = {self.make_key(key, version=version): key for key in keys}
        found = {}
        with self._lock:
            for name, key in names.items():
                if self._has_expired(name):
                    self._delete(name)
                    continue
                found[key] = self._cache[name]
                self._cache.move_to_end(name, last=False)
        return {key: pickle.loads(pickled) for key, pickled in found.items()}
