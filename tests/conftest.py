import os

# Settings require a secret key when DEBUG is off; tests never need a real one.
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    """Photos and renditions written by tests go to a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
