"""三校 and 差错率 in a real browser: the first-review editor records what they found as they pass
a story on, and the chief opens the error-rate report of the demo site from the dashboard,
sees the chart with its benchmark line, and downloads the CSV.

Needs Playwright from PyPI and Debian's Chromium at /usr/bin/chromium; skipped cleanly when
either is missing. Screenshots go to NEWSROOM_SCREENSHOTS (a folder) when it is set.
"""

import os
from pathlib import Path

import pytest

from articles.models import Article
from editorial.models import ProofreadingRecord

from .conftest import demo_desk
from .test_browser import _login, browser_page  # noqa: F401  (browser_page: the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(target, name, **options):
    """A screenshot of a page or one element of it, when NEWSROOM_SCREENSHOTS names a folder."""
    folder = os.environ.get("NEWSROOM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(folder) / f"{name}.png"), **options)


def test_the_desk_records_proofreading_and_the_chief_reads_the_error_rate_chart(live_server, browser_page):
    demo_desk(150)
    page, base = browser_page, live_server.url
    story = Article.objects.get(status=Article.Status.FIRST_REVIEW)

    # 初审: the reviewer counts two wrong characters and a punctuation mark, and passes the story on.
    _login(page, base, "reviewer")
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    form = page.locator("form.step-pass_first_review")
    form.get_by_label("错别字").fill("2")
    form.get_by_label("标点").fill("1")
    _shot(page.locator(".workflow-panel"), "error-rate-first-review-form")
    form.locator("button").click()
    page.wait_for_load_state("load")
    record = ProofreadingRecord.objects.get(article=story, stage=ProofreadingRecord.Stage.FIRST_REVIEW, event__isnull=False)
    assert (record.typo, record.punctuation, record.editor_name) == (2, 1, "演示初审")

    # The chief opens the report from the dashboard.
    _login(page, base, "chief")
    page.get_by_role("link", name="差错率：按栏目、编辑和月份统计的校对与更正").click()
    page.wait_for_selector("svg[role=img]")
    assert page.locator("h1").inner_text() == "差错率"
    chart = page.locator("figure").first
    assert chart.locator("line.benchmark").count() == 1
    assert "国家标准线：万分之3" in chart.inner_text()
    assert page.locator("svg[role=img]").first.get_attribute("aria-labelledby") == "chart-month-title chart-month-desc"
    assert page.locator(".error-rate table").first.locator("tbody tr").count() == 12
    _shot(chart, "error-rate-chart")
    _shot(page, "error-rate-report", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="下载 CSV").click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and "差错率（每万字）" in content.decode("utf-8-sig")
