"""The admin as each role lives in it: what a reporter sees, the dashboard's queues,
the change page's buttons, reason box, sent-back reason and timeline."""

from django.urls import reverse

from articles.models import Article
from editorial import workflow

from .conftest import story_in


def test_a_reporter_sees_only_their_own_stories(client, people):
    mine = story_in("draft", people, headline="我的稿子")
    theirs = Article.objects.create(headline="别人的稿子", created_by=people["other_reporter"])
    client.force_login(people["writer"])
    listing = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "我的稿子" in listing
    assert "别人的稿子" not in listing
    response = client.get(reverse("admin:articles_article_change", args=[theirs.pk]))
    assert response.status_code == 302  # "does not exist" for them
    assert client.get(reverse("admin:articles_article_change", args=[mine.pk])).status_code == 200


def test_after_submitting_the_story_is_read_only_for_its_reporter(client, people):
    article = story_in("first_review", people)
    client.force_login(people["writer"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert 'name="_save"' not in page
    assert "对你只读" in page
    assert 'name="headline"' not in page


def test_the_change_page_offers_exactly_the_steps_this_user_may_take(client, people):
    article = story_in("first_review", people)
    client.force_login(people["reviewer"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert 'class="step step-pass_first_review"' in page
    assert 'class="step step-send_back"' in page
    assert 'name="reason"' in page
    assert "step-sign_off" not in page and "step-submit" not in page

    workflow.pass_first_review(article, actor=people["reviewer"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "step-" not in page.split('class="workflow-steps"')[-1].split("</section>")[0] or 'class="workflow-steps"' not in page

    client.force_login(people["editor"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert 'class="step step-sign_off"' in page and 'name="publish_at"' in page
    assert 'class="step step-send_back"' in page
    assert "step-pass_first_review" not in page


def test_the_writer_sees_why_the_story_was_sent_back(client, people):
    article = story_in("first_review", people)
    workflow.send_back(article, actor=people["reviewer"], reason="请补充消息来源")
    client.force_login(people["writer"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert 'class="sent-back"' in page
    assert "请补充消息来源" in page
    assert "赵初审" in page
    assert 'name="_save"' in page  # editable again


def test_the_timeline_lists_every_step(client, people):
    article = story_in("published", people)
    client.force_login(people["chief"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    timeline = page.split('class="timeline module"')[1]
    for name in ["王记者", "赵初审", "钱责编"]:
        assert name in timeline
    assert timeline.count('class="event event-') == 3


def test_the_dashboard_counts_each_queue(client, people):
    story_in("draft", people, headline="新写的稿")
    sent_back = story_in("first_review", people, headline="被退回")
    workflow.send_back(sent_back, actor=people["reviewer"], reason="重写")
    story_in("first_review", people)
    story_in("final_review", people)
    story_in("scheduled", people)
    story_in("published", people)
    client.force_login(people["writer"])
    page = client.get(reverse("admin:index")).content.decode()
    counts = {}
    for key in ["my_drafts", "sent_back", "first_review", "final_review", "scheduled", "recent"]:
        chunk = page.split(f"queue queue-{key}")[1]
        counts[key] = int(chunk.split('<span class="count">')[1].split("<")[0])
    assert counts == {"my_drafts": 1, "sent_back": 1, "first_review": 1, "final_review": 1, "scheduled": 1, "recent": 1}
    listing = client.get(reverse("admin:articles_article_changelist") + "?queue=sent_back").content.decode()
    assert "被退回" in listing and "新写的稿" not in listing


def test_pickers_for_related_news_find_published_stories(client, people):
    story_in("published", people, headline="已发布的旧闻")
    Article.objects.create(headline="别人的草稿", created_by=people["other_reporter"])
    client.force_login(people["writer"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "", "app_label": "articles", "model_name": "recommendation", "field_name": "target"},
    )
    texts = [row["text"] for row in response.json()["results"]]
    assert "已发布的旧闻" in texts
    assert "别人的草稿" not in texts


def test_the_body_uses_the_rich_text_editor_served_from_the_project(client, people):
    client.force_login(people["writer"])
    page = client.get(reverse("admin:articles_article_add")).content.decode()
    assert "data-django-prose-editor-configurable" in page
    assert "/static/django_prose_editor/editor.js" in page
    assert "http://" not in page.split("<body")[0].replace("http://www.w3.org", "")
