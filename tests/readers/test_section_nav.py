"""The section navigation is printed on every public page. It is rendered once per current
item and kept, keyed by the site's version: a page built afterwards reads no section, and a
section renamed at the desk is printed by the next page built."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from editorial.roles import CHIEF_EDITOR
from tests import factories

pytestmark = pytest.mark.django_db

SECTIONS_READ = re.compile(r'FROM "?articles_section"? ORDER BY', re.IGNORECASE)


def built(path):
    """A page built for an anonymous reader (never a page-cache hit: each path is new)."""
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(path)
    assert response.status_code == 200
    assert response.headers["X-Page-Cache"] == "miss"
    read_sections = any(SECTIONS_READ.search(query["sql"]) for query in captured)
    return response.content.decode(), read_sections


def nav(html):
    return re.search(r'<nav class="section-nav".*?</nav>', html, re.DOTALL).group(0)


@pytest.fixture
def site():
    local, sports = factories.section(name="本地", slug="local"), factories.section(name="体育", slug="sports")
    stories = [factories.published_story(section=local) for _ in range(3)] + [factories.published_story(section=sports)]
    return local, sports, stories


def test_pages_built_after_the_first_ones_print_the_navigation_without_reading_the_sections(site):
    local, sports, stories = site
    first_html, first_read = built(stories[0].get_absolute_url())
    built(stories[1].get_absolute_url())  # the site's version is known from the first page on
    html, read = built(stories[2].get_absolute_url())
    assert first_read and not read
    assert nav(html) == nav(first_html)
    assert '<a href="/sections/local/">本地</a>' in nav(html)


def current(path):
    html = Client().get(path).content.decode()
    return re.findall(r'href="([^"]+)" aria-current="page"', nav(html))


def test_each_page_marks_its_own_item_current_whatever_was_built_before(site):
    local, sports, stories = site
    for story in stories:  # the first pages keep the block of pages with no current item
        assert current(story.get_absolute_url()) == []
    assert current(local.get_absolute_url()) == ["/sections/local/"]
    assert current(sports.get_absolute_url()) == ["/sections/sports/"]
    assert current("/") == ["/"]


def test_a_section_renamed_at_the_desk_is_printed_by_the_next_page_built(site, django_capture_on_commit_callbacks):
    local, sports, stories = site
    for story in stories[:2]:
        built(story.get_absolute_url())
    chief = Client()
    chief.force_login(factories.user(roles=[CHIEF_EDITOR]))
    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(
            reverse("admin:articles_section_change", args=[local.pk]),
            {"name": "本地新闻", "slug": "local", "position": "1", "_save": "1"},
        )
    assert response.status_code == 302
    html, read = built(stories[3].get_absolute_url())
    assert read
    assert '<a href="/sections/local/">本地新闻</a>' in nav(html)
    assert ">本地<" not in nav(html)


def test_with_the_page_cache_off_every_page_reads_the_sections(site, settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    settings.NEWSROOM_READ_MODEL = False
    local, sports, stories = site
    for story in stories:
        response = Client().get(story.get_absolute_url())
        assert '<a href="/sections/sports/">体育</a>' in nav(response.content.decode())
