"""Names under which a site keeps its things in a shared Redis, and the cache aliases using them.

Three aliases, one Redis database, three key prefixes that never overlap:

    default       <site>:pages:<deploy>  rendered pages and template fragments. A deploy
                                          brings new templates, so it starts with none.
    dependencies  <site>:deps            dependency versions and the next scheduled time
                                          (delivery.cache): facts about the content, shared
                                          by old and new code during a rolling deploy.
    sessions      <site>:sessions        staff sessions (`cached_db`, the database keeps
                                          them too); a deploy logs nobody out.
"""

import hashlib
import os
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import slugify

DEPENDENCY_ALIAS = "dependencies"

DEFAULT_SITE_NAME = "新闻网"  # NEWSROOM_SITE_NAME's default in settings
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# What a deploy changes, when the code is not a git checkout.
CODE_FOLDERS = ("newsroom", "articles", "editorial", "readers", "delivery", "cdn", "templates", "static", "locale")
CODE_FILES = ("requirements.txt",)


def _checked(variable, value):
    if not NAME.match(value):
        raise ImproperlyConfigured(
            f"{variable}={value!r}: use 1-64 letters, digits, '.', '_' or '-' "
            "(it becomes part of every cache key)."
        )
    return value


def site_id():
    """NEWSROOM_SITE_ID, else one made from NEWSROOM_SITE_NAME, else (or for the default name) "newsroom"."""
    if os.environ.get("NEWSROOM_SITE_ID"):
        return _checked("NEWSROOM_SITE_ID", os.environ["NEWSROOM_SITE_ID"].strip())
    name = os.environ.get("NEWSROOM_SITE_NAME", "").strip()
    if not name or name == DEFAULT_SITE_NAME:
        return "newsroom"
    # A Chinese name has no ASCII slug: a short hash of it keeps two sites apart.
    return slugify(name)[:48] or "site-" + hashlib.sha256(name.encode()).hexdigest()[:10]


def deploy_id(base_dir):
    """NEWSROOM_DEPLOY_ID, else the git revision of base_dir, else a hash of the code and templates."""
    if os.environ.get("NEWSROOM_DEPLOY_ID"):
        return _checked("NEWSROOM_DEPLOY_ID", os.environ["NEWSROOM_DEPLOY_ID"].strip())
    return git_revision(base_dir) or code_hash(base_dir)


def git_revision(base_dir):
    try:
        result = subprocess.run(
            ["git", "-C", str(base_dir), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    revision = result.stdout.strip()
    return revision if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{7,40}", revision) else None


def code_hash(base_dir):
    """The first 12 hex digits of a SHA-256 over the project's code, templates and pins."""
    base_dir = Path(base_dir)
    digest = hashlib.sha256()
    paths = [base_dir / name for name in CODE_FILES]
    for folder in CODE_FOLDERS:
        paths += (base_dir / folder).rglob("*")
    for path in sorted(p for p in paths if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(base_dir)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def redis_caches(url, *, site, deploy, timeout=0.5):
    """The CACHES setting for a Redis at `url` (see the module docstring)."""
    base = {"BACKEND": "newsroom.cache_backends.ResilientRedisCache", "LOCATION": url}
    connection = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    return {
        "default": {
            **base,
            "KEY_PREFIX": f"{site}:pages:{deploy}",
            # Entries are checked against dependency versions when read: nothing to redo.
            "OPTIONS": {**connection, "after_outage": None},
        },
        "dependencies": {
            **base,
            "KEY_PREFIX": f"{site}:deps",
            # A version bump may have been lost: every page is rebuilt once.
            "OPTIONS": {**connection, "after_outage": "delivery.cache.refresh_every_page"},
        },
        "sessions": {
            **base,
            "KEY_PREFIX": f"{site}:sessions",
            # A logout or change may not have reached Redis: sessions are read from the
            # database again (the default action forgets the alias's namespace).
            "OPTIONS": connection,
        },
    }


def versions_cache():
    """Where dependency versions (delivery.cache) and the replica fence (newsroom.db_router) are
    kept: the `dependencies` alias when CACHES has one, else `default`."""
    return caches[DEPENDENCY_ALIAS if DEPENDENCY_ALIAS in settings.CACHES else "default"]
