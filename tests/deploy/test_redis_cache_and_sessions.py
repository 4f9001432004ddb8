"""Redis holds pages, dependency versions and sessions under the site's names; when Redis stops
or drops out, readers get uncached pages and editors keep working, and once it answers again
nothing it kept from before is served as current."""

import time

import pytest
import redis
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from articles.models import Article
from editorial import workflow
from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from tests import factories

from .conftest import keys_under
from .services import FlakyLink, RedisServer

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


def sign_in(user):
    """A browser of its own, signed in through the admin's login form."""
    browser = Client()
    response = browser.post("/admin/login/", {"username": user.username, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/", response.content[:500]
    return browser


def signed_in(browser):
    return browser.get("/admin/").status_code == 200


def story_ready_to_publish(headline):
    writer = factories.user(roles=[REPORTER])
    reviewer = factories.user(roles=[FIRST_REVIEWER])
    article = Article.objects.create(headline=headline, body="<p>正文。</p>", created_by=writer)
    workflow.submit(article, actor=writer)
    workflow.pass_first_review(article, actor=reviewer)
    return article


@pytest.fixture
def link(local_redis):
    flaky = FlakyLink(local_redis.port)
    yield flaky
    flaky.close()


def page_cache(response):
    return response.headers.get("X-Page-Cache")


def test_pages_versions_and_sessions_are_kept_under_the_sites_names(client, local_redis, use_redis):
    site = use_redis(local_redis.url, deploy="rev1")
    story = factories.published_story(headline="命名空间")
    assert page_cache(client.get(story.get_absolute_url())) == "miss"
    assert page_cache(client.get(story.get_absolute_url())) == "hit"
    sign_in(factories.user(roles=[CHIEF_EDITOR], password=PASSWORD))

    keys = keys_under(local_redis.url, f"{site}:")
    assert any(key.startswith(f"{site}:pages:rev1:") and ":newsroom:page:" in key for key in keys), keys
    assert any(key.startswith(f"{site}:deps:") and key.endswith(f"newsroom:dep:story:{story.pk}") for key in keys)
    assert any(key.startswith(f"{site}:sessions:") and "django.contrib.sessions.cached_db" in key for key in keys)
    assert all(key.split(":")[1] in {"pages", "deps", "sessions"} for key in keys)


def test_clearing_the_page_cache_leaves_sessions_and_other_sites_alone(local_redis, use_redis):
    other = use_redis(local_redis.url)
    caches["default"].set("page", "other site's page")
    site = use_redis(local_redis.url)
    caches["default"].set("page", "a page")
    caches["sessions"].set("session", "a session")

    caches["default"].clear()

    assert caches["default"].get("page") is None
    assert caches["sessions"].get("session") == "a session"
    assert keys_under(local_redis.url, f"{other}:pages:")
    assert not keys_under(local_redis.url, f"{site}:pages:")


def test_a_deploy_starts_with_fresh_pages_and_logs_nobody_out(client, local_redis, use_redis):
    site = use_redis(local_redis.url, deploy="rev1")
    story = factories.published_story(headline="部署前")
    editor = sign_in(factories.user(roles=[CHIEF_EDITOR], password=PASSWORD))
    client.get(story.get_absolute_url())
    assert page_cache(client.get(story.get_absolute_url())) == "hit"
    sessions_before = keys_under(local_redis.url, f"{site}:sessions:")

    use_redis(local_redis.url, site=site, deploy="rev2")

    assert page_cache(client.get(story.get_absolute_url())) == "miss"
    assert signed_in(editor)
    assert keys_under(local_redis.url, f"{site}:sessions:") == sessions_before != []


def test_while_redis_is_down_readers_sign_in_the_admin_and_publishing_carry_on(
    tmp_path, use_redis, django_capture_on_commit_callbacks
):
    server = RedisServer(tmp_path)
    server.start()
    try:
        use_redis(server.url)
        home_story = factories.published_story(headline="早先的新闻")
        article = story_ready_to_publish("停机时签发的新闻")
        editor = sign_in(factories.user(roles=[RESPONSIBLE_EDITOR], password=PASSWORD))
        reader = Client()
        reader.get("/")
        assert page_cache(reader.get("/")) == "hit"

        server.stop()  # mid-test: pooled connections break, the port closes
        started = time.monotonic()
        home = reader.get("/")
        # Not from Redis: built, or read from the read model in the database.
        assert home.status_code == 200 and page_cache(home) in ("miss", "hit")
        assert "早先的新闻" in home.content.decode()
        assert reader.get(home_story.get_absolute_url()).status_code == 200
        assert signed_in(editor), "a session made before the outage is read from the database"
        chief = sign_in(factories.user(roles=[CHIEF_EDITOR], password=PASSWORD))
        assert signed_in(chief), "signing in works while Redis is down"
        assert chief.get(f"/admin/articles/article/{article.pk}/change/").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):  # the sign-off commits
            response = editor.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]))
        assert response.status_code == 302
        assert Article.objects.get(pk=article.pk).status == Article.Status.PUBLISHED
        assert "停机时签发的新闻" in reader.get("/").content.decode()
        assert time.monotonic() - started < 5, "an outage must not make requests wait on Redis"

        server.start()  # empty, as a Redis without persistence comes back
        time.sleep(0.3)
        home = reader.get("/")
        assert "停机时签发的新闻" in home.content.decode()
        reader.get("/")  # the first page after the refresh is not kept: it was built across it
        assert page_cache(reader.get("/")) == "hit"
        assert signed_in(editor) and signed_in(chief)
    finally:
        server.stop()


def test_a_change_made_during_a_network_blip_is_not_hidden_by_pages_redis_kept(local_redis, link, use_redis,
                                                                              django_capture_on_commit_callbacks):
    site = use_redis(link.url(local_redis.db))
    story = factories.published_story(headline="原来的标题")
    reader = Client()
    reader.get(story.get_absolute_url())
    assert page_cache(reader.get(story.get_absolute_url())) == "hit"
    direct = redis.Redis.from_url(local_redis.url)
    version_key = f"{site}:deps:1:newsroom:dep:story:{story.pk}"
    version_before = direct.get(version_key)

    link.cut()  # Redis keeps the page and the version; the bump below cannot reach it
    with django_capture_on_commit_callbacks(execute=True):
        story = factories.edit(story, headline="更正后的标题")  # the desk's door: the change is announced
    assert "更正后的标题" in reader.get(story.get_absolute_url()).content.decode()
    assert direct.get(version_key) == version_before, "the bump was lost, as in a real blip"

    link.restore()
    time.sleep(0.3)
    page = reader.get(story.get_absolute_url())
    assert "更正后的标题" in page.content.decode()
    assert "原来的标题" not in page.content.decode()


def test_a_sign_out_during_a_network_blip_does_not_come_back_with_redis(local_redis, link, use_redis):
    use_redis(link.url(local_redis.db))
    editor = sign_in(factories.user(roles=[CHIEF_EDITOR], password=PASSWORD))
    cookie = editor.cookies["sessionid"].value

    link.cut()
    editor.post("/admin/logout/")
    link.restore()
    time.sleep(0.3)

    stolen = Client()
    stolen.cookies["sessionid"] = cookie
    assert not signed_in(stolen)


def test_an_unreachable_redis_is_left_alone_between_retries(local_redis, link, use_redis):
    use_redis(link.url(local_redis.db), retry_after=30)
    story = factories.published_story()
    reader = Client()
    reader.get("/")
    link.cut()
    for _ in range(5):
        assert reader.get("/").status_code == 200
        assert reader.get(story.get_absolute_url()).status_code == 200
    # One failed attempt per cache alias, not several per page.
    assert link.refused <= 3
