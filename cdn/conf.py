"""The CDN settings, read and checked in one place.

`config()` turns the NEWSROOM_CDN_* settings into a `Config`, or raises ImproperlyConfigured
saying which variable is wrong and how to fix it. `manage.py check` reports the same message
(cdn/checks.py), so a bad configuration shows up at deploy time, not at the first purge.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("http-purge", "api")
PURGE_BY = ("urls", "keys")


@dataclass(frozen=True)
class Config:
    backend: str  # "" when off
    base_urls: tuple = ()
    servers: tuple = ()
    api_url: str = ""
    api_token: str = ""
    api_batch: int = 30
    purge_by: frozenset = frozenset(PURGE_BY)
    key_headers: tuple = ("Surrogate-Key", "Cache-Tag")
    key_prefix: str = ""
    max_age: int = 3600
    timeout: float = 2.0
    attempts: int = 3

    @property
    def enabled(self):
        return bool(self.backend)


def _setting(name, default):
    return getattr(settings, name, default)


def _as_list(value):
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item).strip() for item in value or () if str(item).strip()]


def _number(name, default, kind, minimum):
    raw = _setting(name, default)
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw!r}.")
    return value


def _origin(name, value, *, path_allowed=False):
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"{name}: {value!r} is not an http:// or https:// address.")
    if not path_allowed and parts.path not in ("", "/"):
        raise ImproperlyConfigured(f"{name}: {value!r} must be an origin only (no path), e.g. https://news.example.cn.")
    return value.rstrip("/") if not path_allowed else value


def config():
    """The CDN configuration now in force (settings may change in tests: not cached)."""
    backend = (_setting("NEWSROOM_CDN_BACKEND", "") or "").strip().lower()
    if not backend:
        return Config(backend="")
    if backend not in BACKENDS:
        raise ImproperlyConfigured(
            f"NEWSROOM_CDN_BACKEND={backend!r} is not known: use {' or '.join(BACKENDS)}, or leave it unset."
        )
    base_urls = tuple(
        _origin("NEWSROOM_CDN_PUBLIC_BASE_URL", url) for url in _as_list(_setting("NEWSROOM_CDN_PUBLIC_BASE_URL", ()))
    )
    if not base_urls:
        raise ImproperlyConfigured(
            "NEWSROOM_CDN_PUBLIC_BASE_URL must name the site's public origin (e.g. https://news.example.cn) "
            "so that purges name the addresses readers use."
        )
    purge_by = frozenset(item.lower() for item in _as_list(_setting("NEWSROOM_CDN_PURGE_BY", PURGE_BY)))
    if not purge_by or purge_by - set(PURGE_BY):
        raise ImproperlyConfigured(
            f"NEWSROOM_CDN_PURGE_BY={sorted(purge_by)!r}: use urls, keys, or urls,keys."
        )
    headers = tuple(_as_list(_setting("NEWSROOM_CDN_KEY_HEADERS", ("Surrogate-Key", "Cache-Tag"))))
    prefix = (_setting("NEWSROOM_CDN_KEY_PREFIX", "") or "").strip()
    if prefix and not all(c.isascii() and (c.isalnum() or c in "-_") for c in prefix):
        raise ImproperlyConfigured(
            f"NEWSROOM_CDN_KEY_PREFIX={prefix!r}: use letters, digits, '-' and '_' only."
        )
    options = dict(
        backend=backend,
        base_urls=base_urls,
        purge_by=purge_by,
        key_headers=headers,
        key_prefix=prefix,
        max_age=_number("NEWSROOM_CDN_MAX_AGE", 3600, int, 0),
        timeout=_number("NEWSROOM_CDN_TIMEOUT", 2, float, 0.1),
        attempts=_number("NEWSROOM_CDN_ATTEMPTS", 3, int, 1),
    )
    if backend == "http-purge":
        servers = tuple(
            _origin("NEWSROOM_CDN_PURGE_SERVERS", url) for url in _as_list(_setting("NEWSROOM_CDN_PURGE_SERVERS", ()))
        )
        if not servers:
            raise ImproperlyConfigured(
                "NEWSROOM_CDN_BACKEND=http-purge needs NEWSROOM_CDN_PURGE_SERVERS: the cache servers to tell, "
                "comma-separated, e.g. http://10.0.0.5:6081,http://10.0.0.6:6081."
            )
        return Config(servers=servers, **options)
    api_url = (_setting("NEWSROOM_CDN_API_URL", "") or "").strip()
    if not api_url:
        raise ImproperlyConfigured(
            "NEWSROOM_CDN_BACKEND=api needs NEWSROOM_CDN_API_URL: the CDN's purge endpoint."
        )
    token = (_setting("NEWSROOM_CDN_API_TOKEN", "") or "").strip()
    if not token:
        raise ImproperlyConfigured("NEWSROOM_CDN_BACKEND=api needs NEWSROOM_CDN_API_TOKEN: the CDN's API token.")
    return Config(
        api_url=_origin("NEWSROOM_CDN_API_URL", api_url, path_allowed=True),
        api_token=token,
        api_batch=_number("NEWSROOM_CDN_API_BATCH", 30, int, 1),
        **options,
    )


def enabled():
    """Whether a CDN backend is configured (a broken configuration counts as on: it must be seen)."""
    return bool((_setting("NEWSROOM_CDN_BACKEND", "") or "").strip())
