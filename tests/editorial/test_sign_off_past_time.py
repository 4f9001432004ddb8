"""Signing off with a 发布时间 already past publishes at once: the desk is told so and asked to
confirm first. Without the confirmation nothing changes; with it the story is published now."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from editorial import workflow
from editorial.models import ReviewEvent

from .conftest import state_of, story_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sign_off(client, article, **data):
    return client.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]), data)


@pytest.fixture
def at_0152(time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 1, 52, 30, tzinfo=SHANGHAI), tick=False)


def test_a_past_time_asks_first_then_publishes_now_once_confirmed(client, people, at_0152):
    article = story_in("final_review", people)
    before = state_of(article)
    client.force_login(people["editor"])
    response = sign_off(client, article, publish_at="2026-12-03T01:30", reason="签发意见")
    assert response.status_code == 200
    page = response.content.decode()
    assert "2026年12月3日 01:30" in page  # the time given, in Beijing time
    assert "已经过去" in page and "立即发布" in page
    assert 'name="publish_now" value="1"' in page
    assert 'name="publish_at" value="2026-12-03T01:30"' in page and 'value="签发意见"' in page
    assert state_of(article) == before

    # Confirmed, it is published now: not at the past time given.
    response = sign_off(client, article, publish_at="2026-12-03T01:30", reason="签发意见", publish_now="1")
    assert response.status_code == 302
    article = Article.objects.get(pk=article.pk)
    assert article.status == Article.Status.PUBLISHED
    assert article.published_at == timezone.now()
    event = article.review_events.order_by("-pk").first()
    assert (event.action, event.note) == (ReviewEvent.Action.SIGNED_OFF, "签发意见")
    assert client.get(article.get_absolute_url()).status_code == 200


def test_the_workflow_refuses_a_past_time_without_confirmation(people, at_0152):
    article = story_in("final_review", people)
    before = state_of(article)
    with pytest.raises(workflow.PublishTimePassed):
        workflow.sign_off(article, actor=people["editor"], publish_at=timezone.now() - timedelta(minutes=5))
    assert state_of(article) == before

    # A time still ahead schedules the story, with no question asked.
    workflow.sign_off(article, actor=people["editor"], publish_at=timezone.now() + timedelta(minutes=5))
    assert Article.objects.get(pk=article.pk).status == Article.Status.SCHEDULED
