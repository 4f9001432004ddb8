"""The "also editing" notice counts the people who opened a story's editor themselves, not
someone a workflow step brought back to the change page."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from .conftest import story_in

NOTICE = 'class="others-editing"'


def open_change_page(client, user, article):
    client.force_login(user)
    return client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()


def take_step(client, user, article, step, **data):
    """As the browser does: post the step's button and follow the redirect back to the page."""
    client.force_login(user)
    response = client.post(reverse("admin:articles_article_step", args=[article.pk, step]), data, follow=True)
    assert response.status_code == 200
    return response


def test_a_reporter_sent_back_is_not_told_the_reviewer_is_editing(client, people):
    article = story_in("first_review", people)
    open_change_page(client, people["reviewer"], article)
    response = take_step(client, people["reviewer"], article, "send_back", reason="请补充消息来源")
    assert response.redirect_chain[-1][0].startswith(reverse("admin:articles_article_change", args=[article.pk]))

    page = open_change_page(client, people["writer"], article)
    assert NOTICE not in page and "赵初审" not in page.split('class="sent-back"')[0]

    # Opening the editor on purpose is counted again.
    open_change_page(client, people["reviewer"], article)
    page = open_change_page(client, people["writer"], article)
    assert NOTICE in page and "赵初审" in page.split(NOTICE)[1]


def test_signing_off_for_later_does_not_count_the_editor_as_editing(client, people):
    article = story_in("final_review", people)
    later = timezone.localtime(timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    take_step(client, people["editor"], article, "sign_off", publish_at=later)
    page = open_change_page(client, people["chief"], article)
    assert NOTICE not in page
