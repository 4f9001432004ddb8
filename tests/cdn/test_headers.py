"""Public pages tell a CDN what they show (surrogate keys) and how long it may keep them;
staff pages tell it nothing but "private"."""

import pytest
from django.core.management import call_command

from tests import factories
from tests.articles.readers import scheduled

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    section = factories.section(slug="local")
    article = factories.published_story(headline="泉城新闻", section=section)
    article.tags.add("泉城")
    article.bylines.create(person=factories.person("张帆"))
    return article


def keys_of(article):
    tag = article.tags.get()
    person = article.bylines.get().person
    return {f"story-{article.pk}", f"section-{article.section_id}", f"tag-{tag.pk}", f"person-{person.pk}", "site"}


def test_a_story_page_names_what_it_shows_in_surrogate_key_and_cache_tag(client, http_purge, story):
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    assert set(response["Surrogate-Key"].split(" ")) == keys_of(story)
    assert set(response["Cache-Tag"].split(",")) == keys_of(story)


def test_a_cache_hit_carries_the_same_keys_as_the_miss(client, http_purge, story):
    miss = client.get(story.get_absolute_url())
    hit = client.get(story.get_absolute_url())
    assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    assert hit["Surrogate-Key"] == miss["Surrogate-Key"]
    assert hit["Cache-Tag"] == miss["Cache-Tag"]


@pytest.mark.parametrize(
    "path, key",
    [("/", "home"), ("/sections/local/", "section-{section}"), ("/feeds/rss.xml", "feeds"), ("/sitemap-news.xml", "sitemaps")],
)
def test_lists_feeds_and_sitemaps_name_their_keys(client, http_purge, story, path, key):
    response = client.get(path)
    assert key.format(section=story.section_id) in response["Surrogate-Key"].split()
    assert "site" in response["Surrogate-Key"].split()


def test_shared_caches_may_keep_a_page_longer_than_browsers(client, http_purge, settings, story):
    settings.NEWSROOM_CDN_MAX_AGE = 86400
    response = client.get(story.get_absolute_url())
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"public", "max-age=0", "s-maxage=86400"} <= directives
    assert response["Surrogate-Control"] == "max-age=86400"
    assert response["X-Accel-Expires"] == "0"  # an nginx cache in between, which no purge reaches, keeps nothing


def test_no_cache_keeps_a_page_past_the_next_scheduled_story(client, http_purge, story):
    scheduled("定时稿件", minutes=0.5)
    response = client.get("/")
    s_maxage = int(response["Surrogate-Control"].split("=")[1])
    assert 0 < s_maxage <= 30
    assert f"s-maxage={s_maxage}" in response["Cache-Control"]


def test_staff_pages_are_private_and_carry_no_keys(client, http_purge, story):
    client.force_login(factories.user(is_superuser=True))
    for path in (story.get_absolute_url(), "/", "/admin/"):
        response = client.get(path)
        assert "private" in response["Cache-Control"] or "no-cache" in response["Cache-Control"], path
        assert "Surrogate-Key" not in response and "Cache-Tag" not in response, path
        assert "s-maxage" not in response["Cache-Control"] and "Surrogate-Control" not in response, path
        assert "X-Accel-Expires" not in response, path


def test_without_a_cdn_pages_carry_no_cdn_headers(client, story):
    response = client.get(story.get_absolute_url())
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=60"
    for header in ("Surrogate-Key", "Cache-Tag", "Surrogate-Control", "X-Accel-Expires"):
        assert header not in response


def test_keys_take_the_configured_prefix_and_headers(client, http_purge, settings, story):
    settings.NEWSROOM_CDN_KEY_PREFIX = "jinan"
    settings.NEWSROOM_CDN_KEY_HEADERS = ["xkey"]
    response = client.get(story.get_absolute_url())
    assert f"jinan-story-{story.pk}" in response["xkey"].split(" ")
    assert "Surrogate-Key" not in response and "Cache-Tag" not in response


def test_a_broken_cdn_configuration_never_breaks_reader_pages(client, settings, story):
    settings.NEWSROOM_CDN_BACKEND = "api"  # no endpoint, no token, no public address
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    assert "Surrogate-Key" not in response


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"NEWSROOM_CDN_BACKEND": "fastly"}, "is not known"),
        ({"NEWSROOM_CDN_PUBLIC_BASE_URL": []}, "NEWSROOM_CDN_PUBLIC_BASE_URL must name"),
        ({"NEWSROOM_CDN_PUBLIC_BASE_URL": ["news.example.cn"]}, "is not an http:// or https:// address"),
        ({"NEWSROOM_CDN_PURGE_SERVERS": []}, "needs NEWSROOM_CDN_PURGE_SERVERS"),
        ({"NEWSROOM_CDN_PURGE_BY": ["pages"]}, "NEWSROOM_CDN_PURGE_BY"),
        ({"NEWSROOM_CDN_TIMEOUT": "soon"}, "NEWSROOM_CDN_TIMEOUT must be a number"),
        ({"NEWSROOM_CDN_ATTEMPTS": "0"}, "NEWSROOM_CDN_ATTEMPTS must be at least 1"),
        ({"NEWSROOM_CDN_BACKEND": "api"}, "needs NEWSROOM_CDN_API_URL"),
        ({"NEWSROOM_CDN_BACKEND": "api", "NEWSROOM_CDN_API_URL": "https://api.example.com/purge"}, "needs NEWSROOM_CDN_API_TOKEN"),
    ],
)
def test_manage_py_check_says_what_is_wrong_with_the_cdn_settings(http_purge, settings, overrides, message):
    for name, value in overrides.items():
        setattr(settings, name, value)
    with pytest.raises(Exception) as raised:
        call_command("check")
    assert "cdn.E001" in str(raised.value) and message in str(raised.value)


def test_manage_py_check_is_quiet_when_the_cdn_is_set_right(http_purge, settings, capsys):
    # Shared by every process, as Redis is in production (any backend but the local one).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    call_command("check")
    assert "no issues" in capsys.readouterr().out


def test_manage_py_check_warns_when_a_cdn_meets_a_per_process_page_cache(http_purge, settings, capsys):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    call_command("check")
    assert "cdn.W001" in capsys.readouterr().err
