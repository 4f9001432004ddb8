"""`manage.py check` says plainly when the CDN settings cannot work, or work badly."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from . import conf


@register()
def cdn_settings(app_configs, **kwargs):
    try:
        cfg = conf.config()
    except ImproperlyConfigured as error:
        return [Error(str(error), hint="See docs/deploy/cdn.md.", id="cdn.E001")]
    problems = []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if cfg.enabled and backend.endswith("LocMemCache") and getattr(settings, "NEWSROOM_PAGE_CACHE_SECONDS", 600):
        problems.append(
            Warning(
                "A CDN is configured but the page cache is local to each process: after a purge the CDN "
                "may fetch the page from a worker that still holds the old copy, and keep it for "
                "NEWSROOM_CDN_MAX_AGE.",
                hint="Set REDIS_URL so every worker and server shares one page cache (docs/deploy/cdn.md).",
                id="cdn.W001",
            )
        )
    return problems
