"""Invisible characters pasted from word processors never stop syndication.

A headline carrying U+000B (Shift+Enter in a word processor) or U+001F, a tag carrying
U+0001, bidirectional controls around a name: every door of text (the story form and its
inlines, the photo library, the people, section, outlet and tag admins, the step reasons,
the seed import) keeps them out of the database, and the feeds and sitemaps print well-formed
XML even for text stored before that rule existed.
"""

import io
import re
import xml.dom.minidom
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article, Outlet, Person, RelatedLink, Section
from articles.text import clean_text
from editorial.models import ReviewEvent
from tests import factories
from tests.editorial.conftest import change_form_data, people, story_in  # noqa: F401

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_65fa244611cb5653.txt"
# What XML 1.0 forbids, and the bidi controls that must not be printed raw.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069]")
PASTED = "\x0b\x1f\x01\u202e\u2066"


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0


def step(client, article, name, reason=""):
    return client.post(reverse("admin:articles_article_step", args=[article.pk, name]), {"reason": reason})


def published_through_the_desk(client, people, article):
    for who, name in [("writer", "submit"), ("reviewer", "pass_first_review"), ("editor", "sign_off")]:
        client.force_login(people[who])
        assert step(client, article, name).status_code == 302
    client.logout()
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    return article


def xml_pages(article):
    """Every feed and sitemap that carries `article`."""
    tag = article.tags.first()
    urls = [
        reverse("articles:feed"),
        reverse("articles:atom"),
        reverse("sitemap"),
        reverse("sitemap_sections"),
        reverse("sitemap_stories", args=[0]),
        reverse("news_sitemap"),
    ]
    if article.section_id:
        urls += [reverse("articles:section_feed", args=[article.section.slug]), reverse("articles:section_atom", args=[article.section.slug])]
    if tag is not None:
        urls += [reverse("articles:tag_feed", args=[tag.slug]), reverse("articles:tag_atom", args=[tag.slug])]
    return urls


def assert_well_formed(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        xml.dom.minidom.parseString(response.content)
        ET.fromstring(response.content)
        assert not FORBIDDEN.search(text), url


def test_the_rule_keeps_ordinary_text_and_line_breaks_where_a_field_has_lines():
    """Ordinary text comes back as the same string; breaks become spaces or newlines."""
    ordinary = "济南:泉城\t“两会”召开\n第二段"
    assert clean_text(ordinary, multiline=True) is ordinary
    assert clean_text("头条\x0b第二行\u2028第三行\r\n") == "头条 第二行 第三行 "
    assert clean_text("第一段\x0b第二段\r\n第三段\x01", multiline=True) == "第一段\n第二段\n第三段"
    assert clean_text("\u202e评论\u202c\u2066名字\u2069\x00\x85") == "评论名字 "


def test_pasted_control_characters_never_reach_the_story_or_stop_its_feeds(client, people):
    """A headline with U+000B and U+001F, a tag with U+0001, bidi controls in the kicker, NUL
    in the subtitle: the form saves the story without them, and once published every feed and
    sitemap carrying it answers well-formed XML and its page carries no forbidden code point."""
    section = Section.objects.create(name="本地", slug="local")
    client.force_login(people["writer"])
    article = Article(headline="", slug="pasted", section=section, body="<p>正文。</p>")
    data = change_form_data(
        article,
        headline=f"省委全会召开\x0b部署明年\x1f工作{PASTED}",
        kicker="\u202a引题\u202c",
        subtitle="副题\x00有空字符",
        summary="第一段\x0b第二段\u2029第三段\x07",
        author_line="\u2067记者\u2069 张帆",
        section=section.pk,
        tags="泉城\x01, 两会",
    )
    del data["base_version"]
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 302, response.content.decode()[-2000:]

    article = Article.objects.get(slug="pasted")
    assert article.headline == "省委全会召开 部署明年工作"
    assert article.kicker == "引题"
    assert article.subtitle == "副题有空字符"
    assert article.summary == "第一段\n第二段\n第三段"
    assert article.author_line == "记者 张帆"
    assert sorted(article.tags.names()) == ["两会", "泉城"]

    article = published_through_the_desk(client, people, article)
    assert_well_formed(client, xml_pages(article))
    page = client.get(article.get_absolute_url(), follow=True)
    assert page.status_code == 200
    assert not FORBIDDEN.search(page.content.decode())


def test_a_length_limit_is_measured_after_cleaning_and_is_a_form_error(client, people):
    """200 characters and pasted controls fit a 200-character headline; 201 is a form error."""
    client.force_login(people["writer"])
    data = change_form_data(Article(headline="", slug="long"), headline="长" * 200 + "\x0b\x1f\u202e")
    del data["base_version"]
    assert client.post(reverse("admin:articles_article_add"), data).status_code == 302
    assert Article.objects.get(slug="long").headline == "长" * 200

    data.update(headline="长" * 201, slug="longer")
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["headline"]
    assert not Article.objects.filter(slug="longer").exists()


def test_inlines_and_shared_admins_keep_control_characters_out(client, people):
    """Related-link titles, photo captions, people, sections, outlets, tags and step reasons."""
    chief = people["chief"]
    chief.is_superuser = True
    chief.save()
    client.force_login(chief)
    assert client.post(reverse("admin:articles_outlet_add"), {"name": "大众\x0b网\u202e", "url": ""}).status_code == 302
    assert Outlet.objects.filter(name="大众 网").exists()
    response = client.post(
        reverse("admin:articles_section_add"), {"name": "体\x1f育", "slug": "sport", "description": "说明\x0b第二行", "position": 0}
    )
    assert response.status_code == 302
    section = Section.objects.get(slug="sport")
    assert (section.name, section.description) == ("体育", "说明\n第二行")
    assert client.post(reverse("admin:articles_person_add"), {"name": "张\x00帆\u2066", "bio": "", "user": ""}).status_code == 302
    assert Person.objects.filter(name="张帆").exists()
    assert client.post(reverse("admin:taggit_tag_add"), {"name": "泉\x01城", "slug": "quancheng", **_no_tagged_items()}).status_code == 302
    assert Tag.objects.filter(name="泉城").exists()

    article = story_in("draft", people, slug="inline")
    image = factories.image(caption="")
    data = change_form_data(
        article,
        **{
            "related_links-TOTAL_FORMS": "1",
            "related_links-0-url": "https://example.com/",
            "related_links-0-title": "相关\x0b报道\x1f",
            "related_links-0-position": "0",
            "photos-TOTAL_FORMS": "1",
            "photos-0-image": image.pk,
            "photos-0-caption": "图说\x0b第二行\x01",
            "photos-0-credit": "摄影\x0b张帆",
            "photos-0-alt_text": "替代\u202e文字",
            "photos-0-position": "0",
        },
    )
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert RelatedLink.objects.get(article=article).title == "相关 报道"
    image.refresh_from_db()
    assert (image.caption, image.credit, image.alt_text) == ("图说\n第二行", "摄影 张帆", "替代文字")

    library = factories.image(caption="")
    response = client.post(
        reverse("admin:articles_image_change", args=[library.pk]),
        {"caption": "库图\x0b说明\x1f", "credit": "新华\x0b社", "alt_text": "\u202e替代"},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    library.refresh_from_db()
    assert (library.caption, library.credit, library.alt_text) == ("库图\n说明", "新华 社", "替代")

    client.force_login(people["writer"])
    step(client, article, "submit")
    client.force_login(people["reviewer"])
    assert step(client, article, "send_back", reason="请改\x0b标题\x1f").status_code == 302
    assert ReviewEvent.objects.filter(article=article).latest("pk").note == "请改\n标题"


def _no_tagged_items():
    prefix = "taggit_taggeditem_items"
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_feeds_and_sitemaps_stay_well_formed_with_control_characters_already_stored(client, people):
    """Text stored before the rule existed (written here with QuerySet.update()) is printed
    without its control characters: every feed and sitemap answers 200 and parses."""
    section = Section.objects.create(name="本地", slug="local")
    article = story_in("published", people, slug="stored", section=section)
    article.tags.add("泉城")
    Article.objects.filter(pk=article.pk).update(
        headline="头条\x0b第二行\x1f", summary="摘要\x0b\x01", author_line="记者\x1f张帆"
    )
    Section.objects.filter(pk=section.pk).update(name="本\x0b地", description="说明\x02")
    Tag.objects.filter(name="泉城").update(name="泉\x01城")
    article = Article.objects.get(pk=article.pk)
    assert_well_formed(client, xml_pages(article))
    rss = client.get(reverse("articles:feed")).content.decode()
    assert "<title>头条 第二行</title>" in rss


def test_ordinary_feeds_and_news_sitemap_print_the_same_bytes_as_before(client, people):
    """The rule changes nothing for ordinary text: the headline is printed as typed."""
    article = story_in("published", people, slug="plain", headline="济南 “两会” & <开幕>")
    news = client.get(reverse("news_sitemap")).content.decode()
    assert "<news:title>济南 “两会” &amp; &lt;开幕&gt;</news:title>" in news
    rss = client.get(reverse("articles:feed")).content.decode()
    assert "<title>济南 “两会” &amp; &lt;开幕&gt;</title>" in rss
    assert article.pk


def test_the_seed_import_keeps_control_characters_out(tmp_path):
    """A U+000B inside the seed's headline line is a space, not a new line."""
    text = SEED.read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    pasted = tmp_path / "pasted.txt"
    pasted.write_text(first[:4] + "\x0b" + first[4:] + "\x1f\n" + rest, encoding="utf-8")
    call_command("import_seed", str(pasted), stdout=io.StringIO())
    headline = first.strip(" \t\u3000\u00a0\u2002\u2003\ufeff\r")
    stored = Article.objects.get(headline=headline[:4] + " " + headline[4:])
    assert not FORBIDDEN.search(stored.headline + stored.body)
