"""/healthz tells monitoring whether this process can serve: database and cache, with timings."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_database_and_cache_with_timings(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database:default", "cache:default", "cache:dependencies"}
    for check in body["checks"].values():
        assert check["ok"] is True and isinstance(check["ms"], (int, float)) and check["ms"] >= 0


def test_healthz_is_never_cached_or_counted_as_a_page(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    for response in (first, second):
        assert response["Cache-Control"] == "no-store"
        assert "X-Page-Cache" not in response
        assert "ETag" not in response and "Last-Modified" not in response


def test_healthz_answers_monitoring_by_address_even_behind_https_and_host_checks(client, settings):
    settings.ALLOWED_HOSTS = ["news.example.cn"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/", HTTP_HOST="10.0.0.5:8000").status_code in {301, 400}
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_a_cache_that_does_not_answer_is_degraded_not_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache_backends.ResilientRedisCache",
            "LOCATION": "redis://:cache-password@127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database:default"]["ok"] is True
    assert body["checks"]["cache:default"] == {"ok": False, "ms": body["checks"]["cache:default"]["ms"],
                                               "error": "NotStored"}
    assert "cache-password" not in json.dumps(body) and "127.0.0.1" not in json.dumps(body)


def test_healthz_takes_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    head = client.head("/healthz")
    assert head.status_code == 200 and head.content == b""
