"""Faults the site survives without a restart: a database that drops out answers 503 with
a plain message (nothing half-saved), and a stopped Redis only makes the cache miss."""

from unittest import mock

import pytest
from django.core.cache import caches
from django.db import OperationalError

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_lost_database_connection_is_a_503_that_says_nothing_was_saved(client):
    with mock.patch("readers.views.search_engine.Query", side_effect=OperationalError("server closed the connection")):
        response = client.get("/search/?q=历城")
    assert response.status_code == 503
    assert response["Retry-After"] == "5" and "no-store" in response["Cache-Control"]
    assert "没有保存" in response.content.decode()


def test_other_errors_are_not_hidden_as_503(client):
    with mock.patch("readers.views.search_engine.Query", side_effect=ValueError("a bug")):
        with pytest.raises(ValueError):
            client.get("/search/?q=历城")


def test_pages_still_serve_while_redis_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "newsroom.cache_backends.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    story = factories.published_story(headline="缓存停了也能读")
    for _ in range(2):
        assert "缓存停了也能读" in client.get("/").content.decode()
        assert client.get(story.get_absolute_url()).status_code == 200
    assert caches["default"].get("anything", "fallback") == "fallback"
    assert caches["default"].get_many(["a", "b"]) == {}
