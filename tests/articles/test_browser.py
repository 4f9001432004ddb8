"""What readers see in a real browser (Debian's Chromium): readable without JavaScript,
no layout shift from photos, visible keyboard focus, nothing wider than a phone."""

import shutil
from io import StringIO

import pytest
from django.core.management import call_command

from articles.models import Article
from tests.conftest import chromium

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Chromium is not installed"),
]


@pytest.fixture
def browser(seeded_site):
    # Started after the data is written: Playwright's event loop makes later ORM calls in
    # this thread look async to Django.
    with chromium(playwright) as browser:
        yield browser


@pytest.fixture
def seeded_site(live_server, settings):
    settings.NEWSROOM_SERVE_MEDIA = True
    call_command("import_seed", "seeds/000_65fa244611cb5653.txt", stdout=StringIO())
    story = Article.objects.get(headline__contains="历城书记论坛")
    return {"url": live_server.url, "story": story.get_absolute_url()}


def test_story_reads_without_javascript_and_photos_do_not_shift_the_layout(browser, seeded_site):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(seeded_site["url"] + seeded_site["story"])
    assert page.inner_text("h1") == "“历城书记论坛”精彩开讲"
    assert "协商民主" in page.inner_text(".story-body")
    with_script = browser.new_page(viewport={"width": 390, "height": 844})
    with_script.goto(seeded_site["url"] + seeded_site["story"])
    shift = with_script.evaluate(
        """() => new Promise(done => { let total = 0;
            new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
              .observe({type: 'layout-shift', buffered: true});
            setTimeout(() => done(total), 500); })"""
    )
    assert shift < 0.01


def test_keyboard_focus_is_visible(browser, seeded_site):
    page = browser.new_page()
    page.goto(seeded_site["url"] + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.className, getComputedStyle(document.activeElement).outlineStyle]")
    assert focused[0] == "skip-link"
    assert focused[1] != "none"


@pytest.mark.parametrize("path", ["/", "story", "/search/?q=书记论坛", "/sections/local/"])
def test_nothing_is_wider_than_a_phone(browser, seeded_site, path):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(seeded_site["url"] + (seeded_site["story"] if path == "story" else path))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
