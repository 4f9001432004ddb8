"""Every save of a story goes through one door and is announced once, with where the story
stood before and where it stands after; every workflow step and every change of a thing
many stories print is announced too; refused changes announce nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from articles.events import SharedChanged, StoryChanged
from articles.models import Article, ArticleImage, Byline, Image, Person, SearchEntry, Section
from articles.renditions import placeholder_png
from editorial import workflow

from .conftest import change_form_data, story_in

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_65fa244611cb5653.txt"

heard = []


def record_event(event):
    """The subscriber these tests list: it notes each event with the story's headline as the
    transaction holds it at that moment (announcing happens after the change is written)."""
    headline = None
    if isinstance(event, StoryChanged):
        headline = Article.objects.filter(pk=event.story_id).values_list("headline", flat=True).first()
    heard.append((event, headline))


@pytest.fixture
def announced(db):
    """The events announced during the test, in order (subscribers: record_event)."""
    heard.clear()
    with override_settings(NEWSROOM_SUBSCRIBERS=["tests.editorial.test_editing.record_event"]):
        yield heard
    heard.clear()


def story_events(announced):
    return [event for event, _headline in announced if isinstance(event, StoryChanged)]


def shared_events(announced):
    return [event for event, _headline in announced if isinstance(event, SharedChanged)]


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def photo(caption):
    return Image.objects.create(caption=caption, file=SimpleUploadedFile("p.png", placeholder_png()))


# --- the admin's change form ---------------------------------------------------------------


def test_saving_a_story_in_the_admin_announces_one_change_from_where_it_stood(client, people, announced):
    old_section = Section.objects.create(name="本地", slug="local")
    new_section = Section.objects.create(name="时政", slug="politics")
    article = story_in("draft", people, section=old_section, slug="old-slug")
    article.tags.add("历城")
    reporter = Person.objects.create(name="张鹏")
    announced.clear()
    client.force_login(people["writer"])
    data = change_form_data(article, headline="新标题", slug="new-slug", section=new_section.pk, tags="论坛")
    data.update({"bylines-TOTAL_FORMS": "1", "bylines-0-person": reporter.pk, "bylines-0-role": "reporter",
                 "bylines-0-position": "0"})
    assert client.post(change_url(article), data).status_code == 302

    [(event, headline_then)] = announced
    assert event.what == "edit" and event.content_changed and event.story_id == article.pk
    assert (event.before.slug, event.before.section_id, event.before.person_ids) == ("old-slug", old_section.pk, ())
    assert (event.after.slug, event.after.section_id, event.after.person_ids) == ("new-slug", new_section.pk, (reporter.pk,))
    assert event.before.tag_ids != event.after.tag_ids == tuple(article.tags.values_list("pk", flat=True))
    assert headline_then == "新标题"  # announced once the change was written
    assert Article.objects.get(pk=article.pk).version == 2


def test_adding_a_story_announces_it_with_nowhere_before(client, people, announced):
    client.force_login(people["writer"])
    data = change_form_data(Article(headline="新稿", body="<p>正文。</p>"), base_version="")
    assert client.post(reverse("admin:articles_article_add"), data).status_code == 302
    [event] = story_events(announced)
    story = Article.objects.get(headline="新稿")
    assert (event.what, event.story_id, event.before, event.after.status) == ("create", story.pk, None, "draft")
    assert story.version == 1 and story.revisions.get().number == 1


def test_a_correction_is_one_announcement_with_the_story_staying_live(client, people, announced):
    article = story_in("published", people, headline="原标题")
    announced.clear()
    client.force_login(people["editor"])
    response = client.post(change_url(article), change_form_data(article, headline="更正后", correction_note="标题有误"))
    assert response.status_code == 302
    [event] = story_events(announced)
    assert (event.what, event.content_changed) == ("correct", True)
    assert event.before.status == event.after.status == "published"
    assert list(article.corrections.values_list("note", flat=True)) == ["标题有误"]


def test_a_stale_version_is_refused_and_announces_nothing(client, people, announced):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    assert client.post(change_url(article), change_form_data(article, headline="第一次")).status_code == 302
    announced.clear()
    stale = change_form_data(article, headline="第二次")  # still carries version 1
    assert client.post(change_url(article), stale).status_code == 200
    assert announced == []
    assert Article.objects.get(pk=article.pk).headline == "第一次"


def test_a_correction_without_a_note_is_refused_and_announces_nothing(client, people, announced):
    article = story_in("published", people)
    announced.clear()
    client.force_login(people["editor"])
    assert client.post(change_url(article), change_form_data(article, headline="没说明")).status_code == 200
    assert announced == []


def test_a_shared_photo_recaptioned_through_one_story_names_every_story_printing_it(client, people, announced):
    shared = photo("旧图说")
    a = story_in("draft", people, headline="甲")
    b = story_in("draft", people, headline="乙")
    c = story_in("draft", people, headline="丙", thumbnail=shared)
    placement = ArticleImage.objects.create(article=a, image=shared, position=0)
    ArticleImage.objects.create(article=b, image=shared, position=0)
    announced.clear()
    client.force_login(people["writer"])
    data = change_form_data(a)
    data.update({"photos-TOTAL_FORMS": "1", "photos-INITIAL_FORMS": "1", "photos-0-id": placement.pk,
                 "photos-0-article": a.pk, "photos-0-image": shared.pk, "photos-0-caption": "新图说",
                 "photos-0-credit": "", "photos-0-alt_text": "", "photos-0-position": "0"})
    assert client.post(change_url(a), data).status_code == 302

    [image_event] = shared_events(announced)
    assert (image_event.kind, image_event.pk, image_event.story_ids) == ("image", shared.pk, (a.pk, b.pk, c.pk))
    [story_event] = story_events(announced)
    assert story_event.story_id == a.pk


@override_settings(NEWSROOM_SUBSCRIBERS=["articles.search.story_changed"])
def test_the_search_index_follows_a_shared_caption_to_the_other_stories(client, people):
    shared = photo("旧图说")
    a, b = story_in("draft", people, headline="甲"), story_in("draft", people, headline="乙")
    placement = ArticleImage.objects.create(article=a, image=shared, position=0)
    ArticleImage.objects.create(article=b, image=shared, position=0)
    client.force_login(people["writer"])
    data = change_form_data(a)
    data.update({"photos-TOTAL_FORMS": "1", "photos-INITIAL_FORMS": "1", "photos-0-id": placement.pk,
                 "photos-0-article": a.pk, "photos-0-image": shared.pk, "photos-0-caption": "泉城夜景",
                 "photos-0-credit": "", "photos-0-alt_text": "", "photos-0-position": "0"})
    assert client.post(change_url(a), data).status_code == 302
    assert " 泉城 " in SearchEntry.objects.get(article=b).summary_terms


def test_the_preview_saves_nothing_and_announces_nothing(client, people, announced):
    article = story_in("draft", people, headline="预览稿")
    client.force_login(people["writer"])
    client.post(change_url(article), change_form_data(article, headline="第二版"))
    announced.clear()
    assert client.get(reverse("admin:articles_article_preview", args=[article.pk]), {"version": 1}).status_code == 200
    assert announced == []


# --- restoring a version and importing ------------------------------------------------------


def test_restoring_a_version_announces_one_change_back_to_its_content(client, people, announced):
    section = Section.objects.create(name="本地", slug="local")
    article = story_in("draft", people, headline="第一种", slug="first")
    client.force_login(people["writer"])
    client.post(change_url(article), change_form_data(article, slug="second", section=section.pk))
    announced.clear()
    response = client.post(reverse("admin:articles_article_restore", args=[article.pk]), {"number": 1})
    assert response.status_code == 302
    [(event, headline_then)] = announced
    assert (event.what, event.content_changed) == ("restore", True)
    assert (event.before.slug, event.before.section_id) == ("second", section.pk)
    assert (event.after.slug, event.after.section_id) == ("first", None)
    assert headline_then == "第一种"


def test_restoring_a_published_story_without_a_note_announces_nothing(client, people, announced):
    article = story_in("published", people)
    announced.clear()
    client.force_login(people["editor"])
    client.post(reverse("admin:articles_article_restore", args=[article.pk]), {"number": article.version})
    assert announced == []


def test_importing_a_seed_page_announces_every_new_story_once(announced):
    call_command("import_seed", str(SEED), stdout=StringIO())
    events = story_events(announced)
    assert sorted(event.story_id for event in events) == sorted(Article.objects.values_list("pk", flat=True))
    assert {(event.what, event.before, event.content_changed) for event in events} == {("import", None, True)}
    story = Article.objects.get(headline="“历城书记论坛”精彩开讲")
    [main] = [event for event in events if event.story_id == story.pk]
    assert main.after.status == "published"
    assert main.after.person_ids == tuple(sorted(set(Byline.objects.filter(article=story).values_list("person_id", flat=True))))


def test_importing_the_same_page_again_announces_nothing(announced):
    call_command("import_seed", str(SEED), stdout=StringIO())
    announced.clear()
    call_command("import_seed", str(SEED), stdout=StringIO())
    assert announced == []


# --- workflow steps --------------------------------------------------------------------------


def test_a_step_announces_where_the_story_went(client, people, announced):
    article = story_in("final_review", people)
    announced.clear()
    client.force_login(people["editor"])
    client.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]))
    [event] = story_events(announced)
    assert (event.what, event.before.status, event.after.status, event.content_changed) == (
        "sign_off", "final_review", "published", False,
    )
    assert event.before.published_at is None and event.after.published_at is not None


def test_a_refused_step_announces_nothing(client, people, announced):
    article = story_in("final_review", people)
    announced.clear()
    client.force_login(people["writer"])
    client.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]))
    assert announced == []
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.submit(article, actor=people["writer"])
    assert announced == []


def test_passing_first_review_announces_the_step_and_not_the_reviewer_made_a_person(people, announced):
    article = story_in("first_review", people)
    announced.clear()
    workflow.pass_first_review(article, actor=people["reviewer"])
    assert [type(event) for event, _headline in announced] == [StoryChanged]


def test_the_trash_announces_going_in_coming_out_and_going_for_good(people, announced):
    article = story_in("withdrawn", people)
    announced.clear()
    workflow.trash(article, actor=people["editor"])
    workflow.restore_from_trash(article, actor=people["chief"])
    workflow.trash(article, actor=people["editor"])
    workflow.empty_trash(article, actor=people["chief"])
    events = story_events(announced)
    assert [(e.what, e.before.trashed, e.after and e.after.trashed) for e in events] == [
        ("trash", False, True),
        ("restore_from_trash", True, False),
        ("trash", False, True),
        ("empty_trash", True, None),
    ]


def test_publish_due_announces_each_story_it_moves(people, announced, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    article = story_in("scheduled", people)
    announced.clear()
    time_machine.move_to(timezone.now() + timedelta(hours=3))
    workflow.publish_due()
    [event] = story_events(announced)
    assert (event.story_id, event.what, event.before.status, event.after.status) == (
        article.pk, "publish_due", "scheduled", "published",
    )


# --- things many stories print ---------------------------------------------------------------


def test_renaming_a_section_announces_both_addresses_site_wide(admin_client, announced):
    section = Section.objects.create(name="本地", slug="local")
    response = admin_client.post(
        reverse("admin:articles_section_change", args=[section.pk]),
        {"name": "本地新闻", "slug": "local-news", "description": "", "position": 0},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = shared_events(announced)
    assert (event.kind, event.pk, event.story_ids, event.slugs, event.site_wide) == (
        "section", section.pk, (), ("local", "local-news"), True,
    )


def test_renaming_a_person_names_their_bylines_and_the_stories_they_signed_off(admin_client, people, announced):
    article = story_in("published", people)
    credited = story_in("draft", people, headline="署名稿")
    editor = article.responsible_editor
    Byline.objects.create(article=credited, person=editor, role="reporter")
    announced.clear()
    response = admin_client.post(reverse("admin:articles_person_change", args=[editor.pk]), {"name": "钱编辑", "user": editor.user_id})
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = shared_events(announced)
    assert (event.kind, event.pk, event.story_ids) == ("person", editor.pk, tuple(sorted([article.pk, credited.pk])))


def test_editing_a_photo_in_the_library_names_the_stories_printing_it(admin_client, people, announced):
    image = photo("图说")
    article = story_in("draft", people)
    ArticleImage.objects.create(article=article, image=image, position=0)
    announced.clear()
    response = admin_client.post(
        reverse("admin:articles_image_change", args=[image.pk]), {"caption": "新图说", "credit": "", "alt_text": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = shared_events(announced)
    assert (event.kind, event.story_ids) == ("image", (article.pk,))


def test_renaming_a_tag_announces_its_stories_and_both_addresses(admin_client, people, announced):
    from taggit.models import Tag

    article = story_in("draft", people)
    article.tags.add("历城")
    tag = Tag.objects.get(name="历城")
    old_slug = tag.slug
    announced.clear()
    response = admin_client.post(
        reverse("admin:taggit_tag_change", args=[tag.pk]),
        {"name": "历城区", "slug": "licheng", "taggit_taggeditem_items-TOTAL_FORMS": "0",
         "taggit_taggeditem_items-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = shared_events(announced)
    assert (event.kind, event.story_ids, event.slugs) == ("tag", (article.pk,), (old_slug, "licheng"))


def test_merging_tags_announces_every_merged_tag_with_its_stories(admin_client, people, announced):
    from taggit.models import Tag

    first, second = story_in("draft", people, headline="甲"), story_in("draft", people, headline="乙")
    first.tags.add("历城")
    second.tags.add("历城区")
    ids = list(Tag.objects.filter(name__in=["历城", "历城区"]).values_list("pk", flat=True))
    session = admin_client.session
    session["selected_tag_ids"] = ",".join(map(str, ids))
    session.save()
    announced.clear()
    response = admin_client.post(reverse("admin:taggit_tag_merge_tags"), {"new_tag_name": "历城片区"})
    assert response.status_code == 302
    assert set(second.tags.names()) == set(first.tags.names()) == {"历城片区"}
    merged_into = Tag.objects.get(name="历城片区")
    events = {event.pk: event for event in shared_events(announced)}
    assert set(events) == {*ids, merged_into.pk}
    assert {event.story_ids for event in events.values()} == {(first.pk,), (second.pk,), (first.pk, second.pk)}
