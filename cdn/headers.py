"""What a public page tells the CDN in front: its surrogate keys and how long to keep it.

A page's surrogate keys are its dependency keys (delivery.registry: "story:12" becomes
``story-12``), so a purge by key reaches exactly the pages the local page cache refreshes.
They go out in every header named by NEWSROOM_CDN_KEY_HEADERS: space-separated in
``Surrogate-Key`` (and ``xkey``), comma-separated in ``Cache-Tag`` and ``Edge-Cache-Tag``.

Shared caches may keep a page for NEWSROOM_CDN_MAX_AGE (``s-maxage`` and
``Surrogate-Control``), never past the time the next scheduled story goes live; browsers
keep the short ``max-age`` delivery.cache gives them; an nginx page cache between the CDN and
the app keeps nothing (``X-Accel-Expires: 0``), since purges do not reach it. Nothing is
added when no CDN is configured, and staff responses (private, no-cache) never get any of it.
"""

import logging
import time

from django.core.exceptions import ImproperlyConfigured
from django.utils.cache import patch_cache_control

from . import conf

logger = logging.getLogger("newsroom.cdn")

# Headers whose keys are separated by spaces; every other header gets commas.
SPACE_SEPARATED = {"surrogate-key", "xkey"}


def surrogate_key(key, prefix=""):
    """The CDN's name for dependency key `key` ("story:12" -> "story-12")."""
    name = key.replace(":", "-")
    return f"{prefix}-{name}" if prefix else name


_reported = set()


def _config():
    try:
        return conf.config()
    except ImproperlyConfigured as error:
        # `manage.py check` reports it too; reader pages are served all the same, and the
        # log says it once per process, not once per page.
        if str(error) not in _reported:
            _reported.add(str(error))
            logger.error("CDN headers left out: %s", error)
        return None


def key_headers(keys):
    """{header: value} naming `keys` (dependency keys) for the CDN; empty when the CDN is off."""
    cfg = _config() if conf.enabled() else None
    if cfg is None or not cfg.key_headers or not keys:
        return {}
    names = sorted({surrogate_key(key, cfg.key_prefix) for key in keys})
    return {
        header: (" " if header.lower() in SPACE_SEPARATED else ",").join(names) for header in cfg.key_headers
    }


def shared_lifetime(expires=None):
    """Seconds shared caches may keep a page: NEWSROOM_CDN_MAX_AGE, or until `expires` (Unix
    time) if sooner; None when no CDN is configured."""
    cfg = _config() if conf.enabled() else None
    if cfg is None:
        return None
    seconds = cfg.max_age
    if expires:
        seconds = max(0, min(seconds, int(expires - time.time())))
    return seconds


def patch_shared_lifetime(response, expires=None):
    """Let shared caches keep `response` for NEWSROOM_CDN_MAX_AGE, or until `expires` (Unix time)."""
    seconds = shared_lifetime(expires)
    if seconds is None:
        return response
    patch_cache_control(response, s_maxage=seconds)
    response["Surrogate-Control"] = f"max-age={seconds}"
    # nginx's own page cache (deploy/nginx/newsroom-proxy.conf) reads s-maxage too, but no
    # purge reaches it: a CDN coming back for a purged page would get nginx's old copy and
    # keep it for `seconds`. X-Accel-Expires: 0 tells nginx alone not to keep the page (nginx
    # does not pass it on); the page cache in Redis still spares the database.
    response["X-Accel-Expires"] = "0"
    return response
