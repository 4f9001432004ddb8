"""The same matrix through the admin: the buttons' URLs, crafted POSTs, bulk actions and the
change form. A refused request leaves the story exactly as it was."""

import pytest
from django.urls import reverse

from articles.models import Article
from editorial.models import ReviewEvent

from .conftest import PEOPLE, STATES, TARGET, allowed, change_form_data, state_of, story_in

HTTP_STEPS = ["submit", "pass_first_review", "send_back", "sign_off", "withdraw"]


def _client(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("step", HTTP_STEPS)
@pytest.mark.parametrize("person", PEOPLE)
def test_step_urls_obey_the_matrix(client, people, person, step, state):
    """POSTing a step's URL (as a button does, or crafted by hand) moves the story only where allowed."""
    article = story_in(state, people)
    before = state_of(article)
    _client(client, people[person])
    url = reverse("admin:articles_article_step", args=[article.pk, step])
    response = client.post(url, {"reason": "理由"})
    if allowed(person, step, state):
        assert response.status_code == 302
        assert Article.objects.get(pk=article.pk).status == TARGET[step]
        assert ReviewEvent.objects.filter(article=article).count() == len(before["events"]) + 1
    else:
        assert response.status_code in {302, 403, 404}
        assert state_of(article) == before


def test_a_step_url_refuses_get(client, people):
    article = story_in("draft", people)
    _client(client, people["writer"])
    response = client.get(reverse("admin:articles_article_step", args=[article.pk, "submit"]))
    assert response.status_code == 405
    assert Article.objects.get(pk=article.pk).status == "draft"


def test_send_back_without_a_reason_is_refused_with_a_message(client, people):
    article = story_in("first_review", people)
    before = state_of(article)
    _client(client, people["reviewer"])
    response = client.post(reverse("admin:articles_article_step", args=[article.pk, "send_back"]), {"reason": " "}, follow=True)
    assert "请填写理由。" in response.content.decode()
    assert state_of(article) == before


def test_sign_off_with_a_future_time_schedules_the_story(client, people):
    article = story_in("final_review", people)
    _client(client, people["editor"])
    client.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]), {"publish_at": "2099-01-01T08:00"})
    article.refresh_from_db()
    assert article.status == Article.Status.SCHEDULED
    assert article.published_at.year == 2099


BULK = {"submit_selected": "submit", "pass_selected": "pass_first_review", "sign_off_selected": "sign_off"}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(BULK))
@pytest.mark.parametrize("person", PEOPLE)
def test_bulk_actions_obey_the_matrix(client, people, person, action, state):
    article = story_in(state, people)
    before = state_of(article)
    _client(client, people[person])
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [article.pk], "index": "0"},
    )
    assert response.status_code in {200, 302, 403}
    step = BULK[action]
    if allowed(person, step, state):
        assert Article.objects.get(pk=article.pk).status == TARGET[step]
    else:
        assert state_of(article) == before


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("person", PEOPLE)
def test_the_change_form_saves_only_for_who_may_edit(client, people, person, state):
    """Editing: the writer while draft; 初审 at first review; 责编 and 总编 later; a published
    story only as a correction; a withdrawn one never. Crafted POSTs change nothing."""
    may_edit = {
        "draft": {"writer", "reviewer", "editor", "chief"},
        "first_review": {"reviewer", "editor", "chief"},
        "final_review": {"editor", "chief"},
        "scheduled": {"editor", "chief"},
        "published": {"editor", "chief"},
        "withdrawn": set(),
    }[state]
    article = story_in(state, people)
    before = state_of(article)
    _client(client, people[person])
    data = change_form_data(article, headline="改过的标题", correction_note="更正:标题" if state == "published" else "")
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    if person in may_edit:
        assert response.status_code == 302, response.content.decode()[:3000]
        after = Article.objects.get(pk=article.pk)
        assert after.headline == "改过的标题"
        assert after.status == state
        assert after.version == before["version"] + 1
        if state == "published":
            assert after.corrections.get().note == "更正:标题"
    else:
        assert response.status_code in {302, 403}
        assert state_of(article) == before


def test_a_correction_without_a_note_is_refused(client, people):
    article = story_in("published", people)
    before = state_of(article)
    _client(client, people["editor"])
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, headline="悄悄改"))
    assert response.status_code == 200
    assert "保存已发布的稿件须附说明：公开更正或内部修改说明。" in response.content.decode()
    assert state_of(article) == before


def test_the_correction_is_printed_with_its_date_on_the_public_page(client, people):
    article = story_in("published", people)
    client.force_login(people["chief"])
    client.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, body="<p>改正后的正文。</p>", correction_note="原文数字有误。"))
    client.logout()
    page = client.get(article.get_absolute_url()).content.decode()
    assert "改正后的正文" in page
    assert "原文数字有误。" in page
    assert 'class="corrections"' in page


def test_status_and_reviewers_cannot_be_posted_into_the_form(client, people):
    article = story_in("draft", people)
    _client(client, people["writer"])
    data = change_form_data(article, status="published", published_at="2020-01-01 00:00", first_review_editor="1", version="99")
    client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    article.refresh_from_db()
    assert article.status == "draft"
    assert article.published_at is None
    assert article.first_review_editor is None
    assert article.version == 2
