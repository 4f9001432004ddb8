"""Settings for the newsroom CMS.

One file for every place the newsroom runs. What differs between a laptop, a
server and a national site (database, cache, media storage, secret key, hosts)
comes from environment variables; the defaults are the laptop's: SQLite in the
project folder, local-memory cache, media files on disk.

Environment variables
---------------------
DEBUG                 "1"/"true" turns debug on. Off unless asked.
SECRET_KEY            required when DEBUG is off.
DATABASE_URL          e.g. postgres://user@127.0.0.1:5432/newsroom; default SQLite.
ALLOWED_HOSTS         comma-separated; default 127.0.0.1,localhost.
CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://news.example.cn.
REDIS_URL             e.g. redis://127.0.0.1:6379/1; pages, fragments and sessions in Redis.
NEWSROOM_SITE_ID      names this site's keys in a shared Redis (default from the site name).
NEWSROOM_DEPLOY_ID    names this deploy's cached pages (default: git revision or code hash).
LOG_FORMAT            "text" (default) or "json": one JSON object per log line.
MEDIA_ROOT, MEDIA_URL where uploaded photos and renditions live.
STATIC_ROOT           where collectstatic writes; served by WhiteNoise.
SECURE_SSL            "1" in production behind HTTPS: secure cookies, HSTS, redirect.
NEWSROOM_SEPARATION_OF_DUTIES  "0" lets one person do both reviews (small newsrooms).
NEWSROOM_STATIC_PUBLISH_ROOT   a folder: turns static publishing (静态发布) on; see
                      docs/static-publishing.md. Off when unset.
NEWSROOM_STATIC_PUBLISH_ORIGIN the site's public origin printed in static pages, e.g.
                      https://news.example.cn; default from SECURE_SSL and ALLOWED_HOSTS.
NEWSROOM_STATIC_HOLD_SECONDS   seconds before a scheduled story's time that the pages it
                      joins are handed to Django (default 120).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-local-development-only"
# With DEBUG off the key must come from the environment. Serving refuses to start
# without it (newsroom/wsgi.py, asgi.py call require_secret_key); commands that sign
# nothing, such as migrate or makemigrations, still run.


def require_secret_key():
    """Stop a server from starting in production without its own SECRET_KEY."""
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. "
            "For a local trial run `make run`, which sets DEBUG=1."
        )


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "taggit",
    "django_prose_editor",
    "articles",
    "editorial",
    "readers",
    "delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "newsroom.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "newsroom.middleware.AdminLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "newsroom.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "readers.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "newsroom.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# With REDIS_URL, Redis replaces this: see "Cache, sessions, health and logs" at the end.
# Without it each process keeps its own: readers' pages (at most PAGE_CACHE_ENTRIES, about
# 30 KB each) and, apart, the versions of what each page shows (a story page: about 17
# keys, a few bytes each). Kept apart so that pages pushing each other out never push out
# the versions: a page whose versions are gone counts as stale and is built again.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "newsroom",
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("PAGE_CACHE_ENTRIES", "1000"))},
    },
    "dependencies": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "newsroom-dependencies",
        "OPTIONS": {"MAX_ENTRIES": 200_000},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and first runs work before collectstatic; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_MANIFEST_STRICT = False

# Uploads: refuse oversized photos before they are read into memory.
NEWSROOM_MAX_UPLOAD_BYTES = int(os.environ.get("NEWSROOM_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Renditions made once per photo and reused: name -> (width, height or None for "keep ratio").
NEWSROOM_RENDITIONS = {
    "thumb": (240, 160),
    "w480": (480, None),
    "w800": (800, None),
    "w1200": (1200, None),
}

NEWSROOM_SITE_NAME = os.environ.get("NEWSROOM_SITE_NAME", "新闻网")
NEWSROOM_SEPARATION_OF_DUTIES = env_bool("NEWSROOM_SEPARATION_OF_DUTIES", default=True)

LOGIN_URL = "admin:login"

SECURE_SSL = env_bool("SECURE_SSL")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if SECURE_SSL else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_SSL else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "newsroom@localhost")

# LOGGING: see "Cache, sessions, health and logs" at the end (LOG_FORMAT, LOG_LEVEL).


# Serve MEDIA_URL from Django itself (single server, no nginx). On by default so a
# fresh install shows its photos; turn off where nginx or object storage serves media.
NEWSROOM_SERVE_MEDIA = env_bool("NEWSROOM_SERVE_MEDIA", default=True)

# Django 6 behaviour now: URL fields without a scheme mean https.
FORMS_URLFIELD_ASSUME_HTTPS = True

# ===========================================================================
# Security: uploads, login throttling, headers, cookies (issue 6).
# Kept together here so the rest of the file stays as it was; docs/production.md
# lists the environment a public server needs.
# ===========================================================================
INSTALLED_APPS += [
    "newsroom",  # its template tags (CSP nonce) and the backup/restore commands
    "axes",
]

# Photos: refuse files whose header declares more pixels than this, before decoding.
NEWSROOM_MAX_IMAGE_PIXELS = int(os.environ.get("NEWSROOM_MAX_IMAGE_PIXELS", str(60_000_000)))

# Login throttling (django-axes): five wrong passwords for one user name from one
# address lock that pair out for a while; the right password resets the count.
AUTHENTICATION_BACKENDS = [
    "newsroom.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # must come last
AXES_FAILURE_LIMIT = int(os.environ.get("NEWSROOM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("NEWSROOM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "newsroom.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "newsroom.security.client_ip"
AXES_VERBOSE = False
# How many reverse proxies (nginx, a load balancer) stand in front of the app and
# append to X-Forwarded-For; 0 means clients connect directly.
NEWSROOM_PROXY_COUNT = int(os.environ.get("NEWSROOM_PROXY_COUNT", "0"))

# A delete refused because stories still use the thing: a message, never a 500.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "newsroom.security.ProtectedDeleteMiddleware",
)

# Cookies: never readable by page scripts; sent over HTTPS only in production.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if SECURE_SSL:
    SESSION_COOKIE_NAME = "__Secure-sessionid"
    CSRF_COOKIE_NAME = "__Secure-csrftoken"

# Content-Security-Policy (django-csp) on every response, static files included.
# Scripts and styles come only from this site. The admin's rich-text editor needs two
# inline things: its import map (a script, given the per-request nonce) and its base
# stylesheet (allowed by hash, computed from the installed editor).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("csp.middleware.CSPMiddleware") + 1, "newsroom.security.SecurityHeadersMiddleware"
)

from csp.constants import NONCE, NONE, SELF  # noqa: E402

from newsroom.csp_sources import editor_style_hashes, origins  # noqa: E402

_ASSET_ORIGINS = origins(STATIC_URL, MEDIA_URL) + env_list("NEWSROOM_CSP_EXTRA_SOURCES")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, *_ASSET_ORIGINS],
        "style-src": [SELF, *editor_style_hashes(), *_ASSET_ORIGINS],
        "img-src": [SELF, "data:", *_ASSET_ORIGINS],
        "font-src": [SELF, "data:", *_ASSET_ORIGINS],
        "connect-src": [SELF],
        "media-src": [SELF, *_ASSET_ORIGINS],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "upgrade-insecure-requests": SECURE_SSL,
    },
}

# ===========================================================================
# Static publishing (静态发布, docs/static-publishing.md): published pages written as
# files under this folder for nginx to send directly; Django answers whatever is missing.
# ===========================================================================
NEWSROOM_STATIC_PUBLISH_ROOT = (
    Path(os.environ["NEWSROOM_STATIC_PUBLISH_ROOT"]) if os.environ.get("NEWSROOM_STATIC_PUBLISH_ROOT") else None
)
NEWSROOM_STATIC_PUBLISH_ORIGIN = os.environ.get("NEWSROOM_STATIC_PUBLISH_ORIGIN") or (
    f"{'https' if SECURE_SSL else 'http'}://{(ALLOWED_HOSTS or ['localhost'])[0]}"
)
# Pages a scheduled story will join leave the disk this long before its time (Django serves
# them meanwhile) and come back once `static_publish --due` (cron, every minute) or the
# `static_publisher` loop has run after it: keep it above the cron interval.
NEWSROOM_STATIC_HOLD_SECONDS = int(os.environ.get("NEWSROOM_STATIC_HOLD_SECONDS", "120"))

# ===========================================================================
# Cache, sessions, health and logs (issue 7; DEPLOY.md, docs/deploy/redis.md, docs/deploy/monitoring.md).
# ===========================================================================
from newsroom import cache_settings, request_log  # noqa: E402

NEWSROOM_SITE_ID = cache_settings.site_id()
if os.environ.get("REDIS_URL"):
    # Pages per site and deploy, dependency versions and sessions per site only: a deploy
    # starts with fresh pages and logs nobody out (newsroom/cache_settings.py).
    NEWSROOM_DEPLOY_ID = cache_settings.deploy_id(BASE_DIR)
    CACHES = cache_settings.redis_caches(os.environ["REDIS_URL"], site=NEWSROOM_SITE_ID, deploy=NEWSROOM_DEPLOY_ID)
    # The database keeps every session and Redis a copy in front of it: a Redis outage
    # or restart logs nobody out, and signing in still works while Redis is down.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"

# The request id first, so every line logged during a request carries it; /healthz next,
# answered before sessions, host checks and the HTTPS redirect (newsroom/health.py).
MIDDLEWARE.insert(0, "newsroom.request_log.RequestIdMiddleware")
MIDDLEWARE.insert(1, "newsroom.health.HealthCheckMiddleware")

LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower() or "text"
LOGGING = request_log.logging_config(
    LOG_FORMAT,
    level=os.environ.get("LOG_LEVEL", "WARNING"),
    # `make run` (DEBUG) has the development server's own request lines.
    access=not DEBUG,
)

# ===========================================================================
# CDN (docs/deploy/cdn.md): surrogate-key headers on public pages and purges sent to
# the cache servers or the CDN's API when a change commits. Off when NEWSROOM_CDN_BACKEND
# is unset: no extra headers, nothing sent. Checked by `manage.py check` (cdn/checks.py).
# ===========================================================================
INSTALLED_APPS += ["cdn"]

# "" (off), "http-purge" (PURGE/BAN to Varnish or nginx) or "api" (JSON POST to a CDN's API).
NEWSROOM_CDN_BACKEND = os.environ.get("NEWSROOM_CDN_BACKEND", "").strip().lower()
# The site's public origins (comma-separated, e.g. https://news.example.cn): purged URLs are
# these plus the page's path; http-purge sends their host name as Host.
NEWSROOM_CDN_PUBLIC_BASE_URL = env_list("NEWSROOM_CDN_PUBLIC_BASE_URL")
# http-purge: the cache servers to tell, comma-separated (e.g. http://10.0.0.5:6081).
NEWSROOM_CDN_PURGE_SERVERS = env_list("NEWSROOM_CDN_PURGE_SERVERS")
# api: the purge endpoint, its token (sent as "Authorization: Bearer ..."), items per request.
NEWSROOM_CDN_API_URL = os.environ.get("NEWSROOM_CDN_API_URL", "").strip()
NEWSROOM_CDN_API_TOKEN = os.environ.get("NEWSROOM_CDN_API_TOKEN", "").strip()
NEWSROOM_CDN_API_BATCH = os.environ.get("NEWSROOM_CDN_API_BATCH", "30")
# What a purge names: "urls", "keys" or both (default).
NEWSROOM_CDN_PURGE_BY = env_list("NEWSROOM_CDN_PURGE_BY", "urls,keys")
# Response headers carrying a page's surrogate keys, and an optional prefix for the keys
# (several sites behind one CDN account).
NEWSROOM_CDN_KEY_HEADERS = env_list("NEWSROOM_CDN_KEY_HEADERS", "Surrogate-Key,Cache-Tag")
NEWSROOM_CDN_KEY_PREFIX = os.environ.get("NEWSROOM_CDN_KEY_PREFIX", "").strip()
# How long the CDN may keep a page (s-maxage, Surrogate-Control); browsers keep
# NEWSROOM_PAGE_MAX_AGE. Purges make a long lifetime safe.
NEWSROOM_CDN_MAX_AGE = os.environ.get("NEWSROOM_CDN_MAX_AGE", "3600")
# Each purge request: seconds to wait, and attempts before the purge is saved for
# `manage.py retry_purges` (cron).
NEWSROOM_CDN_TIMEOUT = os.environ.get("NEWSROOM_CDN_TIMEOUT", "2")
NEWSROOM_CDN_ATTEMPTS = os.environ.get("NEWSROOM_CDN_ATTEMPTS", "3")

LOGGING.setdefault("loggers", {})["newsroom.cdn"] = {"level": os.environ.get("NEWSROOM_CDN_LOG_LEVEL", "INFO")}

# ===========================================================================
# Read replicas (docs/deploy/replicas.md). DATABASE_REPLICA_URLS: comma-separated
# PostgreSQL URLs of streaming replicas of DATABASE_URL, e.g.
# postgres://newsroom@10.0.0.2:5432/newsroom,postgres://newsroom@10.0.0.3:5432/newsroom.
# They become the aliases replica1, replica2, ...; anonymous readers' pages are built on
# them, everything else stays on the primary (newsroom/db_router.py says how and why).
# NEWSROOM_REPLICA_STICKY_SECONDS, NEWSROOM_REPLICA_WAIT_MS, NEWSROOM_REPLICA_RETRY_SECONDS
# below. DATABASE_REPLICA_URLS unset: one database, no router, exactly as before.
# ===========================================================================
import re  # noqa: E402


def _replica_databases(urls):
    primary = DATABASES["default"]
    replicas = {}
    for number, url in enumerate(urls, start=1):
        shown = re.sub(r"//[^/@]*@", "//…@", url)  # never print a password
        try:
            config = dj_database_url.parse(
                url, conn_max_age=primary.get("CONN_MAX_AGE", 0), conn_health_checks=True
            )
        except (ValueError, KeyError) as error:
            raise ImproperlyConfigured(f"DATABASE_REPLICA_URLS entry {number} ({shown}) is not a database URL: {error}")
        if "postgresql" not in config["ENGINE"] or "postgresql" not in primary["ENGINE"]:
            raise ImproperlyConfigured(
                "DATABASE_REPLICA_URLS needs PostgreSQL streaming replicas of a PostgreSQL DATABASE_URL; "
                f"entry {number} ({shown}) uses {config['ENGINE']}, DATABASE_URL uses {primary['ENGINE']}."
            )
        # An unreachable replica must cost a reader seconds at most, not the OS's minutes.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
        # Test runs with replicas configured use the primary's test database for them.
        config["TEST"] = {"MIRROR": "default"}
        replicas[f"replica{number}"] = config
    return replicas


_REPLICAS = _replica_databases(env_list("DATABASE_REPLICA_URLS"))
if _REPLICAS:
    DATABASES.update(_REPLICAS)
    DATABASE_ROUTERS = ["newsroom.db_router.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
        "newsroom.db_router.ReadYourWritesMiddleware",
    )


def _replica_number(name, default):
    raw = os.environ.get(name) or str(default)
    if not raw.strip().isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number, 0 or more (got {raw!r}).")
    return int(raw)


# How long a client that sent a change (a POST) reads the primary.
NEWSROOM_REPLICA_STICKY_SECONDS = _replica_number("NEWSROOM_REPLICA_STICKY_SECONDS", 15)
# How long a replica a few milliseconds behind may take to catch up before a page-cache
# miss is built on the primary instead (milliseconds).
NEWSROOM_REPLICA_WAIT_MS = _replica_number("NEWSROOM_REPLICA_WAIT_MS", 20)
# How long a replica that failed is left alone before it is tried again.
NEWSROOM_REPLICA_RETRY_SECONDS = _replica_number("NEWSROOM_REPLICA_RETRY_SECONDS", 5)


# ===========================================================================
# Media in S3-compatible object storage (docs/deploy/media-storage.md): photos and
# renditions go to the bucket named by AWS_STORAGE_BUCKET_NAME through django-storages
# (STORAGES["default"]). Unset, media stay under MEDIA_ROOT as before. The standard
# django-storages names are read from the environment: AWS_S3_ENDPOINT_URL,
# AWS_S3_REGION_NAME, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_CUSTOM_DOMAIN
# (the public media host or CDN), AWS_S3_ADDRESSING_STYLE, AWS_LOCATION,
# AWS_QUERYSTRING_AUTH (off: objects are public-read under random names),
# AWS_DEFAULT_ACL; and NEWSROOM_S3_CONNECT_TIMEOUT, NEWSROOM_S3_READ_TIMEOUT,
# AWS_MAX_ATTEMPTS, AWS_RETRY_MODE for how long an upload waits on a failing service.
# MEDIA_URL becomes the bucket's (or custom domain's) public address, Django stops
# serving /media/, and img-src of the Content-Security-Policy allows that origin.
# ===========================================================================
from newsroom.media_storage import apply_s3_media  # noqa: E402

NEWSROOM_MEDIA_IN_OBJECT_STORAGE = False
# A failing bucket mid-request: a 503 saying nothing was saved, not a server error.
MIDDLEWARE.insert(
    MIDDLEWARE.index("newsroom.middleware.DatabaseUnavailableMiddleware") + 1,
    "newsroom.middleware.MediaStorageUnavailableMiddleware",
)
apply_s3_media(globals(), os.environ)


# ===========================================================================
# Page speed (issue 5): anonymous readers' cached pages are answered before the
# middleware stack (delivery.cache.PageCacheMiddleware), with the headers the stack
# added when the page was built. Only the request id and /healthz come before it: whatever
# runs before it runs on every hit, and whatever runs after it is replayed from the entry.
# ===========================================================================
# After the request id (each hit gets its own) and /healthz (never cached).
MIDDLEWARE.insert(MIDDLEWARE.index("newsroom.health.HealthCheckMiddleware") + 1, "delivery.cache.PageCacheMiddleware")
# A hit reads its dependency versions in one go: the local-memory cache reads them under
# one lock (newsroom/cache_backends.py); Redis reads them with one MGET.
for _alias in CACHES.values():
    if _alias["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
        _alias["BACKEND"] = "newsroom.cache_backends.LocalMemoryCache"
# A change is seen at once by the process that made it, and by every process only through a
# shared cache (REDIS_URL). Without one, another gunicorn worker, or a change made by a command
# (publish_due), reaches a worker's copy of a page only when it expires: so pages kept in a
# process's own memory expire after a minute, as long as nginx keeps them (DEPLOY.md). With
# Redis a page is kept until what it shows changes, ten minutes at most.
NEWSROOM_PAGE_CACHE_SECONDS = int(
    os.environ.get("NEWSROOM_PAGE_CACHE_SECONDS", "600" if os.environ.get("REDIS_URL") else "60")
)
