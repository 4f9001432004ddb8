"""In a real browser: the responsible editor presses 签发 on a reprint from an outlet off the
approved source list, and the change page says why it was refused; the story stays in final review.

Needs Playwright from PyPI and Debian's Chromium at /usr/bin/chromium; skipped cleanly when
either is missing. Set NEWSROOM_SCREENSHOTS=<folder> to keep the screenshot
(reprint-refusal.png)."""

from datetime import timedelta

import os
from pathlib import Path

import pytest
from django.utils import timezone

from articles.models import Article, Outlet, Person
from editorial import workflow
from editorial.roles import FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from tests import factories

from .test_browser import browser_page  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def _login(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")


def _shot(page, name):
    """The top of the page as the editor sees it: the refusal, the steps and the 转载 panel."""
    folder = os.environ.get("NEWSROOM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def test_signing_off_a_reprint_from_an_outlet_off_the_list_is_refused_on_the_page(live_server, browser_page):  # noqa: F811
    writer = factories.user("reprint-writer", roles=[REPORTER], first_name="王记者")
    reviewer = factories.user("reprint-reviewer", roles=[FIRST_REVIEWER], first_name="赵初审")
    editor = factories.user("reprint-editor", roles=[RESPONSIBLE_EDITOR], first_name="钱责编")
    outlet = Outlet.objects.create(name="新浪网", url="https://news.sina.example/", kind=Outlet.Kind.COMMERCIAL)
    story = Article.objects.create(
        headline="济南泉水持续喷涌",
        body="<p>受近期降雨影响,济南各大泉群持续喷涌。</p>",
        created_by=writer,
        origin=Article.Origin.REPRINT,
        outlet=outlet,
        original_headline="济南泉水持续喷涌",
        original_author="刘原作",
        original_url="https://news.sina.example/c/2018-05-15/quanshui.shtml",
        original_published_at=timezone.now() - timedelta(hours=3),
        reprinted_by=Person.objects.create(name="周转载"),
    )
    workflow.submit(story, actor=writer)
    workflow.pass_first_review(story, actor=reviewer)

    page, base = browser_page, live_server.url
    _login(page, base, editor.username)
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    panel = page.locator(".reprint-panel")
    assert "不在可转载稿源名单上" in panel.inner_text()

    page.locator("form.step-sign_off button").click()
    page.wait_for_load_state("load")
    error = page.locator(".messagelist .error")
    assert "“新浪网”不在可转载稿源名单上，转载自该来源的稿件不能签发。" in error.inner_text()
    assert "终审" in page.locator(".workflow-panel .status").inner_text()
    _shot(page, "reprint-refusal")

    story.refresh_from_db()
    assert story.status == Article.Status.FINAL_REVIEW
    assert story.responsible_editor is None and story.published_at is None
