"""Settings come from the environment; production refuses to serve without its own secret key."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_server_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run("import newsroom.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_server_starts_with_a_secret_key_or_in_debug():
    assert run("import newsroom.wsgi", SECRET_KEY="k" * 50).returncode == 0
    assert run("import newsroom.asgi", DEBUG="1").returncode == 0


def test_commands_that_sign_nothing_run_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


SHOW_ORDER = """
import json
from django.conf import settings
print(json.dumps({"apps": settings.INSTALLED_APPS, "middleware": settings.MIDDLEWARE}))
"""


def test_the_apps_and_the_middleware_order_are_the_same_whatever_the_environment():
    """INSTALLED_APPS and MIDDLEWARE are written out once in settings; optional parts step aside
    at run time instead of being inserted, so the order read in the file is the order served."""
    plain = run(SHOW_ORDER, SECRET_KEY="k" * 50, DJANGO_SETTINGS_MODULE="newsroom.settings")
    everything = run(
        SHOW_ORDER,
        SECRET_KEY="k" * 50,
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        REDIS_URL="redis://127.0.0.1:6379/1",
        DATABASE_URL="postgres://postgres@127.0.0.1/x",
        DATABASE_REPLICA_URLS="postgres://postgres@127.0.0.1/y",
        AWS_STORAGE_BUCKET_NAME="b",
        NEWSROOM_CDN_BACKEND="api",
        NEWSROOM_CDN_API_URL="http://127.0.0.1:1/",
    )
    assert plain.returncode == 0 and everything.returncode == 0, plain.stderr + everything.stderr
    assert plain.stdout == everything.stdout
    middleware = json.loads(plain.stdout)["middleware"]
    assert middleware[:3] == [
        "newsroom.request_log.RequestIdMiddleware",
        "newsroom.health.HealthCheckMiddleware",
        "delivery.cache.PageCacheMiddleware",
    ]
    assert middleware[-1] == "axes.middleware.AxesMiddleware"


def test_gunicorn_serves_page_cache_hits_before_djangos_handler():
    """`newsroom.wsgi:application` is Django's handler inside the wrappers the settings name."""
    result = run(
        "import newsroom.wsgi as w; print(w.application.__qualname__, w.application is not w.django_application)",
        SECRET_KEY="k" * 50,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["serve_hits_first.<locals>.application", "True"]

