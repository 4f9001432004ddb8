"""gunicorn loads the search segmenter's dictionary once, in the master, before it forks:
a worker's first search, and the first after a worker is recycled, do not wait for it."""

import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from .services import BASE_DIR, Gunicorn

# Wrapped around the site by a settings module of the test's own: each answer says whether
# the worker had the dictionary in memory before the request began, and which worker it was.
PROBE = '''
import os
import sys


def tell_segmenter_state(app):
    def probe(environ, start_response):
        search = sys.modules.get("articles.search")
        loaded = "yes" if search is not None and search._jieba is not None else "no"

        def start(status, headers, exc_info=None):
            headers = [*headers, ("X-Segmenter-Loaded", loaded), ("X-Worker", str(os.getpid()))]
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return probe
'''

SETTINGS = '''
from newsroom.settings import *  # noqa
NEWSROOM_WSGI_WRAPPERS = [*globals().get("NEWSROOM_WSGI_WRAPPERS", []), "probe.tell_segmenter_state"]
# Pages render without a collectstatic manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
'''


@pytest.fixture
def server(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "probe_settings.py").write_text(SETTINGS)
    database = f"sqlite:///{tmp_path}/db.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=BASE_DIR, check=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database, "SECRET_KEY": "tests-only-not-a-secret"},
    )
    # Three requests, then the worker is replaced (no jitter below ten).
    running = Gunicorn(tmp_path, {
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "probe_settings",
        "PYTHONPATH": str(tmp_path),
        "GUNICORN_MAX_REQUESTS": "3",
    })
    yield running
    running.stop()


def search(server, words):
    started = time.monotonic()
    url = f"{server.origin}/search/?q={urllib.parse.quote(words)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers, time.monotonic() - started


def test_every_worker_has_the_dictionary_before_its_first_search_even_after_a_recycle(server):
    status, headers, first_seconds = search(server, "泉城两会")
    assert status == 200
    assert headers["X-Segmenter-Loaded"] == "yes"
    first_worker = headers["X-Worker"]

    search(server, "济南")
    search(server, "历城区")  # the worker's third request: it is replaced after this one

    status, headers, recycled_seconds = search(server, "省委全会")
    assert status == 200
    assert headers["X-Worker"] != first_worker, "GUNICORN_MAX_REQUESTS=3 should have replaced the worker"
    assert headers["X-Segmenter-Loaded"] == "yes"

    # Loading the dictionary takes 1-2 s of CPU; with it preloaded a first search is far
    # quicker, but the bound stays loose for a busy machine.
    assert first_seconds < 5 and recycled_seconds < 5
    loaded = [line for line in server.lines() if "Search segmenter loaded" in line]
    booted = [n for n, line in enumerate(server.lines()) if "Booting worker" in line]
    assert len(loaded) == 1, "once, in the master"
    assert server.lines().index(loaded[0]) < booted[0], "before the first worker is forked"
