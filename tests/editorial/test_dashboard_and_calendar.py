"""A scheduled story is published from its time on, everywhere the desk looks: the dashboard's
queues, the story list with its status column and filter, and the change page's badge, whether
or not `publish_due` has recorded it yet. The calendar shows the next seven days, day by day
in the newsroom's time zone, with who signed each story off. Only a story readers can see
offers "在站点上查看"; the others offer 预览."""

import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from editorial import workflow

from .conftest import story_in
from .test_browser import _login, _shot, browser_page  # noqa: F401 (a fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def scheduled_at(people, when, headline):
    article = story_in("final_review", people, headline=headline)
    workflow.sign_off(article, actor=people["editor"], publish_at=when)
    return Article.objects.get(pk=article.pk)


def queue_counts(client):
    page = client.get(reverse("admin:index")).content.decode()
    return {key: int(count) for key, count in re.findall(r'class="queue queue-(\w+)[^"]*"[^>]*><span class="count">(\d+)<', page)}


def listing(client, query=""):
    return client.get(reverse("admin:articles_article_changelist") + query).content.decode()


def status_cell(page, headline):
    row = next(row for row in page.split("<tr")[1:] if headline in row)
    return re.search(r'<td class="field-(?:shown_)?status">(.*?)</td>', row).group(1)


def test_a_scheduled_story_moves_from_scheduled_to_recently_published_at_its_time(client, people, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    at = timezone.now() + timedelta(minutes=30)
    scheduled_at(people, at, "定时发布的新闻")
    client.force_login(people["editor"])
    before = queue_counts(client)
    assert (before["scheduled"], before["recent"]) == (1, 0)

    time_machine.move_to(at + timedelta(seconds=1), tick=False)
    after = queue_counts(client)
    assert (after["scheduled"], after["recent"]) == (0, 1)
    assert "定时发布的新闻" not in listing(client, "?queue=scheduled")
    assert "定时发布的新闻" in listing(client, "?queue=recent")
    assert Article.objects.get(headline="定时发布的新闻").status == "scheduled"  # publish_due has not run

    # Once publish_due has recorded it, it stays where it is.
    workflow.publish_due()
    after = queue_counts(client)
    assert (after["scheduled"], after["recent"]) == (0, 1)
    assert status_cell(listing(client), "定时发布的新闻") == "已发布"


def test_the_story_list_and_its_status_filter_call_a_due_story_published(client, people, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    at = timezone.now() + timedelta(minutes=30)
    scheduled_at(people, at, "到点的新闻")
    scheduled_at(people, at + timedelta(hours=5), "五小时后的新闻")
    time_machine.move_to(at + timedelta(minutes=1), tick=False)
    client.force_login(people["editor"])

    page = listing(client)
    assert status_cell(page, "到点的新闻") == "已发布"
    assert status_cell(page, "五小时后的新闻") == "定时发布"
    published, scheduled = listing(client, "?status=published"), listing(client, "?status=scheduled")
    assert "到点的新闻" in published and "到点的新闻" not in scheduled
    assert "五小时后的新闻" in scheduled and "五小时后的新闻" not in published


def test_the_change_page_of_a_due_story_says_published_not_a_past_time(client, people, time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 1, 50, tzinfo=SHANGHAI), tick=False)
    article = scheduled_at(people, datetime(2026, 12, 3, 1, 53, tzinfo=SHANGHAI), "一点五十三分发布")
    client.force_login(people["editor"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "定时发布于" in page and "01:53" in page

    time_machine.move_to(datetime(2026, 12, 3, 1, 54, tzinfo=SHANGHAI), tick=False)
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    badge = re.search(r'<span class="status status-(\w+)">(.*?)</span>', page)
    assert badge.groups() == ("published", "已发布")
    assert "定时发布于" not in page
    # It is live: the form asks for a 更正, and a live story is not sent back, only withdrawn.
    assert 'name="correction_note"' in page
    assert "step-send_back" not in page and "step-withdraw" in page


def test_the_calendar_shows_the_next_seven_days_in_beijing_time_with_who_signed_off(client, people, time_machine):
    # 20:00 on 2 December in Beijing is 12:00 UTC: a story at 01:30 Beijing time on the 3rd is
    # still the 2nd in UTC, and must be listed under 12月3日.
    time_machine.move_to(datetime(2026, 12, 2, 20, 0, tzinfo=SHANGHAI), tick=False)
    scheduled_at(people, datetime(2026, 12, 3, 1, 30, tzinfo=SHANGHAI), "凌晨发布的新闻")
    scheduled_at(people, datetime(2026, 12, 2, 22, 15, tzinfo=SHANGHAI), "今晚发布的新闻")
    scheduled_at(people, datetime(2026, 12, 10, 9, 0, tzinfo=SHANGHAI), "八天后的新闻")
    client.force_login(people["chief"])

    response = client.get(reverse("admin:articles_article_calendar"))
    assert response.status_code == 200
    page = response.content.decode()
    days = re.findall(r'<section class="calendar-day[^"]*"[^>]*>\s*<h2[^>]*>(.*?)</h2>(.*?)</section>', page, re.S)
    assert [heading.split(" ")[0] for heading, _ in days] == [f"12月{d}日" for d in range(2, 9)]
    today, tomorrow = days[0][1], days[1][1]
    assert "今晚发布的新闻" in today and "22:15" in today and "钱责编" in today
    assert "凌晨发布的新闻" in tomorrow and "01:30" in tomorrow and "钱责编" in tomorrow
    assert "凌晨发布的新闻" not in today
    assert all("八天后的新闻" not in body for _, body in days)
    assert "之后还有 1 篇定时发布的稿件" in page


def test_who_may_see_the_calendar(client, people):
    scheduled_at(people, timezone.now() + timedelta(hours=3), "王记者的定时稿")
    other = story_in("final_review", {**people, "writer": people["other_reporter"]}, headline="李记者的定时稿")
    workflow.sign_off(other, actor=people["editor"], publish_at=timezone.now() + timedelta(hours=4))
    url = reverse("admin:articles_article_calendar")

    assert client.get(url).status_code == 302  # anonymous: to the login page
    reader = get_user_model().objects.create_user("reader", password=None, is_staff=False)
    client.force_login(reader)
    assert client.get(url).status_code == 302  # not staff: to the login page
    client.force_login(people["outsider"])
    assert client.get(url).status_code == 403  # staff with no newsroom role

    client.force_login(people["writer"])
    page = client.get(url).content.decode()
    assert "王记者的定时稿" in page and "李记者的定时稿" not in page  # a reporter sees their own
    client.force_login(people["editor"])
    page = client.get(url).content.decode()
    assert "王记者的定时稿" in page and "李记者的定时稿" in page


def test_the_dashboard_links_to_the_calendar(client, people):
    client.force_login(people["editor"])
    page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:articles_article_calendar")}"' in page


def test_only_a_story_readers_can_see_offers_view_on_site(client, people, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(people["chief"])
    for state in ["draft", "first_review", "final_review", "scheduled", "withdrawn"]:
        article = story_in(state, people, headline=f"稿件 {state}")
        page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
        assert "viewsitelink" not in page, state
        assert reverse("admin:articles_article_preview", args=[article.pk]) in page, state
    live = story_in("published", people, headline="已发布的稿件")
    page = client.get(reverse("admin:articles_article_change", args=[live.pk])).content.decode()
    assert "viewsitelink" in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_a_scheduled_story_moves_to_recently_published_at_its_time(live_server, browser_page):
    """Signed off for later in the browser, the story waits in 定时发布 and on the calendar;
    once its time passes the dashboard lists it under 最近发布, with no publish_due run."""
    call_command("setup_demo", stdout=open(os.devnull, "w"))
    page, base = browser_page, live_server.url
    users = get_user_model().objects
    article = Article.objects.create(headline="浏览器里的定时新闻", body="<p>正文。</p>", created_by=users.get(username="reporter"))
    workflow.submit(article, actor=users.get(username="reporter"))
    workflow.pass_first_review(article, actor=users.get(username="reviewer"))

    _login(page, base, "editor")
    page.goto(f"{base}/admin/articles/article/{article.pk}/change/")
    later = timezone.localtime(timezone.now() + timedelta(hours=1))
    page.fill("form.step-sign_off input[name=publish_at]", later.strftime("%Y-%m-%dT%H:%M"))
    page.locator("form.step-sign_off button").click()
    page.wait_for_load_state("load")
    assert Article.objects.get(pk=article.pk).status == Article.Status.SCHEDULED

    page.goto(f"{base}/admin/")
    assert page.locator(".queue-scheduled .count").inner_text() == "1"
    page.click(".calendar-link a")
    page.wait_for_selector(".schedule-calendar")
    assert "浏览器里的定时新闻" in page.locator(".schedule-calendar").inner_text()
    _shot(page, "calendar")

    # Its time comes a few seconds from now; publish_due never runs.
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now() + timedelta(seconds=3))
    page.goto(f"{base}/admin/")
    assert page.locator(".queue-scheduled .count").inner_text() == "1"
    page.wait_for_timeout(3500)
    page.reload()
    assert page.locator(".queue-scheduled .count").inner_text() == "0"
    assert page.locator(".queue-recent .count").inner_text() == "1"
    _shot(page, "dashboard")
    page.click(".queue-recent")
    page.wait_for_selector("#result_list")
    row = page.locator("#result_list tr", has_text="浏览器里的定时新闻")
    assert row.locator("td.field-shown_status").inner_text() == "已发布"
    assert Article.objects.get(pk=article.pk).status == Article.Status.SCHEDULED
