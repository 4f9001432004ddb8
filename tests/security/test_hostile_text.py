"""Hostile text is stored as given (or sanitised) and inert wherever it is printed.

Every payload of tests/security/payloads.py goes into every text a person can type:
headline, kicker, subtitle, summary, body, author line, dateline place, captions, credits,
alt texts, tags, byline names and biographies, outlet and section names, related-link
titles, review notes, send-back and withdrawal reasons, correction notes and search
queries. The stories travel through the admin's forms and step buttons to publication,
as the newsroom's roles would take them; then every public and desk surface, the feeds,
the sitemaps, the JSON-LD block and the mail are checked for anything that could run.
A second test sends forged requests that no form would send.
"""

import io
import xml.etree.ElementTree as ET

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from taggit.models import Tag

from articles.models import Article, Image, Outlet, Person, Section
from editorial.views import share_token
from tests.editorial.conftest import people, story_in  # noqa: F401
from tests.security.payloads import PAYLOADS, chunks, json_ld_blocks, problems, text_of

pytestmark = pytest.mark.django_db

ALL = "\n".join(PAYLOADS)
BODY = "".join(f"<p>{p}</p>" for p in PAYLOADS)
HEADLINES = chunks(190, prefix="稿")


def small_photo():
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), "#446688").save(out, "PNG")
    return SimpleUploadedFile("photo.png", out.getvalue(), "image/png")


def inline_management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def story_form(i, section, outlets, persons, tags, base_version=None):
    """What the add (or change) form posts for the i-th hostile story."""
    headline = HEADLINES[i]
    data = {
        "kicker": headline,
        "headline": headline,
        "subtitle": headline,
        "slug": f"hostile-{i}",
        "section": section.pk,
        "tags": ", ".join(tags),
        "outlet": outlets[i % len(outlets)].pk,
        "author_line": headline,
        "dateline_outlet": outlets[(i + 1) % len(outlets)].pk,
        "dateline_place": chunks(50)[i % len(chunks(50))],
        "dateline_date": "2026-05-15",
        "summary": ALL,
        "body": BODY,
        "thumbnail": "",
        "correction_note": "",
        "_save": "Save",
        **inline_management("bylines", total=len(persons)),
        **inline_management("photos"),
        **inline_management("related_links", total=1),
        **inline_management("recommendations"),
        "related_links-0-url": "https://example.com/related?q=%3Cscript%3E",
        "related_links-0-title": chunks(200)[i % len(chunks(200))],
        "related_links-0-position": "0",
    }
    for n, person in enumerate(persons):
        data.update({f"bylines-{n}-person": person.pk, f"bylines-{n}-role": "reporter", f"bylines-{n}-position": n})
    if base_version is None:
        data.update(
            {
                **inline_management("photos", total=1),
                "photos-0-upload": small_photo(),
                "photos-0-caption": ALL,
                "photos-0-credit": chunks(200)[i % len(chunks(200))],
                "photos-0-alt_text": chunks(300)[i % len(chunks(300))],
                "photos-0-position": "0",
            }
        )
    else:
        data["base_version"] = base_version
        data.update(inline_management("related_links"))
    return data


def step(client, article, name, reason=""):
    return client.post(reverse("admin:articles_article_step", args=[article.pk, name]), {"reason": reason})


def ok(client, url, expected=(200,)):
    response = client.get(url)
    assert response.status_code in expected, f"{url}: {response.status_code}"
    return response.content.decode()


def build_newsroom(client, people):
    """Outlets, a section, people and one story per headline-sized group of payloads, all
    typed into the admin and taken to publication by the roles the workflow asks for."""
    editor, writer, reviewer = people["editor"], people["writer"], people["reviewer"]
    client.force_login(editor)
    for name in chunks(100):
        assert client.post(reverse("admin:articles_outlet_add"), {"name": name, "url": ""}).status_code == 302
    client.post(
        reverse("admin:articles_section_add"),
        {"name": chunks(50)[0], "slug": "hostile", "description": ALL, "position": 0},
    )
    section = Section.objects.get(slug="hostile")
    outlets = list(Outlet.objects.order_by("pk"))

    client.force_login(writer)
    for name in chunks(50):
        assert client.post(reverse("admin:articles_person_add"), {"name": name, "bio": ALL, "user": ""}).status_code == 302
    all_people = list(Person.objects.order_by("pk"))
    tag_names = [t.replace(",", " ").replace('"', "'") for t in chunks(100)]

    stories = []
    for i in range(len(HEADLINES)):
        persons = all_people[i :: len(HEADLINES)] or all_people[:1]
        tags = tag_names[i :: len(HEADLINES)] or tag_names[:1]
        response = client.post(reverse("admin:articles_article_add"), story_form(i, section, outlets, persons, tags))
        assert response.status_code == 302, response.content.decode()[-3000:]
        article = Article.objects.get(slug=f"hostile-{i}")
        stories.append((article, section, outlets, persons, tags))

    notes = chunks(200)
    for i, (article, *_rest) in enumerate(stories):
        note = notes[i % len(notes)]
        client.force_login(writer)
        step(client, article, "submit")
        client.force_login(reviewer)
        step(client, article, "send_back", reason=note)
        client.force_login(writer)
        step(client, article, "submit")
        client.force_login(reviewer)
        step(client, article, "pass_first_review", reason=note)
        client.force_login(editor)
        step(client, article, "sign_off", reason=note)
    for i, (article, section, outlets, persons, tags) in enumerate(stories):
        article.refresh_from_db()
        assert article.status == Article.Status.PUBLISHED, article.status
        data = story_form(i, section, outlets, persons, tags, base_version=article.version)
        data.update({"bylines-INITIAL_FORMS": "0", "bylines-TOTAL_FORMS": "0", "correction_note": notes[i % len(notes)]})
        data["body"] = BODY + "<p>更正后</p>"
        response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
        assert response.status_code == 302, response.content.decode()[-3000:]
    withdrawn = stories[-1][0]
    step(client, withdrawn, "withdraw", reason=ALL)
    client.logout()
    return [Article.objects.get(pk=s[0].pk) for s in stories], section


@pytest.fixture
def hostile(client, people, django_capture_on_commit_callbacks, settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        stories, section = build_newsroom(client, people)
    return {"stories": stories, "live": stories[:-1], "withdrawn": stories[-1], "section": section}


class Surfaces:
    def __init__(self, client):
        self.client = client
        self.found = {}

    def check(self, url, html, label=None):
        bad = problems(html)
        if bad:
            self.found[label or url] = bad[:5]
        return html

    def get(self, url, expected=(200,), label=None):
        return self.check(url, ok(self.client, url, expected), label)

    def feed(self, url):
        xml = ok(self.client, url)
        root = ET.fromstring(xml)  # parses: nothing broke out of its element
        for element in root.iter():
            name = element.tag.rsplit("}", 1)[-1]
            # Feed readers render these as HTML; titles are declared (and shown) as text.
            if name in {"description", "summary", "content", "encoded"} and element.text:
                self.check(f"{url} <{name}>", element.text)
        return root


@pytest.mark.slow
def test_payloads_typed_into_the_admin_stay_inert_everywhere(client, people, hostile):
    """Public pages, lists, search, feeds, sitemaps, JSON-LD, the desk's lists, change pages,
    versions, comparisons, previews, share links and mail: no payload can run anywhere."""
    stories, live = hostile["stories"], hostile["live"]
    assert len(PAYLOADS) >= 30 and len(stories) >= 3
    surfaces = Surfaces(client)

    # Readers.
    home = surfaces.get("/")
    for article in live:
        page = surfaces.get(article.get_absolute_url())
        visible = text_of(page)
        assert article.headline in visible, "the headline is printed as the text that was typed"
        assert "<script>nr_xss(1)</script>" in visible, "the summary is printed as text"
        (ld,) = json_ld_blocks(page)
        assert ld["headline"] == article.headline
    assert any(article.headline[:30] in text_of(home) for article in live)
    surfaces.get(hostile["withdrawn"].get_absolute_url(), expected=(410,))
    surfaces.get(hostile["section"].get_absolute_url())
    for tag in Tag.objects.filter(pk__in=[t.pk for article in live for t in article.tags.all()]):
        surfaces.get(reverse("articles:tag", args=[tag.slug]))
        surfaces.feed(reverse("articles:tag_feed", args=[tag.slug]))
    for person in Person.objects.filter(bylines__article__in=live).distinct():
        surfaces.get(person.get_absolute_url())
    for payload in PAYLOADS:
        surfaces.get(reverse("articles:search") + "?" + _query(q=payload), label=f"search {payload!r}")
    surfaces.get(reverse("articles:search") + "?" + _query(q="nr_xss script"))
    for url in ["/feeds/rss.xml", "/feeds/atom.xml", "/feeds/sections/hostile/rss.xml", "/feeds/sections/hostile/atom.xml"]:
        root = surfaces.feed(url)
        titles = [e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "title"]
        assert live[-1].headline.replace("\r\n", "\n") in titles  # XML reads CR LF as LF
    for url in ["/sitemap.xml", "/sitemap-news.xml", "/sitemap-sections.xml", "/sitemap-stories-0.xml", "/robots.txt"]:
        body = ok(client, url)
        if url.endswith(".xml"):
            ET.fromstring(body)

    # The desk.
    client.force_login(people["chief"])
    desk = [
        reverse("admin:index"),
        reverse("admin:articles_article_changelist"),
        reverse("admin:articles_article_changelist") + "?" + _query(q="<script>"),
        reverse("admin:articles_image_changelist"),
        reverse("admin:articles_person_changelist"),
        reverse("admin:articles_outlet_changelist"),
        reverse("admin:articles_section_changelist"),
        reverse("admin:taggit_tag_changelist"),
    ]
    for url in desk:
        surfaces.get(url)
    for image in Image.objects.all():
        surfaces.get(reverse("admin:articles_image_change", args=[image.pk]))
    for article in stories:
        pk = article.pk
        surfaces.get(reverse("admin:articles_article_change", args=[pk]))
        surfaces.get(reverse("admin:articles_article_history", args=[pk]))
        surfaces.get(reverse("admin:articles_article_compare", args=[pk]))
        surfaces.get(reverse("admin:articles_article_compare", args=[pk]) + "?a=1&b=2")
        surfaces.get(reverse("admin:articles_article_preview", args=[pk]))
        surfaces.get(reverse("admin:articles_article_preview", args=[pk]) + "?version=1")
        surfaces.get(reverse("admin:articles_article_share", args=[pk]))
    client.logout()
    for article in live:
        surfaces.get(reverse("editorial:shared", args=[share_token(article)]))

    assert surfaces.found == {}, _report(surfaces.found)

    # Mail: one line of subject, no header smuggled in; a plain-text body, and an HTML
    # alternative in which every payload is text too.
    assert mail.outbox
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert message.content_subtype == "plain"
        for html, mimetype in message.alternatives:
            assert mimetype == "text/html"
            surfaces.check(f"mail to {message.to[0]}: {message.subject}", html)
        headers = message.message()
        assert headers.get_all("Bcc") is None
    assert surfaces.found == {}, _report(surfaces.found)


def test_forged_requests_with_payloads_are_refused_or_stored_inert(client, people, django_capture_on_commit_callbacks):
    """Fields no form offers, values no widget produces, hostile step reasons, version numbers,
    times and tokens: each answer, and the pages after it, stay inert; nothing is published."""
    article = story_in("published", people, summary=ALL)
    surfaces = Surfaces(client)
    client.force_login(people["writer"])
    forged = {
        "headline": ALL[:200],
        "body": "<script>nr_xss()</script>" + BODY,
        "summary": ALL,
        "status": "published",
        "published_at": "2020-01-01 00:00",
        "created_by": people["chief"].pk,
        "deleted_at": "2020-01-01 00:00",
        "base_version": "<script>nr_xss()</script>",
        "dateline_date": "<img src=x onerror=nr_xss()>",
        "slug": "<svg onload=nr_xss()>",
        "_save": "Save",
        **inline_management("bylines"),
        **inline_management("photos"),
        **inline_management("related_links", total=1),
        **inline_management("recommendations"),
        "related_links-0-url": "javascript:nr_xss()//https://example.com",
        "related_links-0-title": "<script>nr_xss()</script>",
        "related_links-0-position": "0",
    }
    response = client.post(reverse("admin:articles_article_add"), forged)
    assert response.status_code == 200, "refused: the form shows its errors"
    surfaces.check("add form errors", response.content.decode())
    forged.update({"base_version": "", "dateline_date": "", "slug": "forged", "related_links-TOTAL_FORMS": "0"})
    response = client.post(reverse("admin:articles_article_add"), forged)
    assert response.status_code == 302
    draft = Article.objects.get(slug="forged")
    assert draft.status == "draft" and draft.created_by == people["writer"] and draft.deleted_at is None
    assert "<script" not in draft.body

    for name in ["submit", "<script>nr_xss()</script>"]:
        url = reverse("admin:articles_article_step", args=[draft.pk, "submit"]).replace("submit", name)
        response = client.post(url, {"reason": ALL, "publish_at": "<script>nr_xss()</script>"}, follow=True)
        surfaces.check(f"step {name!r}", response.content.decode())
    client.force_login(people["reviewer"])
    response = client.post(reverse("admin:articles_article_step", args=[draft.pk, "pass_first_review"]), {"reason": ALL}, follow=True)
    surfaces.check("pass with hostile note", response.content.decode())
    client.force_login(people["editor"])
    response = client.post(
        reverse("admin:articles_article_step", args=[draft.pk, "sign_off"]),
        {"reason": ALL, "publish_at": "<img src=x onerror=nr_xss()>"},
        follow=True,
    )
    surfaces.check("sign off with a hostile time", response.content.decode())
    assert Article.objects.get(pk=draft.pk).status == "final_review", "a time that is not a time publishes nothing"
    response = client.post(
        reverse("admin:articles_article_restore", args=[article.pk]), {"number": "1", "note": ALL}, follow=True
    )
    surfaces.check("restore with a hostile note", response.content.decode())
    for url in [
        reverse("admin:articles_article_change", args=[draft.pk]),
        reverse("admin:articles_article_history", args=[draft.pk]),
        reverse("admin:articles_article_history", args=[article.pk]),
        reverse("admin:articles_article_compare", args=[article.pk]) + "?" + _query(a="<script>", b="1"),
        reverse("admin:articles_article_preview", args=[article.pk]) + "?" + _query(version="<script>"),
        reverse("admin:articles_article_changelist") + "?" + _query(q=ALL[:300], status="<script>nr_xss()</script>"),
    ]:
        surfaces.check(url, client.get(url).content.decode())
    client.logout()
    for url in [
        "/review/%3Cscript%3Enr_xss()%3C%2Fscript%3E/",
        reverse("articles:search") + "?" + _query(q=ALL, section="<script>", to="<svg onload=nr_xss()>", page="<x>"),
        article.get_absolute_url(),
        "/",
        "/feeds/rss.xml",
    ]:
        surfaces.check(url, client.get(url).content.decode())
    assert surfaces.found == {}, _report(surfaces.found)


def _query(**params):
    from urllib.parse import urlencode

    return urlencode(params)


def _report(found):
    return "\n".join(f"{where}: {problems}" for where, problems in found.items())
