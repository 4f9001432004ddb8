"""Deleting an account or a thing stories use never takes stories, photos or names with it."""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse

from articles.models import Article, ArticleImage, Byline, Correction, Image, Outlet, Person, Section
from tests import factories

# Django's own admin history belongs to the account; everything of the newsroom's must not.
ACCOUNT_OWNED = {"admin.LogEntry"}


def test_every_link_to_an_account_lets_go_when_the_account_is_deleted():
    """Every foreign key to the user model, in every app, is SET_NULL (so content stays)."""
    user_model = get_user_model()
    checked = []
    for model in apps.get_models():
        if model._meta.label in ACCOUNT_OWNED:
            continue
        for field in model._meta.get_fields():
            if field.many_to_one or field.one_to_one:
                if field.concrete and field.related_model is user_model and model is not user_model:
                    assert field.remote_field.on_delete is models.SET_NULL, f"{model._meta.label}.{field.name}"
                    checked.append(f"{model._meta.label}.{field.name}")
    assert "articles.Person.user" in checked and "articles.Article.created_by" in checked


@pytest.fixture
def chief(client, django_user_model):
    account = django_user_model.objects.create_superuser("chief", "chief@example.cn", "not-used")
    client.force_login(account)
    return client


@pytest.mark.django_db
def test_deleting_a_reporters_account_keeps_their_stories_photos_and_name(chief):
    reporter = factories.user("zhangfan", first_name="帆", last_name="张")
    person = Person.objects.create(name="张帆", user=reporter)
    photo = factories.image(caption="启动仪式", uploaded_by=reporter)
    story = factories.published_story(headline="“历城书记论坛”精彩开讲", created_by=reporter, responsible_editor=person)
    Byline.objects.create(article=story, person=person, role=Byline.Role.REPORTER)
    ArticleImage.objects.create(article=story, image=photo)
    Correction.objects.create(article=story, note="更正时间", created_by=reporter, created_by_name="张帆")

    response = chief.post(reverse("admin:auth_user_delete", args=[reporter.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="zhangfan").exists()
    story.refresh_from_db()
    person.refresh_from_db()
    photo.refresh_from_db()
    assert person.name == "张帆" and person.user is None
    assert story.created_by is None and story.responsible_editor == person
    assert [b.person.name for b in story.bylines.all()] == ["张帆"]
    assert story.photo_list == [photo] and photo.uploaded_by is None
    assert story.corrections.get().created_by_name == "张帆"
    page = chief.get(story.get_absolute_url()).content.decode()
    assert "张帆" in page


def story_using_everything():
    section = factories.section(name="要闻", slug="news")
    outlet = factories.outlet("大众网")
    editor = factories.person("尹玉涛")
    photo = factories.image(caption="启动仪式")
    story = factories.published_story(
        headline="“历城书记论坛”精彩开讲", section=section, outlet=outlet, first_review_editor=editor
    )
    Byline.objects.create(article=story, person=factories.person("张鹏"), role=Byline.Role.CORRESPONDENT)
    ArticleImage.objects.create(article=story, image=photo)
    return story


USED = {
    "section": (Section, lambda story: story.section),
    "outlet": (Outlet, lambda story: story.outlet),
    "person_on_byline": (Person, lambda story: story.bylines.get().person),
    "first_review_editor": (Person, lambda story: story.first_review_editor),
    "photo": (Image, lambda story: story.photo_list[0]),
}


@pytest.mark.django_db
class TestThingsStoriesUseAreKept:
    @pytest.mark.parametrize("case", sorted(USED))
    def test_delete_page_says_which_stories_use_it_and_deletes_nothing(self, chief, case):
        model, pick = USED[case]
        story = story_using_everything()
        thing = pick(story)
        url = reverse(f"admin:articles_{model._meta.model_name}_delete", args=[thing.pk])

        page = chief.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "无法删除" in html
        assert story.headline in html
        assert reverse("admin:articles_article_change", args=[story.pk]) in html
        assert 'name="post"' not in html, "no button to confirm the delete"

        assert chief.post(url, {"post": "yes"}).status_code == 200
        assert model.objects.filter(pk=thing.pk).exists()
        assert Article.objects.filter(pk=story.pk).exists()

    def test_bulk_delete_refuses_the_whole_selection_and_says_where_each_is_used(self, chief):
        story = story_using_everything()
        unused = factories.section(name="体育", slug="sports")
        changelist = reverse("admin:articles_section_changelist")
        selection = {"action": "delete_selected", "_selected_action": [story.section_id, unused.pk]}

        page = chief.post(changelist, selection)
        assert page.status_code == 200
        html = page.content.decode()
        assert "无法删除" in html and "要闻" in html
        assert reverse("admin:articles_article_change", args=[story.pk]) in html

        chief.post(changelist, {**selection, "post": "yes"})
        assert Section.objects.filter(pk__in=[story.section_id, unused.pk]).count() == 2

    def test_unused_section_is_deleted_as_usual(self, chief):
        unused = factories.section(name="体育", slug="sports")
        response = chief.post(reverse("admin:articles_section_delete", args=[unused.pk]), {"post": "yes"})
        assert response.status_code == 302
        assert not Section.objects.filter(pk=unused.pk).exists()

    def test_story_attached_after_the_check_gives_a_message_not_a_server_error(self, chief, monkeypatch):
        """Between the confirmation page and the delete, a story started using the section."""
        story = story_using_everything()
        section_admin = admin.site._registry[Section]
        monkeypatch.setattr(section_admin, "get_deleted_objects", lambda objs, request: ([], {}, set(), []))
        url = reverse("admin:articles_section_delete", args=[story.section_id])

        response = chief.post(url, {"post": "yes"}, follow=True)

        assert response.status_code == 200
        messages = [str(message) for message in response.context["messages"]]
        assert any("未删除任何内容" in message and story.headline in message for message in messages)
        assert Section.objects.filter(pk=story.section_id).exists()


def test_settings_keep_the_protect_rules_this_relies_on():
    """Stories protect what they print; the admin pages above rely on it."""
    assert Article._meta.get_field("section").remote_field.on_delete is models.PROTECT
    assert Article._meta.get_field("outlet").remote_field.on_delete is models.PROTECT
    assert Byline._meta.get_field("person").remote_field.on_delete is models.PROTECT
    assert ArticleImage._meta.get_field("image").remote_field.on_delete is models.PROTECT
    assert "newsroom.security.ProtectedDeleteMiddleware" in settings.MIDDLEWARE
