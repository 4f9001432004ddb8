"""点击排行: reads counted in the cache with no database write per read (robots left out), added
to the database in batches, and today's and this week's most-read lists on the home and section
pages, kept fresh by the flush through every delivery."""

import re
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, DailyReads, Section
from editorial import workflow
from readers import most_read
from tests import factories
from tests.delivery.test_freshness import DELIVERIES, committed, rendered_now

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
ROBOTS = [
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
    "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "SomeNewsCrawler/1.0",
    "python-requests/2.31",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36",
    "",
]


@pytest.fixture
def long_lived_pages(settings):
    """Cached pages outlive the minute a flush waits for (a laptop keeps them 60 seconds)."""
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 3600


@pytest.fixture
def reader():
    return Client(HTTP_USER_AGENT=BROWSER)


def beacon_of(html):
    """The beacon address a story page names for its script (static/readers/reads.js)."""
    found = re.search(r'<script src="/static/readers/reads\.js" data-beacon="([^"]+)" defer></script>', html)
    assert found, "the story page carries the read beacon"
    return found.group(1)


def read(client, story, times=1):
    for _ in range(times):
        assert client.post(reverse("articles:read", kwargs={"pk": story.pk})).status_code == 204


def flushed(time_machine):
    """Let the minute end, then flush as cron would."""
    time_machine.move_to(timezone.now() + timedelta(seconds=most_read.BUCKET_SECONDS + most_read.GRACE_SECONDS + 1))
    call_command("flush_reads", stdout=open("/dev/null", "w"))


def reads_of(story, day=None):
    rows = DailyReads.objects.filter(article=story)
    if day:
        rows = rows.filter(day=day)
    return sum(rows.values_list("reads", flat=True))


def ranked(html, period):
    """Headlines of the 点击排行 list `period` ("今日" or "本周") on a page."""
    block = re.search(rf"<h3 id=\"most-read-{period}\">.*?</ol>", html, re.S)
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', block.group(0)) if block else []


# --- counting ----------------------------------------------------------------------------------


def test_reads_are_counted_without_touching_the_database(reader, time_machine):
    story = factories.published_story("被阅读的新闻")
    most_read.flush()  # the beacon's own flush is not due for a while now
    reader.post(reverse("articles:read", kwargs={"pk": story.pk}))
    with CaptureQueriesContext(connection) as queries:
        read(reader, story, times=20)
    assert len(queries) == 0
    assert reads_of(story) == 0
    flushed(time_machine)
    assert reads_of(story) == 21


def test_a_flush_adds_reads_in_one_batch_to_the_newsroom_day(reader, time_machine):
    """16:30 UTC on 1 March is 00:30 on 2 March in Shanghai: the reads belong to the 2nd."""
    time_machine.move_to(datetime(2026, 3, 1, 16, 30, 10, tzinfo=dt_timezone.utc))
    stories = [factories.published_story(f"新闻{n}") for n in range(5)]
    most_read.flush()
    for n, story in enumerate(stories):
        read(reader, story, times=n + 1)
    time_machine.move_to(timezone.now() + timedelta(seconds=70))
    with CaptureQueriesContext(connection) as queries:
        most_read.flush()
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 2  # the missing rows, then one UPDATE adding to all of them
    assert [reads_of(story, date(2026, 3, 2)) for story in stories] == [1, 2, 3, 4, 5]
    assert not DailyReads.objects.filter(day=date(2026, 3, 1)).exists()


def test_reads_of_a_minute_not_yet_ended_wait_for_the_next_flush(reader, time_machine):
    story = factories.published_story("刚被阅读的新闻")
    most_read.flush()
    read(reader, story, times=3)
    most_read.flush()
    assert reads_of(story) == 0
    flushed(time_machine)
    assert reads_of(story) == 3
    flushed(time_machine)
    assert reads_of(story) == 3  # counted once


@pytest.mark.parametrize("user_agent", ROBOTS, ids=lambda ua: ua.split("/")[0][:30] or "empty")
def test_robots_are_not_counted(user_agent, time_machine):
    story = factories.published_story("机器人来访的新闻")
    robot = Client(HTTP_USER_AGENT=user_agent)
    response = robot.post(reverse("articles:read", kwargs={"pk": story.pk}))
    assert response.status_code == 204
    flushed(time_machine)
    assert reads_of(story) == 0


def test_the_beacon_takes_posts_only_and_is_never_cached(reader):
    story = factories.published_story("新闻")
    assert reader.get(reverse("articles:read", kwargs={"pk": story.pk})).status_code == 405
    response = reader.post(reverse("articles:read", kwargs={"pk": story.pk}))
    assert response.status_code == 204 and response["Cache-Control"] == "no-store"


def test_reads_of_no_story_are_dropped(reader, time_machine):
    read(reader, Article(pk=987654))
    flushed(time_machine)
    assert DailyReads.objects.count() == 0


def test_a_page_served_from_the_page_cache_still_counts(reader, time_machine):
    story = factories.published_story("缓存里的新闻")
    first = reader.get(story.get_absolute_url())
    second = reader.get(story.get_absolute_url())
    assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
    for response in (first, second):
        reader.post(beacon_of(response.content.decode()))
    flushed(time_machine)
    assert reads_of(story) == 2


def test_a_static_published_story_page_carries_the_beacon_script_with_no_inline_code(static_root, reader):
    story = factories.published_story("静态发布的新闻")
    call_command("static_rebuild", stdout=open("/dev/null", "w"))
    html = (static_root / "stories" / str(story.pk) / "index.html").read_text()
    assert beacon_of(html) == reverse("articles:read", kwargs={"pk": story.pk})
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    # Only data (JSON-LD) is inline; code comes from the site's own static files.
    assert all('type="application/ld+json"' in attrs or (" src=" in attrs and not body) for attrs, body in scripts)
    policy = reader.get(story.get_absolute_url())["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy


def test_the_beacon_flushes_by_itself_when_no_cron_runs(reader, settings, time_machine):
    settings.NEWSROOM_MOST_READ_SECONDS = 120
    story = factories.published_story("无需定时任务的新闻")
    read(reader, story, times=4)
    time_machine.move_to(timezone.now() + timedelta(seconds=121))
    read(reader, story)  # due: this beacon flushes the ended minute
    assert reads_of(story) == 4


# --- the lists ---------------------------------------------------------------------------------


@pytest.fixture
def ranked_site(reader, time_machine):
    """本地: 热门 (read 5 times today), 次热 (3 today, 10 three days ago); 体育: 体育热门 (4 today);
    an unread story in 本地."""
    local = factories.section("本地", "local")
    sports = factories.section("体育", "sports")
    hot = factories.published_story("热门", section=local)
    second = factories.published_story("次热", section=local)
    sport = factories.published_story("体育热门", section=sports)
    factories.published_story("没人读", section=local)
    DailyReads.objects.create(article=second, day=timezone.localdate() - timedelta(days=3), reads=10)
    for story, times in ((hot, 5), (second, 3), (sport, 4)):
        read(reader, story, times=times)
    flushed(time_machine)
    return {"local": local, "sports": sports, "hot": hot, "second": second, "sport": sport}


def test_the_home_page_lists_todays_and_this_weeks_most_read(ranked_site, reader):
    html = reader.get("/").content.decode()
    assert "点击排行" in html
    assert ranked(html, "today") == ["热门", "体育热门", "次热"]
    assert ranked(html, "week") == ["次热", "热门", "体育热门"]


def test_a_section_page_lists_its_own_most_read(ranked_site, reader):
    html = reader.get("/sections/local/").content.decode()
    assert ranked(html, "today") == ["热门", "次热"]
    assert ranked(html, "week") == ["次热", "热门"]
    assert ranked(reader.get("/sections/sports/").content.decode(), "today") == ["体育热门"]


def test_today_is_the_newsroom_day(reader, time_machine):
    """At 23:59:30 UTC it is already 07:59 the next day in Shanghai: yesterday's reads are not today's."""
    time_machine.move_to(datetime(2026, 3, 1, 23, 59, 30, tzinfo=dt_timezone.utc))
    story = factories.published_story("昨天的热门")
    DailyReads.objects.create(article=story, day=date(2026, 3, 1), reads=50)
    most_read.flush()
    html = reader.get("/").content.decode()
    assert ranked(html, "today") == [] and ranked(html, "week") == ["昨天的热门"]


def test_a_site_without_reads_prints_no_most_read_block(reader):
    factories.published_story("新闻")
    assert "点击排行" not in reader.get("/").content.decode()


def test_a_withdrawn_story_leaves_the_lists_at_once(ranked_site, reader, django_capture_on_commit_callbacks):
    reader.get("/")
    desk = factories.desk()
    with committed(django_capture_on_commit_callbacks):
        workflow.withdraw(Article.objects.get(pk=ranked_site["hot"].pk), actor=desk["editor"], reason="撤稿")
    assert "热门" not in ranked(reader.get("/").content.decode(), "today")
    assert ranked(reader.get("/sections/local/").content.decode(), "today") == ["次热"]


def test_the_lists_are_worked_out_by_the_flush_not_per_request(ranked_site, reader, time_machine):
    """Reads after the last flush change nothing until the next one (pages stay cached)."""
    read(reader, ranked_site["sport"], times=20)
    with CaptureQueriesContext(connection) as queries:
        html = reader.get("/").content.decode()
    assert ranked(html, "today")[0] == "热门"
    assert not [q for q in queries if "daily_reads" in q["sql"].lower()]
    flushed(time_machine)
    assert ranked(reader.get("/").content.decode(), "today")[0] == "体育热门"


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.__name__)
def test_a_flush_that_changes_the_lists_refreshes_every_copy_of_the_pages_printing_them(
    delivery, ranked_site, reader, settings, tmp_path, time_machine, long_lived_pages
):
    copies = delivery(settings, tmp_path)
    try:
        pages = ["/", "/sections/local/", "/sections/sports/"]
        copies.warm(pages)
        assert ranked(copies.served("/")[1].decode(), "today")[0] == "热门"
        read(reader, ranked_site["second"], times=30)
        flushed(time_machine)
        for url in pages:
            assert copies.served(url) == rendered_now(url, settings), url
        assert ranked(copies.served("/")[1].decode(), "today")[0] == "次热"
    finally:
        getattr(copies, "close", lambda: None)()


def test_a_flush_that_changes_no_list_refreshes_nothing(ranked_site, reader, time_machine, long_lived_pages):
    reader.get("/")
    read(reader, ranked_site["hot"], times=1)  # 热门 stays first
    flushed(time_machine)
    assert reader.get("/")["X-Page-Cache"] == "hit"


def test_the_command_says_what_it_did(ranked_site, reader, time_machine):
    from io import StringIO

    read(reader, ranked_site["hot"], times=2)
    time_machine.move_to(timezone.now() + timedelta(seconds=70))
    out = StringIO()
    call_command("flush_reads", stdout=out)
    assert "Added 2 reads" in out.getvalue() and "today: 3 stories" in out.getvalue()


def test_sections_without_reads_have_empty_lists():
    Section.objects.create(name="空栏目", slug="empty")
    lists = most_read.compute_lists()
    assert lists["today"]["site"] == [] and all(ids == [] for ids in lists["week"].values())


def test_pages_printing_most_read_lists_and_topics_are_valid_html(ranked_site, reader, tmp_path):
    """The home page and a section page with their lists, a topic page with a lead image, and a
    story naming its topic, as the W3C Nu Html Checker reads them."""
    from articles.models import Topic, TopicStory
    from tests.readers.test_html_validates import checked, checker, describe

    command = checker()
    topic = Topic.objects.create(
        headline="两会特别报道", introduction="第一段介绍。\n\n第二段介绍。", lead_image=factories.image(alt_text="会场")
    )
    for story in (ranked_site["hot"], ranked_site["sport"]):
        TopicStory.objects.create(topic=topic, article=story)
    pages = {
        "home.html": "/", "section.html": "/sections/local/", "topic.html": topic.get_absolute_url(),
        "story.html": ranked_site["hot"].get_absolute_url(),
    }
    for name, url in pages.items():
        html = reader.get(url).content.decode()
        assert ("点击排行" in html) == (name in ("home.html", "section.html")), name
        (tmp_path / name).write_text(html, encoding="utf-8")
    found = checked(command, tmp_path, sorted(pages))
    errors = {name: [describe(m) for m in messages] for name, messages in found.items() if messages}
    assert not errors, errors


def test_a_flush_that_changes_the_lists_asks_the_cdn_to_purge_those_pages_and_keys(ranked_site, reader, settings, time_machine):
    from tests.cdn.conftest import PUBLIC, Recorder

    server = Recorder().start()
    try:
        settings.NEWSROOM_CDN_BACKEND = "http-purge"
        settings.NEWSROOM_CDN_PUBLIC_BASE_URL = [PUBLIC]
        settings.NEWSROOM_CDN_PURGE_SERVERS = [server.url]
        settings.NEWSROOM_CDN_PURGE_BY = ["urls", "keys"]
        read(reader, ranked_site["second"], times=30)
        flushed(time_machine)
        purged = {request["path"] for request in server.requests if request["method"] == "PURGE"}
        banned = " ".join(request["headers"].get("surrogate-key", "") for request in server.requests if request["method"] == "BAN")
        assert {"/", "/sections/local/"} <= purged and "/sections/sports/" not in purged
        assert "most-read" in banned.split() and f"most-read-section-{ranked_site['local'].pk}" in banned.split()
    finally:
        server.stop()
