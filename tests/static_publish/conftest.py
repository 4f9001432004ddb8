import pytest


@pytest.fixture
def static_root(settings, tmp_path):
    """Static publishing turned on, writing under a throwaway folder."""
    settings.NEWSROOM_STATIC_PUBLISH_ROOT = tmp_path / "site"
    settings.NEWSROOM_STATIC_PUBLISH_ORIGIN = "http://testserver"
    return tmp_path / "site"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a change as if its transaction committed (files follow commits, like the page cache)."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run
