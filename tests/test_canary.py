"""The canary: a unique string in a draft, a story in review, a scheduled story, a withdrawn
story and an unpublished edit of a published story. An anonymous reader crawling every
public address (pages, lists, search, feeds, sitemaps, robots, photos) never meets it,
nor the address of any of those stories' photos.

The crawler proves it can see: while the story to be withdrawn is still live, the same
crawl finds its canary; after the withdrawal (the page cache is on), it finds none.
"""

import io
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage

from articles.models import ArticleImage, Image, Rendition, Section
from articles.renditions import ensure_renditions
from editorial import workflow
from editorial.models import Revision
from tests.editorial.conftest import change_form_data, people, story_in  # noqa: F401

pytestmark = pytest.mark.django_db

CANARY = "CANARY-7f3a9c-金丝雀"
# A word of each canary story that a reader could search for.
WORDS = {"draft": "草稿暗语", "first_review": "初审暗语", "scheduled": "定时暗语", "withdrawn": "撤稿暗语", "edit": "改稿暗语"}
MAX_FETCHES = 600


def png(colour):
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), colour).save(out, "PNG")
    return SimpleUploadedFile("canary.png", out.getvalue(), "image/png")


class Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if not value:
                continue
            if name in {"href", "src", "action"} or (name == "content" and value.startswith(("http", "/"))):
                self.urls.append(value)
            if name == "srcset":
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]


def links_in(response, body):
    kind = response.get("Content-Type", "")
    if "html" in kind:
        parser = Links()
        parser.feed(body)
        found = parser.urls
    else:  # feeds, sitemaps, robots.txt: every address written out
        found = re.findall(r"https?://testserver[^\s<\"']*", body) + re.findall(r'href="([^"]+)"', body)
    if "Location" in response:
        found.append(response["Location"])
    return found


def crawl(client, start):
    """Every same-site address reachable from `start`: {path: body}; media addresses are
    fetched too, and bodies of pictures kept as empty strings."""
    seen, queue, pages = set(), deque(start), {}
    while queue and len(seen) < MAX_FETCHES:
        url = queue.popleft()
        parts = urlsplit(urljoin("http://testserver/", url))
        if parts.netloc != "testserver" or parts.path.startswith("/admin/"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        if path.startswith("/media/") or "image" in response.get("Content-Type", ""):
            pages[path] = ""
            continue
        body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
        pages[path] = body
        queue.extend(links_in(response, body))
    return pages


def start_urls(hidden):
    search = reverse("articles:search")
    urls = ["/", "/robots.txt", "/sitemap.xml", "/sitemap-news.xml", "/feeds/rss.xml", "/feeds/atom.xml"]
    urls += [f"{search}?{urlencode({'q': q})}" for q in [CANARY, "CANARY", "金丝雀", *WORDS.values()]]
    # Guessing: the canary stories' own addresses, by number.
    urls += [reverse("articles:detail", args=[story.pk]) for story in hidden]
    return urls


def photo_names(images):
    names = set()
    for image in images:
        names.add(image.file.name)
        names |= set(Rendition.objects.filter(image=image).values_list("file", flat=True))
    return names


def echo_count(client):
    """How often the search page repeats the reader's own query (in the box, the title)."""
    probe = "ZZQ-no-such-words-42"
    return client.get(reverse("articles:search") + "?" + urlencode({"q": probe})).content.decode().count(probe)


def leaks(pages, names, echoes=0):
    found = []
    for path, body in pages.items():
        # A search for the canary repeats the reader's query; any further copy is a leak.
        allowed = echoes if path.startswith("/search/") and "CANARY" in path else 0
        if body.count(CANARY) > allowed:
            found.append(f"canary on {path}")
        found += [f"photo {name} on {path}" for name in names if name in body or name in path]
    return found


@pytest.fixture
def newsroom(people, client, django_capture_on_commit_callbacks):
    """One ordinary live story sharing section and tag with five canary stories, each with a
    photo of its own; the 'withdrawn' one still live for now."""
    section = Section.objects.create(name="本地", slug="local")
    public = story_in("published", people, headline="公开的新闻", section=section, summary="公开摘要")
    public.tags.add("本地新闻")
    hidden, photos = {}, []
    for state in ["draft", "first_review", "scheduled", "published", "published"]:
        key = "withdrawn" if state == "published" and "withdrawn" not in hidden else ("edit" if state == "published" else state)
        text = CANARY if key != "edit" else "这篇已公开"
        story = story_in(
            state,
            people,
            headline=f"{WORDS[key] if key != 'edit' else '改稿前的标题'} {text}",
            section=section,
            summary=text,
            author_line=text,
        )
        story.tags.add("本地新闻")
        image = Image.objects.create(
            caption=f"{text} 图说", credit=text, alt_text=text, file=png("#%06x" % (0x203040 + len(hidden))), uploaded_by=people["writer"]
        )
        ArticleImage.objects.create(article=story, image=image)
        ensure_renditions(image)
        hidden[key] = story
        if key != "edit":
            photos.append(image)

    # An unpublished edit of a published story: a stale save, refused and kept as a version.
    edited = hidden["edit"]
    client.force_login(people["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:articles_article_change", args=[edited.pk]),
            change_form_data(edited, body="<p>一处公开的更正。</p>", correction_note="公开更正"),
        )
    client.force_login(people["chief"])
    stale = change_form_data(edited, headline=f"{WORDS['edit']} {CANARY}", summary=CANARY, correction_note=CANARY)
    response = client.post(reverse("admin:articles_article_change", args=[edited.pk]), stale)
    assert response.status_code == 200  # refused: someone saved first
    kept = Revision.objects.filter(article=edited, applied=False).values_list("data", flat=True)
    assert any(CANARY in data["headline"] for data in kept), "the refused edit is kept, unpublished"
    client.logout()
    return {"public": public, "hidden": hidden, "photos": photos, "people": people}


def test_no_anonymous_crawl_meets_the_canary(client, newsroom, django_capture_on_commit_callbacks):
    hidden, people = newsroom["hidden"], newsroom["people"]
    names = photo_names(newsroom["photos"])
    withdrawn_photo = hidden["withdrawn"].photos.get().image

    before = crawl(client, start_urls(hidden.values()))
    assert newsroom["public"].get_absolute_url() in before
    # The crawler can see: the still-live story's canary and photo are found.
    assert any(CANARY in body for body in before.values())
    assert any(name in body for name in photo_names([withdrawn_photo]) for body in before.values())
    assert not [leak for leak in leaks(before, names - photo_names([withdrawn_photo])) if "photo" in leak]

    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(hidden["withdrawn"], actor=people["editor"], reason="核实有误")

    after = crawl(client, start_urls(hidden.values()))
    assert len(after) > 10 and newsroom["public"].get_absolute_url() in after
    assert leaks(after, names, echoes=echo_count(client)) == []
    for key, story in hidden.items():
        if key == "edit":
            continue  # live itself; only its refused edit is hidden
        own = f"/stories/{story.pk}/"
        linked = [path for path, body in after.items() if own in body and not path.startswith(own)]
        assert not linked, f"a link to the {key} story on {linked}"


def test_people_and_tags_only_on_unpublished_stories_have_no_public_page(client, people, django_capture_on_commit_callbacks):
    """A correspondent or a tag named only on a draft (or a withdrawn story) is not found by
    guessing its address; once a live story names them, their page and feed appear."""
    from articles.models import Byline, Person

    draft = story_in("draft", people, headline="草稿")
    secret_person = Person.objects.create(name=CANARY)
    Byline.objects.create(article=draft, person=secret_person)
    draft.tags.add(CANARY)
    tag_slug = draft.tags.get().slug
    hidden = [
        reverse("articles:person", args=[secret_person.pk]),
        reverse("articles:tag", args=[tag_slug]),
        reverse("articles:tag_feed", args=[tag_slug]),
        reverse("articles:tag_atom", args=[tag_slug]),
    ]
    for url in hidden:
        response = client.get(url)
        assert response.status_code == 404, url
        assert CANARY not in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        live = story_in("published", people, headline="公开")
        Byline.objects.create(article=live, person=secret_person)
        live.tags.add(CANARY)
    for url in hidden:
        assert client.get(url).status_code == 200, url
