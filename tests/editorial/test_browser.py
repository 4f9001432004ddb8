"""A new story with a photo walks from a reporter's draft through both reviews to the
public page, in the admin, in a real browser, as each demo account.

Needs Playwright from PyPI and Debian's Chromium at /usr/bin/chromium; skipped
cleanly when either is missing (no browser is ever downloaded). Set
NEWSROOM_SCREENSHOTS=<folder> to keep screenshots of each page.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.models import Article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15000)
    return page


def _shot(page, name):
    folder = os.environ.get("NEWSROOM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _login(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "newsroom-demo")
    page.click("input[type=submit]")
    page.wait_for_selector("#content")


def _step(page, step, reason=None):
    form = page.locator(f"form.step-{step}")
    if reason:
        form.locator("textarea[name=reason]").fill(reason)
    form.locator("button").click()
    page.wait_for_load_state("load")


def test_story_with_photo_goes_from_draft_to_public_page(live_server, browser_page, tmp_path):
    call_command("setup_demo", stdout=open(os.devnull, "w"))
    page, base = browser_page, live_server.url
    photo = tmp_path / "photo.png"
    from PIL import Image as PILImage

    PILImage.new("RGB", (640, 400), (60, 110, 170)).save(photo)

    # The reporter writes a draft with a photo, then submits it.
    _login(page, base, "reporter")
    _shot(page, "01-reporter-dashboard")
    page.goto(f"{base}/admin/articles/article/add/")
    page.fill("#id_headline", "浏览器里走完流程的新闻")
    editor = page.locator(".ProseMirror:visible").first
    editor.click()
    page.keyboard.type("第一段正文。")
    page.click("#photos-group .add-row a")
    page.set_input_files("input[name='photos-0-upload']", str(photo))
    page.fill("textarea[name='photos-0-caption']", "图说:<script>alert(1)</script>启动仪式现场")
    page.fill("input[name='photos-0-credit']", "演示记者 摄")
    page.fill("input[name='photos-0-alt_text']", "启动仪式现场")
    page.click("input[name=_continue]")
    page.wait_for_selector(".workflow-panel")
    story = Article.objects.get(headline="浏览器里走完流程的新闻")
    assert story.photos.count() == 1
    assert "<script" not in story.photos.get().image.caption
    assert "第一段正文" in story.body
    _shot(page, "02-reporter-change-page")
    _step(page, "submit")
    assert page.locator(".workflow-panel .read-only").count() == 1

    # The first-review editor passes it.
    _login(page, base, "reviewer")
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    _shot(page, "03-reviewer-change-page")
    _step(page, "pass_first_review")

    # The responsible editor signs it off.
    _login(page, base, "editor")
    _shot(page, "04-editor-dashboard")
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    _step(page, "sign_off")
    _shot(page, "05-editor-after-sign-off")
    story.refresh_from_db()
    assert story.status == Article.Status.PUBLISHED

    # The chief reads the versions; then a reader sees the story with both reviewers' names.
    _login(page, base, "chief")
    page.goto(f"{base}/admin/articles/article/{story.pk}/versions/")
    _shot(page, "06-chief-versions")
    page.context.clear_cookies()
    page.goto(f"{base}{story.get_absolute_url()}")
    _shot(page, "07-public-page")
    assert page.locator(".first-review-editor").inner_text() == "初审编辑:演示初审"
    assert page.locator(".responsible-editor").inner_text() == "责任编辑:演示责编"
    assert page.locator("figure.photo figcaption").first.inner_text().startswith("图说:")
