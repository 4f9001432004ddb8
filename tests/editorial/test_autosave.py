"""The story editor keeps unsaved work in the browser and offers it back, in Chromium:
type, close the page without saving, reopen, restore, save; and a copy from before someone
else's save is shown, never put over it.

Same browser set-up as tests/editorial/test_browser.py (Playwright, Debian's Chromium)."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from articles.models import Article
from editorial.roles import CHIEF_EDITOR
from tests import factories

from .test_browser import _login, _shot, browser_page  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reporter_draft(live_server):
    call_command("setup_demo", stdout=open(os.devnull, "w"))
    reporter = get_user_model().objects.get(username="reporter")
    return Article.objects.create(headline="区政府召开防汛会议", body="<p>第一段。</p>", created_by=reporter)


@pytest.fixture
def tabs(browser_page):  # noqa: F811
    """A browser profile whose tabs can be closed and opened again (localStorage outlives them)."""
    context = browser_page.context.browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15000)
    yield context
    context.close()


def _type_unsaved_work(page, base, story):
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    page.fill("#id_headline", "区政府召开防汛工作会议")
    editor = page.locator(".ProseMirror:visible").first
    editor.click()
    page.keyboard.press("End")
    page.keyboard.type("会议部署了汛期值班。")
    page.wait_for_selector(".autosave-status:not([hidden])", timeout=10000)


def test_unsaved_work_comes_back_after_the_page_is_closed_and_is_then_saved(live_server, tabs, reporter_draft):
    page, base, story = tabs.new_page(), live_server.url, reporter_draft
    _login(page, base, "reporter")
    _type_unsaved_work(page, base, story)
    page.close()  # the tab is closed without saving
    story.refresh_from_db()
    assert story.headline == "区政府召开防汛会议"

    page = tabs.new_page()
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    offer = page.locator(".autosave-offer")
    offer.wait_for(state="visible")
    assert "恢复未保存的内容" in offer.inner_text() and "放弃" in offer.inner_text()
    # Nothing is put in the form before the click.
    assert page.input_value("#id_headline") == "区政府召开防汛会议"
    _shot(page, "autosave-01-offer")
    offer.locator(".autosave-restore").click()
    assert page.input_value("#id_headline") == "区政府召开防汛工作会议"
    assert "会议部署了汛期值班。" in page.locator(".ProseMirror:visible").first.inner_text()
    assert offer.is_hidden()

    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    story.refresh_from_db()
    assert story.headline == "区政府召开防汛工作会议"
    assert "会议部署了汛期值班。" in story.body
    # Saved: nothing is offered any more.
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    page.locator(".ProseMirror:visible").first.wait_for()
    page.wait_for_timeout(500)
    assert page.locator(".autosave-offer").is_hidden()
    assert page.locator(".autosave-stale").is_hidden()


def test_a_copy_from_before_someone_elses_save_is_shown_and_never_put_over_it(live_server, tabs, reporter_draft):
    page, base, story = tabs.new_page(), live_server.url, reporter_draft
    _login(page, base, "reporter")
    _type_unsaved_work(page, base, story)
    page.close()

    # Meanwhile the chief saves the story.
    chief = factories.user(roles=[CHIEF_EDITOR], first_name="孙总编")
    factories.edit(story, actor=chief, headline="区政府部署防汛")

    page = tabs.new_page()
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    stale = page.locator(".autosave-stale")
    stale.wait_for(state="visible")
    assert "孙总编" in stale.inner_text()
    assert page.locator(".autosave-offer").is_hidden()
    assert page.input_value("#id_headline") == "区政府部署防汛"
    stale.locator(".autosave-show").click()
    copy = stale.locator(".autosave-copy textarea")
    values = [copy.nth(n).input_value() for n in range(copy.count())]
    assert "区政府召开防汛工作会议" in values
    assert any("会议部署了汛期值班。" in value for value in values)
    _shot(page, "autosave-02-stale")
    assert page.input_value("#id_headline") == "区政府部署防汛"

    stale.locator(".autosave-discard").click()
    page.reload()
    page.locator(".ProseMirror:visible").first.wait_for()
    page.wait_for_timeout(500)
    assert page.locator(".autosave-stale").is_hidden()
    story.refresh_from_db()
    assert story.headline == "区政府部署防汛"
