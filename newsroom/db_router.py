"""Read replicas: which database answers a query (docs/deploy/replicas.md).

With DATABASE_REPLICA_URLS set, settings add the aliases `replica1`, `replica2`, ... and
install `ReplicaRouter`; `ReadYourWritesMiddleware`, always in MIDDLEWARE, works only then.
Without it nothing here runs.

What goes where
---------------
Every write, and every read that is not part of building a reader's page, goes to the
primary (`default`): the admin, /review/, previews and share links, management commands,
the static publisher, logged-in users, anything inside a transaction. Only the readers'
pages (the views wrapped by delivery.cache.cached_page: home, sections, stories, tags,
people, search, feeds, sitemaps), requested by an anonymous client with GET or HEAD, are
built on a replica, and only through `build_public_page`, which sets a context variable
the router reads. Reading is opt-in: code that does not ask reads the primary.

Once such a page writes something (a photo rendition made on first view), the rest of
that request reads the primary too, so it finds what it has just written.

Read-your-writes
----------------
Two separate guarantees.

1. A client who has just changed something sees it. Every response to an unsafe request
   (POST, PUT, PATCH, DELETE: publishing, saving, logging in or out) carries a short-lived
   signed cookie; for NEWSROOM_REPLICA_STICKY_SECONDS afterwards that client's pages are
   built on the primary. Logged-in users (a session cookie) always read the primary.

2. The page cache never stores a page older than the changes already announced. The cache
   (delivery.cache) keeps a page until one of its dependency keys is bumped; the bump
   happens once, right after the change commits on the primary. A page rebuilt just
   after a bump from a replica that has not yet replayed that commit would be stored as
   current and shown to everyone until the next change: the bump would be lost.

   So a page about to be cached is built on a replica only if that replica has replayed
   every change bumped before the rebuild began. Just before each bump, `fence_replicas`
   reads the primary's WAL position (which lies after the change's commit) and raises a
   shared "fence" to at least that value, kept beside the dependency versions (the
   `dependencies` cache alias when there is one, so old and new code agree on it during a
   rolling deploy). Raising is atomic (cache.incr by the
   difference, retried if the key vanished), so two changes bumping at once can push the
   fence past both positions but never leave it below either. On a miss the fence is read,
   then the replica's replay position (`pg_last_wal_replay_lsn()`): a replica at or past the
   fence holds every change whose bump came before the rebuild, so the page is current as
   of that moment; a change bumped while the page is built is caught by the cache's own
   check (versions newer than the start of the build: served, not stored).

   A replica short of the fence (or a fence lost from the cache, dropped after a cache
   outage by delivery.cache.refresh_every_page, or pushed past the WAL by two racing raises) is compared with the primary's position right now (one query that
   reads no table); reaching that is as good. Otherwise it gets NEWSROOM_REPLICA_WAIT_MS
   (default 20) to catch up, then the page is built on the primary. No clocks are
   compared and no lag threshold is guessed: a replica one change behind simply does not
   take the misses of that moment, and unrelated writes on the primary (sessions, logs)
   never hold a replica back.

   Because nothing stale is ever stored, a cached page is safe for every client, including
   one that has just written (its change was bumped before its response was sent).
   Clients that are served without the cache (page cache turned off) read a replica with no
   such check; an anonymous reader may then briefly see the state of a moment ago, which is
   what replicas are for, and the cookie of point 1 still covers whoever made the change.

When a replica fails
--------------------
A replica that cannot be reached, or whose query fails while a page is built, is left
alone for NEWSROOM_REPLICA_RETRY_SECONDS (default 5) in this process and the page is built
on the primary: readers get the page, not an error. If the primary cannot be reached, a
replica past the fence still serves (and fills) the cache; one that cannot be checked
serves pages that are not cached.
"""

import contextvars
import logging
import random
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

from newsroom.cache_settings import versions_cache

ROUTER = "newsroom.db_router.ReplicaRouter"
MIDDLEWARE = "newsroom.db_router.ReadYourWritesMiddleware"
ALIAS = re.compile(r"^replica[1-9][0-9]*$")
COOKIE_SALT = "newsroom.db_router.wrote"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FENCE_KEY = "newsroom:replica-fence"

logger = logging.getLogger("newsroom.replicas")


@dataclass
class _Reading:
    alias: str
    wrote: bool = False


# Set only while a reader's page is built on a replica (build_public_page).
_reading = contextvars.ContextVar("newsroom_replica_reading", default=None)
# alias -> time.monotonic() until which this process leaves the replica alone.
_resting = {}


def replica_aliases():
    """The configured replica aliases, in order; empty unless the router is installed."""
    if ROUTER not in settings.DATABASE_ROUTERS:
        return []
    return sorted((alias for alias in settings.DATABASES if ALIAS.match(alias)), key=lambda a: int(a[7:]))


def sticky_seconds():
    return getattr(settings, "NEWSROOM_REPLICA_STICKY_SECONDS", 15)


def retry_seconds():
    return getattr(settings, "NEWSROOM_REPLICA_RETRY_SECONDS", 5)


def wait_seconds():
    return getattr(settings, "NEWSROOM_REPLICA_WAIT_MS", 20) / 1000


def reads_primary():
    """Whether reads made now go to the primary: always, except while a reader's page is built
    on a replica (and has not written). What is kept beyond the page being built (a shared
    fragment, delivery.fragments) is kept only from what the primary said."""
    return ReplicaRouter().db_for_read(None) == DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Reads go to the replica chosen for the current reader's page, else to the primary;
    writes and migrations go to the primary only."""

    def db_for_read(self, model, **hints):
        reading = _reading.get()
        if reading is None or reading.wrote or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return reading.alias

    def db_for_write(self, model, **hints):
        reading = _reading.get()
        if reading is not None:
            reading.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Every alias holds the same data: a story read from a replica may point at a
        # section read from the primary.
        pool = {DEFAULT_DB_ALIAS, *replica_aliases()}
        if obj1._state.db in pool and obj2._state.db in pool:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if ALIAS.match(db):
            return False  # replicas replay the primary's schema
        return None


def cookie_name():
    # Over HTTPS, like the session cookie, with the __Secure- prefix browsers enforce.
    return "__Secure-newsroom_wrote" if settings.SESSION_COOKIE_SECURE else "newsroom_wrote"


def recently_wrote(request):
    """Whether this client made a change less than NEWSROOM_REPLICA_STICKY_SECONDS ago."""
    name = cookie_name()
    if name not in request.COOKIES:
        return False
    value = request.get_signed_cookie(name, default=None, salt=COOKIE_SALT, max_age=sticky_seconds())
    return value is not None


class ReadYourWritesMiddleware:
    """Marks a client that has just sent a change: for NEWSROOM_REPLICA_STICKY_SECONDS its
    pages are built on the primary (see the module docstring). The cookie is signed with a
    timestamp, so it cannot be made to last longer, and it is never set on a response to a
    GET or HEAD, which keeps cacheable pages free of Set-Cookie.

    Always listed in MIDDLEWARE, right after sessions, so the order never changes; it steps
    aside (MiddlewareNotUsed) unless the replica router is installed, i.e. unless
    DATABASE_REPLICA_URLS is set."""

    def __init__(self, get_response):
        if ROUTER not in settings.DATABASE_ROUTERS:
            raise MiddlewareNotUsed("no read replicas (DATABASE_REPLICA_URLS unset)")
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        seconds = sticky_seconds()
        if request.method not in SAFE_METHODS and seconds > 0:
            response.set_signed_cookie(
                cookie_name(),
                "1",
                salt=COOKIE_SALT,
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def _lsn(text):
    """A PostgreSQL WAL position ('16/B374D848') as a number."""
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _resting_now(alias):
    until = _resting.get(alias)
    return until is not None and until > time.monotonic()


def _rest(alias, error):
    _resting[alias] = time.monotonic() + retry_seconds()
    logger.warning("replica %s unavailable, reading the primary for %ss: %s", alias, retry_seconds(), error)
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def forget_failures():
    """Try every replica again at once (after a replica is back, and in tests)."""
    _resting.clear()


# Where the primary's WAL stands: every commit another session can see lies before it. With
# synchronous_commit on (the default) a commit is visible only once flushed, so the written
# position covers it; with it off, a visible commit may not be written yet, so take the
# insert position (a replica reaches it a moment later).
PRIMARY_POSITION = (
    "SELECT CASE WHEN current_setting('synchronous_commit') = 'off' "
    "THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_lsn() END"
)


def _position(alias, sql):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        value = cursor.fetchone()[0]
    return None if value is None else _lsn(value)


def _fence_store():
    # Beside the dependency versions it guards: the same cache alias, shared by every
    # process and by old and new code during a rolling deploy (delivery.cache).
    return versions_cache()


def fence_replicas():
    """Before the page cache bumps versions for a committed change: make sure the fence is at
    or past the primary's WAL position, which lies after that change's commit."""
    if not replica_aliases():
        return
    try:
        position = _position(DEFAULT_DB_ALIAS, PRIMARY_POSITION)
    except DatabaseError as error:
        logger.warning("could not read the primary's WAL position; fence dropped: %s", error)
        drop_fence()
        return
    store = _fence_store()
    for _ in range(5):
        try:
            fence = store.get(FENCE_KEY)
            if fence is None:
                if store.add(FENCE_KEY, position, timeout=None):
                    return
            elif fence >= position:
                return
            else:
                store.incr(FENCE_KEY, position - fence)  # atomic: never lowers the fence
                return
        except ValueError:  # the key vanished between get and incr
            continue
        except Exception as error:  # noqa: BLE001 - the cache is unreachable: its bump is lost too
            logger.warning("could not raise the replica fence: %s", error)
            break
    drop_fence()


def drop_fence(store=None):
    """Forget the fence: until the next change, a replica must reach the primary's current
    position instead. Always safe; used when a raise may have been lost."""
    try:
        (store or _fence_store()).delete(FENCE_KEY)
    except Exception:  # noqa: BLE001 - an unreachable cache keeps no pages either
        pass


def choose_replica(*, current):
    """A replica alias to build a reader's page on, or None for the primary; and whether the
    page may be stored.

    current=True: the page will be cached, so only a replica that has replayed every change
    already bumped (see the module docstring). current=False: any replica that answers.
    """
    candidates = [alias for alias in replica_aliases() if not _resting_now(alias)]
    if not candidates or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        # Inside a transaction on the primary (e.g. a preview, rolled back afterwards)
        # reads must see that transaction's own rows.
        return None, True
    random.shuffle(candidates)
    if not current:
        return candidates[0], True
    fence = _fence_store().get(FENCE_KEY)
    primary = None  # the primary's position, asked for only when a replica is short of the fence
    deadline = time.monotonic() + wait_seconds()
    while True:
        behind = []
        for alias in candidates:
            try:
                # NULL when the server is not in recovery: it is itself a primary, always current.
                replayed = _position(alias, "SELECT pg_last_wal_replay_lsn()")
            except DatabaseError as error:
                _rest(alias, error)
                continue
            if replayed is None or (fence is not None and replayed >= fence):
                return alias, True
            if primary is None:
                try:
                    primary = _position(DEFAULT_DB_ALIAS, PRIMARY_POSITION)
                except (OperationalError, InterfaceError) as error:
                    # The primary is down: readers can still be served from a replica, uncached.
                    logger.warning("primary unavailable, serving readers from a replica uncached: %s", error)
                    return alias, False
            if replayed >= primary:
                return alias, True
            behind.append((alias, primary - replayed))
        if not behind or time.monotonic() >= deadline:
            for alias, lag in behind:
                logger.info("replica %s is %s bytes behind the primary: page built on the primary", alias, lag)
            return None, True
        time.sleep(0.002)
        candidates = [alias for alias, _ in behind]


def build_public_page(request, build, *, for_cache):
    """Run `build()` (a reader's page) on a replica when allowed; return (result, storable).

    `for_cache`: the page will be stored in the page cache, so the replica must be current
    (see the module docstring). Anonymous GET/HEAD only: the caller checks that.
    """
    if not replica_aliases() or recently_wrote(request):
        return build(), True
    alias, storable = choose_replica(current=for_cache)
    if alias is None:
        return build(), True
    token = _reading.set(_Reading(alias))
    try:
        return build(), storable
    except (OperationalError, InterfaceError) as error:
        # A replica that dies, or cancels a query to replay the primary's changes, mid-page:
        # a reader's page only reads, so it is simply built again on the primary.
        _reading.reset(token)
        token = None
        if not connections[alias].is_usable():
            _rest(alias, error)
        else:
            logger.warning("query on replica %s failed, page built on the primary: %s", alias, error)
        return build(), True
    finally:
        if token is not None:
            _reading.reset(token)
