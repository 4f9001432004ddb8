import os

# Settings require a secret key when DEBUG is off; tests never need a real one.
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    """Photos and renditions written by tests go to a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no cached pages (the local-memory cache outlives a test)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Pages render before collectstatic has run: name static files without a manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
