"""Anonymous readers get cached pages that refresh by themselves when what they show changes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from articles.models import Article, Recommendation, RelatedLink
from delivery import registry
from editorial import workflow
from tests import factories
from tests.articles.readers import scheduled

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a change as if its transaction committed (cache refreshes follow commits)."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            change()

    return run


@pytest.fixture
def story():
    section = factories.section(slug="local")
    article = factories.published_story(headline="原来的标题", section=section)
    article.tags.add("泉城")
    article.bylines.create(person=factories.person("张帆"))
    return article


def test_second_anonymous_request_is_served_from_the_cache_without_queries(client, story):
    assert client.get("/").headers["X-Page-Cache"] == "miss"
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.headers["X-Page-Cache"] == "hit"
    assert len(captured) == 0
    assert "原来的标题" in response.content.decode()


def test_cached_pages_answer_conditional_requests_with_304(client, story):
    first = client.get(story.get_absolute_url())
    assert "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
    assert first["ETag"] and first["Last-Modified"]
    again = client.get(story.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(story.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_staff_with_a_session_are_never_served_cached_pages(client, story):
    client.get("/")
    client.cookies["sessionid"] = "anything"
    response = client.get("/")
    assert "X-Page-Cache" not in response
    assert "private" in response["Cache-Control"]


def unmarked(response):
    """Page text without search highlighting."""
    return response.content.decode().replace("<mark>", "").replace("</mark>", "")


def every_page_showing(story, recommender, relater):
    tag = story.tags.get()
    person = story.bylines.get().person
    return [
        story.get_absolute_url(), "/", "/sections/local/", f"/tags/{tag.slug}/", f"/people/{person.pk}/",
        "/feeds/rss.xml", "/feeds/sections/local/atom.xml", f"/feeds/tags/{tag.slug}/rss.xml",
        "/sitemap-news.xml", "/search/?q=标题",
        recommender.get_absolute_url(), relater.get_absolute_url(),
    ]


def test_editing_a_headline_refreshes_every_page_that_shows_it(client, story, commit):
    recommender = factories.published_story(headline="推荐它的稿件")
    Recommendation.objects.create(article=recommender, target=story)
    relater = factories.published_story(headline="关联它的稿件")
    RelatedLink.objects.create(article=relater, target=story)
    pages = every_page_showing(story, recommender, relater)
    for url in pages:
        assert "原来的标题" in unmarked(client.get(url)), url
        assert client.get(url).headers["X-Page-Cache"] == "hit", url

    commit(lambda: factories.edit(story, headline="改过的标题", note="标题有误,已更正。"))
    for url in pages:
        html = unmarked(client.get(url))
        assert "改过的标题" in html and "原来的标题" not in html, url


def test_withdrawing_takes_it_off_cached_pages(client, story, commit):
    pages = ["/", "/sections/local/", "/feeds/rss.xml", "/sitemap-news.xml"]
    for url in pages:
        assert "原来的标题" in client.get(url).content.decode()

    people = factories.desk()
    commit(lambda: workflow.withdraw(story, actor=people["editor"], reason="稿件有误。"))
    for url in pages:
        assert "原来的标题" not in client.get(url).content.decode(), url
    assert client.get(story.get_absolute_url()).status_code == 410


def test_publishing_puts_it_on_cached_lists(client, story, commit):
    client.get("/")
    draft = factories.draft(headline="新发布的稿件", section=story.section)
    commit(lambda: factories.publish(draft))
    assert "新发布的稿件" in client.get("/").content.decode()
    assert "新发布的稿件" in client.get("/sections/local/").content.decode()


def test_a_correction_appears_on_the_cached_story_page(client, story, commit):
    client.get(story.get_absolute_url())
    editor = factories.desk()["editor"]
    commit(lambda: workflow.correct(story, actor=editor, note="数字有误,已改正。"))
    assert "数字有误,已改正。" in client.get(story.get_absolute_url()).content.decode()


def test_scheduled_story_appears_on_cached_pages_at_its_time(client, story, commit, time_machine):
    time_machine.move_to(timezone.now())
    later = {}
    commit(lambda: later.setdefault("story", scheduled("定时发布的稿件", minutes=30, section=story.section)))
    response = client.get("/")
    assert "定时发布的稿件" not in response.content.decode()
    max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert max_age <= 30 * 60
    assert client.get("/").headers["X-Page-Cache"] == "hit"
    time_machine.shift(timedelta(minutes=31))
    assert "定时发布的稿件" in client.get("/").content.decode()
    assert "定时发布的稿件" in client.get("/sections/local/").content.decode()


def test_lifetime_never_reaches_past_the_next_scheduled_story(client, story, commit, settings):
    settings.NEWSROOM_PAGE_MAX_AGE = 3600
    commit(lambda: scheduled("五分钟后", minutes=5))
    max_age = int(client.get("/").headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 300


def test_dependencies_name_every_public_url_of_a_story(story):
    recommender = factories.published_story()
    Recommendation.objects.create(article=recommender, target=story)
    urls = registry.urls_for(registry.shown(story))
    tag = story.tags.get()
    for expected in [story.get_absolute_url(), "/", "/sections/local/", iri_to_uri(f"/tags/{tag.slug}/"),
                     f"/people/{story.bylines.get().person_id}/", "/feeds/rss.xml", "/sitemap.xml",
                     "/sitemap-news.xml", recommender.get_absolute_url()]:
        assert expected in urls


def test_a_change_behind_the_orms_back_is_refreshed_by_purge_article_cache(client, story, commit):
    from delivery.cache import purge_article_cache

    client.get("/")
    Article.objects.filter(pk=story.pk).update(headline="直接改库的标题")
    assert "原来的标题" in client.get("/").content.decode()
    commit(lambda: purge_article_cache(story.pk))
    assert "直接改库的标题" in client.get("/").content.decode()
