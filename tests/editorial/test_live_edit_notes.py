"""An edit of a published story always carries a note, and the editor chooses which: a public
更正 printed under the story, or an internal note kept in its history only. What readers never
read as text (the slug, tags, section) needs no public note. The chief editor reads every
internal note in one list; no one else may."""

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import Article, Correction, Section
from editorial.models import ReviewEvent

from .conftest import PEOPLE, change_form_data, story_in


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def public_page(client, article):
    article = Article.objects.get(pk=article.pk)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_live_story_offers_both_notes_and_a_draft_neither(client, people):
    live, draft = story_in("published", people), story_in("draft", people)
    client.force_login(people["editor"])
    page = client.get(change_url(live)).content.decode()
    assert 'name="correction_note"' in page and 'name="internal_note"' in page
    assert page.index('name="correction_note"') < page.index('name="internal_note"') < page.index('name="headline"')
    page = client.get(change_url(draft)).content.decode()
    assert 'name="correction_note"' not in page and 'name="internal_note"' not in page


def test_a_new_slug_tags_and_section_need_no_public_correction(client, people):
    article = story_in("published", people, slug="old-words")
    section = Section.objects.create(name="时政", slug="politics")
    client.force_login(people["editor"])
    data = change_form_data(article, slug="new-words", tags="历城", section=section.pk, internal_note="网址短名随标题调整。")
    assert client.post(change_url(article), data).status_code == 302

    article = Article.objects.get(pk=article.pk)
    assert (article.slug, article.section_id, article.status) == ("new-words", section.pk, "published")
    assert not Correction.objects.filter(article=article).exists()
    client.logout()
    page = public_page(client, article)
    assert "网址短名随标题调整" not in page and 'class="corrections"' not in page


def test_an_internal_note_stays_in_the_history_and_off_the_page(client, people):
    article = story_in("published", people, headline="原来的标题")
    client.force_login(people["editor"])
    data = change_form_data(article, headline="改过的标题", internal_note="标题里的错字,改正即可")
    assert client.post(change_url(article), data).status_code == 302

    [event] = ReviewEvent.objects.filter(article=article, action=ReviewEvent.Action.REVISED)
    assert (event.note, event.actor, event.actor_name) == ("标题里的错字,改正即可", people["editor"], "钱责编")
    assert event.version == Article.objects.get(pk=article.pk).version
    timeline = client.get(change_url(article)).content.decode().split('class="timeline module"')[1]
    assert "标题里的错字,改正即可" in timeline
    versions = client.get(reverse("admin:articles_article_history", args=[article.pk])).content.decode()
    assert "标题里的错字,改正即可" in versions

    client.logout()
    page = public_page(client, article)
    assert "改过的标题" in page
    assert "标题里的错字" not in page and 'class="corrections"' not in page


def test_both_notes_print_the_correction_and_keep_the_internal_one(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    data = change_form_data(article, body="<p>改正后的数字。</p>", correction_note="原文数字有误。", internal_note="记者核实后确认")
    assert client.post(change_url(article), data).status_code == 302

    assert list(article.corrections.values_list("note", flat=True)) == ["原文数字有误。"]
    assert ReviewEvent.objects.get(article=article, action=ReviewEvent.Action.REVISED).note == "记者核实后确认"
    client.logout()
    page = public_page(client, article)
    assert "原文数字有误。" in page and "记者核实后确认" not in page


def test_a_live_edit_without_either_note_is_refused_and_says_which_notes_will_do(client, people):
    article = story_in("published", people, headline="原来的标题")
    client.force_login(people["editor"])
    response = client.post(change_url(article), change_form_data(article, headline="没有说明"))
    assert response.status_code == 200
    assert "内部修改说明" in str(response.context["adminform"].form.errors["correction_note"])
    article = Article.objects.get(pk=article.pk)
    assert article.headline == "原来的标题" and article.version == 1
    assert not ReviewEvent.objects.filter(article=article, action__in=["corrected", "revised"]).exists()


# --- the chief's list of internal notes ------------------------------------------------------

CHIEF_ONLY = {"chief"}


@pytest.mark.parametrize("person", PEOPLE)
def test_only_the_chief_editor_reads_the_list_of_internal_notes(client, people, person):
    article = story_in("published", people, headline="泉城夜景")
    editor = Client()
    editor.force_login(people["editor"])
    editor.post(change_url(article), change_form_data(article, slug="quancheng", internal_note="只改网址短名"))

    client.force_login(people[person])
    response = client.get(reverse("admin:articles_article_internal_notes"))
    listing = client.get(reverse("admin:articles_article_changelist")).content.decode()
    if person in CHIEF_ONLY:
        page = response.content.decode()
        assert response.status_code == 200
        assert "只改网址短名" in page and "泉城夜景" in page and "钱责编" in page
        assert reverse("admin:articles_article_internal_notes") in listing
    else:
        assert response.status_code == 403
        assert reverse("admin:articles_article_internal_notes") not in listing


def test_the_list_of_internal_notes_is_closed_to_anyone_not_logged_in(client, people):
    response = client.get(reverse("admin:articles_article_internal_notes"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_of_internal_notes_leaves_out_public_corrections(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    client.post(change_url(article), change_form_data(article, headline="新标题", correction_note="标题有误"))
    client.force_login(people["chief"])
    page = client.get(reverse("admin:articles_article_internal_notes")).content.decode()
    assert "标题有误" not in page
    assert "还没有内部说明" in page
