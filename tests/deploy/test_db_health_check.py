"""A reused PostgreSQL connection is trusted without a query while it is known to be good.

Django's health check (conn_health_checks) runs SELECT 1 before the first query of every
request on a kept connection. The project's backend (newsroom/db/postgresql) skips it while
the connection is open, idle, error-free and its socket has nothing to read, and runs it
otherwise: a backend the server ended sends an error and closes the socket, so the next
request sees that, reconnects and answers as usual.

The requests go through Django's WSGI handler, as gunicorn calls it: the test client leaves
the connection checks (close_old_connections) out. What reaches PostgreSQL is recorded at
the driver, where Django's own check sends its SELECT 1.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from tests import factories

ROOT = Path(__file__).resolve().parents[2]

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the connection health check is PostgreSQL's (newsroom/db/postgresql)"
)


def get(path):
    """A reader's GET through Django's WSGI handler: status code and body."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    started = []
    body = WSGIHandler()(environ, lambda status, headers, exc_info=None: started.append(status))
    try:
        content = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return int(started[0].split()[0]), content


def record_sql(raw_connection):
    """Every statement the psycopg2 connection sends from now on, Django's SELECT 1 included."""
    sent = []
    factory = raw_connection.cursor_factory or psycopg2.extensions.cursor

    class Recording(factory):
        def execute(self, query, params=None):
            sent.append(query.decode() if isinstance(query, bytes) else str(query))
            return super().execute(query, params)

    raw_connection.cursor_factory = Recording
    return sent


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def kept_connection(settings):
    """Connections kept between requests and health-checked, as in production; no page cache."""
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    saved = {name: connection.settings_dict[name] for name in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.settings_dict.update(CONN_MAX_AGE=600, CONN_HEALTH_CHECKS=True)
    connection.close()
    factories.published_story("健康检查")
    yield
    connection.close()
    connection.settings_dict.update(saved)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_readers_second_request_on_a_good_connection_sends_no_select_1(kept_connection):
    assert get("/")[0] == 200
    pid = backend_pid()
    sent = record_sql(connection.connection)

    status, content = get("/")

    assert status == 200 and "健康检查".encode() in content
    assert backend_pid() == pid  # the same connection served both
    assert sent, "the page was built with queries on the kept connection"
    assert not [query for query in sent if query.strip().upper() == "SELECT 1"]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_reader_gets_the_page_after_the_server_ended_the_kept_connection(kept_connection):
    assert get("/")[0] == 200
    pid = backend_pid()
    sent = record_sql(connection.connection)
    with psycopg2.connect(
        dbname=connection.settings_dict["NAME"],
        user=connection.settings_dict["USER"],
        host=connection.settings_dict["HOST"] or None,
        port=connection.settings_dict["PORT"] or None,
        password=connection.settings_dict["PASSWORD"] or None,
    ) as other:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits until it has ended
            assert cursor.fetchone()[0] is True
    other.close()

    status, content = get("/")

    assert status == 200 and "健康检查".encode() in content
    assert [query.strip().upper() for query in sent] == ["SELECT 1"]  # the check ran, failed, reconnected
    assert backend_pid() != pid


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_with_an_open_transaction_is_checked_with_a_query(kept_connection):
    """Whatever the socket says, a connection left inside a transaction is not trusted blindly."""
    assert get("/")[0] == 200
    raw = connection.connection
    sent = record_sql(raw)
    with raw.cursor() as cursor:
        cursor.execute("BEGIN")
    connection.health_check_done = False  # as at the start of a request

    connection.close_if_health_check_failed()

    assert [query.strip().upper() for query in sent] == ["BEGIN", "SELECT 1"]
    with raw.cursor() as cursor:
        cursor.execute("ROLLBACK")


SHOW_ENGINES = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({alias: c["ENGINE"] for alias, c in settings.DATABASES.items()}))
"""


def engines(**env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    environment.update(SECRET_KEY="tests-only-not-a-secret", DJANGO_SETTINGS_MODULE="newsroom.settings", **env)
    result = subprocess.run([sys.executable, "-c", SHOW_ENGINES], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_urls_primary_and_replicas_use_the_projects_backend_and_sqlite_stays_djangos():
    assert engines(
        DATABASE_URL="postgres://newsroom@10.0.0.1:5432/newsroom",
        DATABASE_REPLICA_URLS="postgres://newsroom@10.0.0.2:5432/newsroom",
    ) == {"default": "newsroom.db.postgresql", "replica1": "newsroom.db.postgresql"}
    assert engines() == {"default": "django.db.backends.sqlite3"}
