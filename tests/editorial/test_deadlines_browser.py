"""An overdue queue in a real browser: the first-review editor opens the dashboard, sees the
overdue stories first with their waits, follows the 审稿超时 queue to the story list (sorted
overdue first) and opens the most overdue story, whose change page shows its time in stage.

Screenshots (the overdue queue, the dashboards) go to NEWSROOM_SCREENSHOTS=<folder> when it is set.
Needs Playwright and Debian's Chromium at /usr/bin/chromium (skipped otherwise).
"""

import os
import re
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article
from editorial import workflow
from editorial.models import ReviewEvent

from .conftest import demo_desk
from .test_browser import _login, browser_page  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("NEWSROOM_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _submitted(headline, minutes_ago, reporter, **fields):
    """A story submitted `minutes_ago`: its submission is dated back, as if it had waited."""
    story = Article.objects.create(headline=headline, body="<p>正文。</p>", created_by=reporter, **fields)
    workflow.submit(story, actor=reporter)
    ReviewEvent.objects.filter(article=story).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return story


def test_the_first_review_editor_sees_the_overdue_queue_first(live_server, browser_page):  # noqa: F811
    from django.contrib.auth import get_user_model

    call_command("setup_demo", stdout=StringIO())
    reporter = get_user_model().objects.get(username="reporter")
    _submitted("区政府发布会通稿", 45, reporter)
    _submitted("急稿:高速路段因雪封闭", 27, reporter, is_breaking=True)
    _submitted("社区志愿服务活动", 5 * 60 + 12, reporter)
    _submitted("急稿:地铁线路临时调整", 4, reporter, is_breaking=True)
    page, base = browser_page, live_server.url

    _login(page, base, "reviewer")
    page.set_viewport_size({"width": 1280, "height": 720})
    panel = page.locator(".deadline-panel")
    first_row = panel.locator("tbody tr").first
    assert "社区志愿服务活动" in first_row.inner_text()
    assert "超时 1小时12分" in first_row.inner_text()
    assert page.locator(".queue-overdue .count").inner_text() == "2"
    _shot(page, "overdue-dashboard")

    page.click(".queue-overdue")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 2
    page.goto(f"{base}/admin/articles/article/?queue=first_review")
    page.wait_for_selector("#result_list")
    headlines = page.locator("#result_list tbody tr th.field-headline, #result_list tbody tr td.field-headline").all_inner_texts()
    assert headlines == ["社区志愿服务活动", "急稿:高速路段因雪封闭", "急稿:地铁线路临时调整", "区政府发布会通稿"]
    waits = page.locator("#result_list td.field-stage_wait").all_inner_texts()
    assert waits[0] == "已等待 5小时12分 · 超时 1小时12分"
    assert waits[1] == "急稿 已等待 27分 · 超时 17分"
    assert waits[3] == "已等待 45分"
    assert page.locator("#result_list tbody tr").first.locator(".deadline-overdue").count() == 1
    _shot(page, "overdue-queue")

    page.locator("#result_list tbody tr").first.locator("a").first.click()
    page.wait_for_selector(".stage-times")
    assert "仍在等待" in page.locator(".stage-times").inner_text()


def test_the_chief_reads_time_to_publish_per_desk_on_the_demo_site(live_server, browser_page):  # noqa: F811
    demo_desk(150, "--photos", "3")
    page, base = browser_page, live_server.url

    _login(page, base, "chief")
    overruns = page.locator(".deadline-overruns")
    # The demo's 急稿 at final review is 15 minutes over when the demo is made, more by the time
    # 150 generated stories are in (minutes on a busy machine).
    over = re.search(r"超时 (\d+)分", page.locator(".deadline-queue").inner_text())
    assert over is not None and 15 <= int(over.group(1)) < 60
    assert overruns.locator("tbody tr").count() >= 1
    _shot(page, "overdue-chief-dashboard")
    page.click("text=出稿用时月报（按栏目）")
    page.wait_for_selector(".time-to-publish")
    months = page.locator(".report-month")
    assert months.count() >= 4  # the demo spreads its stories over four months
    latest_full = months.nth(1)
    assert latest_full.locator(".desk-row").count() == 6
    total = latest_full.locator(".desk-total td").all_inner_texts()
    # A duration as the desk says it (15分, 1小时, 2小时5分, 1天3小时); which month is the latest
    # full one depends on today's date, so the figures themselves are not fixed.
    duration = re.compile(r"^(?=\d)(\d+天)?(\d+小时)?(\d+分)?$")
    assert int(total[0]) > 10
    assert duration.match(total[1]) and duration.match(total[2]) and total[1] != total[2]
    _shot(page, "time-to-publish")
