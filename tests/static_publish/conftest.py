import pytest


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a change as if its transaction committed (files follow commits, like the page cache)."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run
