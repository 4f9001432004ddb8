"""A cache server / CDN API on 127.0.0.1 that records what the newsroom tells it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.ports import free_port

PUBLIC = "https://news.example.cn"


class Recorder:
    """Answers PURGE, BAN, POST with `status` (and `body`), remembering every request.

    `fail_first` makes the first N requests answer 503, as a struggling CDN does;
    `on_request(recorded)` runs in the server's thread before it answers."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.requests, self.status, self.body, self.fail_first = [], 200, b"", 0
        self.on_request = None
        self.server = None
        self._lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "body": body,
                }
                with recorder._lock:
                    recorder.requests.append(seen)
                    failing = recorder.fail_first > 0
                    recorder.fail_first -= failing
                if recorder.on_request:
                    recorder.on_request(seen)
                payload = b"busy" if failing else recorder.body
                self.send_response(503 if failing else recorder.status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_PURGE = do_BAN = do_POST = do_GET = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- what was received --------------------------------------------------------------

    def purged_paths(self, host="news.example.cn"):
        return sorted(r["path"] for r in self.requests if r["method"] == "PURGE" and r["headers"]["host"] == host)

    def banned_keys(self):
        return [sorted(r["headers"]["surrogate-key"].split()) for r in self.requests if r["method"] == "BAN"]

    def posted(self):
        return [json.loads(r["body"]) for r in self.requests if r["method"] == "POST"]

    def clear(self):
        with self._lock:
            self.requests.clear()


@pytest.fixture
def cache_server():
    recorder = Recorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture
def http_purge(settings, cache_server):
    """The CDN is a cache server taking PURGE and BAN (Varnish style)."""
    settings.NEWSROOM_CDN_BACKEND = "http-purge"
    settings.NEWSROOM_CDN_PUBLIC_BASE_URL = [PUBLIC]
    settings.NEWSROOM_CDN_PURGE_SERVERS = [cache_server.url]
    settings.NEWSROOM_CDN_PURGE_BY = ["urls", "keys"]
    settings.NEWSROOM_CDN_ATTEMPTS = 3
    settings.NEWSROOM_CDN_TIMEOUT = 2
    return cache_server


@pytest.fixture
def purge_api(settings, cache_server):
    """The CDN is a commercial-style purge API taking JSON with a bearer token."""
    settings.NEWSROOM_CDN_BACKEND = "api"
    settings.NEWSROOM_CDN_PUBLIC_BASE_URL = [PUBLIC]
    settings.NEWSROOM_CDN_API_URL = cache_server.url + "/client/v4/zones/abc/purge_cache"
    settings.NEWSROOM_CDN_API_TOKEN = "token-for-tests"
    settings.NEWSROOM_CDN_API_BATCH = 4
    cache_server.body = b'{"success": true}'
    return cache_server
