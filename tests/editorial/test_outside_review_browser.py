"""An outside reviewer, in a real browser, selects a passage of the story, comments on it and
answers 不同意; the 责任编辑 then finds both in the story's timeline and in the panel beside it.

Needs Playwright from PyPI and Debian's Chromium at /usr/bin/chromium; skipped cleanly when
either is missing. Set NEWSROOM_SCREENSHOTS=<folder> to keep the screenshots."""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from articles.models import Article
from editorial import workflow
from editorial.models import OutsideRemark
from editorial.roles import FIRST_REVIEWER, GROUP_NAMES, REPORTER, RESPONSIBLE_EDITOR, sync_roles

PASSWORD = "outside-review-1"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
    page.set_default_timeout(15000)
    return page


def _shot(page, name, **options):
    folder = os.environ.get("NEWSROOM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), **options)


def _person(username, role, name):
    account = get_user_model().objects.create_user(username=username, password=PASSWORD, is_staff=True, first_name=name)
    account.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
    return account


def _story():
    sync_roles()
    writer = _person("writer", REPORTER, "王记者")
    reviewer = _person("reviewer", FIRST_REVIEWER, "赵初审")
    _person("editor", RESPONSIBLE_EDITOR, "钱责编")
    article = Article.objects.create(
        headline="历城区启动“书记论坛”",
        body="<p>本报讯 历城区15日举办“历城书记论坛”启动仪式。</p>"
        "<p>区委书记在启动仪式上致辞，称论坛今年将邀请二十位专家授课，总投入达一千万元。</p>"
        "<p>论坛每月举办一期，面向全区党员干部。</p>",
        created_by=writer,
    )
    workflow.submit(article, actor=writer)
    workflow.pass_first_review(article, actor=reviewer)
    return Article.objects.get(pk=article.pk)


def _login(page, base, username):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")


def test_an_outsider_comments_on_a_passage_and_the_editor_sees_it_in_the_timeline(live_server, browser):
    article = _story()
    base = live_server.url

    # The 责任编辑 sends the story to a named lawyer from its change page.
    editor = _page(browser)
    _login(editor, base, "editor")
    editor.goto(f"{base}/admin/articles/article/{article.pk}/change/")
    editor.click(".outside-review-panel a.button")
    editor.fill("#id_reviewer_name", "张律师")
    editor.fill("#id_reviewer_unit", "山东某律师事务所")
    editor.click("input[type=submit]")
    link = editor.input_value(".outside-link-value")
    assert "/review/outside/" in link

    # The lawyer, with no account, opens the link and selects a passage in the second paragraph.
    outsider = _page(browser)
    outsider.goto(link)
    assert outsider.locator("h1.headline").inner_text() == "历城区启动“书记论坛”"
    outsider.evaluate(
        """() => {
            const p = document.querySelectorAll('.story-body > p')[1];
            const node = [...p.childNodes].find(n => n.nodeType === 3 && n.textContent.includes('总投入'));
            const start = node.textContent.indexOf('总投入达一千万元');
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + '总投入达一千万元'.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }"""
    )
    outsider.mouse.move(400, 400)
    outsider.mouse.up()
    outsider.dispatch_event("body", "mouseup")
    quote = outsider.locator(".outside-quote-button")
    quote.wait_for(state="visible")
    quote.click()
    assert outsider.input_value("#outside-passage") == "总投入达一千万元"
    assert outsider.input_value("#outside-paragraph") == "2"
    assert outsider.evaluate("document.activeElement.id") == "outside-comment"
    outsider.keyboard.type("金额请核实：区财政局公布的是八百万元。")
    _shot(outsider, "outside-reviewer-page", full_page=True)
    outsider.click(".outside-comment-form button[type=submit]")
    outsider.wait_for_selector(".outside-thanks")

    # 不同意 without a reason is refused in the page; with one it is kept.
    outsider.check("input[name=kind][value=disagree]")
    outsider.click(".outside-answer-form button[type=submit]")
    assert outsider.locator("#answer-error").inner_text() == "请说明不同意的理由。"
    outsider.check("input[name=kind][value=disagree]")
    outsider.fill("#outside-reason", "投资金额与财政局公告不符，核实前不宜发布。")
    outsider.click(".outside-answer-form button[type=submit]")
    outsider.wait_for_selector(".outside-thanks")
    assert list(OutsideRemark.objects.values_list("kind", "paragraph")) == [("comment", 2), ("disagree", None)]

    # The editor finds the comment, with its passage, in the timeline and beside the story.
    editor.goto(f"{base}/admin/articles/article/{article.pk}/change/")
    timeline = editor.locator("section.timeline")
    assert "总投入达一千万元" in timeline.inner_text()
    assert "金额请核实" in timeline.inner_text()
    assert "不同意" in timeline.inner_text()
    panel = editor.locator(".outside-review-panel")
    assert "第 2 段" in panel.inner_text() and "投资金额与财政局公告不符" in panel.inner_text()
    timeline.evaluate("element => element.scrollIntoView({block: 'center'})")
    _shot(editor, "outside-comment-timeline")
    editor.evaluate("window.scrollTo(0, 0)")
    _shot(editor, "outside-comment-panel")

    # Once the story is published, the link is closed with a clear message.
    workflow.sign_off(Article.objects.get(pk=article.pk), actor=get_user_model().objects.get(username="editor"))
    response = outsider.goto(link)
    assert response.status == 410
    assert "稿件已发布，审阅链接已关闭" in outsider.inner_text("main")
    _shot(outsider, "outside-link-closed")
