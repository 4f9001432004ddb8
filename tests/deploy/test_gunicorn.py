"""gunicorn as DEPLOY.md starts it (deploy/gunicorn.conf.py, settings from the environment):
/healthz over a real socket, 503 without a database, JSON lines with the request id."""

import json
import urllib.error
import urllib.request

import pytest

from .services import Gunicorn


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def json_lines(server):
    lines = []
    for line in server.lines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture
def start(tmp_path):
    servers = []

    def run(**env):
        server = Gunicorn(tmp_path, env)
        servers.append(server)
        return server

    yield run
    for server in servers:
        server.stop()


def test_healthz_checks_the_primary_and_each_replica(start, tmp_path):
    # A settings module with one working and one unreachable replica alias.
    (tmp_path / "replica_settings.py").write_text(
        "from newsroom.settings import *  # noqa\n"
        "DATABASES['replica_ok'] = dict(DATABASES['default'])\n"
        f"DATABASES['replica_gone'] = {{**DATABASES['default'], 'NAME': '{tmp_path}/no-such-folder/db.sqlite3'}}\n"
    )
    server = start(
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        DJANGO_SETTINGS_MODULE="replica_settings",
        PYTHONPATH=str(tmp_path),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    status, headers, body = fetch(server.origin + "/healthz", {"X-Request-ID": "monitor-00000001"})
    assert status == 200, body
    report = json.loads(body)
    assert report["status"] == "degraded"
    assert report["checks"]["database:default"]["ok"] is True
    assert report["checks"]["database:replica_ok"]["ok"] is True
    assert report["checks"]["database:replica_gone"] == {
        "ok": False, "ms": report["checks"]["database:replica_gone"]["ms"], "error": "OperationalError"}
    assert "no-such-folder" not in body.decode()
    assert headers["Cache-Control"] == "no-store" and headers["X-Request-ID"] == "monitor-00000001"
    server.stop()
    access = [line for line in json_lines(server) if line.get("logger") == "newsroom.access"]
    assert access and access[-1]["path"] == "/healthz" and access[-1]["request_id"] == "monitor-00000001"
    assert any(line.get("logger") == "gunicorn.error" for line in json_lines(server)), "gunicorn's own lines are JSON"


def test_without_its_database_the_site_answers_503_and_says_nothing_secret(start):
    server = start(
        DATABASE_URL="postgres://newsroom:s3cret-pw@127.0.0.1:1/newsroom",  # nothing listens on port 1
        LOG_FORMAT="json",
    )
    status, headers, body = fetch(server.origin + "/healthz")
    assert status == 503
    report = json.loads(body)
    assert report["status"] == "down" and report["checks"]["database:default"]["ok"] is False
    assert report["checks"]["cache:default"]["ok"] is True
    for secret in ("s3cret-pw", "newsroom:", "127.0.0.1"):
        assert secret not in body.decode()

    status, headers, body = fetch(server.origin + "/", {"X-Request-ID": "reader-complaint-42"})
    assert status == 503 and "没有保存" in body.decode()
    assert headers["X-Request-ID"] == "reader-complaint-42"
    server.stop()
    fault = [line for line in json_lines(server) if line.get("logger") == "newsroom.faults"]
    assert fault and fault[-1]["request_id"] == "reader-complaint-42"
    assert "database unavailable" in fault[-1]["message"]
