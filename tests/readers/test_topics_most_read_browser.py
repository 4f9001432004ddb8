"""专题 and 点击排行 end to end in a real browser: an editor builds a topic in the admin and
readers find it on its page and under its stories; readers' visits, counted by the beacon the
story page loads, become the most-read lists on the home and section pages.

Needs Playwright from PyPI and Debian's Chromium at /usr/bin/chromium (skipped otherwise).
Screenshots go to NEWSROOM_SCREENSHOTS=<folder> when it is set.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article, DailyReads, Topic
from readers import most_read
from tests import factories
from tests.editorial.test_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A reader's browser: the headless one announces itself as HeadlessChrome, which is not counted.
READER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN", user_agent=READER_AGENT)
    page.set_default_timeout(15000)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page, errors


def _shot(page, name):
    folder = os.environ.get("NEWSROOM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _stories():
    call_command("setup_demo", stdout=open(os.devnull, "w"))
    local = factories.section("济南", "jinan")
    now = timezone.now()
    photo = factories.image(caption="泉城广场夜景", alt_text="泉城广场上的灯光")
    stories = []
    for n, (headline, summary) in enumerate([
        ("济南地铁4号线开通试运营", "全长40.2公里,设站28座,贯通城区东西。"),
        ("泉水节开幕 七十二名泉同日喷涌", "今年泉水节持续一个月,推出十二项活动。"),
        ("历城区书记论坛第二讲聚焦乡村振兴", "论坛邀请五位专家与基层干部面对面。"),
        ("济南新增口袋公园三十处", "市民步行十分钟即可到达一处公园。"),
    ]):
        stories.append(factories.published_story(
            headline, summary=summary, section=local, published_at=now - timedelta(hours=n + 1),
            thumbnail=photo if n == 0 else None,
        ))
    return local, photo, stories


def test_an_editor_builds_a_topic_that_readers_find_on_its_page_and_its_stories(live_server, browser, tmp_path):
    local, photo, stories = _stories()
    page, errors = _page(browser)
    base = live_server.url
    _login(page, base, "editor")
    page.goto(f"{base}/admin/articles/topic/add/")
    page.fill("#id_headline", "泉城新貌")
    page.fill("#id_introduction", "地铁、泉水、公园：这一年济南城市面貌的变化。\n\n本专题持续更新。")
    page.select_option("#id_order", "manual")
    # Autocomplete pickers (select2): the lead image, then two stories.
    for selector, query, row in [
        ("#id_lead_image", "泉城广场", None),
        ("#id_entries-0-article", "泉水节", 0),
    ]:
        page.locator(f"{selector} + .select2").click()
        page.locator(".select2-search__field").last.fill(query)
        page.locator(".select2-results__option", has_text=query).first.click()
    page.fill("#id_entries-0-position", "0")
    page.locator(".add-row a").first.click()
    page.locator("#id_entries-1-article + .select2").click()
    page.locator(".select2-search__field").last.fill("地铁")
    page.locator(".select2-results__option", has_text="地铁").first.click()
    page.fill("#id_entries-1-position", "1")
    _shot(page, "topic-admin")
    page.locator("input[name=_save]").click()
    page.wait_for_selector(".messagelist")
    topic = Topic.objects.get(headline="泉城新貌")
    assert list(topic.entries.values_list("article__headline", flat=True)) == [
        "泉水节开幕 七十二名泉同日喷涌", "济南地铁4号线开通试运营",
    ]

    page.context.clear_cookies()
    page.goto(f"{base}{topic.get_absolute_url()}")
    assert page.locator("h1").inner_text() == "泉城新貌"
    assert page.locator(".card-title").all_inner_texts() == ["泉水节开幕 七十二名泉同日喷涌", "济南地铁4号线开通试运营"]
    image = page.locator(".topic-image img")
    assert image.get_attribute("alt") == "泉城广场上的灯光"
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the lead image loads for readers"
    _shot(page, "topic-page")
    page.locator(".card-title a", has_text="地铁").click()
    page.wait_for_selector("p.topics")
    assert page.locator("p.topics").inner_text() == "本文收入专题：泉城新貌"
    page.locator("p.topics a").click()
    page.wait_for_url(f"{base}{topic.get_absolute_url()}")
    assert not errors, errors


def test_readers_visits_become_the_most_read_lists(live_server, browser, settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 600
    local, photo, stories = _stories()
    yesterday = timezone.localdate() - timedelta(days=1)
    DailyReads.objects.create(article=stories[3], day=yesterday, reads=40)  # read all week, not today
    page, errors = _page(browser)
    base = live_server.url
    visits = {stories[2]: 3, stories[0]: 2, stories[1]: 1}
    for story, times in visits.items():
        for _ in range(times):
            with page.expect_request(lambda request: "/reads/" in request.url and request.method == "POST"):
                page.goto(f"{base}{story.get_absolute_url()}")
    # Visits after the first were answered by the page cache, or by the browser's own copy
    # after a 304 (max-age=0): the beacon runs and counts all the same.
    with page.expect_request(lambda request: "/reads/" in request.url and request.method == "POST"):
        page.goto(f"{base}{stories[2].get_absolute_url()}")
    page.wait_for_timeout(300)
    most_read.flush(now=most_read.time.time() + most_read.BUCKET_SECONDS + most_read.GRACE_SECONDS + 1)
    assert [DailyReads.objects.filter(article=s, day=timezone.localdate()).values_list("reads", flat=True).first() for s in stories[:3]] == [2, 1, 4]

    page.goto(f"{base}/")
    today = page.locator("#most-read-today + ol li").all_inner_texts()
    week = page.locator("#most-read-week + ol li").all_inner_texts()
    assert today == [stories[2].headline, stories[0].headline, stories[1].headline]
    assert week == [stories[3].headline, stories[2].headline, stories[0].headline, stories[1].headline]
    page.locator(".most-read").scroll_into_view_if_needed()
    _shot(page, "most-read")
    page.goto(f"{base}{local.get_absolute_url()}")
    assert page.locator("#most-read-today + ol li").all_inner_texts() == today
    assert not errors, errors
    assert Article.objects.count() >= 4
