"""Pages cost a fixed number of queries, whatever they show: counted at two sizes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.articles.readers import story_with_everything

pytestmark = pytest.mark.django_db

STORY_PAGE_LIMIT = 8


def queries_for(client, url):
    """Queries of one uncached render, after a first render has made the photo renditions."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def uncached(settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0


def test_story_page_needs_the_same_few_queries_with_one_or_five_of_everything(client, uncached):
    section, outlet = factories.section(), factories.outlet()
    small = story_with_everything(1, section, outlet)
    large = story_with_everything(5, section, outlet)
    small_count = queries_for(client, small.get_absolute_url())
    large_count = queries_for(client, large.get_absolute_url())
    assert small_count == large_count
    assert large_count <= STORY_PAGE_LIMIT


def test_story_page_without_picks_falls_back_to_its_section_in_the_same_budget(client, uncached):
    section, outlet = factories.section(), factories.outlet()
    article = factories.published_story(section=section, outlet=outlet)
    for _ in range(3):
        factories.published_story(section=section, outlet=outlet)
    factories.announced(article, "edit")  # its empty slots are filled when it changes
    response = client.get(article.get_absolute_url())
    assert response.content.decode().count('class="rec"') == 3
    assert queries_for(client, article.get_absolute_url()) <= STORY_PAGE_LIMIT


def test_story_page_with_every_block_but_no_picks_stays_in_the_budget(client, uncached):
    """Corrections, related links, tags and bylines, and 推荐阅读 from shared tags and the section."""
    from articles.models import Correction, RelatedLink

    section, outlet = factories.section(), factories.outlet()
    article = story_with_everything(3, section, outlet)
    article.recommendations.all().delete()
    Correction.objects.create(article=article, note="又一条更正")
    RelatedLink.objects.create(article=article, url="https://example.cn/a", title="外站报道")
    sharing = factories.published_story(section=factories.section(), outlet=outlet)
    sharing.tags.add("标签0")
    for _ in range(2):
        factories.published_story(section=section, outlet=outlet)
    factories.announced(article, "edit")  # its empty slots are filled when it changes
    html = client.get(article.get_absolute_url()).content.decode()
    assert html.count('class="rec"') == 6 and "外站报道" in html and "又一条更正" in html
    assert queries_for(client, article.get_absolute_url()) <= STORY_PAGE_LIMIT


@pytest.mark.parametrize("url_for", ["home", "section", "tag", "person", "search", "feed", "sitemap"])
def test_list_pages_cost_the_same_at_two_page_sizes(client, uncached, settings, url_for):
    section, outlet = factories.section(slug="local"), factories.outlet()
    reporter = factories.person("张帆")
    stories = []
    for i in range(12):
        story = factories.published_story(
            headline=f"历城新闻{i}", section=section, outlet=outlet, thumbnail=factories.image() if i % 2 else None
        )
        if not i % 2:
            from articles.models import ArticleImage

            ArticleImage.objects.create(article=story, image=factories.image())
        story.tags.add("历城")
        story.bylines.create(person=reporter)
        stories.append(story)
    url = {
        "home": "/",
        "section": "/sections/local/",
        "tag": f"/tags/{stories[0].tags.get().slug}/",
        "person": f"/people/{reporter.pk}/",
        "search": "/search/?q=历城",
        "feed": "/feeds/sections/local/rss.xml",
        "sitemap": "/sitemap-stories-0.xml",
    }[url_for]
    settings.NEWSROOM_PAGE_SIZE = 3
    few = queries_for(client, url)
    settings.NEWSROOM_PAGE_SIZE = 10
    many = queries_for(client, url)
    assert few == many
    assert many <= 5
