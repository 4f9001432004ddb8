"""What REDIS_URL, NEWSROOM_SITE_ID and NEWSROOM_DEPLOY_ID turn into, read the way the server
reads them (a fresh process importing the settings); without REDIS_URL nothing changes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newsroom.cache_settings import code_hash

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'caches': {a: c.get('KEY_PREFIX', '') for a, c in settings.CACHES.items()}, "
    "'backend': settings.CACHES['default']['BACKEND'], 'sessions': settings.SESSION_ENGINE, "
    "'site': settings.NEWSROOM_SITE_ID, 'logging': settings.LOG_FORMAT}))"
)
NAMES = {"REDIS_URL", "NEWSROOM_SITE_ID", "NEWSROOM_SITE_NAME", "NEWSROOM_DEPLOY_ID", "LOG_FORMAT"}


def settings_with(cwd=ROOT, **env):
    environment = {k: v for k, v in os.environ.items() if k not in NAMES}
    environment.update({"DJANGO_SETTINGS_MODULE": "newsroom.settings", "SECRET_KEY": "x", **env})
    result = subprocess.run([sys.executable, "-c", SHOW], cwd=cwd, env=environment, capture_output=True, text=True)
    return result


def shown(**env):
    result = settings_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_redis_the_laptop_keeps_local_memory_and_database_sessions():
    laptop = shown()
    assert laptop["backend"] == "django.core.cache.backends.locmem.LocMemCache"
    assert laptop["caches"] == {"default": ""}
    assert laptop["sessions"] == "django.contrib.sessions.backends.db"
    assert laptop["site"] == "newsroom" and laptop["logging"] == "text"


def test_redis_names_pages_by_site_and_deploy_and_the_rest_by_site():
    server = shown(REDIS_URL="redis://127.0.0.1:6379/1", NEWSROOM_SITE_ID="dazhong", NEWSROOM_DEPLOY_ID="v2026.11")
    assert server["caches"] == {
        "default": "dazhong:pages:v2026.11",
        "dependencies": "dazhong:deps",
        "sessions": "dazhong:sessions",
    }
    assert server["sessions"] == "django.contrib.sessions.backends.cached_db"


def test_the_site_id_comes_from_the_site_name_when_not_given():
    assert shown(NEWSROOM_SITE_NAME="新闻网")["site"] == "newsroom", "the default name, written out"
    assert shown(NEWSROOM_SITE_NAME="Jinan Daily")["site"] == "jinan-daily"
    chinese = shown(NEWSROOM_SITE_NAME="济南日报")["site"]
    assert chinese.startswith("site-") and chinese != shown(NEWSROOM_SITE_NAME="齐鲁网")["site"]


@pytest.mark.parametrize("name, value", [("NEWSROOM_SITE_ID", "news room"), ("NEWSROOM_DEPLOY_ID", "v1:*")])
def test_a_name_that_cannot_be_part_of_a_key_is_refused_with_a_message(name, value):
    result = settings_with(REDIS_URL="redis://127.0.0.1:6379/1", **{name: value})
    assert result.returncode != 0
    assert f"{name}={value!r}: use 1-64 letters, digits" in result.stderr


def test_the_deploy_id_is_the_git_revision_else_a_hash_of_code_and_templates(tmp_path):
    if shutil.which("git") and (ROOT / ".git").exists():
        revision = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                                  text=True).stdout.strip()
        if revision:
            assert shown(REDIS_URL="redis://127.0.0.1:6379/1")["caches"]["default"] == f"newsroom:pages:{revision}"

    # A copy without .git: the hash of what it holds, changing when a template changes.
    copy = tmp_path / "site"
    for name in ("newsroom", "articles", "editorial", "templates", "static", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.txt", copy)
    before = code_hash(copy)
    assert before == code_hash(copy) and len(before) == 12
    (copy / "templates" / "base.html").write_text((copy / "templates" / "base.html").read_text() + "\n")
    assert code_hash(copy) != before
