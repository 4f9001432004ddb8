"""Cache backends: a Redis cache that a stopped or unreachable Redis cannot take the site
down with, and the local-memory cache of a laptop or a single server, made cheaper for the
page cache (LocalMemoryCache, at the end).

The caches are optimisations: while Redis does not answer, every read is a miss and every
write is dropped, so pages are built from the database and sessions are read from it
(`cached_db`), as if nothing were cached. Connections time out quickly (OPTIONS in
settings), and after a failure Redis is left alone for `retry_after` seconds (1 by
default): an outage costs a process one timeout per interval, not one per cache call.

What Redis holds may be wrong once it answers again. A network blip drops writes (a
dependency version bump, a logged-out session's deletion) while the old entries stay in
Redis; a Redis restarted from an old snapshot brings back entries and versions from before
changes it already had. So after any failure, the first call that finds Redis answering
runs the alias's `after_outage` action before anything else, in every process that saw the
failure:

* `after_outage` unset: forget this alias's namespace (`clear()`, which deletes only keys
  under the alias's KEY_PREFIX). Right for sessions: they are read again from the database.
* a dotted path: that function, called with the cache. The dependency versions use
  `delivery.cache.refresh_every_page`, which makes every cached page stale at once.
* None: nothing to do (the page entries, which are checked against dependency versions).

A process that saw the outage but ended before Redis came back (a cron command) cannot run
the action; NEWSROOM_PAGE_CACHE_SECONDS still bounds how long a page is kept.
"""

import logging
import threading
import time
import pickle

from django.core.cache.backends.base import DEFAULT_TIMEOUT, default_key_func
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils.module_loading import import_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("newsroom.faults")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
FORGET = object()  # after_outage default: clear the alias's own namespace


class _Health:
    """What one process knows about one cache namespace; shared by the process's threads."""

    def __init__(self):
        self.down_until = 0.0  # time.monotonic() before which Redis is not asked
        self.needs_recovery = False  # a call failed since the last recovery
        # Re-entrant: the after-outage action runs under it and goes through the same calls.
        self.lock = threading.RLock()


_HEALTH = {}
_HEALTH_LOCK = threading.Lock()


def _health_of(namespace):
    with _HEALTH_LOCK:
        return _HEALTH.setdefault(namespace, _Health())


def _guarded(fallback):
    """Run a cache call unless Redis is resting; on a connection failure return `fallback`."""

    def wrap(method):
        def call(self, *args, **kwargs):
            value = fallback(args, kwargs) if callable(fallback) else fallback
            health = self._health
            if time.monotonic() < health.down_until:
                return value
            if health.needs_recovery and not self._recover():
                return value
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as error:
                self._failed(method.__name__, error)
                return value

        call.__name__ = method.__name__
        call.__doc__ = method.__doc__
        return call

    return wrap


def _default_value(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


def _all_keys(args, kwargs):
    return list(args[0] if args else kwargs.get("data", ()))


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("retry_after", 1.0))
        after_outage = options.pop("after_outage", FORGET)
        super().__init__(server, {**params, "OPTIONS": options})
        self._after_outage = import_string(after_outage) if isinstance(after_outage, str) else after_outage
        self._health = _health_of((tuple(self._servers), self.key_prefix))

    # -- what happens around a failure -------------------------------------------------

    def _failed(self, operation, error):
        health = self._health
        with health.lock:
            first = time.monotonic() >= health.down_until and not health.needs_recovery
            health.down_until = time.monotonic() + self.retry_after
            health.needs_recovery = True
        if first:
            logger.warning(
                "cache %r unavailable (%s: %s); serving without it", self.key_prefix, operation, error
            )

    def _recover(self):
        """Run the after-outage action once Redis answers; False while it still does not."""
        health = self._health
        with health.lock:
            if not health.needs_recovery:
                return True
            # Cleared first: the action's own calls go through this class and must not
            # recurse; if one of them fails, _failed() sets it again and we try later.
            health.needs_recovery = False
            try:
                self._cache.get_client(None, write=True).ping()
                if self._after_outage is FORGET:
                    self._forget_namespace()
                elif self._after_outage is not None:
                    self._after_outage(self)
            except UNREACHABLE:
                health.down_until = time.monotonic() + self.retry_after
                health.needs_recovery = True
                return False
            if health.needs_recovery:
                return False
        if self._after_outage is None:
            logger.warning("cache %r answers again", self.key_prefix)
        else:
            logger.warning("cache %r answers again; what may have gone stale meanwhile was refreshed", self.key_prefix)
        return True

    def _forget_namespace(self):
        """Delete every key under this alias's KEY_PREFIX (all of the database without one)."""
        client = self._cache.get_client(None, write=True)
        if not self.key_prefix:
            client.flushdb()
            return
        pattern = _glob_escape(self.key_prefix) + ":*"
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)

    # -- the cache API, tolerant ---------------------------------------------------------

    get = _guarded(_default_value)(RedisCache.get)
    get_many = _guarded({})(RedisCache.get_many)
    has_key = _guarded(False)(RedisCache.has_key)
    set = _guarded(None)(RedisCache.set)
    set_many = _guarded(_all_keys)(RedisCache.set_many)
    add = _guarded(False)(RedisCache.add)
    touch = _guarded(False)(RedisCache.touch)
    delete = _guarded(False)(RedisCache.delete)
    delete_many = _guarded(None)(RedisCache.delete_many)

    @_guarded(False)
    def clear(self):
        """Empty this alias's namespace only: other aliases (sessions, dependency versions,
        another site) may share the Redis database, which Django's FLUSHDB would empty."""
        self._forget_namespace()
        return True


def _glob_escape(text):
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


_generations = {}


class LocalMemoryCache(LocMemCache):
    """Django's local-memory cache, with the reads a page-cache hit makes kept cheap.

    A cached page is checked against the versions of everything it shows (a story page:
    about 17 keys) on every hit. Django's get_many reads them one by one, each taking the
    lock and checking the key for memcached's rules; this reads them under one lock. The
    keys are the newsroom's own (short, ASCII), and this cache is never memcached, so the
    portability warnings are left out.
    """

    def __init__(self, name, params):
        super().__init__(name, params)
        # Shared, like the entries, by every instance with this LOCATION (one per thread).
        self._generation = _generations.setdefault(name, [0])

    @property
    def generation(self):
        """A number that changes whenever anything in this cache is written, expires or is
        removed: while it stays the same, what was read from it still holds (delivery.cache
        checks a page's dependency versions again only then)."""
        return self._generation[0]

    def _changed(self):
        self._generation[0] += 1

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        super()._set(key, value, timeout)  # may cull others first
        self._changed()

    def _delete(self, key):
        removed = super()._delete(key)
        self._changed()
        return removed

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        finally:
            self._changed()

    def clear(self):
        super().clear()
        self._changed()

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
