"""What REDIS_URL, NEWSROOM_SITE_ID and NEWSROOM_DEPLOY_ID turn into, read the way the server
reads them (a fresh process importing the settings); without REDIS_URL nothing changes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from django.core.exceptions import ImproperlyConfigured

from newsroom.cache_settings import code_hash, deploy_id, site_id

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'caches': {a: c.get('KEY_PREFIX', '') for a, c in settings.CACHES.items()}, "
    "'backend': settings.CACHES['default']['BACKEND'], 'sessions': settings.SESSION_ENGINE, "
    "'site': settings.NEWSROOM_SITE_ID, 'logging': settings.LOG_FORMAT, "
    "'page_seconds': settings.NEWSROOM_PAGE_CACHE_SECONDS}))"
)
NAMES = {"REDIS_URL", "NEWSROOM_SITE_ID", "NEWSROOM_SITE_NAME", "NEWSROOM_DEPLOY_ID", "LOG_FORMAT",
         "NEWSROOM_PAGE_CACHE_SECONDS"}


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
    assert laptop["backend"] == "newsroom.cache_backends.LocalMemoryCache"  # Django's, cheaper reads
    assert laptop["caches"] == {"default": "", "dependencies": ""}
    assert laptop["sessions"] == "django.contrib.sessions.backends.db"
    assert laptop["site"] == "newsroom" and laptop["logging"] == "text"
    # Another worker's change reaches this worker's copy only when it expires: a minute.
    assert laptop["page_seconds"] == 60
    assert shown(NEWSROOM_PAGE_CACHE_SECONDS="15")["page_seconds"] == 15


def test_redis_names_pages_by_site_and_deploy_and_the_rest_by_site():
    server = shown(REDIS_URL="redis://127.0.0.1:6379/1", NEWSROOM_SITE_ID="dazhong", NEWSROOM_DEPLOY_ID="v2026.11")
    assert server["caches"] == {
        "default": "dazhong:pages:v2026.11",
        "dependencies": "dazhong:deps",
        "sessions": "dazhong:sessions",
    }
    assert server["sessions"] == "django.contrib.sessions.backends.cached_db"
    assert server["page_seconds"] == 600  # shared: every process sees a change at once


def test_the_site_id_comes_from_the_site_name_when_not_given(monkeypatch):
    monkeypatch.delenv("NEWSROOM_SITE_ID", raising=False)
    for name, expected in [("新闻网", "newsroom"), ("Jinan Daily", "jinan-daily")]:
        monkeypatch.setenv("NEWSROOM_SITE_NAME", name)
        assert site_id() == expected, name
    monkeypatch.setenv("NEWSROOM_SITE_NAME", "济南日报")
    jinan = site_id()
    monkeypatch.setenv("NEWSROOM_SITE_NAME", "齐鲁网")
    assert jinan.startswith("site-") and site_id().startswith("site-") and site_id() != jinan


def test_a_name_that_cannot_be_part_of_a_key_stops_the_server_with_a_message():
    result = settings_with(REDIS_URL="redis://127.0.0.1:6379/1", NEWSROOM_DEPLOY_ID="v1:*")
    assert result.returncode != 0
    assert "NEWSROOM_DEPLOY_ID='v1:*': use 1-64 letters, digits" in result.stderr


def test_a_site_id_that_cannot_be_part_of_a_key_is_refused(monkeypatch):
    monkeypatch.setenv("NEWSROOM_SITE_ID", "news room")
    with pytest.raises(ImproperlyConfigured, match="NEWSROOM_SITE_ID='news room': use 1-64 letters"):
        site_id()


def test_the_deploy_id_is_the_git_revision_else_a_hash_of_code_and_templates(tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSROOM_DEPLOY_ID", raising=False)
    if shutil.which("git") and (ROOT / ".git").exists():
        revision = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                                  text=True).stdout.strip()
        if revision:
            assert deploy_id(ROOT) == revision

    # A copy without .git: the hash of what it holds, changing when a template changes.
    copy = tmp_path / "site"
    for name in ("newsroom", "articles", "editorial", "templates", "static", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.txt", copy)
    before = code_hash(copy)
    assert before == code_hash(copy) and len(before) == 12
    (copy / "templates" / "base.html").write_text((copy / "templates" / "base.html").read_text() + "\n")
    assert code_hash(copy) != before
    assert deploy_id(copy) == code_hash(copy), "no git here: the hash"
