"""Every time the desk reads is Beijing time written the Chinese way, and workflow mails
carry it too, with a link any mail client can open, in a plain-text and an HTML part.

The moment used throughout is 17:52 UTC on 2 December 2026: 01:52 on 3 December in the
newsroom (Asia/Shanghai), a different hour and a different date.
"""

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone as dt_timezone
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from .conftest import change_form_data, story_in

UTC_MOMENT = datetime(2026, 12, 2, 17, 52, 7, tzinfo=dt_timezone.utc)
BEIJING = "2026年12月3日 01:52"
UTC_WRITTEN = ["2026-12-02 17:52", "2026年12月2日", "17:52"]


@pytest.fixture
def at_the_moment(time_machine):
    time_machine.move_to(UTC_MOMENT, tick=False)
    return time_machine


def _save(client, article, **changes):
    return client.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, **changes))


def _no_utc(text):
    return not any(written in text for written in UTC_WRITTEN)


def test_an_edit_conflict_names_the_other_save_in_beijing_time(people, at_the_moment):
    article = story_in("first_review", people)
    first, second = Client(), Client()
    first.force_login(people["reviewer"])
    second.force_login(people["editor"])
    assert _save(first, article, body="<p>初审改的。</p>").status_code == 302
    response = _save(second, article, body="<p>责编改的。</p>")  # still carries version 1
    assert response.status_code == 200
    page = response.content.decode()
    assert f"赵初审 保存了本稿（第 2 版，{BEIJING}）" in page
    assert _no_utc(page)


def test_an_edit_conflict_in_english_gives_the_local_time_the_english_way(people, at_the_moment):
    article = story_in("first_review", people)
    first, second = Client(), Client()
    first.force_login(people["reviewer"])
    second.force_login(people["editor"])
    second.cookies.load({"django_language": "en"})
    _save(first, article, body="<p>初审改的。</p>")
    page = _save(second, article, body="<p>责编改的。</p>").content.decode()
    assert "saved this story (version 2, Dec. 3, 2026, 1:52 a.m.) after you opened version 1." in page


def test_history_compare_and_timeline_show_beijing_time(client, people, at_the_moment):
    article = story_in("first_review", people)
    client.force_login(people["reviewer"])
    _save(client, article, body="<p>初审改的。</p>")

    history = client.get(reverse("admin:articles_article_history", args=[article.pk])).content.decode()
    assert f"{BEIJING}:07" in history  # the versions list, to the second
    assert f"· {BEIJING}</option>" in history  # the restore menu
    compare = client.get(reverse("admin:articles_article_compare", args=[article.pk]), {"a": 1, "b": 2}).content.decode()
    assert f"{BEIJING}:07" in compare
    change = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    timeline = change.split('class="timeline-events"')[1]
    assert f">{BEIJING}</time>" in timeline
    for page in (history, compare, timeline):
        assert _no_utc(page)


def test_a_sent_back_story_and_a_scheduled_story_say_when_in_beijing_time(client, people, at_the_moment):
    article = story_in("first_review", people)
    client.force_login(people["reviewer"])
    client.post(reverse("admin:articles_article_step", args=[article.pk, "send_back"]), {"reason": "请补充信源"})
    client.force_login(people["writer"])
    panel = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert f"赵初审 退回（{BEIJING}）：" in panel.split('class="sent-back"')[1]

    scheduled = story_in("final_review", people, headline="定时稿")
    client.force_login(people["editor"])
    from editorial import workflow

    workflow.sign_off(scheduled, actor=people["editor"], publish_at=UTC_MOMENT + timedelta(hours=2))
    panel = client.get(reverse("admin:articles_article_change", args=[scheduled.pk])).content.decode()
    assert "2026年12月3日 03:52" in panel.split('id="workflow-title"')[1].split("</h2>")[0]


def test_the_share_page_says_when_the_link_expires_in_beijing_time(client, people, at_the_moment, settings):
    settings.NEWSROOM_SHARE_LINK_HOURS = 24
    article = story_in("draft", people)
    client.force_login(people["writer"])
    page = client.get(reverse("admin:articles_article_share", args=[article.pk])).content.decode()
    assert "2026年12月4日 01:52 过期（24 小时）。" in page
    assert "2026-12-03 17:52" not in page


def _mail_for(step, people, client, settings, django_capture_on_commit_callbacks, **post):
    settings.NEWSROOM_SITE_URL = "https://news.example.cn"
    article = story_in("first_review" if step != "submit" else "draft", people)
    mail.outbox.clear()
    actor = {"submit": "writer", "send_back": "reviewer", "pass_first_review": "reviewer"}[step]
    client.force_login(people[actor])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:articles_article_step", args=[article.pk, step]), post)
    assert response.status_code == 302
    assert mail.outbox, "no mail was sent"
    return article, mail.outbox[0]


def test_a_workflow_mail_has_a_text_and_an_html_part_with_local_time_and_an_absolute_link(
    people, client, settings, at_the_moment, django_capture_on_commit_callbacks
):
    article, message = _mail_for("send_back", people, client, settings, django_capture_on_commit_callbacks, reason="请补充信源")
    link = f"https://news.example.cn/admin/articles/article/{article.pk}/change/"
    assert message.subject == f"[退回] {article.headline}"
    assert BEIJING in message.body
    assert link in message.body
    assert "请补充信源" in message.body
    assert _no_utc(message.body)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert BEIJING in html
    assert "请补充信源" in html
    assert _no_utc(html)


def test_a_mail_speaks_the_newsrooms_language_whatever_the_sender_chose(
    people, client, settings, at_the_moment, django_capture_on_commit_callbacks
):
    client.cookies.load({"django_language": "en"})
    _, message = _mail_for("submit", people, client, settings, django_capture_on_commit_callbacks)
    assert BEIJING in message.body
    assert "：王记者，" in message.body


def test_the_mail_link_is_built_from_the_configured_site_address(
    people, client, settings, at_the_moment, django_capture_on_commit_callbacks
):
    settings.NEWSROOM_SITE_URL = "http://127.0.0.1:8000"
    article = story_in("draft", people)
    client.force_login(people["writer"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:articles_article_step", args=[article.pk, "submit"]))
    assert f"http://127.0.0.1:8000/admin/articles/article/{article.pk}/change/" in mail.outbox[0].body


ROOT = Path(__file__).resolve().parents[2]


def _site_url_with(env):
    environment = {k: v for k, v in os.environ.items() if k != "NEWSROOM_SITE_URL"} | env | {"SECRET_KEY": "t"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.NEWSROOM_SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment | {"DJANGO_SETTINGS_MODULE": "newsroom.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_site_address_comes_from_the_environment_with_a_laptop_default():
    assert _site_url_with({}) == "http://127.0.0.1:8000"
    assert _site_url_with({"NEWSROOM_SITE_URL": "https://news.example.cn/"}) == "https://news.example.cn"
