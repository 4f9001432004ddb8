"""Without Redis each process keeps pages and their dependency versions in its own memory:
pages pushing each other out must never push out the versions, or every page is rebuilt."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

LOCAL = "newsroom.cache_backends.LocalMemoryCache"


@pytest.fixture
def small_page_cache(settings):
    """Room for four pages, as the settings' local caches are laid out (only smaller)."""
    settings.CACHES = {
        "default": {"BACKEND": LOCAL, "LOCATION": "capacity-pages", "OPTIONS": {"MAX_ENTRIES": 4}},
        "dependencies": {"BACKEND": LOCAL, "LOCATION": "capacity-deps", "OPTIONS": {"MAX_ENTRIES": 10_000}},
    }


def _tags(client, story):
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200 and story.headline in response.content.decode()
    return response.get("X-Page-Cache")


def test_a_page_stays_cached_while_others_fill_the_cache(client, small_page_cache):
    section = factories.section()
    stories = [factories.published_story(headline=f"本地缓存稿件{n}", section=section) for n in range(3)]
    for story in stories:
        assert _tags(client, story) != "hit"
    # Three pages with about ten dependency versions each: far more entries than the page
    # cache holds, yet the first page is still a hit.
    assert _tags(client, stories[0]) == "hit"

