"""Full-page caching for anonymous readers, refreshed by dependency, never by hand.

A cached page is stored with the *versions* of the dependency keys it showed
(see delivery.registry). A change bumps a key's version; a page whose recorded
versions no longer match is rebuilt on its next request. Versions live in the cache alias
"dependencies" when it exists (Redis, shared by every process and by old and new code
during a deploy; see newsroom/cache_settings.py), else beside the pages in "default"
(local memory on a laptop).

A page also expires when the next scheduled story goes live, because that story
appears without any save (published() decides by time), and its Cache-Control
lifetime never reaches past that moment either. Responses carry ETag and
Last-Modified and answer conditional requests with 304, so a CDN can sit in front.
Browsers are told max-age=0 (they ask again each time, mostly for a 304); shared caches
keep their own lifetime, s-maxage.

Requests carrying a session cookie (staff) are never served from or stored in the cache.

With read replicas configured, anonymous pages are built on a replica when that cannot put
an out-of-date page in the cache (newsroom.db_router explains the rule); everything else
reads the primary.

A hit is answered before the rest of the site runs: by serve_hits_first (the WSGI
application in newsroom.wsgi, before Django's handler) or by PageCacheMiddleware (first in
MIDDLEWARE; it also answers 304s). The entry holds, besides the view's own headers, the
headers the middleware stack added when the page was built (security headers, CSP,
Content-Language, ...), recorded on the way out of the first full request, so a hit carries
exactly what the full stack would have sent. Until an entry has them (and for pages that set
cookies or whose policy has a nonce), cached_page serves it inside the stack as before.
"""

import functools
import hashlib
import logging
import time
from http.client import responses

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from cdn import headers as cdn_headers
from newsroom import cache_settings, db_router, request_log

from . import read_model

PAGE_PREFIX = "newsroom:page:"
VERSION_PREFIX = "newsroom:dep:"
NEXT_SCHEDULED_KEY = "newsroom:next-scheduled"
KEPT_HEADERS = ("Content-Type", "Content-Language", "Location")


def page_seconds():
    """How long a page may be kept at most (the cache entry), in seconds; 0 turns caching off."""
    return getattr(settings, "NEWSROOM_PAGE_CACHE_SECONDS", 600)


def browser_seconds():
    """How long browsers may reuse a page without asking: none by default, so a withdrawn or
    corrected story is never kept; they ask again with If-None-Match / If-Modified-Since and
    an unchanged page costs a 304."""
    return getattr(settings, "NEWSROOM_PAGE_MAX_AGE", 0)


def shared_seconds():
    """How long a shared cache (nginx's page cache) may keep a page when no CDN is configured
    (with one, cdn.headers gives NEWSROOM_CDN_MAX_AGE instead)."""
    return getattr(settings, "NEWSROOM_PAGE_SHARED_MAX_AGE", 60)


def dependency_cache():
    """Where dependency versions and the next scheduled time are kept."""
    return cache_settings.versions_cache()  # the rule is newsroom's: db_router keeps its fence there too


def _version_key(key):
    return VERSION_PREFIX + key


def invalidate(keys, scope=None):
    """Mark every cached page that showed any of `keys` as stale, and delete the stored pages
    (delivery.read_model) it touches, within `scope` (a read_model.Scope; by default every page
    recording one of the keys), after the change committed."""
    db_router.fence_replicas()  # first: a page rebuilt after the bump must not come from behind it
    now = time.time_ns()
    dependency_cache().set_many({_version_key(key): now for key in keys}, timeout=None)
    if read_model.enabled():
        read_model.forget(keys, scope)


def refresh_every_page(versions=None):
    """Make every cached page stale and forget the next scheduled time.

    Run by the Redis backend when Redis answers again after a failure (see
    newsroom/cache_backends.py): a bump dropped meanwhile is covered, since every page
    depends on the site key."""
    from .registry import SITE

    versions = versions or dependency_cache()
    # A replica fence raised during the outage was lost like the bumps: forget it first, so
    # pages rebuilt after this refresh come from a replica only once it has all the primary has.
    db_router.drop_fence(versions)
    versions.set(_version_key(SITE), time.time_ns(), timeout=None)
    versions.delete(NEXT_SCHEDULED_KEY)


def _stored_versions(keys):
    """({key: its name in the versions cache}, {name: version} of those stored): one read."""
    names = {key: _version_key(key) for key in keys}
    return names, dependency_cache().get_many(list(names.values()))


def known_versions(keys):
    """The versions of `keys`, or None if one was never bumped (or was evicted): then only a
    page's build gives it one (current_versions), dated before that page began."""
    names, found = _stored_versions(keys)
    if len(found) < len(names):
        return None
    return {key: found[name] for key, name in names.items()}


def current_versions(keys, *, missing):
    """The versions of `keys`; a key never bumped (or evicted) takes the value `missing`."""
    versions_cache = dependency_cache()
    names, found = _stored_versions(keys)
    versions, absent = {}, {}
    for key, name in names.items():
        if name in found:
            versions[key] = found[name]
        else:
            versions[key] = absent[name] = missing
    if absent:
        for name, value in absent.items():
            if not versions_cache.add(name, value, timeout=None):
                # Another process set it meanwhile: take theirs.
                versions[name[len(VERSION_PREFIX) :]] = versions_cache.get(name)
    return versions


def forget_next_scheduled():
    dependency_cache().delete(NEXT_SCHEDULED_KEY)


def next_scheduled_time():
    """Unix time when the next scheduled story goes live, or None; cached until a story changes."""
    value = dependency_cache().get(NEXT_SCHEDULED_KEY)
    now = time.time()
    if value is None or (value and value <= now):
        from django.db import connection
        from django.utils import timezone

        from articles.models import Article

        # Written out: where no dependency cache keeps the answer (a dummy cache, Redis down),
        # every page built asks, and the ORM's version cost twice the process time.
        now_param = connection.ops.adapt_datetimefield_value(timezone.now())
        when = next(iter(Article.objects.raw(
            f"SELECT id, published_at FROM {Article._meta.db_table} WHERE status = %s AND published_at > %s"
            " ORDER BY published_at LIMIT 1",
            [Article.Status.SCHEDULED, now_param],
        )), None)
        value = when.published_at.timestamp() if when else 0
        dependency_cache().set(NEXT_SCHEDULED_KEY, value, timeout=page_seconds() or None)
    return value or None


def _is_anonymous(request):
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def _eligible(request):
    """Whether this request may be answered from (and stored in) the page cache."""
    return (
        request.method in ("GET", "HEAD")
        and not getattr(request, "skip_page_cache", False)
        and _is_anonymous(request)
        and (page_seconds() > 0 or read_model.enabled())
    )


def _key_for(request):
    # The scheme and host are part of the page (canonical and Open Graph addresses), and
    # HSTS is sent over HTTPS only: one entry per origin. get_host() refuses hosts not in
    # ALLOWED_HOSTS (DisallowedHost), as the full stack would.
    origin = f"{request.scheme}://{request.get_host()}"
    digest = hashlib.sha256((origin + request.get_full_path()).encode()).hexdigest()
    return PAGE_PREFIX + digest


def _lifetime(expires, seconds=None):
    seconds = browser_seconds() if seconds is None else seconds
    if expires:
        seconds = max(0, min(seconds, int(expires - time.time())))
    return seconds


# Request headers that can turn a page into a 304 or a 412 (get_conditional_response).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def _finish(request, response, entry):
    response["ETag"] = entry["etag"]
    response["Last-Modified"] = http_date(entry["created"])
    seconds = _lifetime(entry["expires"])
    if "Cache-Control" in response:
        patch_cache_control(response, public=True, max_age=seconds)
    else:
        # What patch_cache_control writes on a response without the header, without parsing.
        response["Cache-Control"] = f"public, max-age={seconds}"
    if cdn_headers.shared_lifetime(entry["expires"]) is None:
        patch_cache_control(response, s_maxage=_lifetime(entry["expires"], shared_seconds()))
    else:
        cdn_headers.patch_shared_lifetime(response, entry["expires"])
    meta = request.META
    if not any(name in meta for name in _CONDITIONAL):
        return response
    return get_conditional_response(
        request, etag=entry["etag"], last_modified=int(entry["created"]), response=response
    )


def _from_entry(entry):
    response = HttpResponse(entry["content"], status=entry["status"])
    for name, value in entry["headers"].items():
        response[name] = value
    response["X-Page-Cache"] = "hit"
    return response


def _fresh(entry):
    if entry["expires"] and entry["expires"] <= time.time():
        return False
    versions = current_versions(entry["deps"].keys(), missing=-1)
    return versions == entry["deps"]


def _remaining_seconds(entry):
    """How much longer `entry` may stay in the cache, from when it was made (or, for a page
    read from the read model, current when read, from then)."""
    timeout = page_seconds() - (time.time() - entry.get("read", entry["created"]))
    if entry["expires"]:
        timeout = min(timeout, entry["expires"] - time.time())
    return max(1, int(timeout))


# Headers the response of a hit sets from the entry itself, per request (the lifetime left,
# hit or miss): never recorded as added by the middleware stack.
_PER_REQUEST = {
    "cache-control",
    "etag",
    "last-modified",
    "x-page-cache",
    # The CDN's lifetime shrinks as the next scheduled time nears (cdn.headers).
    "surrogate-control",
    "x-accel-expires",
    # Each request has its own id (newsroom.request_log); a hit answered before the
    # middleware stack makes its own.
    "x-request-id",
}


def _headers_added(entry, response):
    """The headers the middleware stack set (or changed) on top of those the entry replays."""
    view_headers = {name.lower(): value for name, value in entry["headers"].items()}
    return {
        name: value
        for name, value in response.items()
        if name.lower() not in _PER_REQUEST and view_headers.get(name.lower()) != value
    }


def _lookup(request):
    """(key, fresh entry or None) for a request the page cache may answer, else None."""
    if not _eligible(request):
        return None
    try:
        key = _key_for(request)
    except DisallowedHost:
        return None  # the stack answers 400
    if getattr(request, "refresh_read_model", False):
        return key, None  # render it again for the read model, whatever is kept
    caching = page_seconds() > 0
    entry = cache.get(key) if caching else None
    if entry is not None and not _fresh(entry):
        entry = None
    if entry is None:
        read_started = time.time_ns()
        entry = read_model.lookup(request)
        if entry is not None and caching:
            # Current as read (a change deletes it first): kept here against this moment's
            # versions, unless a key was bumped while it was being read.
            versions = current_versions(entry["deps"].keys(), missing=read_started - 1)
            if all(not isinstance(v, int) or v < read_started for v in versions.values()):
                entry = {**entry, "deps": versions, "read": time.time()}
                cache.set(key, entry, timeout=_remaining_seconds(entry))
    return key, entry


def _lifetime_headers(expires):
    """Cache-Control as _finish writes it, and the CDN's lifetime headers when a CDN is on."""
    cache_control = f"public, max-age={_lifetime(expires)}"
    shared = cdn_headers.shared_lifetime(expires)
    if shared is None:
        return [("Cache-Control", f"{cache_control}, s-maxage={_lifetime(expires, shared_seconds())}")]
    return [
        ("Cache-Control", f"{cache_control}, s-maxage={shared}"),
        ("Surrogate-Control", f"max-age={shared}"),
        ("X-Accel-Expires", "0"),
    ]


def _hit_headers(entry):
    """The headers of a hit on a complete entry (unconditional request), in the order and form
    the full stack gives them: the view's, this hit's (what _finish sets), then the stack's."""
    headers = {}
    for name, value in (
        *entry["headers"].items(),
        ("X-Page-Cache", "hit"),
        ("ETag", entry["etag"]),
        ("Last-Modified", http_date(entry["created"])),
        *_lifetime_headers(entry["expires"]),
        *entry["added"].items(),
    ):
        headers[name.lower()] = (name, value)
    return list(headers.values())


def _replay(request, entry):
    """The response the full stack would give for a complete `entry`."""
    meta = request.META
    if not any(name in meta for name in _CONDITIONAL):
        response = HttpResponse(entry["content"], status=entry["status"])
        for name, value in _hit_headers(entry):
            response[name] = value
        return response
    response = _finish(request, _from_entry(entry), entry)
    for name, value in entry["added"].items():
        response[name] = value
    if "Content-Length" in response:
        # Framing, not content: a 304 carries none of the page (CommonMiddleware sets 0).
        response["Content-Length"] = str(len(response.content))
    return response


class PageCacheMiddleware:
    """Answer anonymous page-cache hits before the rest of the middleware stack runs.

    Goes first in MIDDLEWARE. A hit costs a cache read for the entry and one for its
    dependency versions, with no session, CSRF, locale, URL resolution or view. On a miss
    (or an entry not yet complete) the request goes through the stack as usual, and the
    page cached_page built is stored here, with the headers the stack added on the way out.
    Conditional requests are answered here too (304); If-Match and If-Unmodified-Since,
    which a reader's browser does not send for a page, take the full stack.

    Middleware whose headers differ per request (a request id, a nonce) must come before
    this one: what it adds after this point is replayed on every hit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = _lookup(request)
        if found is None:
            return self.get_response(request)
        key, entry = found
        meta = request.META
        if (
            entry is not None
            and "added" in entry
            and "HTTP_IF_MATCH" not in meta
            and "HTTP_IF_UNMODIFIED_SINCE" not in meta
        ):
            return _replay(request, entry)
        # Tell cached_page what was found, so it neither looks again nor stores by itself.
        request.page_cache_lookup = found
        response = self.get_response(request)
        pending = getattr(response, "page_cache_pending", None)
        if pending is not None:
            entry, new = pending
            complete = (
                response.status_code == entry["status"]
                and not response.cookies
                and not response.streaming
                # A nonce is good for one response only: such a page is never replayed whole.
                and "'nonce-" not in response.get("Content-Security-Policy", "")
            )
            if complete:
                entry["added"] = _headers_added(entry, response)
            if (new or complete) and page_seconds() > 0 and not getattr(request, "refresh_read_model", False):
                cache.set(key, entry, timeout=_remaining_seconds(entry))
            kind = getattr(request, "read_model_kind", None)
            if new and complete and kind is not None and read_model.printed(request, response):
                response.read_model_stored = read_model.store(
                    request, entry, kind=kind, mark=request.read_model_mark
                )
        return response


def _status_line(entry):
    return f"{entry['status']} {responses[entry['status']]}"


class ReadyHits:
    """The pages this process is asked for most, laid out for sending: a hit on one skips
    building a request, hashing its cache key, unpickling the entry and laying out its headers.

    Keyed by what of the WSGI environ makes the page's address (scheme, host, path, query), and
    let in only after a full lookup served it (so its host was checked against ALLOWED_HOSTS).
    Every use checks what a cache hit checks: the dependency versions the page recorded (any
    change bumps them: in this process, or through Redis in every process), its expiry (the next
    scheduled story), and how long the page cache may keep it. At `LIMIT` pages, or `BUDGET`
    bytes of bodies, it starts again empty: the pages asked for often come back at once. A body
    over `LARGEST` bytes (a sitemap of 50,000 stories) is never kept here: sending its bytes
    costs more than finding it, and a worker's memory stays bounded (`BUDGET` at most)."""

    LIMIT = 256
    BUDGET = 16 * 1024 * 1024
    LARGEST = 256 * 1024
    ADDRESS = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING")

    def __init__(self):
        self.pages = {}
        self.bytes = 0
        self.address_keys = None

    def clear(self, **kwargs):
        """Forget every page and the settings read (setting_changed calls it)."""
        self._empty()
        self.address_keys = None

    def _empty(self):
        self.pages.clear()
        self.bytes = 0

    def _drop(self, address):
        ready = self.pages.pop(address, None)
        if ready is not None:
            self.bytes -= len(ready[1]["content"])

    def _keys(self):
        """The environ names request.scheme and request.get_host() read under these settings."""
        if self.address_keys is None:
            keys = list(self.ADDRESS)
            if settings.SECURE_PROXY_SSL_HEADER:
                keys.append(settings.SECURE_PROXY_SSL_HEADER[0])
            if settings.USE_X_FORWARDED_HOST:
                keys.append("HTTP_X_FORWARDED_HOST")
            if settings.USE_X_FORWARDED_PORT:
                keys.append("HTTP_X_FORWARDED_PORT")
            self.address_keys = tuple(keys)
        return self.address_keys

    def address(self, environ):
        if settings.SESSION_COOKIE_NAME in environ.get("HTTP_COOKIE", ""):
            return None  # perhaps signed in: never from here (a lookup decides properly)
        return tuple(environ.get(name) for name in self._keys())

    def keep(self, address, entry):
        seconds = page_seconds()
        size = len(entry["content"])
        if address is None or seconds <= 0 or size > self.LARGEST:
            return
        self._drop(address)
        if len(self.pages) >= self.LIMIT or self.bytes + size > self.BUDGET:
            self._empty()
        self.bytes += size
        until = entry.get("read", entry["created"]) + seconds
        # [until, entry, status line, headers, the second they were laid out for, the
        # dependency cache's generation when the versions last matched]
        self.pages[address] = [until, entry, _status_line(entry), None, None, None]

    def get(self, address):
        """(status line, headers, entry) when the page kept for `address` is still current."""
        ready = self.pages.get(address)
        if ready is None:
            return None
        until, entry, status, headers, second, checked = ready
        now = time.time()
        expires = entry["expires"]
        if now >= until or (expires and expires <= now) or page_seconds() <= 0:
            self._drop(address)
            return None
        # A local-memory cache tells whether anything in it changed since the versions last
        # matched (read before comparing: a bump meanwhile makes the next hit compare again).
        # Redis, shared by every process, is asked each time.
        generation = getattr(dependency_cache(), "generation", None)
        if generation is None or generation != checked:
            if current_versions(entry["deps"].keys(), missing=-1) != entry["deps"]:
                self._drop(address)
                return None
            ready[5] = generation
        # Lifetimes count down to the expiry by the second, as _lifetime computes them.
        remaining = int(expires - now) if expires else None
        if headers is None or remaining != second:
            headers = _hit_headers(entry)
            ready[3], ready[4] = headers, remaining
        return status, headers, entry


ready_hits = ReadyHits()
setting_changed.connect(ready_hits.clear, dispatch_uid="delivery.cache.ready_hits")


def serve_hits_first(django_application):
    """The WSGI application: anonymous page-cache hits answered before Django's handler.

    Production (gunicorn newsroom.wsgi) and runserver go through this; a hit then costs less
    than the simplest Django view (no request signals, no response object), with the same
    status, headers and body PageCacheMiddleware would give. Conditional requests, misses and
    everything else go to Django, where PageCacheMiddleware answers 304s and records pages.
    """
    logger = logging.getLogger("newsroom.faults")

    def application(environ, start_response):
        started = time.perf_counter()
        if (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and not any(name in environ for name in _CONDITIONAL)
            and (page_seconds() > 0 or read_model.enabled())
        ):
            try:
                address = ready_hits.address(environ)
                ready = ready_hits.get(address)
                if ready is None:
                    # A copy: WSGIRequest writes the decoded path back into the environ it gets,
                    # which Django's handler would then fail to decode a second time.
                    found = _lookup(WSGIRequest(environ.copy()))
                    if found is not None and found[1] is not None and "added" in found[1]:
                        entry = found[1]
                        ready_hits.keep(address, entry)
                        ready = _status_line(entry), _hit_headers(entry), entry
            except Exception:  # an optimisation must not fail a request: Django answers it
                logger.exception("page cache fast path failed; serving through Django")
                ready = None
            if ready is not None:
                status, headers, entry = ready
                request_id = request_log.request_id_from(environ.get("HTTP_X_REQUEST_ID"))
                start_response(status, [*headers, (request_log.HEADER, request_id)])
                if request_log.access_logger.isEnabledFor(logging.INFO):
                    request_log.log_hit(environ, entry["status"], request_id, time.perf_counter() - started)
                return [entry["content"]]
        return django_application(environ, start_response)

    return application


def cached_page(view):
    """Serve `view` from the page cache for anonymous GET/HEAD; the view names its dependencies
    by setting `response.dependency_keys` (a set of keys from delivery.registry)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "skip_page_cache", False):
            # The static publisher renders straight from the database: always current,
            # and a rebuild of every page does not flood the cache.
            return view(request, *args, **kwargs)
        if not _eligible(request):
            if request.method in ("GET", "HEAD") and _is_anonymous(request) and not page_seconds():
                # No page cache: an anonymous page may still be read from a replica.
                response, _ = db_router.build_public_page(
                    request, lambda: view(request, *args, **kwargs), for_cache=False
                )
            else:
                response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        # PageCacheMiddleware has looked the page up already; without it, look here.
        lookup = getattr(request, "page_cache_lookup", None)
        found = lookup if lookup is not None else _lookup(request)
        key, entry = found if found is not None else (_key_for(request), None)  # a bad host raises here
        if entry is not None:
            response = _finish(request, _from_entry(entry), entry)
            if lookup is not None and "added" not in entry:
                # Served inside the stack: let the middleware record what the stack adds.
                response.page_cache_pending = (entry, False)
            return response

        started = time.time_ns()
        kind = read_model.storable(request) if lookup is not None else None
        if kind is not None:
            # Taken before the page reads anything: a change after it keeps the page out of the model.
            mark = read_model.begin()
            request.read_model_kind, request.read_model_mark = (kind if mark is not None else None), mark

        def build():
            response = view(request, *args, **kwargs)
            keep = response.status_code in (200, 410) and not response.streaming
            # Read where the page was read: a replica that was current when the build began.
            return response, (next_scheduled_time() if keep else None)

        (response, expires), storable = db_router.build_public_page(request, build, for_cache=True)
        if response.status_code not in (200, 410) or response.streaming:
            return response
        from .registry import SITE

        deps = set(getattr(response, "dependency_keys", ())) | {SITE}
        versions = current_versions(deps, missing=started - 1)
        content = response.content
        entry = {
            "content": content,
            "status": response.status_code,
            "headers": {name: response[name] for name in KEPT_HEADERS if name in response},
            "deps": versions,
            "expires": expires,
            "created": time.time(),
            "etag": '"%s"' % hashlib.md5(content, usedforsecurity=False).hexdigest(),
        }
        # Kept with the entry, so cache hits name the same surrogate keys to the CDN.
        for name, value in cdn_headers.key_headers(deps).items():
            response[name] = entry["headers"][name] = value
        # A change made while the page was being built bumps a key past `started`: then the
        # page may already be out of date, so it is served but not kept.
        keep = storable and all(not isinstance(v, int) or v < started for v in versions.values())
        if not keep:
            entry["expires"] = time.time()  # nobody (browser, CDN) may keep what may be stale
            request.read_model_kind = None
        elif lookup is None and page_seconds() > 0:
            cache.set(key, entry, timeout=_remaining_seconds(entry))
        response["X-Page-Cache"] = "miss"
        response = _finish(request, response, entry)
        if keep and lookup is not None:
            # PageCacheMiddleware stores it, with the headers the stack adds.
            response.page_cache_pending = (entry, True)
        return response

    return wrapper


def purge_article_cache(pk):
    """Refresh every copy of the pages showing story `pk`: the page cache, static files, the CDN.

    Every write through the desk announces its change (articles.events); this is for a change
    made behind its back (queryset.update(), raw SQL, a shell), described as the story stands now."""
    from articles import events
    from articles.models import Article

    from . import subscribers

    article = Article.objects.filter(pk=pk).first()
    if article is not None:
        placement = events.Placement.of(article)
        subscribers.story_changed(events.StoryChanged(article.pk, "purge", before=placement, after=placement))
