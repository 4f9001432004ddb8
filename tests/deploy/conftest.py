import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import redis

from newsroom.cache_settings import redis_caches

from .services import REDIS_SERVER, RedisServer, redis_answers

# The machine's Redis, in a database other tests leave alone; each test adds its own prefix.
LOCAL_REDIS = "redis://127.0.0.1:6379/13"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """These tests sign in through the login form; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def local_redis(tmp_path_factory):
    """The Redis on 127.0.0.1:6379 (database 13); one of our own when none answers there."""
    if redis_answers(LOCAL_REDIS):
        yield _described(LOCAL_REDIS)
        return
    if not REDIS_SERVER:
        pytest.skip("no Redis answers on 127.0.0.1:6379 and redis-server is not installed to start one")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield _described(server.url)
    server.stop()


def _described(url):
    parts = urlsplit(url)
    return SimpleNamespace(url=url, port=parts.port, db=int(parts.path.strip("/") or 0))


@pytest.fixture
def use_redis(settings):
    """Point the settings at a Redis the way REDIS_URL does in production, under a key prefix
    of this test's own; returns the site id. Keys left behind are deleted afterwards."""
    used = []

    def apply(url, *, site=None, deploy="deploy1", retry_after=0.2):
        site = site or "test-" + uuid.uuid4().hex[:10]
        caches = redis_caches(url, site=site, deploy=deploy)
        for alias in caches.values():
            # Shorter than production's pause after a failure, so tests need not sleep long.
            alias["OPTIONS"] = {**alias["OPTIONS"], "retry_after": retry_after}
        settings.CACHES = caches
        settings.NEWSROOM_DEPLOY_ID = deploy  # as settings.py sets it beside REDIS_URL
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
        settings.SESSION_CACHE_ALIAS = "sessions"
        used.append(site)
        return site

    yield apply
    if used and redis_answers(LOCAL_REDIS):
        client = redis.Redis.from_url(LOCAL_REDIS)
        for site in used:
            keys = list(client.scan_iter(match=f"{site}:*", count=1000))
            if keys:
                client.delete(*keys)


def keys_under(url, prefix):
    return sorted(key.decode() for key in redis.Redis.from_url(url).scan_iter(match=f"{prefix}*", count=1000))
