"""Settings for the newsroom CMS.

One file for every place the newsroom runs. What differs between a laptop, a
server and a national site (database, cache, media storage, secret key, hosts)
comes from environment variables; the defaults are the laptop's: SQLite in the
project folder, local-memory cache, media files on disk.

How the file reads: helpers; then BASE, what every site has (apps, middleware,
templates, database, i18n, static and media files, auth, security), with the
complete INSTALLED_APPS and MIDDLEWARE written out once, in order; then one
section per optional part, each headed `# === <name>` and saying which
environment variables turn it on. A section sets its own settings and never
reorders the lists of BASE.

Environment variables
---------------------
DEBUG                 "1"/"true" turns debug on. Off unless asked.
SECRET_KEY            required when DEBUG is off.
DATABASE_URL          e.g. postgres://user@127.0.0.1:5432/newsroom; default SQLite.
CONN_MAX_AGE          seconds a database connection is kept (default 60).
ALLOWED_HOSTS         comma-separated; default 127.0.0.1,localhost.
CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://news.example.cn.
SECURE_SSL            "1" in production behind HTTPS: secure cookies, HSTS, redirect.
EMAIL_BACKEND, DEFAULT_FROM_EMAIL  how mail is sent (default: printed to the console).
MEDIA_ROOT, MEDIA_URL where uploaded photos and renditions live.
STATIC_ROOT           where collectstatic writes; served by WhiteNoise.
NEWSROOM_SITE_NAME    the site's name (default 新闻网).
NEWSROOM_SITE_URL     the address people open the site at, e.g. https://news.example.cn; links in
                      workflow mails are built from it (default http://127.0.0.1:8000).
NEWSROOM_SEPARATION_OF_DUTIES  "0" lets one person do both reviews (small newsrooms).
NEWSROOM_SERVE_MEDIA  "0" where nginx or object storage serves /media/ (default on).
NEWSROOM_MAX_UPLOAD_BYTES, NEWSROOM_MAX_IMAGE_PIXELS  the largest photo accepted.
NEWSROOM_CSP_EXTRA_SOURCES  comma-separated origins the Content-Security-Policy allows assets from.
NEWSROOM_PROXY_COUNT  reverse proxies in front of the app (default 0).

Cache and sessions:  REDIS_URL (e.g. redis://127.0.0.1:6379/1: pages, fragments and
                     sessions in Redis), NEWSROOM_SITE_ID (names this site's keys in a shared
                     Redis; default from the site name), NEWSROOM_DEPLOY_ID (names this
                     deploy's cached pages; default git revision or code hash),
                     PAGE_CACHE_ENTRIES (pages kept in each process without Redis).
Read replicas:       DATABASE_REPLICA_URLS, NEWSROOM_REPLICA_STICKY_SECONDS,
                     NEWSROOM_REPLICA_WAIT_MS, NEWSROOM_REPLICA_RETRY_SECONDS.
Media storage:       AWS_STORAGE_BUCKET_NAME and the django-storages AWS_* names (see the section).
CDN:                 NEWSROOM_CDN_BACKEND and the NEWSROOM_CDN_* names (see the section).
Static publishing:   NEWSROOM_STATIC_PUBLISH_ROOT (a folder: turns static publishing, 静态发布,
                     on; see docs/static-publishing.md; off when unset),
                     NEWSROOM_STATIC_PUBLISH_ORIGIN (the site's public origin printed in static
                     pages, e.g. https://news.example.cn; default from SECURE_SSL and
                     ALLOWED_HOSTS), NEWSROOM_STATIC_HOLD_SECONDS (seconds before a scheduled
                     story's time that the pages it joins are handed to Django; default 120).
Page cache:          NEWSROOM_PAGE_CACHE_SECONDS.
Logging:             LOG_FORMAT ("text", the default, or "json": one JSON object per log
                     line), LOG_LEVEL, NEWSROOM_CDN_LOG_LEVEL.
Login throttling:    NEWSROOM_LOGIN_FAILURE_LIMIT, NEWSROOM_LOGIN_COOLOFF_MINUTES.
Background tasks:    NEWSROOM_TASKS_BACKEND ("database", the default: a queue table in this
                     database and `manage.py db_worker`; "rq": Redis at REDIS_URL; "immediate":
                     no worker, the work runs in the web process after the commit).
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from newsroom import cache_settings, request_log
from newsroom.csp_sources import editor_style_hashes, origins
from newsroom.media_storage import apply_s3_media

BASE_DIR = Path(__file__).resolve().parent.parent


# ===========================================================================
# Helpers
# ===========================================================================
def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def require_secret_key():
    """Stop a server from starting in production without its own SECRET_KEY."""
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. "
            "For a local trial run `make run`, which sets DEBUG=1."
        )


def database_config(url, **options):
    """DATABASES entry for `url`; PostgreSQL through newsroom/db/postgresql, Django's backend with a
    health check that skips its SELECT 1 while the connection is known to be good."""
    config = dj_database_url.parse(url, conn_health_checks=True, **options)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "newsroom.db.postgresql"
    return config


def _replica_databases(urls):
    """DATABASES entries replica1, replica2, ... for DATABASE_REPLICA_URLS (see Read replicas)."""
    primary = DATABASES["default"]
    replicas = {}
    for number, url in enumerate(urls, start=1):
        shown = re.sub(r"//[^/@]*@", "//…@", url)  # never print a password
        try:
            config = database_config(url, conn_max_age=primary.get("CONN_MAX_AGE", 0))
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


def _replica_number(name, default):
    raw = os.environ.get(name) or str(default)
    if not raw.strip().isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number, 0 or more (got {raw!r}).")
    return int(raw)


# ===========================================================================
# BASE: what every site has.
# ===========================================================================
DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-local-development-only"
# With DEBUG off the key must come from the environment. Serving refuses to start
# without it (newsroom/wsgi.py, asgi.py call require_secret_key); commands that sign
# nothing, such as migrate or makemigrations, still run.

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Apps ------------------------------------------------------------------
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
    "articles",  # the content: stories, people, photos, sections, search
    "editorial",  # the desk: workflow, roles, revisions and every admin page
    "readers",  # the readers' site: pages, feeds, sitemaps
    "delivery",  # page cache and static publishing
    "newsroom",  # its template tags (CSP nonce) and the backup/restore commands
    "axes",  # login throttling (see Login throttling)
    "cdn",  # CDN purges and surrogate keys; does nothing unless NEWSROOM_CDN_BACKEND is set (see CDN)
    "django_tasks",  # the task queue delivery's background work goes through (see Background tasks)
    "django_tasks_db",  # its queue as a table of this database, and the db_worker command
]

# --- Middleware ------------------------------------------------------------
# Every middleware the site may use, in the order a request meets them. Optional parts
# step aside by themselves (MiddlewareNotUsed) when their section is off, so this order
# is the only one there is.
MIDDLEWARE = [
    # First, so every line logged during a request carries its id, page-cache hits included.
    "newsroom.request_log.RequestIdMiddleware",
    # /healthz, answered before sessions, host checks and the HTTPS redirect, and never cached (newsroom/health.py).
    "newsroom.health.HealthCheckMiddleware",
    # Anonymous readers' cached pages, answered here with the headers the rest of the stack added when the
    # page was built: whatever runs above it runs on every hit, whatever runs below it is replayed (see Page cache).
    "delivery.cache.PageCacheMiddleware",
    # HTTPS redirect, HSTS, nosniff and referrer policy, before anything answers with content.
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, static files included, so above WhiteNoise;
    # django-csp's, with the site-wide policy built once (newsroom/security.py).
    "newsroom.security.ContentSecurityPolicyMiddleware",
    # Permissions-Policy everywhere, X-Frame-Options on what never reaches XFrameOptionsMiddleware (static files).
    "newsroom.security.SecurityHeadersMiddleware",
    # The database unreachable: a 503 saying nothing was saved, around everything that may query it.
    "newsroom.middleware.DatabaseUnavailableMiddleware",
    # A failing bucket mid-request: a 503 saying nothing was saved, not a server error (see Media storage).
    "newsroom.middleware.MediaStorageUnavailableMiddleware",
    # Static files, served before sessions and everything else they do not need.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Right after sessions: a client that has just sent a change reads the primary; steps aside
    # unless DATABASE_REPLICA_URLS is set (see Read replicas, newsroom/db_router.py).
    "newsroom.db_router.ReadYourWritesMiddleware",
    # Chinese everywhere, an editor's own language in the admin; reads the language cookie, so after sessions.
    "newsroom.middleware.AdminLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's messages, with the store made only when a message is added or shown (never for readers).
    "newsroom.middleware.LazyMessageMiddleware",
    # Right after messages: a delete refused because stories still use the thing becomes a message, never a 500.
    "newsroom.security.ProtectedDeleteMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Login throttling; django-axes must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"

# --- Templates -------------------------------------------------------------
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
# What newsroom/wsgi.py wraps Django's WSGI handler in, innermost first (dotted paths of
# callables taking and returning a WSGI application): anonymous page-cache hits are
# answered before Django's handler runs (see Page cache).
NEWSROOM_WSGI_WRAPPERS = ["delivery.cache.serve_hits_first"]

# --- Database --------------------------------------------------------------
# Connections are kept CONN_MAX_AGE seconds and checked before a request reuses one; on
# PostgreSQL the check costs no query while the connection is known to be good (database_config()).
DATABASES = {
    "default": database_config(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Languages and time ----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files, media, uploads ------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

# Media on disk under MEDIA_ROOT; see Media storage for an S3-compatible bucket instead.
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

# Serve MEDIA_URL from Django itself (single server, no nginx). On by default so a
# fresh install shows its photos; turn off where nginx or object storage serves media.
NEWSROOM_SERVE_MEDIA = env_bool("NEWSROOM_SERVE_MEDIA", default=True)

# Uploads: refuse oversized photos before they are read into memory.
NEWSROOM_MAX_UPLOAD_BYTES = int(os.environ.get("NEWSROOM_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Photos: refuse files whose header declares more pixels than this, before decoding.
NEWSROOM_MAX_IMAGE_PIXELS = int(os.environ.get("NEWSROOM_MAX_IMAGE_PIXELS", str(60_000_000)))

# Renditions made once per photo and reused: name -> (width, height or None for "keep ratio").
NEWSROOM_RENDITIONS = {
    "thumb": (240, 160),
    "w480": (480, None),
    "w800": (800, None),
    "w1200": (1200, None),
}

# --- The newsroom ----------------------------------------------------------
NEWSROOM_SITE_NAME = os.environ.get("NEWSROOM_SITE_NAME", "新闻网")
# Mails link to the admin with absolute addresses built from this one address.
NEWSROOM_SITE_URL = os.environ.get("NEWSROOM_SITE_URL", "").strip().rstrip("/") or "http://127.0.0.1:8000"
NEWSROOM_SEPARATION_OF_DUTIES = env_bool("NEWSROOM_SEPARATION_OF_DUTIES", default=True)

# Tag lists split on , ， 、 ; ； and line breaks, each name cleaned and limited (articles/tags.py).
TAGGIT_TAGS_FROM_STRING = "articles.tags.parse_tags"
TAGGIT_STRING_FROM_TAGS = "articles.tags.format_tags"
# "AI" typed on one story and "ai" on another are one tag (articles/tags.py).
TAGGIT_CASE_INSENSITIVE = True

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "newsroom@localhost")

# Django 6 behaviour now: URL fields without a scheme mean https.
FORMS_URLFIELD_ASSUME_HTTPS = True

# --- Auth ------------------------------------------------------------------
LOGIN_URL = "admin:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The throttling backend first: a locked-out name and address never reach the password check
# (see Login throttling).
AUTHENTICATION_BACKENDS = [
    "newsroom.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Security (issue 6; docs/production.md lists the environment a public server needs) ---
SECURE_SSL = env_bool("SECURE_SSL")
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if SECURE_SSL else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_SSL else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# How many reverse proxies (nginx, a load balancer) stand in front of the app and
# append to X-Forwarded-For; 0 means clients connect directly.
NEWSROOM_PROXY_COUNT = int(os.environ.get("NEWSROOM_PROXY_COUNT", "0"))

# Cookies: never readable by page scripts; sent over HTTPS only in production.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if SECURE_SSL:
    SESSION_COOKIE_NAME = "__Secure-sessionid"
    CSRF_COOKIE_NAME = "__Secure-csrftoken"

# Content-Security-Policy (django-csp) on every response, static files included.
# Scripts and styles come only from this site. The admin's rich-text editor needs two
# inline things: its import map (a script, given the per-request nonce) and its base
# stylesheet (allowed by hash, computed from the installed editor). Media storage adds
# the bucket's origin to img-src.
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
# === Cache and sessions (issue 7; DEPLOY.md, docs/deploy/redis.md). REDIS_URL unset:
# each process keeps its own cache and sessions live in the database.
# ===========================================================================
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
else:
    # Each process keeps its own: readers' pages (at most PAGE_CACHE_ENTRIES, about 30 KB
    # each) and, apart, the versions of what each page shows (a story page: about 17 keys,
    # a few bytes each). Kept apart so that pages pushing each other out never push out
    # the versions: a page whose versions are gone counts as stale and is built again.
    # A hit reads its dependency versions in one go: this local-memory cache reads them
    # under one lock (newsroom/cache_backends.py); Redis reads them with one MGET.
    CACHES = {
        "default": {
            "BACKEND": "newsroom.cache_backends.LocalMemoryCache",
            "LOCATION": "newsroom",
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("PAGE_CACHE_ENTRIES", "1000"))},
        },
        "dependencies": {
            "BACKEND": "newsroom.cache_backends.LocalMemoryCache",
            "LOCATION": "newsroom-dependencies",
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        },
    }


# ===========================================================================
# === Read replicas (docs/deploy/replicas.md). DATABASE_REPLICA_URLS: comma-separated
# PostgreSQL URLs of streaming replicas of DATABASE_URL, e.g.
# postgres://newsroom@10.0.0.2:5432/newsroom,postgres://newsroom@10.0.0.3:5432/newsroom.
# They become the aliases replica1, replica2, ...; anonymous readers' pages are built on
# them, everything else stays on the primary (newsroom/db_router.py says how and why).
# DATABASE_REPLICA_URLS unset: one database, no router, and ReadYourWritesMiddleware
# steps aside, exactly as before.
# ===========================================================================
_REPLICAS = _replica_databases(env_list("DATABASE_REPLICA_URLS"))
if _REPLICAS:
    DATABASES.update(_REPLICAS)
    # Installing the router is what turns ReadYourWritesMiddleware on.
    DATABASE_ROUTERS = ["newsroom.db_router.ReplicaRouter"]

# How long a client that sent a change (a POST) reads the primary.
NEWSROOM_REPLICA_STICKY_SECONDS = _replica_number("NEWSROOM_REPLICA_STICKY_SECONDS", 15)
# How long a replica a few milliseconds behind may take to catch up before a page-cache
# miss is built on the primary instead (milliseconds).
NEWSROOM_REPLICA_WAIT_MS = _replica_number("NEWSROOM_REPLICA_WAIT_MS", 20)
# How long a replica that failed is left alone before it is tried again.
NEWSROOM_REPLICA_RETRY_SECONDS = _replica_number("NEWSROOM_REPLICA_RETRY_SECONDS", 5)


# ===========================================================================
# === Media storage: media in S3-compatible object storage (docs/deploy/media-storage.md).
# Photos and renditions go to the bucket named by AWS_STORAGE_BUCKET_NAME through
# django-storages (STORAGES["default"]). Unset, media stay under MEDIA_ROOT as before. The
# standard django-storages names are read from the environment: AWS_S3_ENDPOINT_URL,
# AWS_S3_REGION_NAME, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_CUSTOM_DOMAIN
# (the public media host or CDN), AWS_S3_ADDRESSING_STYLE, AWS_LOCATION,
# AWS_QUERYSTRING_AUTH (off: objects are public-read under random names),
# AWS_DEFAULT_ACL; and NEWSROOM_S3_CONNECT_TIMEOUT, NEWSROOM_S3_READ_TIMEOUT,
# AWS_MAX_ATTEMPTS, AWS_RETRY_MODE for how long an upload waits on a failing service.
# MEDIA_URL becomes the bucket's (or custom domain's) public address, Django stops
# serving /media/, and img-src of the Content-Security-Policy allows that origin.
# MediaStorageUnavailableMiddleware (BASE) turns a bucket failing mid-request into a 503.
# ===========================================================================
NEWSROOM_MEDIA_IN_OBJECT_STORAGE = False
apply_s3_media(globals(), os.environ)


# ===========================================================================
# === CDN (docs/deploy/cdn.md): surrogate-key headers on public pages and purges sent to
# the cache servers or the CDN's API when a change commits. Off when NEWSROOM_CDN_BACKEND
# is unset: no extra headers, nothing sent. Checked by `manage.py check` (cdn/checks.py).
# Its logger, newsroom.cdn, is set under Logging.
# ===========================================================================
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


# ===========================================================================
# === Static publishing (静态发布, docs/static-publishing.md): published pages written as
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
# === Page cache (issue 5): anonymous readers' cached pages are answered before the
# middleware stack (delivery.cache.PageCacheMiddleware, and before Django's handler through
# NEWSROOM_WSGI_WRAPPERS), with the headers the stack added when the page was built. Only
# the request id and /healthz come before it (see MIDDLEWARE).
# ===========================================================================
# A change is seen at once by the process that made it, and by every process only through a
# shared cache (REDIS_URL). Without one, another gunicorn worker, or a change made by a command
# (publish_due), reaches a worker's copy of a page only when it expires: so pages kept in a
# process's own memory expire after a minute, as long as nginx keeps them (DEPLOY.md). With
# Redis a page is kept until what it shows changes, ten minutes at most.
NEWSROOM_PAGE_CACHE_SECONDS = int(
    os.environ.get("NEWSROOM_PAGE_CACHE_SECONDS", "600" if os.environ.get("REDIS_URL") else "60")
)

# === Read model (issue 15): every public page kept render-ready in the database
# (delivery.read_model), rewritten when a change commits, deleted when what it shows changes, and
# read by primary key before Django's handler. NEWSROOM_READ_MODEL=0 turns it off;
# NEWSROOM_READ_MODEL_PREPARED=0 behind a pooler that does not keep a session's prepared statements
# (the read model's lookup, and the story page's statements: newsroom.compiled_query).
NEWSROOM_READ_MODEL = os.environ.get("NEWSROOM_READ_MODEL", "1").strip().lower() not in ("0", "false", "no", "off")
NEWSROOM_READ_MODEL_PREPARED = os.environ.get("NEWSROOM_READ_MODEL_PREPARED", "1").strip().lower() not in (
    "0", "false", "no", "off"
)
# A stored page is built again after this many seconds whatever happens (0: never): what bounds a
# write made behind the desk's back (a shell, queryset.update()), which announces nothing.
NEWSROOM_READ_MODEL_MAX_AGE = int(os.environ.get("NEWSROOM_READ_MODEL_MAX_AGE", "86400"))


# ===========================================================================
# === Logging (docs/deploy/monitoring.md): everything to stderr, as text or JSON lines,
# each line with its request's id (newsroom/request_log.py).
# ===========================================================================
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower() or "text"
LOGGING = request_log.logging_config(
    LOG_FORMAT,
    level=os.environ.get("LOG_LEVEL", "WARNING"),
    # `make run` (DEBUG) has the development server's own request lines.
    access=not DEBUG,
)
# Purges sent and failed (see CDN).
LOGGING["loggers"]["newsroom.cdn"] = {"level": os.environ.get("NEWSROOM_CDN_LOG_LEVEL", "INFO")}


# ===========================================================================
# === Login throttling (django-axes; issue 6): five wrong passwords for one user name from
# one address lock that pair out for a while; the right password resets the count. The
# app, middleware and authentication backend are listed in BASE.
# ===========================================================================
AXES_FAILURE_LIMIT = int(os.environ.get("NEWSROOM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("NEWSROOM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "newsroom.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "newsroom.security.client_ip"
AXES_VERBOSE = False


# ===========================================================================
# === Who hears of every change (articles/events.py): the callables events.announce()
# calls, in order, inside the desk's transaction, with each StoryChanged/SharedChanged.
# Nothing else keeps the search index, the page cache, static files or the CDN fresh: a
# write that readers could see goes through editorial.workflow or editorial.editing (or
# announces its own event, as generate_demo_stories does), never through model signals.
# ===========================================================================
NEWSROOM_SUBSCRIBERS = [
    # The search index is a table beside the stories: rewritten in the same transaction, so
    # search never disagrees with the story it finds.
    "articles.search.story_changed",
    # 推荐阅读 slots the editors left empty are filled (with the reason) when a story is
    # published or changed, after the index it reads similar text from; a withdrawn story's
    # slots in other blocks are filled again (editorial/recommendations.py).
    "editorial.recommendations.story_changed",
    # The page cache is bumped once the transaction commits; static files and CDN purges are
    # a task written in the same transaction and run by the worker (delivery/tasks.py).
    "delivery.subscribers.story_changed",
]


# ===========================================================================
# === Background tasks (docs/deploy/tasks.md): static files and CDN purges are done by a
# worker shortly after a change commits, not in the editor's request (delivery/tasks.py).
# NEWSROOM_TASKS_BACKEND chooses the queue:
#   "database" (default)  a table of this database, written in the change's own transaction:
#                         a crash after the commit loses nothing. Worker: `manage.py db_worker`
#                         (started by `make run`; deploy/systemd/newsroom-worker.service).
#   "immediate"           no queue, no worker: the work runs in the web process once the
#                         change commits, before the response (the test suite's choice).
#   "rq"                  Redis at REDIS_URL through django-tasks-rq (installed separately, see
#                         docs/deploy/tasks.md). Worker: `manage.py rqworker default --job-class
#                         django_tasks_rq.Job`.
# ===========================================================================
NEWSROOM_TASKS_BACKEND = os.environ.get("NEWSROOM_TASKS_BACKEND", "").strip().lower() or "database"
if NEWSROOM_TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
elif NEWSROOM_TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
elif NEWSROOM_TASKS_BACKEND == "rq":
    if not os.environ.get("REDIS_URL"):
        raise ImproperlyConfigured("NEWSROOM_TASKS_BACKEND=rq needs REDIS_URL, the Redis that holds the queue.")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ["REDIS_URL"]}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured(
        f"NEWSROOM_TASKS_BACKEND={NEWSROOM_TASKS_BACKEND!r}: use 'database' (the default), 'immediate' or 'rq'."
    )

# SQLite lets one writer in at a time. A worker beside the site (`make run`) claims tasks in
# exclusive transactions; taking the write lock when a transaction starts (not halfway, when
# it can no longer wait for it) and waiting up to 20 seconds for it keeps the site's own
# writes from failing with "database is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
