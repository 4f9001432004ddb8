"""Readers' pages come from a real streaming replica; the newsroom's own work, and anyone who
has just changed something, read the primary; a lagging or stopped replica never puts an
old page in the cache or an error on a reader's screen.

Runs on PostgreSQL only (tests/replicas/conftest.py makes the replica)."""

import re
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import OperationalError, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Person, Section
from editorial import workflow
from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, GROUP_NAMES, REPORTER, RESPONSIBLE_EDITOR, sync_roles
from editorial.views import share_token
from newsroom import db_router

from .conftest import ALIAS

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", ALIAS]),
    # One worker runs them all: each worker that needs the replica copies the whole cluster
    # (benchmark databases included), which is slow and doubles the disk used.
    pytest.mark.xdist_group("streaming-replica"),
]


@pytest.fixture(autouse=True)
def built_pages(settings):
    """These tests pin down where a page being *built* reads. The read model (one statement by
    primary key, always on the primary: a replica may still hold a page the primary deleted)
    would answer most of these requests before any of that; it is off here, and on in
    test_with_the_read_model_on_readers_get_pages_while_the_primary_is_unreachable."""
    settings.NEWSROOM_READ_MODEL = False

# The two position checks that decide where a page is built: they read no table.
PROBE = re.compile(r"pg_current_wal_lsn|pg_last_wal_replay_lsn")


class Reads:
    """The SQL each database was sent while a block ran (recorded without connecting)."""

    def __init__(self):
        self.sent = {"default": [], ALIAS: []}

    def recorder(self, alias):
        def record(execute, sql, params, many, context):
            self.sent[alias].append(sql)
            return execute(sql, params, many, context)

        return record

    @property
    def primary(self):
        """Queries that read or wrote data on the primary (position checks left out)."""
        return [sql for sql in self.sent["default"] if not PROBE.search(sql)]

    @property
    def replica(self):
        return [sql for sql in self.sent[ALIAS] if not PROBE.search(sql)]

    @property
    def replica_all(self):
        return list(self.sent[ALIAS])


@contextmanager
def reads():
    seen = Reads()
    with connections["default"].execute_wrapper(seen.recorder("default")):
        with connections[ALIAS].execute_wrapper(seen.recorder(ALIAS)):
            yield seen


def _person(username, role):
    account = get_user_model().objects.create_user(username=username, password=None, is_staff=True)
    account.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
    return account


def _to_final_review(headline, people, section):
    article = Article.objects.create(
        headline=headline, body="<p>历城书记论坛精彩开讲。</p>", section=section, created_by=people.reporter
    )
    workflow.submit(article, actor=people.reporter)
    workflow.pass_first_review(article, actor=people.reviewer)
    return Article.objects.get(pk=article.pk)


@pytest.fixture
def newsroom(replica):
    """One live story (section, tag, byline) and one waiting for sign-off, both on the replica."""
    sync_roles()
    people = SimpleNamespace(
        reporter=_person("reporter", REPORTER),
        reviewer=_person("reviewer", FIRST_REVIEWER),
        editor=_person("editor", RESPONSIBLE_EDITOR),
    )
    section = Section.objects.create(name="本地", slug="local")
    live = _to_final_review("“历城书记论坛”精彩开讲", people, section)
    workflow.sign_off(live, actor=people.editor)
    live = Article.objects.get(pk=live.pk)
    live.tags.add("泉城")
    person = Person.objects.create(name="张帆")
    live.bylines.create(person=person)
    waiting = _to_final_review("待签发的新稿件", people, section)
    replica.wait_until_current()
    return SimpleNamespace(people=people, section=section, live=live, waiting=waiting, person=person)


def _editor_client(newsroom):
    client = Client()
    client.force_login(newsroom.people.editor)
    return client


def _sign_off(client, article):
    """The responsible editor presses 签发 on the story's admin page."""
    response = client.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]))
    assert response.status_code == 302
    assert Article.objects.get(pk=article.pk).status == Article.Status.PUBLISHED
    return response


def test_anonymous_readers_pages_are_built_on_the_replica(client, newsroom):
    """Every kind of reader's page reads the replica only; the second request is a cache hit."""
    tag = newsroom.live.tags.get()
    pages = [
        "/",
        newsroom.live.get_absolute_url(),
        "/sections/local/",
        f"/tags/{tag.slug}/",
        f"/people/{newsroom.person.pk}/",
        "/search/?q=历城",
        "/feeds/rss.xml",
        "/feeds/sections/local/atom.xml",
        "/sitemap.xml",
        "/sitemap-sections.xml",
        "/sitemap-news.xml",
    ]
    for page in pages:
        with reads() as seen:
            response = client.get(page)
        assert response.status_code == 200, page
        assert response["X-Page-Cache"] == "miss"
        assert seen.replica, f"{page} read nothing from the replica"
        assert seen.primary == [], f"{page} read the primary: {seen.primary}"
        assert "newsroom_wrote" not in response.cookies
    assert "历城书记论坛" in client.get("/").content.decode()
    with reads() as seen:
        again = client.get(newsroom.live.get_absolute_url())
    assert again["X-Page-Cache"] == "hit"
    assert seen.primary == [] and seen.replica_all == []


def test_pages_come_from_the_replica_until_a_change_is_announced(client, newsroom, replica):
    """Replay paused, the headline changed behind the ORM's back (no cache refresh): new pages
    still come from the replica, which shows the old headline, and are cached. Announcing
    the change (purge_article_cache) moves the fence: the next page is built on the primary."""
    from delivery.cache import purge_article_cache

    story = newsroom.live
    replica.pause()
    Article.objects.filter(pk=story.pk).update(headline="改过的标题")
    with reads() as seen:
        page = client.get(story.get_absolute_url())
    assert "历城书记论坛" in page.content.decode() and "改过的标题" not in page.content.decode()
    assert seen.replica and seen.primary == []  # not even the primary's position was needed
    assert client.get(story.get_absolute_url())["X-Page-Cache"] == "hit"

    purge_article_cache(story.pk)
    with reads() as seen:
        page = client.get(story.get_absolute_url())
    assert page["X-Page-Cache"] == "miss" and "改过的标题" in page.content.decode()
    assert seen.replica == [] and seen.primary


def test_after_a_cache_outage_pages_wait_for_a_replica_that_has_everything(client, newsroom, replica):
    """While the cache was unreachable a change's refresh (and its fence) was lost; when it
    answers again every page is refreshed (delivery.cache.refresh_every_page, run by the
    Redis backend). The replica, paused before that change, must not rebuild them."""
    from delivery.cache import refresh_every_page

    story = newsroom.live
    assert client.get(story.get_absolute_url())["X-Page-Cache"] == "miss"  # cached, from the replica
    replica.pause()
    Article.objects.filter(pk=story.pk).update(headline="停电期间改的标题")  # its refresh never arrived
    refresh_every_page()
    with reads() as seen:
        page = client.get(story.get_absolute_url())
    assert page["X-Page-Cache"] == "miss" and "停电期间改的标题" in page.content.decode()
    assert seen.replica == [] and seen.primary


def test_the_fence_lives_beside_the_dependency_versions(client, newsroom, replica, settings):
    """With a separate cache alias for dependency versions (Redis: shared across deploys), the
    fence is kept there too, so old and new code in a rolling deploy agree on it."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "replica-pages"},
        "dependencies": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "replica-deps"},
    }
    _sign_off(_editor_client(newsroom), newsroom.waiting)
    assert caches["dependencies"].get(db_router.FENCE_KEY)
    assert caches["default"].get(db_router.FENCE_KEY) is None
    replica.wait_until_current()
    with reads() as seen:
        page = client.get(newsroom.waiting.get_absolute_url())
    assert page.status_code == 200 and seen.replica and seen.primary == []


def test_the_newsrooms_own_work_reads_and_writes_the_primary(client, newsroom):
    """Logged-in pages, the admin, previews, share links, commands and writes never touch the replica."""
    editor = _editor_client(newsroom)
    waiting = newsroom.waiting
    staff_pages = [
        newsroom.live.get_absolute_url(),  # the public page, seen by a logged-in editor
        "/",
        reverse("admin:articles_article_changelist"),
        reverse("admin:articles_article_change", args=[waiting.pk]),
        reverse("admin:articles_article_preview", args=[waiting.pk]),
        reverse("admin:articles_article_history", args=[waiting.pk]),
    ]
    for page in staff_pages:
        with reads() as seen:
            response = editor.get(page)
        assert response.status_code == 200, page
        assert seen.replica_all == [], f"{page} read the replica"
        assert seen.primary, page

    # The outside reviewer is anonymous, but the share link renders the draft inside a
    # transaction on the primary: the replica has never seen that state.
    with reads() as seen:
        shared = client.get(reverse("editorial:shared", args=[share_token(waiting)]))
    assert shared.status_code == 200
    assert "待签发的新稿件" in shared.content.decode()
    assert seen.replica_all == []

    with reads() as seen:
        call_command("publish_due", verbosity=0)
    assert seen.replica_all == []

    with reads() as seen:
        response = _sign_off(editor, waiting)
    assert seen.replica_all == []
    assert "newsroom_wrote" in response.cookies


def test_a_lagging_replica_never_puts_an_old_page_in_the_cache(client, newsroom, replica):
    """Replay paused, a story published: the editor, whoever just posted, and anonymous
    readers all get the new state; nothing built from the old state is kept."""
    story = newsroom.waiting
    home = client.get("/")
    assert home["X-Page-Cache"] == "miss" and "待签发的新稿件" not in home.content.decode()
    assert client.get("/")["X-Page-Cache"] == "hit"

    replica.pause()
    editor = _editor_client(newsroom)
    _sign_off(editor, story)
    # The replica really is behind: it still has the story waiting for sign-off.
    assert Article.objects.using(ALIAS).get(pk=story.pk).status == Article.Status.FINAL_REVIEW

    with reads() as seen:
        page = editor.get(story.get_absolute_url())
    assert page.status_code == 200 and "待签发的新稿件" in page.content.decode()
    assert seen.replica_all == []

    # An anonymous reader: the bump emptied the cached home page; the replica is behind,
    # so the miss is built on the primary and the page kept is the new one.
    with reads() as seen:
        fresh = client.get("/")
    assert fresh["X-Page-Cache"] == "miss"
    assert "待签发的新稿件" in fresh.content.decode()
    assert seen.replica == [] and seen.primary
    story_page = client.get(story.get_absolute_url())
    assert story_page.status_code == 200

    # The editor logs out (a POST): the session is gone, the cookie keeps them on fresh data.
    editor.post(reverse("admin:logout"))
    assert not editor.cookies.get("sessionid") or not editor.cookies["sessionid"].value
    assert editor.get(story.get_absolute_url()).status_code == 200

    replica.resume()
    replica.wait_until_current()
    with reads() as seen:
        cached = client.get("/")
    assert cached["X-Page-Cache"] == "hit" and "待签发的新稿件" in cached.content.decode()
    assert seen.replica_all == [] and seen.primary == []
    # And a page built on the replica again, now that it has caught up, is current too.
    with reads() as seen:
        section = client.get("/sections/local/")
    assert "待签发的新稿件" in section.content.decode() and seen.replica and seen.primary == []


def test_with_the_page_cache_off_a_reader_may_see_the_moment_before_but_not_the_writer(
    client, newsroom, replica, settings
):
    """No cache to protect: anonymous readers read the replica as it is (the story is not
    there yet); the editor, and a client that has just posted, read the primary for
    NEWSROOM_REPLICA_STICKY_SECONDS, then the replica again."""
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    settings.NEWSROOM_REPLICA_STICKY_SECONDS = 15
    story = newsroom.waiting
    replica.pause()
    editor = _editor_client(newsroom)
    _sign_off(editor, story)

    with reads() as seen:
        before = client.get(story.get_absolute_url())
    assert before.status_code == 404  # the replica's state: not published yet
    assert any("articles_article" in sql for sql in seen.replica)
    # (Django renders the 404 page itself, after the view: its section menu reads the primary.)
    assert not any("articles_article" in sql for sql in seen.primary)

    assert editor.get(story.get_absolute_url()).status_code == 200

    poster = Client()
    answer = poster.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "newsroom_wrote" in answer.cookies
    with reads() as seen:
        after = poster.get(story.get_absolute_url())
    assert after.status_code == 200
    assert seen.replica_all == []

    # The mark lasts NEWSROOM_REPLICA_STICKY_SECONDS, whatever the cookie's own expiry says.
    with time_machine.travel(timezone.now() + timedelta(seconds=16)):
        assert poster.get(story.get_absolute_url()).status_code == 404

    # A forged mark is ignored.
    forger = Client()
    forger.cookies["newsroom_wrote"] = "1"
    assert forger.get(story.get_absolute_url()).status_code == 404

    replica.resume()
    replica.wait_until_current()
    assert client.get(story.get_absolute_url()).status_code == 200


def test_a_stopped_replica_sends_readers_to_the_primary(client, newsroom, replica, settings):
    """Stopped replica: pages still 200, built on the primary, both with and without the cache."""
    settings.NEWSROOM_REPLICA_RETRY_SECONDS = 600
    live = newsroom.live.get_absolute_url()
    assert client.get(live).status_code == 200  # a connection to the replica is now open
    replica.stop()

    with reads() as seen:
        home = client.get("/")
    assert home.status_code == 200 and "历城书记论坛" in home.content.decode()
    assert seen.primary

    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    db_router.forget_failures()
    # No position check without the cache: the page itself fails on the replica and is
    # built again on the primary.
    with reads() as seen:
        page = client.get(live)
    assert page.status_code == 200 and "历城书记论坛" in page.content.decode()
    assert seen.primary

    # The replica is then left alone for NEWSROOM_REPLICA_RETRY_SECONDS, even once it is back:
    # a dead replica costs one failed connection per process per period, not one per page.
    replica.start()
    with reads() as seen:
        assert client.get("/sections/local/").status_code == 200
    assert seen.replica_all == [] and seen.primary

    db_router.forget_failures()
    with reads() as seen:
        assert client.get("/sections/local/").status_code == 200
    assert seen.replica and seen.primary == []


def test_while_the_primary_is_unreachable_readers_still_get_pages_from_the_replica(client, newsroom):
    """The primary refusing every query (as while it fails over): readers' pages come from the
    replica. Past the fence they are cached as usual; when the fence is unknown nobody can
    check they are current, so they are served but not kept. The desk gets 503."""
    from delivery.cache import dependency_cache

    live = newsroom.live.get_absolute_url()
    editor = _editor_client(newsroom)

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connections["default"].execute_wrapper(refuse):
        with reads() as seen:
            first = client.get(live)
            second = client.get(live)
        assert first.status_code == second.status_code == 200
        assert "历城书记论坛" in second.content.decode()
        assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
        assert seen.replica and seen.primary == []

        dependency_cache().delete(db_router.FENCE_KEY)  # where the fence is kept, as the versions
        with reads() as seen:
            first = client.get("/sections/local/")
            second = client.get("/sections/local/")
        assert first.status_code == second.status_code == 200
        assert "历城书记论坛" in second.content.decode()
        assert first["X-Page-Cache"] == second["X-Page-Cache"] == "miss"
        assert seen.replica and seen.primary == []

        desk = editor.get(reverse("admin:articles_article_changelist"))
    assert desk.status_code == 503


def test_a_navigation_read_from_a_lagging_replica_is_never_kept(client, newsroom, replica):
    """The section navigation is kept per version of the site's key (delivery.fragments). A
    section renamed while the replica lags, and the primary then unreachable: the page built
    on the replica prints the old name, and its navigation is not kept under the new version,
    so the next page built once the replica has caught up prints the new name."""
    from delivery.cache import dependency_cache

    assert ">本地</a>" in client.get("/sections/local/").content.decode()
    replica.pause()
    chief = Client()
    chief.force_login(_person("chief", CHIEF_EDITOR))
    renamed = chief.post(
        reverse("admin:articles_section_change", args=[newsroom.section.pk]),
        {"name": "本地新闻", "slug": "local", "position": "1", "fill_recommendations": "on", "_save": "1"},
    )
    assert renamed.status_code == 302
    assert Section.objects.using(ALIAS).get(pk=newsroom.section.pk).name == "本地"  # behind

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connections["default"].execute_wrapper(refuse):
        dependency_cache().delete(db_router.FENCE_KEY)
        with reads() as seen:
            old = client.get(newsroom.live.get_absolute_url())
        assert old.status_code == 200 and seen.replica and seen.primary == []
        assert ">本地</a>" in old.content.decode()

    replica.resume()
    replica.wait_until_current()
    with reads() as seen:
        page = client.get(f"/people/{newsroom.person.pk}/")
    assert page["X-Page-Cache"] == "miss" and seen.replica
    assert ">本地新闻</a>" in page.content.decode()


def test_with_the_read_model_on_readers_get_pages_while_the_primary_is_unreachable(client, newsroom, settings):
    """The read model lives on the primary: with the primary refusing every query, its lookup
    and its mark fail quietly, and the page is built on the replica, served and not stored."""
    settings.NEWSROOM_READ_MODEL = True
    live = newsroom.live.get_absolute_url()

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connections["default"].execute_wrapper(refuse):
        with reads() as seen:
            page = client.get(live)
        assert page.status_code == 200 and "历城书记论坛" in page.content.decode()
        assert seen.replica
    from delivery.models import StoredPage

    assert not StoredPage.objects.filter(path=live).exists()
