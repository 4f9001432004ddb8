"""Every save keeps a version; versions compare and restore; two editors never silently
overwrite each other, and each sees who else has the story open."""

from django.test import Client
from django.urls import reverse

from articles.models import Article, Byline, Person
from editorial.models import Revision

from .conftest import change_form_data, story_in


def _save(client, article, **changes):
    return client.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, **changes))


def test_every_save_keeps_a_full_version(client, people):
    article = story_in("draft", people)
    Byline.objects.create(article=article, person=Person.objects.create(name="张鹏"), role="correspondent")
    article.tags.add("历城")
    client.force_login(people["writer"])
    data = change_form_data(article, headline="第二版标题", tags="历城, 论坛")
    data.update({"bylines-TOTAL_FORMS": "1", "bylines-INITIAL_FORMS": "1",
                 "bylines-0-id": article.bylines.get().pk, "bylines-0-article": article.pk,
                 "bylines-0-person": article.bylines.get().person_id, "bylines-0-role": "correspondent", "bylines-0-position": "0"})
    assert client.post(reverse("admin:articles_article_change", args=[article.pk]), data).status_code == 302
    baseline, revision = Revision.objects.filter(article=article).order_by("number")
    assert (baseline.number, baseline.data["headline"]) == (1, "稿件 draft")  # the story as it was kept too
    assert revision.number == 2 == Article.objects.get(pk=article.pk).version
    assert revision.author == people["writer"]
    assert revision.data["headline"] == "第二版标题"
    assert revision.data["tags"] == ["历城", "论坛"]
    assert revision.data["bylines"][0]["name"] == "张鹏"


def test_history_lists_versions_and_compare_shows_a_readable_diff(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    _save(client, article, body="<p>历城区举办论坛。</p><p>第二段。</p>")
    article.refresh_from_db()
    _save(client, article, body="<p>历城区隆重举办论坛。</p><p>第二段。</p><p>新增第三段。</p>")
    history = client.get(reverse("admin:articles_article_history", args=[article.pk])).content.decode()
    assert "v2" in history and "v3" in history and "王记者" in history
    page = client.get(reverse("admin:articles_article_compare", args=[article.pk]), {"a": 2, "b": 3}).content.decode()
    assert "<ins>隆重</ins>" in page
    assert 'class="diff-ins">+ 新增第三段。' in page
    assert "第二段。" in page


def test_restoring_a_version_makes_a_new_one_and_loses_nothing(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    _save(client, article, headline="第一种标题")
    article.refresh_from_db()
    _save(client, article, headline="第二种标题")
    response = client.post(reverse("admin:articles_article_restore", args=[article.pk]), {"number": 2})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.headline == "第一种标题"
    assert article.version == 4
    assert list(article.revisions.order_by("number").values_list("number", "data__headline")) == [
        (1, "稿件 draft"), (2, "第一种标题"), (3, "第二种标题"), (4, "第一种标题"),
    ]


def test_a_reporter_cannot_restore_after_submitting(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    _save(client, article, headline="交稿前")
    from editorial import workflow

    workflow.submit(article, actor=people["writer"])
    client.post(reverse("admin:articles_article_restore", args=[article.pk]), {"number": 2})
    assert Article.objects.get(pk=article.pk).version == 2


def test_the_later_of_two_concurrent_saves_is_refused_and_both_edits_survive(people):
    article = story_in("first_review", people)
    first, second = Client(), Client()
    first.force_login(people["reviewer"])
    second.force_login(people["editor"])
    # Both open version 1.
    assert first.get(reverse("admin:articles_article_change", args=[article.pk])).status_code == 200
    page = second.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "赵初审" in page.split('class="others-editing"')[1]  # told someone else has it open

    assert _save(first, article, body="<p>初审改的。</p>").status_code == 302
    response = _save(second, article, body="<p>责编改的。</p>")  # still carries base_version=1
    assert response.status_code == 200
    message = response.content.decode()
    assert "你打开第 1 版之后，赵初审 保存了本稿（第 2 版" in message
    assert "没有覆盖任何人的内容" in message
    assert reverse("admin:articles_article_compare", args=[article.pk]) in message

    article.refresh_from_db()
    assert article.body == "<p>初审改的。</p>"
    bodies = dict(article.revisions.values_list("number", "data__body"))
    assert "<p>初审改的。</p>" in bodies.values()
    assert "<p>责编改的。</p>" in bodies.values()
    assert article.revisions.get(data__body="<p>责编改的。</p>").applied is False


def test_preview_renders_the_draft_as_the_public_page_for_staff_only(client, people):
    article = story_in("draft", people, headline="未发布的预览稿")
    assert client.get(reverse("admin:articles_article_preview", args=[article.pk])).status_code == 302  # login first
    assert client.get(article.get_absolute_url()).status_code == 404
    client.force_login(people["writer"])
    response = client.get(reverse("admin:articles_article_preview", args=[article.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="headline">未发布的预览稿</h1>' in page
    assert 'class="preview-banner"' in page
    assert response["X-Robots-Tag"].startswith("noindex")
    assert Article.objects.get(pk=article.pk).status == "draft"  # nothing stored
    client.force_login(people["other_reporter"])
    assert client.get(reverse("admin:articles_article_preview", args=[article.pk])).status_code == 404


def test_preview_of_an_older_version(client, people):
    article = story_in("draft", people, headline="旧标题")
    client.force_login(people["writer"])
    _save(client, article, headline="旧标题")
    article.refresh_from_db()
    _save(client, article, headline="新标题")
    page = client.get(reverse("admin:articles_article_preview", args=[article.pk]), {"version": 2}).content.decode()
    assert '<h1 class="headline">旧标题</h1>' in page
    assert Article.objects.get(pk=article.pk).headline == "新标题"


def test_a_share_link_is_read_only_signed_and_expires(client, people, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    article = story_in("first_review", people, headline="请外审")
    client.force_login(people["reviewer"])
    page = client.get(reverse("admin:articles_article_share", args=[article.pk])).content.decode()
    url = page.split('readonly value="')[1].split('"')[0].replace("http://testserver", "")
    outsider = Client()
    response = outsider.get(url)
    assert response.status_code == 200
    assert "请外审" in response.content.decode()
    assert outsider.post(url).status_code == 405
    assert Article.objects.get(pk=article.pk).status == "first_review"
    assert outsider.get(url[:-3] + "xx/").status_code == 404
    time_machine.shift(timedelta(hours=73))
    assert outsider.get(url).status_code == 410


def test_restoring_a_published_story_is_a_correction_and_needs_a_note(client, people):
    article = story_in("published", people, headline="原标题")
    client.force_login(people["chief"])
    _save(client, article, headline="改错的标题", correction_note="标题更正")
    article.refresh_from_db()
    before_version = article.version
    client.post(reverse("admin:articles_article_restore", args=[article.pk]), {"number": before_version})
    assert Article.objects.get(pk=article.pk).version == before_version  # no note: refused
    first = article.revisions.order_by("number").first()
    client.post(reverse("admin:articles_article_restore", args=[article.pk]), {"number": first.number, "note": "恢复原标题"})
    article.refresh_from_db()
    assert first.data["headline"] == article.headline == "原标题"
    assert article.status == "published"
    assert list(article.corrections.values_list("note", flat=True)) == ["标题更正", "恢复原标题"]
