"""推荐阅读 that say why, in a real browser: the responsible editor opens a published story,
reads the system's suggestions with their reasons, picks one, saves, and previews the block
with the reason of each item; readers get the block without reasons.

Skipped cleanly without Playwright or Debian's Chromium (see tests/editorial/test_browser.py).
Screenshots go to NEWSROOM_SCREENSHOTS when it is set.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article, Recommendation
from tests import factories

from .test_browser import _login, browser_page  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(target, name):
    folder = os.environ.get("NEWSROOM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(folder) / f"{name}.png"))


def _around(section):
    """Stories around a new one about 历城: sharing its tag, its section, similar words."""
    def story(headline, hours, tags=(), in_section=section):
        made = factories.published_story(
            headline=headline, section=in_section, published_at=timezone.now() - timedelta(hours=hours),
            summary=f"{headline}的摘要。",
        )
        if tags:
            made.tags.add(*tags)
            factories.announced(made, "edit")
        return made

    elsewhere = factories.section(name="民生", slug="minsheng")
    return {
        "tagged": story("历城区新建三座口袋公园", 30, ["历城"], elsewhere),
        "section": story("济南地铁新线试运行", 3),
        "similar": story("历城书记论坛第二期举行", 6, in_section=elsewhere),
    }


def test_an_editor_picks_a_suggestion_and_previews_the_block_with_its_reasons(live_server, browser_page):
    call_command("setup_demo", stdout=open(os.devnull, "w"))
    page, base = browser_page, live_server.url
    seed = Article.objects.get(headline="“历城书记论坛”精彩开讲")
    others = _around(seed.section)
    users = get_user_model().objects
    desk = {role: users.get(username=name) for role, name in
            [("writer", "reporter"), ("reviewer", "reviewer"), ("editor", "editor"), ("chief", "chief")]}
    story = factories.draft(headline="历城书记论坛第三期开讲", section=seed.section, summary="第三期论坛开讲。",
                            created_by=desk["writer"])
    story.tags.add("历城")
    story = factories.publish(story, desk)
    assert Recommendation.objects.filter(article=story, source=Recommendation.Source.FILLED).count() >= 3

    _login(page, base, "editor")
    page.goto(f"{base}/admin/articles/article/{story.pk}/change/")
    panel = page.locator("#recommendation-panel")
    panel.scroll_into_view_if_needed()
    assert "同标签「历城」" in panel.inner_text() and "内容相近" in panel.inner_text()
    _shot(panel, "recommendations-change-page-panel")

    # Pick the story sharing the tag: it becomes a row of the editors' picks, with its reason.
    panel.locator(f'button.rec-pick[data-target="{others["tagged"].pk}"]').click()
    row = page.locator("#recommendations-group .dynamic-recommendations:not(.empty-form)").last
    assert row.locator('input[name$="-reason"]').input_value() == "同标签「历城」"
    page.fill("#id_internal_note", "加一条编辑推荐")
    page.click("input[name=_save]")
    page.wait_for_load_state("load")
    pick = Recommendation.objects.get(article=story, target=others["tagged"])
    assert (pick.source, pick.reason) == (Recommendation.Source.PICKED, "同标签「历城」")

    # The preview shows why each item is there; readers see the same block without reasons.
    page.goto(f"{base}/admin/articles/article/{story.pk}/preview/")
    block = page.locator("section.recommended")
    reasons = block.locator(".rec-reason").all_inner_texts()
    assert reasons[0].startswith("编辑选定") and "同标签「历城」" in reasons[0]
    assert any(text.startswith("自动补足") and "同栏目" in text for text in reasons)
    assert any("内容相近" in text for text in reasons)
    page.evaluate("window.scrollTo(0, 0)")
    folder = os.environ.get("NEWSROOM_SCREENSHOTS")
    if folder:  # the block as laid out on the page (the preview's banner stays at the top)
        box = block.bounding_box()
        page.screenshot(path=str(Path(folder) / "recommendations-with-reasons.png"), full_page=True,
                        clip={"x": box["x"], "y": box["y"] - 10, "width": box["width"], "height": box["height"] + 20})

    page.context.clear_cookies()
    page.goto(f"{base}{story.get_absolute_url()}")
    public = page.locator("section.recommended")
    assert public.locator("li.rec").count() == len(reasons)
    assert public.locator(".rec-reason").count() == 0
    assert "历城区新建三座口袋公园" in public.inner_text()
