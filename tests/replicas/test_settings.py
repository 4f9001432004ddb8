"""DATABASE_REPLICA_URLS adds replica aliases, the router and the read-your-writes cookie;
without it nothing changes; a wrong value stops start-up with a message that names it.
(No database is needed: these run on every test run.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from newsroom import db_router

ROOT = Path(__file__).resolve().parents[2]

SHOW = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "databases": {
        alias: {"host": c["HOST"], "port": c["PORT"], "name": c["NAME"], "options": c.get("OPTIONS", {}),
                "mirror": c.get("TEST", {}).get("MIRROR")}
        for alias, c in settings.DATABASES.items()
    },
    "routers": settings.DATABASE_ROUTERS,
    "middleware": settings.MIDDLEWARE,
    "sticky": settings.NEWSROOM_REPLICA_STICKY_SECONDS,
}))
"""


def settings_with(**env):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "NEWSROOM_REPLICA"))
    }
    environment.update(SECRET_KEY="tests-only-not-a-secret", DJANGO_SETTINGS_MODULE="newsroom.settings", **env)
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_replica_urls_become_replica_aliases_with_the_router_and_the_cookie_middleware():
    result = settings_with(
        DATABASE_URL="postgres://newsroom@10.0.0.1:5432/newsroom",
        DATABASE_REPLICA_URLS="postgres://newsroom:pw@10.0.0.2:5432/newsroom, postgres://newsroom@10.0.0.3/newsroom?connect_timeout=1",
        NEWSROOM_REPLICA_STICKY_SECONDS="30",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert list(shown["databases"]) == ["default", "replica1", "replica2"]
    assert shown["databases"]["replica1"]["host"] == "10.0.0.2"
    assert shown["databases"]["replica1"]["options"]["connect_timeout"] == 3  # a dead host costs seconds
    assert shown["databases"]["replica2"]["options"]["connect_timeout"] == 1  # the URL's own wins
    # A test run with replicas configured uses the primary's test database for them.
    assert shown["databases"]["replica2"]["mirror"] == "default"
    assert shown["routers"] == [db_router.ROUTER]
    sessions = shown["middleware"].index("django.contrib.sessions.middleware.SessionMiddleware")
    assert shown["middleware"][sessions + 1] == db_router.MIDDLEWARE
    assert shown["sticky"] == 30


def test_without_replicas_there_is_one_database_and_no_router():
    result = settings_with()
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert list(shown["databases"]) == ["default"]
    assert shown["routers"] == []
    # Listed in the same place either way; without the router it steps aside (see below).
    sessions = shown["middleware"].index("django.contrib.sessions.middleware.SessionMiddleware")
    assert shown["middleware"][sessions + 1] == db_router.MIDDLEWARE
    assert shown["sticky"] == 15


def test_without_replicas_a_change_marks_nobody(db):
    answer = Client().post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert answer.status_code == 302
    assert "newsroom_wrote" not in answer.cookies


@pytest.mark.parametrize(
    "env, message",
    [
        (
            {"DATABASE_REPLICA_URLS": "postgres://newsroom:s3cret@10.0.0.2/newsroom"},
            "needs PostgreSQL streaming replicas of a PostgreSQL DATABASE_URL",
        ),
        (
            {"DATABASE_URL": "postgres://p/newsroom", "DATABASE_REPLICA_URLS": "mysql://newsroom:s3cret@10.0.0.2/newsroom"},
            "entry 1 (mysql://…@10.0.0.2/newsroom) uses django.db.backends.mysql",
        ),
        (
            {"DATABASE_URL": "postgres://p/newsroom", "DATABASE_REPLICA_URLS": "postgres://r/n,postgress://newsroom:s3cret@r2/n"},
            "DATABASE_REPLICA_URLS entry 2 (postgress://…@r2/n) is not a database URL",
        ),
        ({"NEWSROOM_REPLICA_STICKY_SECONDS": "soon"}, "NEWSROOM_REPLICA_STICKY_SECONDS must be a whole number"),
        ({"NEWSROOM_REPLICA_WAIT_MS": "-5"}, "NEWSROOM_REPLICA_WAIT_MS must be a whole number"),
    ],
)
def test_a_wrong_replica_setting_stops_start_up_with_a_message(env, message):
    result = settings_with(**env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "s3cret" not in result.stderr


def test_migrations_run_on_the_primary_only():
    router = db_router.ReplicaRouter()
    assert router.allow_migrate("replica1", "articles") is False
    assert router.allow_migrate("replica12", "articles", model_name="article") is False
    assert router.allow_migrate("default", "articles") is None  # Django's own rule: yes


@pytest.fixture
def marking(settings):
    """The router installed, as DATABASE_REPLICA_URLS would: the middleware, already listed, works."""
    settings.DATABASE_ROUTERS = [db_router.ROUTER]
    settings.NEWSROOM_REPLICA_STICKY_SECONDS = 15


def test_a_change_marks_the_client_for_a_while_and_a_page_view_does_not(marking, db):
    """The mark is set on answers to POSTs, never on pages a cache may keep."""
    client = Client()
    page = client.get("/")
    assert page.status_code == 200 and "newsroom_wrote" not in page.cookies
    answer = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    mark = answer.cookies["newsroom_wrote"]
    assert mark["max-age"] == 15 and mark["httponly"] and mark["samesite"] == "Lax"
    assert mark.value != "1"  # signed


def test_no_mark_when_sticky_seconds_is_zero(marking, settings, db):
    settings.NEWSROOM_REPLICA_STICKY_SECONDS = 0
    answer = Client().post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "newsroom_wrote" not in answer.cookies
