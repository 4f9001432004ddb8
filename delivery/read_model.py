"""The read model: public pages kept render-ready in the database, read without the ORM.

Every public page static publishing would keep (delivery.registry: ``static`` kinds, addresses
without a query string), and the older pages of lists the site links to (``?before=<cursor>``
at a story of the list), is stored as readers get it (delivery.models.StoredPage): status,
body, the view's and the middleware stack's headers, and the dependency keys it shows.

Written
  * when a change commits: the delivery task (delivery.subscribers.deliver) renders the pages
    the registry says show the change, through the full middleware stack, for the site's own
    origin (NEWSROOM_SITE_URL), so the next reader finds them ready;
  * when a reader asks for a page that is not stored (first visit, another origin, a page a
    change deleted and no task has rewritten yet): the page built for that reader is kept;
  * in bulk by ``manage.py build_read_model`` (resumable: it skips what is stored).

Deleted when something it shows changes (`forget`, called where delivery.cache bumps the
dependency keys, after the commit). A change to a story deletes, of story pages, only those
that print that story (its own page, pages showing it as 推荐阅读, 相关新闻 or a neighbour); of
lists, those its placement touches. Each deletion first writes an ``Invalidation`` row per key;
a page whose build began before such a row is not stored, and a page stored just before is
looked up again and deleted, so a page built from the state before a change never outlives it.

A page is served only to the code that rendered it (`current_deploy`): after a deploy every
page is built again on its first request, or at once by ``build_read_model``, and no reader
gets a page of the previous templates.

A page a scheduled story will join is stored with that story's time as its ``expires``: from
then on it is rebuilt on request (no change is saved at that moment).

Read by `lookup` with one statement by primary key (a prepared statement on PostgreSQL), from
delivery.cache before Django's handler runs: no ORM, no URL resolution, no view. The database
connection is the primary's: a replica may still hold a page the primary already deleted.
"""

import json
import logging
import time
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger("newsroom.read_model")

TABLE = "delivery_storedpage"
INVALIDATIONS = "delivery_invalidation"
# Invalidation rows are needed only while a build that began before them may still finish.
KEEP_INVALIDATIONS_SECONDS = 3600
_SELECT = f"SELECT status, content, expires, meta FROM {TABLE} WHERE address = %s AND deploy = %s"
_PREPARED = "newsroom_stored_page"


def enabled():
    return getattr(settings, "NEWSROOM_READ_MODEL", True)


def max_age():
    """Seconds a stored page is served at most, whatever happens (0: no limit). Every write
    through the desk announces itself and deletes what it touches; this bounds how long a write
    behind the desk's back (a shell, a data migration, queryset.update()) stays hidden."""
    return getattr(settings, "NEWSROOM_READ_MODEL_MAX_AGE", 86400)


def _too_old(created, now):
    limit = max_age()
    return bool(limit) and created + limit <= now


def _prepared_statements():
    # Off behind a pooler in transaction mode (PgBouncer), where a session's statements are not kept.
    return getattr(settings, "NEWSROOM_READ_MODEL_PREPARED", True)


def _connection():
    return connections[DEFAULT_DB_ALIAS]


_computed_deploy = None


def current_deploy():
    """What names the running code: NEWSROOM_DEPLOY_ID (set beside REDIS_URL), else the git
    revision, else a hash of the code and templates (newsroom.cache_settings), once per process."""
    global _computed_deploy
    named = getattr(settings, "NEWSROOM_DEPLOY_ID", None)
    if named:
        return named
    if _computed_deploy is None:
        from newsroom import cache_settings

        _computed_deploy = cache_settings.deploy_id(settings.BASE_DIR)
    return _computed_deploy


def origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def site_origin():
    """The origin pages are rendered for when a change commits: the address readers use."""
    return origin_of(getattr(settings, "NEWSROOM_SITE_URL", "http://127.0.0.1:8000"))


def address(origin, path, query=""):
    """The stored page's key: origin, decoded path and the query string as sent, if any
    ("https://news.example.cn/tags/泉城/", "https://news.example.cn/sections/local/?before=…")."""
    return origin + unquote(path) + (f"?{query}" if query else "")


# --- which pages are kept ----------------------------------------------------------------------


def kind_of(view_name):
    """The registry kind of the page answering at `view_name`, if the read model keeps it."""
    from . import registry

    try:
        declared = registry.page(view_name)
    except LookupError:
        return None
    if not declared.static or declared.changes_by_itself:
        return None
    return declared.url_name


def storable(request):
    """The kind of page `request` asks for when the read model may keep it, else None: a bare
    address, or a query string its kind declares (a list's older pages, `PublicPage.queries`)."""
    from . import registry

    match = getattr(request, "resolver_match", None)
    if not enabled() or match is None:
        return None
    kind = kind_of(match.view_name)
    query = request.META.get("QUERY_STRING")
    if kind is not None and query and not registry.page(kind).keeps_query(query):
        return None
    return kind


def printed(request, response):
    """Whether the page built for `request` is one the site itself links to. A list's cursor
    can name any moment; only one at a story of the list is a link some page prints, so the
    number of pages kept stays bounded by the archive (the view tells: `printed_address`)."""
    if not request.META.get("QUERY_STRING"):
        return True
    confirm = getattr(response, "printed_address", None)
    return confirm is not None and bool(confirm())


# --- reading -------------------------------------------------------------------------------------


def _fetch_one(cursor, key):
    connection = _connection()
    if connection.vendor == "postgresql" and _prepared_statements():
        raw = connection.connection
        if getattr(connection, "_newsroom_read_model_prepared", None) is not raw:
            cursor.execute(f"PREPARE {_PREPARED} (text, text) AS {_SELECT.replace('%s', '$1', 1).replace('%s', '$2', 1)}")
            connection._newsroom_read_model_prepared = raw
        cursor.execute(f"EXECUTE {_PREPARED} (%s, %s)", [key, current_deploy()])
    else:
        cursor.execute(_SELECT, [key, current_deploy()])
    return cursor.fetchone()


def _entry(row, now=None):
    """delivery.cache's entry for a stored row, or None when the row has expired."""
    status, content, expires, meta = row
    now = now or time.time()
    if expires is not None and expires <= now:
        return None
    if isinstance(meta, str):
        meta = json.loads(meta)
    if _too_old(meta["created"], now):
        return None
    return {
        "content": bytes(content),
        "status": status,
        "headers": meta["headers"],
        "added": meta["added"],
        "deps": meta["deps"],
        "expires": expires,
        "created": meta["created"],
        "etag": meta["etag"],
        "stored": True,
    }


def _never_stored(path):
    """Paths no stored page can have (static files, photos, the desk): not worth a query."""
    prefixes = getattr(settings, "NEWSROOM_READ_MODEL_SKIP", ("/admin/", "/review/", "/i18n/", "/reads/"))
    return path.startswith((settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/", *prefixes))


def _tidy(connection):
    """What Django does when a request starts (close_old_connections), for a read answered before
    its handler: a connection past CONN_MAX_AGE is closed. Its health check is left to the first
    query that fails (`lookup` then closes it, and Django's handler opens a new one)."""
    if connection.close_at is not None and not connection.in_atomic_block and time.monotonic() >= connection.close_at:
        connection.close_if_unusable_or_obsolete()


def lookup(request):
    """The stored entry for an anonymous GET of `request`, or None.

    Never raises for a database problem: the page is then built as if nothing were stored."""
    if not enabled() or _never_stored(request.path):
        return None
    query = request.META.get("QUERY_STRING", "")
    if query:
        from . import registry

        if not registry.some_page_keeps_query(query):
            return None
    key = address(f"{request.scheme}://{request.get_host()}", request.path, query)
    connection = _connection()
    _tidy(connection)
    try:
        with connection.cursor() as cursor:
            row = _fetch_one(cursor, key)
    except DatabaseError:
        logger.warning("read model: could not read %s", key, exc_info=True)
        if connection.connection is not None and connection.in_atomic_block is False:
            connection.close()  # a broken connection is opened again by the next query
        return None
    return _entry(row) if row is not None else None


def get_many(origin, paths):
    """{path: (status, body, keys)} of the stored, unexpired pages among `paths` for `origin`."""
    wanted = {address(origin, path): path for path in paths}
    if not wanted:
        return {}
    found, now = {}, time.time()
    with _connection().cursor() as cursor:
        marks = ", ".join(["%s"] * len(wanted))
        cursor.execute(
            f"SELECT address, status, content, expires, keys, meta FROM {TABLE} WHERE address IN ({marks}) AND deploy = %s",
            [*wanted, current_deploy()],
        )
        for key, status, content, expires, keys, meta in cursor.fetchall():
            if expires is not None and expires <= now:
                continue
            if _too_old((json.loads(meta) if isinstance(meta, str) else meta)["created"], now):
                continue
            found[wanted[key]] = (status, bytes(content), set(json.loads(keys) if isinstance(keys, str) else keys))
    return found


# --- writing -------------------------------------------------------------------------------------


def begin():
    """A mark taken before a page is built: the newest invalidation so far; None when the
    primary cannot tell (the page is then served, built on a replica if there is one, and not
    stored)."""
    try:
        with _connection().cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {INVALIDATIONS}")
            return cursor.fetchone()[0]
    except DatabaseError:
        logger.warning("read model: the primary did not answer; this page is not stored", exc_info=True)
        return None


def _json(connection):
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _guard_keys(path, keys):
    return sorted({*keys, path_key(path)})


def path_key(path):
    return "path:" + unquote(path)


def store(request, entry, *, kind, mark):
    """Keep the page built for `request` unless a change touching it came after `mark`."""
    origin = f"{request.scheme}://{request.get_host()}"
    path = request.path
    key = address(origin, path, request.META.get("QUERY_STRING", ""))
    keys = sorted(entry["deps"])
    guard = _guard_keys(path, keys)
    meta = {
        "headers": entry["headers"],
        "added": entry.get("added", {}),
        "deps": entry["deps"],
        "created": entry["created"],
        "etag": entry["etag"],
    }
    connection = _connection()
    as_json = _json(connection)
    marks = ", ".join(["%s"] * len(guard))
    newer_change = f"SELECT 1 FROM {INVALIDATIONS} WHERE key IN ({marks}) AND id > %s"
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (address, path, kind, deploy, status, content, expires, meta, keys) "
                f"SELECT %s, %s, %s, %s, %s, %s, %s, {as_json}, {as_json} WHERE NOT EXISTS ({newer_change}) "
                "ON CONFLICT (address) DO UPDATE SET path = EXCLUDED.path, kind = EXCLUDED.kind, deploy = EXCLUDED.deploy, "
                "status = EXCLUDED.status, content = EXCLUDED.content, expires = EXCLUDED.expires, "
                "meta = EXCLUDED.meta, keys = EXCLUDED.keys",
                [
                    key,
                    unquote(path),
                    kind,
                    current_deploy(),
                    entry["status"],
                    entry["content"],
                    _expiry(kind, keys),
                    json.dumps(meta, ensure_ascii=False),
                    json.dumps(keys),
                    *guard,
                    mark,
                ],
            )
            if cursor.rowcount:
                # A change may have deleted pages between the check above and this row's commit.
                cursor.execute(newer_change, [*guard, mark])
                if cursor.fetchone() is not None:
                    cursor.execute(f"DELETE FROM {TABLE} WHERE address = %s", [key])
                    return False
                return True
    except DatabaseError:
        logger.warning("read model: could not store %s", key, exc_info=True)
    return False


def _expiry(kind, keys):
    """When a scheduled story will join this page, or None: the soonest story whose keys, as
    this kind of page declares them, meet the page's (a story page records its section's key
    for the name it prints, but only a section's lists change when a story joins it). Past the
    stories considered, the last one's time bounds every page."""
    keys = set(keys)
    pending, horizon = scheduled_keys()
    for when, by_kind in pending:
        if keys & by_kind.get(kind, frozenset()):
            return when
    return horizon


# How many of the next scheduled stories are looked at; pages are kept at most until the last
# of them goes live (then it is looked at again).
SCHEDULED_CONSIDERED = 50
_scheduled = {"fingerprint": None, "found": ([], None)}


def scheduled_keys():
    """([(time, {kind: keys}), ...], horizon) of the stories still to go live at their scheduled
    time, soonest first; horizon is the last one's time when more are waiting, else None.

    Worked out again only when the scheduled stories changed (one short query tells), so a
    page stored after a change does not pay for it."""
    from django.utils import timezone

    from articles.models import Article

    from . import registry

    now = timezone.now()
    pending = Article.objects.filter(status=Article.Status.SCHEDULED, published_at__gt=now).order_by("published_at")
    # The next stories' ids, times and last changes, read from the (status, published_at) index.
    fingerprint = tuple(pending.values_list("pk", "published_at", "updated_at")[: SCHEDULED_CONSIDERED + 1])
    cached = _scheduled["fingerprint"]
    if cached is not None and cached[0] == fingerprint:
        found, horizon = _scheduled["found"]
    else:
        chosen = list(pending[: SCHEDULED_CONSIDERED + 1])
        horizon = chosen[SCHEDULED_CONSIDERED - 1].published_at.timestamp() if len(chosen) > SCHEDULED_CONSIDERED else None
        found = []
        for article in chosen[:SCHEDULED_CONSIDERED]:
            by_kind = registry.keys_by_kind(registry.shown(article)) or {}
            found.append((article.published_at.timestamp(), {k: frozenset(v) for k, v in by_kind.items()}))
        _scheduled.update(fingerprint=(fingerprint,), found=(found, horizon))
    moment = now.timestamp()
    return [(when, by_kind) for when, by_kind in found if when > moment], horizon


# --- forgetting ----------------------------------------------------------------------------------


class Scope:
    """Which stored pages a change reaches: by kind, the keys that touch that kind (None: every
    key touches every kind), and pages named by path whatever their keys."""

    def __init__(self, by_kind=None, paths=()):
        self.by_kind = by_kind
        self.paths = sorted({unquote(path) for path in paths})


def forget(keys, scope=None):
    """Delete the stored pages a committed change touches (see Scope); never raises."""
    from .registry import SITE

    keys = sorted(set(keys))
    scope = scope or Scope()
    if not keys and not scope.paths:
        return
    connection = _connection()
    guard = [*keys, *(path_key(path) for path in scope.paths)]
    now = time.time()
    try:
        with connection.cursor() as cursor:
            # First the marks (committed on their own), then the deletions: see `store`.
            cursor.executemany(f"INSERT INTO {INVALIDATIONS} (key, at) VALUES (%s, %s)", [(key, now) for key in guard])
            if SITE in keys:
                cursor.execute(f"DELETE FROM {TABLE}")
            else:
                where, params = _where(connection, keys, scope)
                cursor.execute(f"DELETE FROM {TABLE} WHERE {where}", params)
            cursor.execute(f"DELETE FROM {INVALIDATIONS} WHERE at < %s", [now - KEEP_INVALIDATIONS_SECONDS])
    except DatabaseError:
        logger.exception("read model: could not forget the pages showing %s", keys)


def _any_key(connection, keys):
    if connection.vendor == "postgresql":
        return "keys ?| %s", [list(keys)]
    marks = ", ".join(["%s"] * len(keys))
    return f"EXISTS (SELECT 1 FROM json_each({TABLE}.keys) WHERE json_each.value IN ({marks}))", list(keys)


def _where(connection, keys, scope):
    clauses, params = [], []
    if scope.by_kind is None:
        if keys:
            clause, values = _any_key(connection, keys)
            clauses.append(clause)
            params += values
    else:
        for kind, kind_keys in sorted(scope.by_kind.items()):
            kind_keys = sorted(set(kind_keys) & set(keys))
            if kind_keys:
                clause, values = _any_key(connection, kind_keys)
                clauses.append(f"(kind = %s AND {clause})")
                params += [kind, *values]
    if scope.paths:
        marks = ", ".join(["%s"] * len(scope.paths))
        clauses.append(f"path IN ({marks})")
        params += scope.paths
    return " OR ".join(clauses) or "1 = 0", params


def forget_everything():
    """Every stored page goes (a deploy that changes templates: `build_read_model --rebuild`)."""
    from .registry import SITE

    forget({SITE})


# --- rendering for the read model ----------------------------------------------------------------


def refresh(urls, origin=None):
    """Render `urls` for `origin` (the site's by default) and store those the model keeps.

    Runs in the delivery task after a change commits; a page that fails to render is left to be
    built on its first request."""
    if not enabled():
        return 0
    from . import internal

    origin = origin or site_origin()
    written = 0
    for url in urls:
        try:
            response = internal.get(url, origin, refresh_read_model=True)
        except Exception:
            logger.exception("read model: could not render %s", url)
            continue
        written += bool(getattr(response, "read_model_stored", False))
    return written


# --- the whole site ------------------------------------------------------------------------------


def every_path():
    """Every page the read model keeps, streamed (delivery.registry's static pages, first pages
    of lists only, without those that change by themselves)."""
    from . import registry

    for declared in registry.pages():
        if declared.static and not declared.changes_by_itself:
            for instance in declared.instances():
                yield declared.path(instance.kwargs)


def count_paths():
    from . import registry

    return sum(
        declared.count() if declared.count else 1
        for declared in registry.pages()
        if declared.static and not declared.changes_by_itself
    )


def chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(paths, origin=None, *, rebuild=False):
    """Store the pages among `paths` the model lacks (all of them with `rebuild`).

    Returns (stored, already stored, failed paths)."""
    origin = origin or site_origin()
    have = {} if rebuild else get_many(origin, paths)
    todo = [path for path in paths if path not in have]
    stored = refresh(todo, origin)
    failed = []
    if stored < len(todo):
        kept = get_many(origin, todo)  # once: asked per path, this read every page once per path
        failed = [path for path in todo if path not in kept]
    return stored, len(have), failed
