"""Tags typed or pasted into the story form: split, cleaned, limited, and always given an address.

A list is split on , ， 、 ; ； and line breaks; a name longer than the tag table allows, or
more than 30 names, is a form error naming the tags field (on PostgreSQL it used to be a
database error that lost the whole story); a name without letters or digits ("🔥", ">")
gets a stable "t-" slug, so the story, its tag page and its feeds keep working.
"""

import hashlib
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article
from articles.tags import MAX_TAGS, fallback_slug
from tests.editorial.conftest import change_form_data, people, story_in  # noqa: F401

pytestmark = pytest.mark.django_db

PASTED_LIST = "、".join([*(f"标签{n:02d}" for n in range(20)), "济南", "泉城"])  # 22 tags, 105 characters


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0


def add_story(client, people, tags, slug="tagged"):
    client.force_login(people["writer"])
    data = change_form_data(Article(headline="带标签的稿件", slug=slug, body="<p>正文。</p>"), tags=tags)
    del data["base_version"]
    return client.post(reverse("admin:articles_article_add"), data)


def test_a_list_splits_on_ascii_and_full_width_separators_and_line_breaks(client, people):
    response = add_story(client, people, "泉城, 两会，大明湖、趵突泉;济南；山东\n黄河\r\n泉城 , 「泉城」\x01")
    assert response.status_code == 302
    article = Article.objects.get(slug="tagged")
    assert sorted(article.tags.names()) == sorted(["泉城", "两会", "大明湖", "趵突泉", "济南", "山东", "黄河", "「泉城」"])


def test_a_list_with_no_separator_still_splits_on_spaces_and_quotes_keep_a_name_whole(client, people):
    assert add_story(client, people, '泉城 两会').status_code == 302
    assert sorted(Article.objects.get(slug="tagged").tags.names()) == ["两会", "泉城"]
    assert add_story(client, people, '"climate change", 泉城、两会', slug="quoted").status_code == 302
    assert sorted(Article.objects.get(slug="quoted").tags.names()) == ["climate change", "两会", "泉城"]


def test_22_tags_joined_with_the_enumeration_comma_are_22_tags(client, people):
    """105 characters joined with 、 used to be read as one tag, too long for varchar(100)."""
    assert len(PASTED_LIST) == 105
    response = add_story(client, people, PASTED_LIST)
    assert response.status_code == 302
    assert Article.objects.get(slug="tagged").tags.count() == 22


def test_a_tag_longer_than_100_characters_is_a_form_error_and_nothing_is_lost(client, people):
    response = add_story(client, people, "长" * 101 + ", 泉城")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["tags"]
    assert "标签" in errors[0] and "100" in errors[0]
    assert not Article.objects.filter(slug="tagged").exists()
    assert not Tag.objects.exists()


def test_more_than_30_tags_is_a_form_error(client, people):
    response = add_story(client, people, ",".join(f"t{n}" for n in range(MAX_TAGS + 1)))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["tags"]
    assert "标签" in errors[0] and str(MAX_TAGS) in errors[0]
    assert add_story(client, people, ",".join(f"t{n}" for n in range(MAX_TAGS))).status_code == 302


def test_a_tag_without_letters_or_digits_gets_a_stable_slug_whichever_door_makes_it(people):
    article = story_in("draft", people, slug="emoji")
    article.tags.add("🔥", ">")
    slugs = dict(Tag.objects.values_list("name", "slug"))
    assert slugs == {"🔥": fallback_slug("🔥"), ">": fallback_slug(">")}
    assert slugs["🔥"] == "t-" + hashlib.sha1("🔥".encode()).hexdigest()[:8]
    Tag.objects.all().delete()
    story_in("draft", people, slug="again").tags.add("🔥")
    assert Tag.objects.get(name="🔥").slug == slugs["🔥"]


def test_sign_off_of_a_story_with_an_emoji_tag_succeeds_and_every_page_answers(client, people):
    """Sign-off answers 302 (it committed); the story, its tag page, the feeds, the preview and
    the share link answer 200, and so does a later story with the same tag."""
    assert add_story(client, people, "🔥, >, 泉城").status_code == 302
    article = Article.objects.get(slug="tagged")
    for who, step in [("writer", "submit"), ("reviewer", "pass_first_review"), ("editor", "sign_off")]:
        client.force_login(people[who])
        response = client.post(reverse("admin:articles_article_step", args=[article.pk, step]))
        assert response.status_code == 302, step
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    client.force_login(people["editor"])
    assert client.get(reverse("admin:articles_article_preview", args=[article.pk])).status_code == 200
    share = client.get(reverse("admin:articles_article_share", args=[article.pk]), follow=True)
    assert share.status_code == 200
    client.logout()
    fire = Tag.objects.get(name="🔥")
    for url in [
        article.get_absolute_url(),
        reverse("articles:tag", args=[fire.slug]),
        reverse("articles:tag_feed", args=[fire.slug]),
        reverse("articles:tag_atom", args=[fire.slug]),
        reverse("articles:feed"),
        reverse("articles:atom"),
        reverse("news_sitemap"),
    ]:
        assert client.get(url, follow=True).status_code == 200, url
    second = story_in("published", people, slug="second")
    second.tags.add("🔥")
    assert client.get(second.get_absolute_url(), follow=True).status_code == 200


def test_the_form_shows_the_tags_so_that_saving_unchanged_keeps_them(client, people):
    article = story_in("draft", people, slug="round-trip")
    article.tags.add("甲、乙", "climate change", "泉城")
    client.force_login(people["writer"])
    form = client.get(reverse("admin:articles_article_change", args=[article.pk])).context["adminform"].form
    shown = form["tags"].value()
    shown = form.fields["tags"].widget.format_value(shown)
    data = change_form_data(Article.objects.get(pk=article.pk), tags=shown)
    assert client.post(reverse("admin:articles_article_change", args=[article.pk]), data).status_code == 302
    assert sorted(Article.objects.get(pk=article.pk).tags.names()) == sorted(["甲、乙", "climate change", "泉城"])


def test_tags_stored_with_an_empty_slug_get_one_from_the_migration(people):
    article = story_in("draft", people, slug="old")
    article.tags.add("🔥")
    Tag.objects.filter(name="🔥").update(slug="")
    migration = importlib.import_module("articles.migrations.0012_tags_without_slug_get_one")
    migration.fill_empty_slugs(apps, None)
    assert Tag.objects.get(name="🔥").slug == fallback_slug("🔥")


def test_a_nul_in_the_tag_list_is_dropped_like_in_every_other_field():
    """Pasted text may carry NUL; the tag list loses it as every other field does."""
    from editorial.forms import ArticleAdminForm

    assert ArticleAdminForm().fields["tags"].clean("泉\x00城, 历城") == ["泉城", "历城"]


def test_names_that_only_look_different_are_one_tag(client, people):
    """AI, ai and full-width ＡＩ on three stories are one tag; Chinese punctuation stays as typed."""
    assert add_story(client, people, "AI, 两会（2026）", slug="first").status_code == 302
    assert add_story(client, people, "ai、ＡＩ、２０２６", slug="second").status_code == 302
    assert add_story(client, people, "Ａｉ　两会（2026）", slug="third").status_code == 302
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["2026", "AI", "两会（2026）"]
    assert sorted(Article.objects.get(slug="second").tags.names()) == ["2026", "AI"]
    assert Tag.objects.get(name="AI").taggit_taggeditem_items.count() == 3


def test_tag_list_errors_are_in_the_editors_language(client, people):
    response = add_story(client, people, "长" * 101)
    assert response.context["adminform"].form.errors["tags"] == [
        f"标签「{'长' * 20}…」有 101 个字，每个标签最多 100 个字。多个标签请用逗号、顿号或分号隔开。"
    ]
