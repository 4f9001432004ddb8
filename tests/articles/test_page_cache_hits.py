"""A cached page reaches an anonymous reader before the rest of the site runs, looking exactly
as the full stack would have sent it: the same headers, 304s, HEAD, and never for staff."""

import io
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.utils import timezone

from delivery.cache import cached_page
from articles.models import Article
from editorial import workflow
from tests import factories
from tests.ports import free_port

pytestmark = pytest.mark.django_db

FAST_PATH = "delivery.cache.PageCacheMiddleware"


class CountingMiddleware:
    """Counts the requests that reach the middleware stack behind the page cache."""

    calls = 0

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        CountingMiddleware.calls += 1
        return self.get_response(request)


@pytest.fixture
def story():
    article = factories.published_story(headline="历城书记论坛", section=factories.section(slug="local"))
    article.tags.add("泉城")
    return article


@pytest.fixture
def without_fast_path(settings):
    """The site as it was before: the page cache answered inside the stack, by the view's decorator."""

    def switch():
        settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != FAST_PATH]
        return Client()

    return switch


# Differ per request by design: a hit or a miss, and each request's own id.
PER_REQUEST = {"X-Page-Cache", "X-Request-ID"}


def headers(response):
    return {name: value for name, value in response.items() if name not in PER_REQUEST}


def without_ids(header_list):
    return [(name, value) for name, value in header_list if name != "X-Request-ID"]


def test_a_hit_is_answered_before_the_rest_of_the_middleware_stack(settings, story):
    settings.MIDDLEWARE = [FAST_PATH, f"{__name__}.CountingMiddleware", *settings.MIDDLEWARE[1:]]
    client = Client()
    CountingMiddleware.calls = 0
    assert client.get(story.get_absolute_url())["X-Page-Cache"] == "miss"
    assert CountingMiddleware.calls == 1
    for _ in range(3):
        response = client.get(story.get_absolute_url())
        assert response["X-Page-Cache"] == "hit"
    assert CountingMiddleware.calls == 1
    assert "历城书记论坛" in response.content.decode()


def test_a_hit_carries_every_header_the_full_stack_sends(client, story, without_fast_path):
    miss = client.get(story.get_absolute_url())
    hit = client.get(story.get_absolute_url())
    assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    assert headers(hit) == headers(miss)
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                 "Cross-Origin-Opener-Policy", "Permissions-Policy", "Content-Language", "ETag", "Cache-Control"):
        assert hit[name], name
    assert hit["Content-Length"] == str(len(hit.content))
    # The same page served by the decorator inside the stack, as before the fast path.
    inside = without_fast_path().get(story.get_absolute_url())
    assert inside["X-Page-Cache"] == "hit"
    assert headers(inside) == headers(hit)
    assert inside.content == hit.content


def test_a_conditional_hit_gets_the_304_the_full_stack_gives(client, story, without_fast_path):
    etag = client.get(story.get_absolute_url())["ETag"]
    client.get(story.get_absolute_url())
    fast = client.get(story.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert fast.status_code == 304 and fast.content == b""
    since = client.get(story.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=fast["Last-Modified"])
    assert since.status_code == 304
    changed = client.get(story.get_absolute_url(), HTTP_IF_NONE_MATCH='"another-version"')
    assert changed.status_code == 200 and changed["X-Page-Cache"] == "hit"
    inside = without_fast_path().get(story.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert inside.status_code == 304
    assert headers(fast) == headers(inside)
    assert fast["Content-Security-Policy"] and fast["Content-Length"] == "0"


def test_head_gets_the_pages_headers_without_its_body(client, story):
    full = client.get(story.get_absolute_url())
    head = client.head(story.get_absolute_url())
    assert head.status_code == 200 and head.content == b""
    assert head["X-Page-Cache"] == "hit"
    assert head["Content-Length"] == str(len(full.content))
    assert head["ETag"] == full["ETag"]


def test_head_first_caches_the_page_for_the_next_get(client, story):
    assert client.head("/").status_code == 200
    response = client.get("/")
    assert response["X-Page-Cache"] == "hit"
    assert "历城书记论坛" in response.content.decode()


def test_staff_are_never_answered_from_the_cache(client, story, admin_user):
    client.get(story.get_absolute_url())
    client.get(story.get_absolute_url())
    client.force_login(admin_user)
    response = client.get(story.get_absolute_url())
    assert "X-Page-Cache" not in response
    assert "private" in response["Cache-Control"]


def test_each_host_gets_its_own_copy_with_its_own_addresses(client, story, settings):
    settings.ALLOWED_HOSTS = ["news.example.cn", "m.example.cn"]
    first = client.get(story.get_absolute_url(), HTTP_HOST="news.example.cn")
    client.get(story.get_absolute_url(), HTTP_HOST="news.example.cn")
    other = client.get(story.get_absolute_url(), HTTP_HOST="m.example.cn")
    assert other["X-Page-Cache"] == "miss"
    assert "http://m.example.cn/" in other.content.decode()
    assert "http://m.example.cn/" not in first.content.decode()
    assert client.get(story.get_absolute_url(), HTTP_HOST="evil.example").status_code == 400


@cached_page
def page_with_inline_script(request):
    response = HttpResponse(f'<script nonce="{request.csp_nonce}">start()</script>')
    response.dependency_keys = set()
    return response


urlpatterns = [path("with-script/", page_with_inline_script)]


def test_a_page_whose_policy_carries_a_nonce_never_has_it_replayed(client, settings):
    settings.ROOT_URLCONF = __name__
    first = client.get("/with-script/")
    nonce = first["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in first.content.decode()
    for _ in range(2):
        again = client.get("/with-script/")
        assert nonce not in again["Content-Security-Policy"]


def test_a_withdrawn_story_is_answered_gone_from_the_cache(client, story, django_capture_on_commit_callbacks):
    editor = factories.desk()["editor"]
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(story, actor=editor, reason="稿件有误。")
    assert client.get(story.get_absolute_url()).status_code == 410
    response = client.get(story.get_absolute_url())
    assert response.status_code == 410 and response["X-Page-Cache"] == "hit"


# --- the WSGI application production runs (gunicorn newsroom.wsgi) -------------------------


def wsgi_get(path, method="GET", **headers):
    """(status, headers, body) of one request through newsroom.wsgi.application; `path` may
    carry a query string."""
    from newsroom.wsgi import application

    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode().decode("iso-8859-1"),  # PEP 3333: bytes as latin-1
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started.update(status=status, headers=response_headers)

    # As Django's test client does: the test's transaction holds the connection open, so the
    # handler must not close "old" connections at the start and end of the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], body


@pytest.fixture
def django_requests():
    """How many requests reached Django's own handler."""
    seen = []

    def count(**kwargs):
        seen.append(1)

    request_started.connect(count)
    yield seen
    request_started.disconnect(count)


def test_production_answers_a_hit_without_entering_django(client, story, django_requests):
    url = story.get_absolute_url()
    status, miss_headers, body = wsgi_get(url)
    assert status == "200 OK" and dict(miss_headers)["X-Page-Cache"] == "miss"
    assert len(django_requests) == 1
    status, hit_headers, hit_body = wsgi_get(url)
    assert status == "200 OK" and hit_body == body
    assert len(django_requests) == 1
    # Exactly the headers the test client's (middleware) hit gets, in the same order.
    assert without_ids(hit_headers) == without_ids(client.get(url).items())
    assert dict(hit_headers)["X-Page-Cache"] == "hit"


def test_production_sends_conditional_and_staff_requests_through_django(story, django_requests, admin_user):
    url = story.get_absolute_url()
    etag = dict(wsgi_get(url)[1])["ETag"]
    wsgi_get(url)
    assert len(django_requests) == 1
    status, not_modified, body = wsgi_get(url, if_none_match=etag)
    assert status == "304 Not Modified" and body == b""
    assert dict(not_modified)["Content-Security-Policy"]
    status, staff_headers, _ = wsgi_get(url, cookie="sessionid=anything")
    assert status == "200 OK" and "X-Page-Cache" not in dict(staff_headers)
    assert len(django_requests) == 3


def test_production_answers_head_and_gone_from_the_cache(story, django_requests, django_capture_on_commit_callbacks):
    url = story.get_absolute_url()
    wsgi_get(url)
    status, head_headers, _ = wsgi_get(url, method="HEAD")
    assert status == "200 OK" and dict(head_headers)["X-Page-Cache"] == "hit"
    editor = factories.desk()["editor"]
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(story, actor=editor, reason="稿件有误。")
    wsgi_get(url)
    status, _, _ = wsgi_get(url)
    assert status == "410 Gone"
    assert len(django_requests) == 2


def test_production_serves_addresses_in_chinese_from_the_cache(story, django_requests):
    url = f"/tags/{story.tags.get().slug}/"
    assert not url.isascii()
    status, _, body = wsgi_get(url)
    assert status == "200 OK" and "历城书记论坛" in body.decode()
    status, hit_headers, hit_body = wsgi_get(url)
    assert status == "200 OK" and hit_body == body
    assert dict(hit_headers)["X-Page-Cache"] == "hit"
    assert len(django_requests) == 1


@pytest.fixture
def redis_cache(settings, tmp_path):
    """The site's cache on a Redis of its own, started for the test on a free port."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (CI installs and runs it)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        settings.CACHES = {
            "default": {
                "BACKEND": "newsroom.cache_backends.ResilientRedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "KEY_PREFIX": "newsroom",
            }
        }
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_with_redis_a_hit_and_a_change_are_seen_the_same_way(
    client, story, redis_cache, django_requests, django_capture_on_commit_callbacks
):
    url = story.get_absolute_url()
    status, miss_headers, _ = wsgi_get(url)
    status, hit_headers, body = wsgi_get(url)
    assert dict(hit_headers)["X-Page-Cache"] == "hit" and len(django_requests) == 1
    assert [h for h in hit_headers if h[0] not in PER_REQUEST] == [h for h in miss_headers if h[0] not in PER_REQUEST]
    with django_capture_on_commit_callbacks(execute=True):
        factories.edit(story, headline="改过的标题", note="标题有误,已更正。")
    status, headers, body = wsgi_get(url)
    assert dict(headers)["X-Page-Cache"] == "miss" and "改过的标题" in body.decode()


def test_production_serves_through_django_when_the_fast_path_fails(story, django_requests, caplog):
    from unittest import mock

    url = story.get_absolute_url()
    wsgi_get(url)
    with mock.patch("delivery.cache.WSGIRequest", side_effect=RuntimeError("fast path broken")):
        status, headers, body = wsgi_get(url)
    assert status == "200 OK" and "历城书记论坛" in body.decode()
    assert len(django_requests) == 2
    assert "page cache fast path failed" in caplog.text


def test_production_with_the_page_cache_and_the_read_model_off_goes_straight_to_django(story, settings, django_requests):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    settings.NEWSROOM_READ_MODEL = False
    for _ in range(2):
        status, headers, _ = wsgi_get(story.get_absolute_url())
        assert status == "200 OK" and "X-Page-Cache" not in dict(headers)
    assert len(django_requests) == 2


def test_production_gives_each_hit_its_own_request_id(story, django_requests):
    url = story.get_absolute_url()
    wsgi_get(url)
    _, first, _ = wsgi_get(url)
    _, second, _ = wsgi_get(url)
    _, given, _ = wsgi_get(url, x_request_id="editor-desk-0042")
    _, refused, _ = wsgi_get(url, x_request_id="bad id\nwith a newline")
    assert len(django_requests) == 1  # every one of these was a hit answered before Django
    ids = [dict(found)["X-Request-ID"] for found in (first, second, given, refused)]
    assert ids[0] != ids[1] and len(ids[0]) == 32
    assert ids[2] == "editor-desk-0042"
    assert ids[3] != "bad id\nwith a newline" and len(ids[3]) == 32


# --- pages asked for again and again: sent ready (delivery.cache.ReadyHits) -----------------------


@pytest.fixture
def no_lookups(monkeypatch):
    """Counts the full lookups (request built, key hashed, entry read) hits still make."""
    from delivery import cache

    made = []
    original = cache._lookup

    def counted(request):
        made.append(request.path)
        return original(request)

    monkeypatch.setattr(cache, "_lookup", counted)
    return made


def test_a_page_asked_for_again_is_sent_ready_with_the_same_bytes_and_headers(story, django_requests, no_lookups):
    url = story.get_absolute_url()
    wsgi_get(url)  # built by Django and cached
    _, first_hit, body = wsgi_get(url)  # found by a full lookup
    assert no_lookups
    no_lookups.clear()
    hits = [wsgi_get(url) for _ in range(3)]
    assert len(django_requests) == 1 and no_lookups == []
    for status, headers, hit_body in hits:
        assert status == "200 OK" and hit_body == body
        assert without_ids(headers) == without_ids(first_hit)


def test_a_change_reaches_a_page_sent_ready_at_once(story, django_requests, django_capture_on_commit_callbacks):
    url = story.get_absolute_url()
    for _ in range(3):
        wsgi_get(url)
    with django_capture_on_commit_callbacks(execute=True):
        factories.edit(story, headline="改过的标题", note="标题有误,已更正。")
    status, headers, body = wsgi_get(url)
    assert status == "200 OK" and dict(headers)["X-Page-Cache"] == "miss" and "改过的标题" in body.decode()


def test_a_page_sent_ready_goes_when_the_page_cache_would_let_it_go(story, settings, time_machine, no_lookups):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 60
    time_machine.move_to(timezone.now(), tick=False)
    url = story.get_absolute_url()
    for _ in range(3):
        wsgi_get(url)
    no_lookups.clear()
    time_machine.shift(59)
    assert dict(wsgi_get(url)[1])["X-Page-Cache"] == "hit" and no_lookups == []
    time_machine.shift(2)
    # Looked up again in full: here the read model has it, current as read.
    assert dict(wsgi_get(url)[1])["X-Page-Cache"] == "hit" and no_lookups == [url]


def test_a_page_sent_ready_counts_its_lifetime_down_to_the_next_scheduled_story(story, time_machine):
    from tests.articles.readers import scheduled

    time_machine.move_to(timezone.now(), tick=False)
    due = scheduled("定时的新闻", minutes=0.5, section=story.section)
    for _ in range(3):
        status, headers, body = wsgi_get("/")
    assert "定时的新闻" not in body.decode()
    first = dict(headers)["Cache-Control"]
    time_machine.shift(10)
    later = dict(wsgi_get("/")[1])["Cache-Control"]
    shared = [int(value.split("s-maxage=")[1].split(",")[0]) for value in (first, later)]
    assert 0 < shared[1] < shared[0] <= 30, (first, later)
    time_machine.move_to(due.published_at + timedelta(seconds=1))
    assert "定时的新闻" in wsgi_get("/")[2].decode()


def test_a_page_sent_ready_is_never_sent_to_staff_or_to_a_host_not_allowed(story, django_requests):
    url = story.get_absolute_url()
    for _ in range(3):
        wsgi_get(url)
    status, headers, _ = wsgi_get(url, cookie="sessionid=anything")
    assert status == "200 OK" and "X-Page-Cache" not in dict(headers)
    status, _, _ = wsgi_get(url, host="elsewhere.example")
    assert status == "400 Bad Request"
    assert len(django_requests) == 3


def test_pages_kept_ready_stay_within_a_workers_memory_budget(story, monkeypatch, no_lookups):
    from delivery.cache import ReadyHits, ready_hits

    url = story.get_absolute_url()
    story_bytes, home_bytes = len(wsgi_get(url)[2]), len(wsgi_get("/")[2])
    # Room for the larger of the two pages only: each one kept pushes the other out.
    monkeypatch.setattr(ReadyHits, "BUDGET", max(story_bytes, home_bytes) + 1)
    for path in [url, "/"] * 3:
        assert wsgi_get(path)[0] == "200 OK"
        assert ready_hits.bytes == sum(len(ready[1]["content"]) for ready in ready_hits.pages.values())
        assert ready_hits.bytes <= ReadyHits.BUDGET
    # A page larger than a kept page may be is looked up in full every time.
    monkeypatch.setattr(ReadyHits, "LARGEST", story_bytes - 1)
    ready_hits.clear()
    no_lookups.clear()
    for _ in range(3):
        assert dict(wsgi_get(url)[1])["X-Page-Cache"] == "hit"
    assert no_lookups == [url] * 3
