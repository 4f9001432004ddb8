"""Sanitised input, scheduled visibility, reviewers on the public page, notices by mail,
and the role groups."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Image
from articles.renditions import placeholder_png
from editorial import workflow
from editorial.roles import GROUP_NAMES

from .conftest import change_form_data, story_in

HOSTILE = (
    '<p onclick="steal()">正文<script>alert(1)</script>'
    '<a href="javascript:alert(2)">链接</a>'
    '<span style="position:fixed;top:0">盖住</span></p>'
    '<img src="x.png" onerror="alert(3)" style="width:9999px">'
    "<style>body{display:none}</style>"
    '<figure><img src="data:text/html;base64,PHNjcmlwdD4=" alt="图"><figcaption onmouseover="alert(4)">'
    '图中说明<script>alert(5)</script></figcaption></figure>'
)


def _assert_clean(html):
    lowered = html.lower()
    for bad in ["<script", "onclick", "onerror", "javascript:", "style=", "<style", "alert("]:
        assert bad not in lowered, bad


def test_the_body_is_sanitised_on_the_server(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    client.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, body=HOSTILE))
    article.refresh_from_db()
    _assert_clean(article.body)
    assert "正文" in article.body and "链接" in article.body
    assert "<figcaption>图中说明</figcaption>" in article.body
    assert "data:" not in article.body


def test_photo_captions_credits_and_alt_texts_are_plain_text(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    data = change_form_data(article)
    data.update({
        "photos-TOTAL_FORMS": "1",
        "photos-0-upload": SimpleUploadedFile("p.png", placeholder_png(), content_type="image/png"),
        "photos-0-caption": '<b onmouseover="x()">图说</b><script>alert(1)</script>',
        "photos-0-credit": '<a href="javascript:alert(1)">摄影</a>',
        "photos-0-alt_text": '<img src=x onerror=alert(1)>现场',
        "photos-0-position": "1",
    })
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    image = article.photos.get().image
    assert (image.caption, image.credit, image.alt_text) == ("图说", "摄影", "现场")
    assert image.uploaded_by == people["writer"]


def test_the_photo_library_cleans_captions_too(client, people):
    image = Image.objects.create(caption="原图说", file=SimpleUploadedFile("a.png", placeholder_png()))
    client.force_login(people["editor"])
    client.post(reverse("admin:articles_image_change", args=[image.pk]), {
        "caption": '图说<script>alert(1)</script><span style="color:red">红</span>', "credit": "", "alt_text": "",
    })
    image.refresh_from_db()
    assert image.caption == "图说红"


def test_a_scheduled_story_appears_exactly_at_its_time(client, people, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    article = story_in("final_review", people, headline="定时发布的新闻")
    at = timezone.now() + timedelta(hours=1)
    workflow.sign_off(article, actor=people["editor"], publish_at=at)
    time_machine.move_to(at - timedelta(seconds=1), tick=False)
    assert client.get(article.get_absolute_url()).status_code == 404
    assert "定时发布的新闻" not in client.get(reverse("articles:home")).content.decode()
    time_machine.move_to(at, tick=False)
    assert client.get(article.get_absolute_url()).status_code == 200
    assert "定时发布的新闻" in client.get(reverse("articles:home")).content.decode()
    assert Article.objects.get(pk=article.pk).status == "scheduled"  # no worker needed


def test_the_public_page_prints_the_two_reviewers(client, people):
    article = story_in("published", people)
    page = client.get(article.get_absolute_url()).content.decode()
    assert "初审编辑:赵初审" in page
    assert "责任编辑:钱责编" in page


def _sent(django_capture_on_commit_callbacks, fn):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        fn()
    return {address for message in mail.outbox for address in message.to}


def test_whoever_can_act_hears_when_a_story_arrives_in_their_queue(people, django_capture_on_commit_callbacks):
    article = story_in("draft", people)
    to = _sent(django_capture_on_commit_callbacks, lambda: workflow.submit(article, actor=people["writer"]))
    assert to == {"reviewer@example.com", "editor@example.com", "chief@example.com"}
    to = _sent(django_capture_on_commit_callbacks, lambda: workflow.pass_first_review(article, actor=people["reviewer"]))
    assert to == {"editor@example.com", "chief@example.com"}
    assert mail.outbox[0].subject.startswith("[待终审]")


def test_a_send_back_at_final_review_reaches_the_writer_and_the_first_review_editor(people, django_capture_on_commit_callbacks):
    article = story_in("final_review", people)
    to = _sent(django_capture_on_commit_callbacks, lambda: workflow.send_back(article, actor=people["editor"], reason="标题不准确"))
    assert to == {"writer@example.com", "reviewer@example.com"}
    assert "标题不准确" in mail.outbox[0].body


def test_a_send_back_at_first_review_reaches_the_writer(people, django_capture_on_commit_callbacks):
    article = story_in("first_review", people)
    to = _sent(django_capture_on_commit_callbacks, lambda: workflow.send_back(article, actor=people["reviewer"], reason="补充来源"))
    assert to == {"writer@example.com"}
    assert mail.outbox[0].subject == f"[退回] {article.headline}"


def test_the_writer_hears_when_published_or_withdrawn(people, django_capture_on_commit_callbacks):
    article = story_in("final_review", people)
    assert _sent(django_capture_on_commit_callbacks, lambda: workflow.sign_off(article, actor=people["editor"])) == {"writer@example.com"}
    assert _sent(django_capture_on_commit_callbacks, lambda: workflow.withdraw(article, actor=people["chief"], reason="撤")) == {"writer@example.com"}


def test_a_refused_step_sends_nothing(people, django_capture_on_commit_callbacks):
    article = story_in("draft", people)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):
        workflow.sign_off(article, actor=people["editor"])
    assert mail.outbox == []


@pytest.mark.django_db
def test_role_groups_exist_after_migrate_and_syncing_again_never_duplicates():
    names = set(GROUP_NAMES.values())
    assert names <= set(Group.objects.values_list("name", flat=True))
    call_command("sync_roles", stdout=open("/dev/null", "w"))
    call_command("sync_roles", stdout=open("/dev/null", "w"))
    assert Group.objects.filter(name__in=names).count() == 4
    reporter = Group.objects.get(name="记者/通讯员")
    codes = set(reporter.permissions.values_list("codename", flat=True))
    assert "submit_article" in codes and "sign_off_article" not in codes
    editor = Group.objects.get(name="责任编辑")
    assert {"sign_off_article", "withdraw_article"} <= set(editor.permissions.values_list("codename", flat=True))


@pytest.mark.django_db
def test_the_role_migration_can_run_again():
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    state_apps = MigrationExecutor(connection).loader.project_state(("editorial", "0002_role_groups")).apps
    migration = import_module("editorial.migrations.0002_role_groups")
    migration.sync_role_groups(state_apps, None)
    migration.sync_role_groups(state_apps, None)
    assert Group.objects.filter(name__in=GROUP_NAMES.values()).count() == 4


@pytest.mark.django_db
def test_the_demo_accounts_hold_one_role_each():
    call_command("setup_demo", stdout=open("/dev/null", "w"))
    from django.contrib.auth import get_user_model

    users = {u.username: set(u.groups.values_list("name", flat=True)) for u in get_user_model().objects.all()}
    assert users == {
        "reporter": {"记者/通讯员"},
        "reviewer": {"初审编辑"},
        "editor": {"责任编辑"},
        "chief": {"总编辑"},
    }


def test_a_reporter_cannot_recaption_a_photo_printed_on_a_live_story(client, people):
    from articles.models import ArticleImage

    live = story_in("published", people)
    image = Image.objects.create(caption="已发布的图说", file=SimpleUploadedFile("b.png", placeholder_png()))
    ArticleImage.objects.create(article=live, image=image)
    client.force_login(people["writer"])
    client.post(reverse("admin:articles_image_change", args=[image.pk]), {"caption": "偷偷改", "credit": "", "alt_text": ""})
    image.refresh_from_db()
    assert image.caption == "已发布的图说"


def test_reusing_a_live_photo_on_a_draft_cannot_recaption_it(client, people):
    from articles.models import ArticleImage

    live = story_in("published", people)
    image = Image.objects.create(caption="已发布的图说", file=SimpleUploadedFile("c.png", placeholder_png()))
    ArticleImage.objects.create(article=live, image=image)
    draft = story_in("draft", people)
    client.force_login(people["writer"])
    data = change_form_data(draft)
    data.update({"photos-TOTAL_FORMS": "1", "photos-0-image": image.pk, "photos-0-caption": "偷偷改",
                 "photos-0-credit": "", "photos-0-alt_text": "", "photos-0-position": "0"})
    response = client.post(reverse("admin:articles_article_change", args=[draft.pk]), data)
    assert response.status_code == 200
    image.refresh_from_db()
    assert image.caption == "已发布的图说"
    assert not draft.photos.exists()
    data["photos-0-caption"] = "已发布的图说"  # reusing it unchanged is fine
    assert client.post(reverse("admin:articles_article_change", args=[draft.pk]), data).status_code == 302
    assert draft.photos.get().image == image
