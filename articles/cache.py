"""Full-page caching for anonymous readers, refreshed by dependency, never by hand.

A cached page is stored with the *versions* of the dependency keys it showed
(see articles.dependencies). A change bumps a key's version; a page whose recorded
versions no longer match is rebuilt on its next request. Versions live in the cache alias
"dependencies" when it exists (Redis, shared by every process and by old and new code
during a deploy; see newsroom/cache_settings.py), else beside the pages in "default"
(local memory on a laptop).

A page also expires when the next scheduled story goes live, because that story
appears without any save (published() decides by time), and its Cache-Control
lifetime never reaches past that moment either. Responses carry ETag and
Last-Modified and answer conditional requests with 304, so a CDN can sit in front.

Requests carrying a session cookie (staff) are never served from or stored in the cache.

With read replicas configured, anonymous pages are built on a replica when that cannot put
an out-of-date page in the cache (newsroom.db_router explains the rule); everything else
reads the primary.
"""

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from cdn import headers as cdn_headers
from newsroom import db_router

PAGE_PREFIX = "newsroom:page:"
VERSION_PREFIX = "newsroom:dep:"
NEXT_SCHEDULED_KEY = "newsroom:next-scheduled"
KEPT_HEADERS = ("Content-Type", "Content-Language", "Location")


def page_seconds():
    """How long a page may be kept at most (the cache entry), in seconds; 0 turns caching off."""
    return getattr(settings, "NEWSROOM_PAGE_CACHE_SECONDS", 600)


def browser_seconds():
    """How long browsers and CDNs may reuse a page without asking."""
    return getattr(settings, "NEWSROOM_PAGE_MAX_AGE", 60)


DEPENDENCY_ALIAS = "dependencies"


def dependency_cache():
    """Where dependency versions and the next scheduled time are kept."""
    return caches[DEPENDENCY_ALIAS] if DEPENDENCY_ALIAS in settings.CACHES else cache


def _version_key(key):
    return VERSION_PREFIX + key


def invalidate(keys):
    """Mark every cached page that showed any of `keys` as stale (after the change committed)."""
    db_router.fence_replicas()  # first: a page rebuilt after the bump must not come from behind it
    now = time.time_ns()
    dependency_cache().set_many({_version_key(key): now for key in keys}, timeout=None)


def refresh_every_page(versions=None):
    """Make every cached page stale and forget the next scheduled time.

    Run by the Redis backend when Redis answers again after a failure (see
    newsroom/cache_backends.py): a bump dropped meanwhile is covered, since every page
    depends on the site key."""
    from .dependencies import SITE

    versions = versions or dependency_cache()
    # A replica fence raised during the outage was lost like the bumps: forget it first, so
    # pages rebuilt after this refresh come from a replica only once it has all the primary has.
    db_router.drop_fence(versions)
    versions.set(_version_key(SITE), time.time_ns(), timeout=None)
    versions.delete(NEXT_SCHEDULED_KEY)


def current_versions(keys, *, missing):
    """The versions of `keys`; a key never bumped (or evicted) takes the value `missing`."""
    versions_cache = dependency_cache()
    names = {key: _version_key(key) for key in keys}
    found = versions_cache.get_many(list(names.values()))
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
        from django.utils import timezone

        from .models import Article

        when = (
            Article.objects.filter(status=Article.Status.SCHEDULED, published_at__gt=timezone.now())
            .order_by("published_at")
            .values_list("published_at", flat=True)
            .first()
        )
        value = when.timestamp() if when else 0
        dependency_cache().set(NEXT_SCHEDULED_KEY, value, timeout=page_seconds() or None)
    return value or None


def _is_anonymous(request):
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def _key_for(request):
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return PAGE_PREFIX + digest


def _lifetime(expires):
    seconds = browser_seconds()
    if expires:
        seconds = max(0, min(seconds, int(expires - time.time())))
    return seconds


def _finish(request, response, entry):
    response["ETag"] = entry["etag"]
    response["Last-Modified"] = http_date(entry["created"])
    seconds = _lifetime(entry["expires"])
    patch_cache_control(response, public=True, max_age=seconds)
    cdn_headers.patch_shared_lifetime(response, entry["expires"])
    conditional = get_conditional_response(
        request, etag=entry["etag"], last_modified=int(entry["created"]), response=response
    )
    return conditional


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


def cached_page(view):
    """Serve `view` from the page cache for anonymous GET/HEAD; the view names its dependencies
    by setting `response.dependency_keys` (a set of keys from articles.dependencies)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "skip_page_cache", False):
            # The static publisher renders straight from the database: always current,
            # and a rebuild of every page does not flood the cache.
            return view(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or not _is_anonymous(request):
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        if not page_seconds():
            response, _ = db_router.build_public_page(request, lambda: view(request, *args, **kwargs), for_cache=False)
            patch_cache_control(response, private=True, no_cache=True)
            return response
        key = _key_for(request)
        entry = cache.get(key)
        if entry is not None and _fresh(entry):
            return _finish(request, _from_entry(entry), entry)

        started = time.time_ns()

        def build():
            response = view(request, *args, **kwargs)
            keep = response.status_code in (200, 410) and not response.streaming
            # Read where the page was read: a replica that was current when the build began.
            return response, (next_scheduled_time() if keep else None)

        (response, expires), storable = db_router.build_public_page(request, build, for_cache=True)
        if response.status_code not in (200, 410) or response.streaming:
            return response
        from .dependencies import SITE

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
        if storable and all(not isinstance(v, int) or v < started for v in versions.values()):
            timeout = page_seconds()
            if entry["expires"]:
                timeout = max(1, min(timeout, int(entry["expires"] - time.time())))
            cache.set(key, entry, timeout=timeout)
        else:
            entry["expires"] = time.time()  # nobody (browser, CDN) may keep what may be stale
        response["X-Page-Cache"] = "miss"
        return _finish(request, response, entry)

    return wrapper


def purge_article_cache(pk):
    """Refresh every cached page showing story `pk` now (e.g. from a workflow step or a shell).

    Saving through the ORM already does this via model signals; this is for changes made
    behind the ORM's back (queryset.update(), raw SQL)."""
    from .dependencies import invalidate_article
    from .models import Article

    article = Article.objects.filter(pk=pk).first()
    if article is not None:
        invalidate_article(article)
