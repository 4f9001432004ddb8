"""deploy/nginx/newsroom-proxy.conf: valid for nginx, and in front of the app it keeps anonymous
pages as the app's Cache-Control says, never an editor's, serves static files itself and passes
the request id through."""

import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests import factories

from .services import NGINX, free_port, nginx, nginx_site, wait_for_port

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx)")


def fetch(url, headers=None, method="GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_accepts_the_proxy_config(tmp_path):
    main = nginx_site(tmp_path, listen_port=free_port(), upstream_port=8000,
                      static_root=tmp_path / "static", media_root=tmp_path / "media")
    result = nginx("-t", folder=tmp_path, main=main)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr


@pytest.fixture
def proxy(tmp_path, live_server):
    static_root = tmp_path / "static"
    (static_root / "css").mkdir(parents=True)
    (static_root / "css" / "only-in-static-root.css").write_text("body { color: black }\n")
    port = free_port()
    main = nginx_site(tmp_path, listen_port=port, upstream_port=int(live_server.url.rsplit(":", 1)[1]),
                      static_root=static_root, media_root=tmp_path / "media")
    started = subprocess.run([NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
                             capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    nginx("-s", "quit", folder=tmp_path, main=main)
    for _ in range(50):
        if not (tmp_path / "nginx.pid").exists():
            break
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_anonymous_pages_are_kept_by_nginx_and_editors_always_reach_the_app(proxy):
    story = factories.published_story(headline="经过代理的新闻")
    url = proxy + story.get_absolute_url()

    status, first, body = fetch(url, {"X-Request-ID": "first-request-0001"})
    assert status == 200 and "经过代理的新闻" in body.decode()
    assert first["X-Cache-Status"] == "MISS" and first["X-Request-ID"] == "first-request-0001"
    assert "public" in first["Cache-Control"] and first["ETag"]

    status, second, body = fetch(url, {"X-Request-ID": "second-request-0002"})
    assert status == 200 and second["X-Cache-Status"] == "HIT" and "经过代理的新闻" in body.decode()
    assert second["X-Request-ID"] == "second-request-0002", "a cached page carries this request's id"

    status, conditional, body = fetch(url, {"If-None-Match": first["ETag"]})
    assert status == 304 and body == b""

    status, editor, _ = fetch(url, {"Cookie": "sessionid=abc"})
    assert editor["X-Cache-Status"] == "BYPASS" and "private" in editor["Cache-Control"]
    status, editor, _ = fetch(url, {"Cookie": "csrftoken=x; __Secure-sessionid=abc"})  # SECURE_SSL's name
    assert editor["X-Cache-Status"] == "BYPASS"
    status, reader, _ = fetch(url, {"Cookie": "csrftoken=x; mysessionid=abc"})
    assert reader["X-Cache-Status"] == "HIT"

    status, generated, _ = fetch(url)
    assert len(generated["X-Request-ID"]) == 32, "nginx makes an id when the client sends none"


@pytest.mark.django_db(transaction=True)
def test_nginx_serves_static_files_and_never_caches_healthz_or_the_admin(proxy):
    status, headers, body = fetch(proxy + "/static/css/only-in-static-root.css")
    assert status == 200 and body == b"body { color: black }\n"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "X-Request-ID" not in headers, "static files never reach the app"

    for _ in range(2):
        status, headers, body = fetch(proxy + "/healthz")
        assert status == 200 and b'"status": "ok"' in body
        assert "X-Cache-Status" not in headers and headers["Cache-Control"] == "no-store"
        status, headers, _ = fetch(proxy + "/admin/login/")
        assert status == 200 and headers["X-Cache-Status"] in {"MISS", "BYPASS"}


def test_nginx_serves_readers_renditions_only_never_originals_or_private_photos(proxy, tmp_path):
    """The media folder as articles.photo_storage lays it out: a public story's renditions at
    their names, a draft's under private/, originals under private/ (or, from an older
    version, at photos/). nginx answers the first kind only."""
    media = tmp_path / "media"
    files = {
        "renditions/2026/12/public-w800-abcd.jpg": 200,
        "private/renditions/2026/12/draft-w800-abcd.jpg": 404,
        "private/photos/2026/12/original.jpg": 404,
        "photos/2026/12/older-original.jpg": 404,
    }
    for name in files:
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(b"\xff\xd8\xff\xd9")
    for name, expected in files.items():
        status, headers, _ = fetch(f"{proxy}/media/{name}")
        assert status == expected, name
        if status == 200:
            assert headers["Cache-Control"] == "public, max-age=86400, s-maxage=2592000"
            assert headers["X-Content-Type-Options"] == "nosniff"
