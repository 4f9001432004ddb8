"""Deleting a story moves it to the trash: it leaves every page and list but keeps its
versions and history; only the chief editor restores it or empties the trash. Single and
bulk deletes take the same step, with the same checks and the same history row."""

import pytest
from django.urls import reverse

from articles.models import Article
from editorial.models import ReviewEvent
from tests.editorial.conftest import change_form_data, people, state_of, story_in  # noqa: F401

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:articles_article_changelist")


def delete_url(article):
    return reverse("admin:articles_article_delete", args=[article.pk])


def action(client, name, *articles, **extra):
    query, follow = extra.pop("query", ""), extra.pop("follow", False)
    data = {"action": name, "_selected_action": [a.pk for a in articles], "index": 0, **extra}
    return client.post(CHANGELIST + query, data, follow=follow)


def test_a_writer_deleting_their_draft_moves_it_to_the_trash_with_its_versions(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    client.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, headline="第二稿"))
    assert client.get(delete_url(article)).status_code == 200

    response = client.post(delete_url(article), {"post": "yes"})

    assert response.status_code == 302
    article = Article.objects.get(pk=article.pk)
    assert article.deleted_at is not None and article.deleted_by == people["writer"]
    assert article.status == "draft" and article.revisions.count() >= 1
    event = article.review_events.get(action=ReviewEvent.Action.TRASHED)
    assert event.actor == people["writer"]
    assert "回收站" in client.get(CHANGELIST).content.decode()  # the message says where it went
    assert "第二稿" not in client.get(CHANGELIST).content.decode()
    assert client.get(reverse("admin:articles_article_change", args=[article.pk])).status_code == 302  # gone: to the index


@pytest.mark.parametrize(
    "person, state",
    [("other_reporter", "draft"), ("writer", "first_review"), ("reviewer", "first_review"), ("editor", "published"), ("chief", "scheduled")],
)
def test_who_may_not_trash_a_story_changes_nothing(client, people, person, state):
    """Another reporter's draft, a submitted story for its writer or a first-review editor, and
    a live story (it is withdrawn first) cannot be deleted, by URL or by bulk action."""
    article = story_in(state, people)
    before = state_of(article)
    client.force_login(people[person])

    single = client.post(delete_url(article), {"post": "yes"})
    action(client, "trash_selected", article)

    assert single.status_code in {403, 302}
    assert state_of(article) == before
    assert Article.objects.get(pk=article.pk).deleted_at is None


def test_bulk_delete_takes_the_same_step_row_by_row_and_reports_refusals(client, people):
    draft, withdrawn, live = story_in("draft", people), story_in("withdrawn", people), story_in("published", people)
    client.force_login(people["editor"])

    response = action(client, "trash_selected", draft, withdrawn, live, follow=True)

    page = response.content.decode()
    assert Article.objects.trashed().count() == 2
    assert not Article.objects.get(pk=live.pk).deleted_at
    assert live.headline in page  # the refusal names the story
    for article in (draft, withdrawn):
        assert Article.objects.get(pk=article.pk).review_events.filter(action="trashed", actor=people["editor"]).exists()
    assert "delete_selected" not in client.get(CHANGELIST).content.decode()


def test_a_trashed_story_leaves_the_public_site_at_once(client, people, django_capture_on_commit_callbacks):
    article = story_in("withdrawn", people)
    assert client.get(article.get_absolute_url()).status_code == 410  # cached 撤稿 notice
    client.force_login(people["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(delete_url(article), {"post": "yes"})
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_only_the_chief_sees_the_trash_and_restores_from_it(client, people):
    article = story_in("final_review", people, headline="误删的稿件")
    client.force_login(people["editor"])
    client.post(delete_url(article), {"post": "yes"}, follow=True)

    assert "误删的稿件" not in client.get(CHANGELIST + "?trash=1").content.decode()
    action(client, "restore_from_trash_selected", article, query="?trash=1")
    assert Article.objects.get(pk=article.pk).deleted_at is not None
    for name in ("change", "history", "preview"):
        url = reverse(f"admin:articles_article_{name}", args=[article.pk])
        assert client.get(url).status_code in {302, 404}

    client.force_login(people["chief"])
    assert "误删的稿件" in client.get(CHANGELIST + "?trash=1").content.decode()
    assert "误删的稿件" not in client.get(CHANGELIST).content.decode()
    action(client, "restore_from_trash_selected", article, query="?trash=1")

    article = Article.objects.get(pk=article.pk)
    assert article.deleted_at is None and article.status == "final_review"
    assert article.review_events.filter(action="restored", actor=people["chief"]).exists()
    client.force_login(people["editor"])
    assert "误删的稿件" in client.get(CHANGELIST).content.decode()


def test_only_the_chief_empties_the_trash(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    client.post(delete_url(article), {"post": "yes"})
    client.force_login(people["editor"])
    action(client, "empty_trash_selected", article, query="?trash=1")
    assert Article.objects.filter(pk=article.pk).exists()

    client.force_login(people["chief"])
    action(client, "empty_trash_selected", article, query="?trash=1")
    assert not Article.objects.filter(pk=article.pk).exists()


def test_emptying_the_trash_never_takes_a_story_that_is_not_in_it(client, people):
    article = story_in("draft", people)
    client.force_login(people["chief"])
    action(client, "empty_trash_selected", article)
    assert Article.objects.filter(pk=article.pk).exists()
