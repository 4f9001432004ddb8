"""Readers' pages come from the read model: stored when built or when a change commits, read by
one statement, and never outliving what they show."""

import io
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from articles.models import Article
from delivery import read_model
from delivery.models import StoredPage
from editorial import workflow
from tests import factories
from tests.articles.test_page_cache_hits import wsgi_get

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"


@pytest.fixture(autouse=True)
def model_alone(settings):
    """The read model with no page cache in front of it, rendering for the test client's origin."""
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    settings.NEWSROOM_READ_MODEL = True
    settings.NEWSROOM_SITE_URL = ORIGIN


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


@contextmanager
def recorded_statements():
    """The SQL statements run meanwhile, as sent (Django's own query log misses requests answered
    before its handler)."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


def stored(path):
    return StoredPage.objects.filter(address=read_model.address(ORIGIN, path)).first()


def built_now(path, settings):
    """The page as Django builds it from the database at this moment, keeping nothing."""
    settings.NEWSROOM_READ_MODEL = False
    try:
        response = Client().get(path)
        return response.status_code, response.content
    finally:
        settings.NEWSROOM_READ_MODEL = True


def section_with_stories(count, slug="local"):
    section = factories.section(slug=slug)
    now = timezone.now()
    stories = [
        factories.published_story(headline=f"第{n}条", section=section, published_at=now - timedelta(hours=count - n))
        for n in range(count)
    ]
    return section, stories


def test_a_readers_second_visit_is_one_statement_and_the_same_bytes(settings):
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    first = wsgi_get(path)
    with recorded_statements() as statements:
        second = wsgi_get(path)
    assert first[0] == second[0] == "200 OK"
    assert second[2] == first[2] == built_now(path, settings)[1]
    # The stored page by its address (on PostgreSQL through the statement prepared for it).
    assert len(statements) == 1 and ("delivery_storedpage" in statements[0] or "EXECUTE newsroom_stored_page" in statements[0])
    # The stack's headers come with it (security headers, CSP, the CDN's keys).
    assert dict(second[1])["X-Content-Type-Options"] == "nosniff"
    assert dict(second[1])["ETag"] == dict(first[1])["ETag"]


def test_a_conditional_request_for_a_stored_page_gets_304(settings):
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    etag = Client().get(path)["ETag"]
    assert stored(path) is not None
    response = Client().get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b""


def test_signing_off_a_story_stores_its_page_and_the_lists_before_any_reader_asks(settings, commit):
    section = factories.section(slug="local")
    article = factories.draft(headline="新签发的稿件", section=section)
    commit(factories.publish, article)
    article.refresh_from_db()
    for path in (article.get_absolute_url(), "/", section.get_absolute_url()):
        page = stored(path)
        assert page is not None, f"{path} was not stored when the story was signed off"
        assert (page.status, bytes(page.content)) == built_now(path, settings)
    assert "新签发的稿件".encode() in bytes(stored("/").content)


def test_a_change_deletes_the_pages_that_show_it_and_keeps_the_archive(settings, commit):
    section, stories = section_with_stories(5)
    for story in stories:
        Client().get(story.get_absolute_url())
    Client().get("/")
    Client().get(section.get_absolute_url())
    oldest, middle, newest = stories[0], stories[2], stories[4]
    assert all(stored(story.get_absolute_url()) for story in stories)

    commit(factories.edit, middle, headline="改过的标题")

    # The page itself, its neighbours (their 上一篇/下一篇 print its headline), the lists.
    assert "改过的标题".encode() in bytes(stored(middle.get_absolute_url()).content)
    for path in (stories[1].get_absolute_url(), stories[3].get_absolute_url(), "/", section.get_absolute_url()):
        page = stored(path)
        assert page is None or "改过的标题".encode() in bytes(page.content), path
        assert Client().get(path).content == built_now(path, settings)[1]
    # Stories of the same section that do not print it stay stored, unchanged.
    for story in (oldest, newest):
        assert stored(story.get_absolute_url()) is not None


def test_a_new_story_in_a_section_deletes_only_its_neighbours_pages(settings, commit):
    section, stories = section_with_stories(4)
    for story in stories:
        Client().get(story.get_absolute_url())
    newest = stories[-1]
    commit(factories.publish, factories.draft(headline="最新的稿件", section=section))
    # The previous newest story now links to it (下一篇): its stored page is current.
    response = Client().get(newest.get_absolute_url())
    assert "最新的稿件".encode() in response.content
    assert response.content == built_now(newest.get_absolute_url(), settings)[1]
    for story in stories[:2]:
        assert stored(story.get_absolute_url()) is not None


def test_a_withdrawn_story_is_stored_as_its_410(settings, commit):
    _, (story,) = section_with_stories(1)
    Client().get(story.get_absolute_url())
    people = factories.desk()
    commit(workflow.withdraw, story, actor=people["chief"], reason="事实有误")
    assert Client().get(story.get_absolute_url()).status_code == 410
    assert stored(story.get_absolute_url()).status == 410


def test_a_page_built_while_a_change_commits_is_served_but_not_kept(settings, monkeypatch):
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    from readers import views

    original = views._story_parts

    def change_meanwhile(article):
        parts = original(article)
        read_model.forget({f"story:{article.pk}"})  # what a commit elsewhere does, mid-build
        return parts

    monkeypatch.setattr(views, "_story_parts", change_meanwhile)
    assert Client().get(path).status_code == 200
    assert stored(path) is None
    monkeypatch.setattr(views, "_story_parts", original)
    Client().get(path)
    assert stored(path) is not None


def test_a_scheduled_story_reaches_the_stored_home_page_at_its_time(settings, time_machine):
    from tests.articles.readers import scheduled

    section_with_stories(2)
    due = scheduled("定时的新闻", minutes=30)
    home = Client().get("/")
    assert "定时的新闻".encode() not in home.content
    page = stored("/")
    assert page is not None and page.expires == pytest.approx(due.published_at.timestamp())
    time_machine.move_to(due.published_at + timedelta(seconds=1))
    assert "定时的新闻".encode() in Client().get("/").content


def test_pages_a_scheduled_story_will_not_join_are_kept_past_its_time(settings):
    from tests.articles.readers import scheduled

    _, (story,) = section_with_stories(1)
    scheduled("别的栏目的定时稿", minutes=30, section=factories.section(slug="other"))
    Client().get(story.get_absolute_url())
    assert stored(story.get_absolute_url()).expires is None


@pytest.mark.parametrize(
    "path", ["/search/?q=%E6%96%B0%E9%97%BB", "/sections/local/?page=2", "/news-sitemap.xml"], ids=["search", "query", "news sitemap"]
)
def test_pages_that_change_by_themselves_or_by_query_are_never_stored(path):
    section_with_stories(3)
    Client().get(path)
    assert not StoredPage.objects.filter(path=path.split("?")[0]).exists() or "?" in path
    assert not StoredPage.objects.filter(kind__in=["articles:search", "news_sitemap"]).exists()


def test_the_desk_never_gets_a_stored_page(settings, admin_client):
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    Client().get(path)
    StoredPage.objects.filter(address=read_model.address(ORIGIN, path)).update(content=b"stored copy")
    assert Client().get(path).content == b"stored copy"  # readers: the model, as stored
    assert admin_client.get(path).content != b"stored copy"  # staff: built for them


def test_with_the_read_model_off_nothing_is_stored(settings):
    settings.NEWSROOM_READ_MODEL = False
    _, (story,) = section_with_stories(1)
    Client().get(story.get_absolute_url())
    Client().get("/")
    assert StoredPage.objects.count() == 0


def test_a_tag_page_with_a_chinese_name_is_stored_under_its_decoded_path(settings):
    _, (story,) = section_with_stories(1)
    story.tags.add("泉城")
    factories.delivered(story, "tags")
    path = "/tags/" + quote("泉城") + "/"
    assert Client().get(path).status_code == 200
    assert stored(path) is not None and stored(path).path == "/tags/泉城/"
    assert Client().get(path).content == built_now(path, settings)[1]


def test_build_read_model_stores_every_page_and_skips_what_is_stored(settings):
    section_with_stories(3)
    out = io.StringIO()
    call_command("build_read_model", stdout=out)
    first = StoredPage.objects.count()
    assert first >= 3 + 3  # the stories, home, the section, feeds and sitemaps
    assert "stored" in out.getvalue()
    out = io.StringIO()
    call_command("build_read_model", stdout=out)
    assert StoredPage.objects.count() == first
    assert f"{first} already stored" in out.getvalue() or "already stored" in out.getvalue()


def test_build_read_model_rebuild_renders_every_page_again(settings):
    _, (story,) = section_with_stories(1)
    call_command("build_read_model", stdout=io.StringIO())
    StoredPage.objects.update(content=b"old template")
    call_command("build_read_model", "--rebuild", stdout=io.StringIO())
    assert bytes(stored(story.get_absolute_url()).content) == built_now(story.get_absolute_url(), settings)[1]


def test_a_database_error_on_the_read_path_falls_back_to_building_the_page(settings, monkeypatch):
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    Client().get(path)

    def broken(cursor, key):
        from django.db import OperationalError

        raise OperationalError("connection lost")

    monkeypatch.setattr(read_model, "_fetch_one", broken)
    response = Client().get(path)
    assert response.status_code == 200 and response.content == built_now(path, settings)[1]


def test_an_unpublished_story_leaves_no_stored_page_behind(settings, commit):
    _, (story,) = section_with_stories(1)
    Client().get(story.get_absolute_url())
    commit(factories.edit, story, status=Article.Status.DRAFT, published_at=None)
    assert Client().get(story.get_absolute_url()).status_code == 404
    assert stored(story.get_absolute_url()) is None


def test_a_page_read_from_the_model_is_kept_by_the_page_cache_in_front(settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 60
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    wsgi_get(path)
    from django.core.cache import caches

    for alias in settings.CACHES:  # another process: its own memory, the same database
        caches[alias].clear()
    with recorded_statements() as statements:
        from_model = wsgi_get(path)
        from_memory = wsgi_get(path)
    assert from_model[2] == from_memory[2] == built_now(path, settings)[1]
    assert len(statements) == 1  # the model once; then the page cache, without a query


def test_a_deploy_never_serves_the_pages_the_previous_code_rendered(settings):
    settings.NEWSROOM_DEPLOY_ID = "release-1"
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    Client().get(path)
    StoredPage.objects.update(content=b"rendered by release 1")
    assert Client().get(path).content == b"rendered by release 1"
    settings.NEWSROOM_DEPLOY_ID = "release-2"
    assert Client().get(path).content == built_now(path, settings)[1]
    assert StoredPage.objects.get(address=read_model.address(ORIGIN, path)).deploy == "release-2"
    # build_read_model fills in what this deploy has not stored yet.
    settings.NEWSROOM_DEPLOY_ID = "release-3"
    out = io.StringIO()
    call_command("build_read_model", stdout=out)
    assert StoredPage.objects.exclude(deploy="release-3").count() == 0


def test_a_write_behind_the_desks_back_shows_within_the_maximum_age(settings, time_machine):
    settings.NEWSROOM_READ_MODEL_MAX_AGE = 3600
    _, (story,) = section_with_stories(1)
    path = story.get_absolute_url()
    Client().get(path)
    Article.objects.filter(pk=story.pk).update(headline="悄悄改过的标题")  # announces nothing
    assert "悄悄改过的标题".encode() not in Client().get(path).content
    time_machine.move_to(timezone.now() + timedelta(seconds=3601))
    assert "悄悄改过的标题".encode() in Client().get(path).content


def test_a_story_page_is_not_expired_by_a_scheduled_story_of_its_own_section(settings):
    from tests.articles.readers import scheduled

    section, (older, story) = section_with_stories(2)
    scheduled("同栏目的定时稿", minutes=30, section=section)
    Client().get(older.get_absolute_url())
    Client().get(section.get_absolute_url())
    # It prints the section's name, which the scheduled story does not change; the section's list does.
    assert stored(older.get_absolute_url()).expires is None
    assert stored(section.get_absolute_url()).expires is not None


# --- the older pages of lists --------------------------------------------------------------------


def older_link(response):
    """The 更早 link a list page prints ("?before=<cursor>")."""
    import re

    match = re.search(r'<a[^>]*href="(\?before=[^"]+)"[^>]*rel="next"|<a[^>]*rel="next"[^>]*href="(\?before=[^"]+)"', response.content.decode())
    assert match, "the list prints no link to its older stories"
    return match.group(1) or match.group(2)


@pytest.fixture
def short_pages(settings):
    settings.NEWSROOM_PAGE_SIZE = 2


def test_an_older_page_a_list_links_to_is_stored_and_read_back_in_one_statement(settings, short_pages):
    section, stories = section_with_stories(5)
    path = section.get_absolute_url() + older_link(Client().get(section.get_absolute_url()))
    first = wsgi_get(path)
    page = stored(path)
    assert page is not None and page.path == section.get_absolute_url() and page.kind == "articles:section"
    with recorded_statements() as statements:
        second = wsgi_get(path)
    assert first[0] == second[0] == "200 OK"
    assert second[2] == first[2] == bytes(page.content) == built_now(path, settings)[1]
    assert len(statements) == 1
    # The page shows the stories after the first two, newest first.
    assert "第2条".encode() in second[2] and "第4条".encode() not in second[2]


def test_the_older_pages_of_tags_and_people_are_kept_too(settings, short_pages):
    _, stories = section_with_stories(5)
    from articles.models import Byline

    reporter = factories.person(name="王记者")
    for story in stories:
        story.tags.add("泉城")
        Byline.objects.create(article=story, person=reporter, role=Byline.Role.REPORTER)
    for first in (f"/tags/{quote('泉城')}/", f"/people/{reporter.pk}/"):
        path = first + older_link(Client().get(first))
        assert Client().get(path).status_code == 200
        assert stored(path) is not None, path


@pytest.mark.parametrize("query", ["made-up moment", "a story of another list", "more than the cursor", "reordered"])
def test_an_address_no_page_prints_is_served_but_not_kept(settings, short_pages, query):
    from readers.pagination import encode

    section, stories = section_with_stories(5)
    elsewhere = factories.published_story(headline="别处的稿件", section=factories.section(slug="other"))
    cursor = encode(stories[3])
    micros = int(stories[3].published_at.timestamp() * 1_000_000) - 1
    queries = {
        "made-up moment": f"before={micros}-{stories[3].pk}",
        "a story of another list": f"before={encode(elsewhere)}",
        "more than the cursor": f"before={cursor}&utm_source=weibo",
        "reordered": f"utm_source=weibo&before={cursor}",
    }
    path = f"{section.get_absolute_url()}?{queries[query]}"
    response = Client().get(path)
    assert response.status_code == 200 and response.content == built_now(path, settings)[1]
    assert not StoredPage.objects.filter(address__contains="?").exists()


def test_a_change_to_a_story_on_an_older_page_is_on_it_at_once(settings, short_pages, commit):
    section, stories = section_with_stories(5)
    path = section.get_absolute_url() + older_link(Client().get(section.get_absolute_url()))
    Client().get(path)
    assert stored(path) is not None

    commit(factories.edit, stories[1], headline="改过的旧稿")

    response = Client().get(path)
    assert "改过的旧稿".encode() in response.content
    assert response.content == built_now(path, settings)[1]
