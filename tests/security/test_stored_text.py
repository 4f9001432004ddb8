"""Text stored before the text rule existed follows it too, and tag names stay text in feeds.

Migrations articles 0013 and editorial 0004 apply articles.text's rule once to every typed
column: control and bidirectional control characters go, line breaks become "\\n" where a
field has lines and a space where it has one. Rows with ordinary text are not written at all.
"""

import xml.etree.ElementTree as ET
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag

from articles.models import Article, Correction, Image, Outlet, Person, RelatedLink, Section
from editorial.models import ReviewEvent, Revision
from tests import factories

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
PASTED = "\x0b\x1f\x01\u202e\u2066"
# PostgreSQL refuses NUL in text, so no row there can hold one; SQLite stores it.
NUL = "" if connection.vendor == "postgresql" else "\x00"


def clean_articles_text():
    """Run migration articles 0013 on the tables as they stand."""
    import_module("articles.migrations.0013_stored_text_follows_the_text_rule").clean_stored_text(apps, None)


def clean_editorial_text():
    """Run migration editorial 0004 on the tables as they stand."""
    import_module("editorial.migrations.0004_stored_notes_follow_the_text_rule").clean_stored_notes(apps, None)


def stored(model, pk, **values):
    """Write `values` the way old code could: straight into the row, no form, no rule."""
    model.objects.filter(pk=pk).update(**values)


def test_stored_story_text_loses_control_characters_and_keeps_its_lines():
    story = factories.published_story(headline="原标题", body="<p>正文。</p>")
    stored(
        Article,
        story.pk,
        kicker="\u202a引题\u202c",
        headline=f"省委全会召开\x0b部署明年\x1f工作{PASTED}",
        subtitle=f"副题{NUL}有空字符",
        slug="pasted\x01",
        summary="第一段\x0b第二段\u2029第三段\x07",
        body="<p>第一段</p>\r\n<p>\u202e第二段</p>",
        author_line="\u2067记者\u2069\t张帆",
        dateline_place="济南\x1f",
    )
    clean_articles_text()

    story.refresh_from_db()
    assert story.kicker == "引题"
    assert story.headline == "省委全会召开 部署明年工作 "
    assert story.subtitle == "副题有空字符"
    assert story.slug == "pasted"
    assert story.summary == "第一段\n第二段\n第三段"
    assert story.body == "<p>第一段</p>\n<p>第二段</p>"
    assert story.author_line == "记者 张帆"
    assert story.dateline_place == "济南"


def test_ordinary_rows_are_not_written_and_a_cleaned_story_keeps_its_time_of_change():
    """updated_at is auto_now, yet neither a cleaned story nor an ordinary one gets a new one."""
    ordinary = factories.published_story(
        headline="济南:泉城“两会”召开", summary="第一段\n第二段", body="<p>\t第一段</p>\n<p>第二段</p>"
    )
    pasted = factories.published_story(headline="原标题")
    stored(Article, pasted.pk, headline="标题\u202e")
    before = {row["id"]: row for row in Article.objects.values()}

    with CaptureQueriesContext(connection) as queries:
        clean_articles_text()

    assert [query["sql"].split()[:2] for query in queries if query["sql"].startswith("UPDATE")] == [
        ["UPDATE", '"articles_article"']
    ], "one UPDATE, of the one story that changed"

    after = {row["id"]: row for row in Article.objects.values()}
    assert after[ordinary.pk] == before[ordinary.pk]
    assert after[pasted.pk] == {**before[pasted.pk], "headline": "标题"}


def test_photos_people_sections_outlets_corrections_links_and_tags_are_cleaned():
    section = factories.section(name="本地", slug="local")
    stored(Section, section.pk, name="体\x1f育", description="说明\x0b第二行\u202e")
    outlet = factories.outlet("大众网")
    stored(Outlet, outlet.pk, name="大众\x0b网\u202e")
    person = factories.person("张帆")
    stored(Person, person.pk, name=f"张{NUL}帆\u2066", bio="简介\r\n第二行")
    image = factories.image()
    stored(Image, image.pk, caption="图说\x0b第二行\x01", credit="摄影\x0b张帆", alt_text="替代\u202e文字",
           original_filename="照片\x07.jpg")
    story = factories.published_story()
    correction = Correction.objects.create(article=story, note="更正", created_by_name="编辑")
    stored(Correction, correction.pk, note="原稿\x0b有误\u2067", created_by_name="值班\x1f编辑")
    link = RelatedLink.objects.create(article=story, url="https://example.com/", title="相关")
    stored(RelatedLink, link.pk, title="相关\x0b报道\x1f")
    story.tags.add("泉城")
    tag = story.tags.get()
    stored(Tag, tag.pk, name="泉\x01城\u202e")

    clean_articles_text()

    section.refresh_from_db()
    assert (section.name, section.description, section.slug) == ("体育", "说明\n第二行", "local")
    assert Outlet.objects.get(pk=outlet.pk).name == "大众 网"
    person.refresh_from_db()
    assert (person.name, person.bio) == ("张帆", "简介\n第二行")
    image.refresh_from_db()
    assert (image.caption, image.credit, image.alt_text, image.original_filename) == (
        "图说\n第二行", "摄影 张帆", "替代文字", "照片.jpg")
    correction.refresh_from_db()
    assert (correction.note, correction.created_by_name) == ("原稿\n有误", "值班编辑")
    assert RelatedLink.objects.get(pk=link.pk).title == "相关 报道"
    assert Tag.objects.get(pk=tag.pk).name == "泉城"
    assert Tag.objects.get(pk=tag.pk).slug == tag.slug


def test_a_unique_name_already_held_by_another_row_is_numbered_not_lost():
    """Two tags that differed only by a bidi control stay two, told apart where editors see them."""
    story = factories.published_story()
    story.tags.add("泉城", "泉城A", "泉城B")
    first, second, third = (Tag.objects.get(name=name) for name in ("泉城", "泉城A", "泉城B"))
    stored(Tag, second.pk, name="泉城\u202e")
    stored(Tag, third.pk, name="\u2066泉城")
    one, two = factories.section(name="体育"), factories.section(name="体育2")
    stored(Section, two.pk, name="体育\x1f")

    clean_articles_text()

    assert Tag.objects.get(pk=first.pk).name == "泉城"
    assert {Tag.objects.get(pk=second.pk).name, Tag.objects.get(pk=third.pk).name} == {"泉城 (2)", "泉城 (3)"}
    assert Tag.objects.get(pk=second.pk).slug == second.slug
    assert (Section.objects.get(pk=one.pk).name, Section.objects.get(pk=two.pk).name) == ("体育", "体育 (2)")


def test_review_reasons_and_version_notes_are_cleaned():
    story = factories.publish(factories.draft())
    event = ReviewEvent.objects.filter(article=story).first()
    stored(ReviewEvent, event.pk, note="请改\x0b标题\x1f\u202e", actor_name="张\u2066帆")
    factories.edit(story, headline="新标题")
    revision = Revision.objects.filter(article=story).first()
    stored(Revision, revision.pk, note="改\x0b标题", author_name="\u202e编辑")

    clean_editorial_text()

    event = ReviewEvent.objects.get(pk=event.pk)
    assert (event.note, event.actor_name) == ("请改\n标题", "张帆")
    revision = Revision.objects.get(pk=revision.pk)
    assert (revision.note, revision.author_name) == ("改 标题", "编辑")


def test_a_tag_name_with_markup_is_text_in_the_atom_subtitle(client, settings):
    """<b>, & and quotes in a tag name come out of the Atom feed as the very same characters."""
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    name = '<b>泉城</b> & "x"'
    story = factories.published_story()
    story.tags.add(name)
    factories.announced(story)

    response = client.get(f"/feeds/tags/{story.tags.get().slug}/atom.xml")

    assert response.status_code == 200
    feed = ET.fromstring(response.content)
    assert feed.findtext(f"{ATOM}subtitle") == f"标签:{name}"
    assert feed.findtext(f"{ATOM}title").startswith(name)
