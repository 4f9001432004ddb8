"""Every committed change reaches the CDN as one purge, after the commit, with exactly the
addresses and keys that show the story; rolled-back changes reach it never; a CDN that is
down loses nothing.

Tests marked transaction=True commit for real, so the request's own gathering of purges is
what is tested; the others commit through `committed()` (Django runs the on-commit hooks at
its end, and `purge.batch()` gathers what they send), which is much faster on PostgreSQL.
"""

import logging
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Person
from readers.sitemaps import BLOCK
from cdn import purge
from cdn.models import PendingPurge
from editorial import revisions, workflow
from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from tests import factories
from tests.editorial.conftest import change_form_data

from .conftest import PUBLIC, Recorder

pytestmark = pytest.mark.django_db
real_commits = pytest.mark.django_db(transaction=True)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A block whose changes commit at its end, their purges gathered as one request's are."""

    @contextmanager
    def block():
        with purge.batch(), django_capture_on_commit_callbacks(execute=True):
            yield

    return block


@pytest.fixture
def desk():
    people = {
        "writer": factories.user("writer", roles=[REPORTER], email="writer@example.com", password=None),
        "reviewer": factories.user("reviewer", roles=[FIRST_REVIEWER], email="reviewer@example.com", password=None),
        "editor": factories.user("editor", roles=[RESPONSIBLE_EDITOR], email="editor@example.com", password=None),
    }
    for user in people.values():
        # Made now, or the first step each takes would add a person (and purge their page).
        Person.for_user(user)
    return people


@pytest.fixture
def local():
    return factories.section(name="本地", slug="local")


def story_at_final_review(desk, section, headline="泉城新闻"):
    """A story with a section, a tag and a byline, passed on to the responsible editor."""
    article = Article.objects.create(
        headline=headline, slug="quancheng", body="<p>正文。</p>", section=section, created_by=desk["writer"]
    )
    article.tags.add("quancheng")
    article.bylines.create(person=factories.person("张帆"))
    workflow.submit(article, actor=desk["writer"])
    workflow.pass_first_review(article, actor=desk["reviewer"])
    return Article.objects.get(pk=article.pk)


def pages_of(article, sections):
    """Every public page that shows `article` (placed in `sections`), written out by hand."""
    tag = article.tags.get()
    person = article.bylines.get().person
    paths = {
        f"/stories/{article.pk}/{article.slug}/", f"/stories/{article.pk}/", "/",
        "/feeds/rss.xml", "/feeds/atom.xml", "/sitemap.xml", "/sitemap-news.xml",
        f"/sitemap-stories-{article.pk // BLOCK}.xml",
        f"/tags/{tag.slug}/", f"/feeds/tags/{tag.slug}/rss.xml", f"/feeds/tags/{tag.slug}/atom.xml",
        f"/people/{person.pk}/",
    }
    for section in sections:
        paths |= {
            f"/sections/{section.slug}/", f"/feeds/sections/{section.slug}/rss.xml",
            f"/feeds/sections/{section.slug}/atom.xml",
        }
    return sorted(paths)


def dependency_keys_of(article, sections):
    tag = article.tags.get()
    person = article.bylines.get().person
    keys = {f"story:{article.pk}", "home", "feeds", "sitemaps", "search", f"tag:{tag.pk}", f"person:{person.pk}"}
    return sorted(keys | {f"section:{section.pk}" for section in sections})


def keys_of(article, sections):
    """The same keys as the CDN knows them (story:12 -> story-12)."""
    return sorted(key.replace(":", "-") for key in dependency_keys_of(article, sections))


def step(client, user, article, name, **data):
    client.force_login(user)
    response = client.post(reverse("admin:articles_article_step", args=[article.pk, name]), data)
    assert response.status_code == 302
    return Article.objects.get(pk=article.pk)


def assert_one_purge(server, paths, keys):
    """The cache server heard each path once and one BAN naming exactly `keys`."""
    assert server.purged_paths() == paths
    assert server.banned_keys() == [keys]


# --- each newsroom step sends its purge ---------------------------------------------------------


@real_commits
def test_publishing_purges_every_page_showing_the_story_once_after_commit(client, http_purge, desk, local):
    article = story_at_final_review(desk, local)
    seen_status = []

    def look_at_the_database(request):
        # The CDN comes back for the page at once: the story must be published by then.
        seen_status.append(Article.objects.filter(pk=article.pk).values_list("status", flat=True).first())
        connection.close()

    http_purge.clear()
    http_purge.on_request = look_at_the_database
    article = step(client, desk["editor"], article, "sign_off")
    assert article.status == "published"
    assert_one_purge(http_purge, pages_of(article, [local]), keys_of(article, [local]))
    assert set(seen_status) == {"published"}


def test_an_edit_moving_a_scheduled_story_purges_the_section_it_left_too(client, http_purge, desk, local, committed):
    article = story_at_final_review(desk, local)
    article = step(client, desk["editor"], article, "sign_off", publish_at="2099-01-01T08:00")
    assert article.status == "scheduled"
    sport = factories.section(name="体育", slug="sport")
    http_purge.clear()
    with committed():
        client.post(
            reverse("admin:articles_article_change", args=[article.pk]),
            change_form_data(article, headline="改过的标题", section=sport.pk, tags="quancheng"),
        )
    article = Article.objects.get(pk=article.pk)
    assert (article.headline, article.section_id) == ("改过的标题", sport.pk)
    assert_one_purge(http_purge, pages_of(article, [local, sport]), keys_of(article, [local, sport]))


def test_a_correction_purges_the_story_and_its_lists_once(client, http_purge, desk, local, committed):
    article = step(client, desk["editor"], story_at_final_review(desk, local), "sign_off")
    person = article.bylines.get().person
    http_purge.clear()
    data = change_form_data(article, body="<p>改正后的正文。</p>", correction_note="原文数字有误。", tags="quancheng")
    data.update({
        "bylines-TOTAL_FORMS": "1", "bylines-INITIAL_FORMS": "1",
        "bylines-0-id": article.bylines.get().pk, "bylines-0-article": article.pk,
        "bylines-0-person": person.pk, "bylines-0-role": article.bylines.get().role, "bylines-0-position": "0",
    })
    with committed():
        response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Article.objects.get(pk=article.pk).corrections.count() == 1
    assert_one_purge(http_purge, pages_of(article, [local]), keys_of(article, [local]))


def test_withdrawing_purges_the_story_and_its_lists_once(client, http_purge, desk, local, committed):
    article = step(client, desk["editor"], story_at_final_review(desk, local), "sign_off")
    http_purge.clear()
    with committed():
        article = step(client, desk["editor"], article, "withdraw", reason="事实有误")
    assert article.status == "withdrawn"
    assert_one_purge(http_purge, pages_of(article, [local]), keys_of(article, [local]))


@real_commits
def test_when_scheduled_stories_come_due_publish_due_purges_the_pages_of_each(http_purge, desk, local):
    first = story_at_final_review(desk, local, headline="第一篇")
    second = Article.objects.create(headline="第二篇", slug="second", body="<p>正文。</p>", section=local, created_by=desk["writer"])
    second.tags.add("quancheng")
    second.bylines.create(person=factories.person("李明"))
    workflow.submit(second, actor=desk["writer"])
    workflow.pass_first_review(second, actor=desk["reviewer"])
    at = timezone.now() + timedelta(hours=1)
    for article in (first, second):
        workflow.sign_off(article, actor=desk["editor"], publish_at=at)
    http_purge.clear()
    with time_machine.travel(at + timedelta(seconds=30), tick=True):
        call_command("publish_due")
    first, second = Article.objects.get(pk=first.pk), Article.objects.get(pk=second.pk)
    assert (first.status, second.status) == ("published", "published")
    # Both came due in one run: one delivery, one purge naming every page and key of both.
    paths = set(pages_of(first, [local])) | set(pages_of(second, [local]))
    keys = set(keys_of(first, [local])) | set(keys_of(second, [local]))
    assert sorted(http_purge.purged_paths()) == sorted(paths)  # each page once
    assert [set(banned) for banned in http_purge.banned_keys()] == [keys]
    http_purge.clear()
    with time_machine.travel(at + timedelta(seconds=90), tick=True):
        call_command("publish_due")
    assert http_purge.requests == []


def test_changes_to_site_chrome_purge_every_page_by_the_site_key(client, http_purge, local, committed):
    client.force_login(factories.user(roles=[CHIEF_EDITOR]))
    http_purge.clear()
    with committed():
        data = {"name": "本地新闻", "slug": local.slug, "position": local.position, "_save": "1"}
        assert client.post(reverse("admin:articles_section_change", args=[local.pk]), data).status_code == 302
    assert http_purge.banned_keys() == [["site"]]
    assert {"/", "/sitemap-sections.xml", "/sections/local/"} <= set(http_purge.purged_paths())


# --- nothing for what did not happen -----------------------------------------------------------


def test_a_rolled_back_change_sends_no_purge(http_purge, desk, local, committed):
    article = workflow.sign_off(story_at_final_review(desk, local), actor=desk["editor"])
    http_purge.clear()
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        workflow.withdraw(article, actor=desk["editor"], reason="撤稿")
        raise RuntimeError("the rest of the change failed")
    assert Article.objects.get(pk=article.pk).status == "published"
    assert http_purge.requests == []


@real_commits
def test_an_admin_save_that_fails_halfway_sends_no_purge(client, http_purge, desk, local, monkeypatch):
    article = step(client, desk["editor"], story_at_final_review(desk, local), "sign_off")
    http_purge.clear()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(revisions, "record", broken)
    client.raise_request_exception = False
    response = client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        change_form_data(article, headline="新标题", correction_note="标题更正", tags="quancheng"),
    )
    assert response.status_code == 500
    assert Article.objects.get(pk=article.pk).headline == "泉城新闻"
    assert http_purge.requests == []


def test_staff_requests_that_change_nothing_send_nothing(client, http_purge, desk, local, committed):
    article = step(client, desk["editor"], story_at_final_review(desk, local), "sign_off")
    http_purge.clear()
    with committed():
        client.get(reverse("admin:articles_article_change", args=[article.pk]))
        client.get(article.get_absolute_url())
    assert http_purge.requests == []


# --- the log -------------------------------------------------------------------------------------


def test_each_purge_logs_one_line_saying_what_where_and_how_it_went(client, http_purge, desk, local, caplog, committed):
    article = story_at_final_review(desk, local)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="newsroom.cdn"), committed():
        step(client, desk["editor"], article, "sign_off")
    lines = [record for record in caplog.records if record.name == "newsroom.cdn"]
    assert len(lines) == 1, [line.getMessage() for line in lines]
    message = lines[0].getMessage()
    assert lines[0].levelname == "INFO"
    assert f"story {article.pk}" in message and http_purge.url in message and "purge ok" in message
    assert f"{len(pages_of(article, [local]))} urls, {len(keys_of(article, [local]))} keys" in message


# --- the API-shaped backend --------------------------------------------------------------------


def test_the_api_backend_posts_absolute_urls_and_tags_in_batches_with_the_token(client, purge_api, desk, local, committed):
    article = story_at_final_review(desk, local)
    purge_api.clear()
    with committed():
        step(client, desk["editor"], article, "sign_off")
    bodies = purge_api.posted()
    files = [url for body in bodies for url in body.get("files", [])]
    tags = [tag for body in bodies for tag in body.get("tags", [])]
    assert sorted(files) == [PUBLIC + path for path in pages_of(article, [local])]
    assert sorted(tags) == keys_of(article, [local])
    assert all(len(body.get("files", body.get("tags"))) <= 4 for body in bodies)
    assert all(set(body) in ({"files"}, {"tags"}) for body in bodies)
    assert len(bodies) == -(-len(files) // 4) + -(-len(tags) // 4)
    for request in purge_api.requests:
        assert request["path"] == "/client/v4/zones/abc/purge_cache"
        assert request["headers"]["authorization"] == "Bearer token-for-tests"
        assert request["headers"]["content-type"] == "application/json"


def test_an_api_answer_saying_success_false_keeps_the_purge(client, purge_api, desk, local, committed):
    article = story_at_final_review(desk, local)
    purge_api.body = b'{"success": false, "errors": [{"code": 1134, "message": "rate limited"}]}'
    with committed():
        step(client, desk["editor"], article, "sign_off")
    kept = PendingPurge.objects.get()
    assert "rate limited" in kept.last_error
    assert "token-for-tests" not in kept.last_error
    purge_api.body = b'{"success": true}'
    purge_api.clear()
    call_command("retry_purges", "--all")
    assert not PendingPurge.objects.exists()
    assert sorted(url for body in purge_api.posted() for url in body.get("files", [])) == [
        PUBLIC + path for path in pages_of(article, [local])
    ]


# --- a CDN that is down ----------------------------------------------------------------------


@pytest.fixture
def cache_server_down(settings):
    """A cache server that is not running yet (its port refuses connections)."""
    recorder = Recorder()
    settings.NEWSROOM_CDN_BACKEND = "http-purge"
    settings.NEWSROOM_CDN_PUBLIC_BASE_URL = [PUBLIC]
    settings.NEWSROOM_CDN_PURGE_SERVERS = [recorder.url]
    settings.NEWSROOM_CDN_ATTEMPTS = 3
    yield recorder
    recorder.stop()


def test_a_purge_the_cdn_refuses_is_kept_and_delivered_once_it_is_back(client, cache_server_down, desk, local, caplog, committed):
    article = story_at_final_review(desk, local)
    with caplog.at_level(logging.INFO, logger="newsroom.cdn"), committed():
        article = step(client, desk["editor"], article, "sign_off")
    assert article.status == "published"  # the editor's step went through all the same
    kept = PendingPurge.objects.get()
    assert kept.target == cache_server_down.url
    assert kept.reason == f"story {article.pk}"
    assert (kept.urls, kept.keys) == (pages_of(article, [local]), dependency_keys_of(article, [local]))
    assert kept.next_attempt_at > timezone.now()
    warning = [r for r in caplog.records if r.name == "newsroom.cdn"][-1]
    assert warning.levelname == "WARNING" and f"pending purge #{kept.pk}" in warning.getMessage()

    # Still down at the next round: counted, backed off further, reported by the exit status.
    with time_machine.travel(kept.next_attempt_at + timedelta(seconds=1), tick=True):
        with pytest.raises(CommandError, match="1 purges still fail"):
            call_command("retry_purges")
    again = PendingPurge.objects.get()
    assert again.failures == 2
    assert again.next_attempt_at - kept.next_attempt_at >= timedelta(minutes=1)

    # Not due yet: retry_purges leaves it alone.
    cache_server_down.start()
    call_command("retry_purges")
    assert cache_server_down.requests == [] and PendingPurge.objects.count() == 1

    with time_machine.travel(again.next_attempt_at + timedelta(seconds=1), tick=True):
        call_command("retry_purges")
    assert not PendingPurge.objects.exists()
    assert_one_purge(cache_server_down, pages_of(article, [local]), keys_of(article, [local]))


def test_a_cdn_answering_503_is_retried_with_backoff_before_the_purge_is_kept(client, http_purge, desk, local, committed):
    article = story_at_final_review(desk, local)
    http_purge.clear()
    http_purge.fail_first = 2  # the third attempt gets through
    with committed():
        step(client, desk["editor"], article, "sign_off")
    assert not PendingPurge.objects.exists()
    first = [r["path"] for r in http_purge.requests[:3]]
    assert len(set(first)) == 1  # the same PURGE, three times
    http_purge.clear()
    http_purge.fail_first = 3  # all three attempts fail
    with committed():
        step(client, desk["editor"], Article.objects.get(pk=article.pk), "withdraw", reason="撤稿")
    assert "503" in PendingPurge.objects.get().last_error


def test_with_two_cache_servers_only_the_one_that_is_down_gets_the_purge_kept(client, http_purge, settings, desk, local, committed):
    article = story_at_final_review(desk, local)
    down = Recorder()
    settings.NEWSROOM_CDN_PURGE_SERVERS = [http_purge.url, down.url]
    http_purge.clear()
    with committed():
        step(client, desk["editor"], article, "sign_off")
    assert_one_purge(http_purge, pages_of(article, [local]), keys_of(article, [local]))
    assert list(PendingPurge.objects.values_list("target", flat=True)) == [down.url]
    http_purge.clear()
    down.start()
    try:
        call_command("retry_purges", "--all")
        assert_one_purge(down, pages_of(article, [local]), keys_of(article, [local]))
        assert http_purge.requests == []
    finally:
        down.stop()


def test_a_purge_made_under_a_broken_configuration_is_kept_not_lost(client, http_purge, settings, desk, local, committed):
    article = story_at_final_review(desk, local)
    settings.NEWSROOM_CDN_PURGE_SERVERS = []
    with committed():
        step(client, desk["editor"], article, "sign_off")
    kept = PendingPurge.objects.get()
    assert "NEWSROOM_CDN_PURGE_SERVERS" in kept.last_error
    settings.NEWSROOM_CDN_PURGE_SERVERS = [http_purge.url]
    http_purge.clear()
    call_command("retry_purges", "--all")
    assert not PendingPurge.objects.exists()
    assert_one_purge(http_purge, pages_of(article, [local]), keys_of(article, [local]))


def test_purging_by_urls_only_sends_no_ban(client, http_purge, settings, desk, local, committed):
    settings.NEWSROOM_CDN_PURGE_BY = ["urls"]
    article = story_at_final_review(desk, local)
    http_purge.clear()
    with committed():
        step(client, desk["editor"], article, "sign_off")
    assert http_purge.purged_paths() == pages_of(article, [local])
    assert http_purge.banned_keys() == []


def test_without_a_cdn_nothing_is_sent_or_kept(client, desk, local, committed):
    article = story_at_final_review(desk, local)
    with committed():
        step(client, desk["editor"], article, "sign_off")
    assert not PendingPurge.objects.exists()
    call_command("retry_purges")


# --- by hand -------------------------------------------------------------------------------------


def test_cdn_purge_sends_the_paths_and_keys_given(http_purge, capsys):
    call_command("cdn_purge", "/", "/sections/local/", "--key", "site", "--key", "story:12")
    assert http_purge.purged_paths() == ["/", "/sections/local/"]
    assert http_purge.banned_keys() == [["site", "story-12"]]
    assert "Purged 2 paths and 2 keys." in capsys.readouterr().out


def test_cdn_purge_reports_a_cdn_that_is_down_and_keeps_the_purge(cache_server_down):
    with pytest.raises(CommandError, match="1 targets did not confirm"):
        call_command("cdn_purge", "--key", "site")
    assert PendingPurge.objects.get().keys == ["site"]


def test_cdn_purge_without_a_cdn_says_how_to_set_one_up():
    with pytest.raises(CommandError, match="NEWSROOM_CDN_BACKEND"):
        call_command("cdn_purge", "/")


def test_cdn_purge_refuses_keys_the_cdn_is_not_told_about(http_purge, settings):
    settings.NEWSROOM_CDN_PURGE_BY = ["urls"]
    with pytest.raises(CommandError, match="not told about keys"):
        call_command("cdn_purge", "--key", "site")
    assert http_purge.requests == []
