import contextlib
import os
from unittest import mock

# Settings require a secret key when DEBUG is off; tests never need a real one.
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

import pytest  # noqa: E402

_lines_from_workers = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """Under pytest-xdist, lines a worker wants in the summary (how long the streaming replica
    took to make) come back with its results; they are printed here, by the main process."""
    _lines_from_workers.extend(getattr(node, "workeroutput", {}).get("summary_lines", []))


def pytest_terminal_summary(terminalreporter):
    for line in _lines_from_workers:
        terminalreporter.write_line(line)


def _runs_long(item):
    """Marked slow, a browser test, or the read-replica group (one copy of the PostgreSQL
    cluster): each a minute or more on two cores."""
    if item.get_closest_marker("slow") or item.get_closest_marker("browser"):
        return True
    group = item.get_closest_marker("xdist_group")
    return bool(group and group.args and group.args[0] == "streaming-replica")


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items):
    """The longest tests first within each of pytest-django's groups.

    pytest-django runs the tests that roll back first, then those that commit, since a test
    that commits empties every table after it, the rows data migrations wrote too (the review
    deadlines, for one), which tests that roll back may read. That order stays: the long tests
    are put first here, before pytest-django's sort, which keeps the order within its groups.
    pytest-xdist hands tests out in this order, and a long one left to the end keeps one worker
    busy for minutes while the other has nothing to do."""
    items.sort(key=lambda item: not _runs_long(item))
    return (yield)


@pytest.fixture(autouse=True)
def _test_storage(settings, tmp_path_factory):
    """Photos and renditions go to a throwaway folder; static files need no collectstatic."""
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _tasks_run_at_commit(settings):
    """Background work (static files, CDN purges) runs in the test process once a change
    commits, with no worker (NEWSROOM_TASKS_BACKEND=immediate); tests/delivery/test_tasks.py
    puts the database queue and its worker back."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no cached pages (the local-memory cache outlives a test)."""
    from django.conf import settings
    from django.core.cache import caches

    def clear():
        for alias in settings.CACHES:
            caches[alias].clear()

    clear()
    yield
    clear()


@pytest.fixture
def static_root(settings, tmp_path):
    """Static publishing turned on, writing under a throwaway folder."""
    settings.NEWSROOM_STATIC_PUBLISH_ROOT = tmp_path / "site"
    settings.NEWSROOM_STATIC_PUBLISH_ORIGIN = "http://testserver"
    return tmp_path / "site"


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@contextlib.contextmanager
def chromium(sync_api):
    """Debian's Chromium, headless, launched by Playwright's sync API (never a downloaded browser).

    While Playwright's event loop runs in this thread, Django (asgiref's Local) keeps the
    thread's ORM calls on connections of their own, apart from the test's. They are closed
    here, while the loop still runs; left open, they outlive the test and keep the test
    database from being dropped at the end of the run ("being accessed by other users")."""
    from django.db import connections

    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
        with mock.patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}):  # the loop looks async
            connections.close_all()


@pytest.fixture
def browser(monkeypatch, settings):
    """Chromium for tests against the live server; skipped when it or Playwright is missing."""
    # The live server serves static files from the apps, with no collectstatic manifest.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM reads are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    with chromium(sync_api) as launched:
        yield launched
