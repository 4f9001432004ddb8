"""Whatever an editor types or pastes into a story, the public pages showing it stay well formed.

Hypothesis writes arbitrary Unicode into every text field of the story's admin form: control
characters, bidirectional controls, emoji, combining marks, line and paragraph separators,
non-characters and very long strings, in the headline, kicker, subtitle, summary, body, author
line, dateline place and tags, a photo caption (the photo inline) and a related link's title
(the 相关新闻 inline). A responsible editor posts the form; the story is then published through
the workflow. Either the form refused the input, said so, and saved nothing, or every page a
reader can reach that shows the story (its page with the JSON-LD block, the home page, the
section, the tag pages, the RSS and Atom feeds, the sitemaps with the news sitemap) answers 200
with output a parser accepts and no control or bidi character in it.

Each example runs inside a savepoint that is rolled back, so every example starts from the
same draft and nothing leaks from one to the next.
"""

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from articles.models import Article
from delivery import registry
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 120

# What must never reach a reader: the C0 controls XML 1.0 forbids, and the bidi controls.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069]")
JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)

# Characters pasted text is known to carry, drawn often so that they meet each other.
AWKWARD = (
    [chr(c) for c in range(0x00, 0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + list("\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e")
    + list("\u2066\u2067\u2068\u2069\ufeff\ufffe\uffff\ufffd\u00a0\u3000\u0301\u0336\u20dd")
    + list("😀👨‍👩‍👧🇨🇳🔥\U0010fffd\U000e0001")
    + list("<>&\"'`;,，、；\\/#%?")
    + list("泉城新闻记者")
)

awkward_text = st.text(alphabet=st.sampled_from(AWKWARD), max_size=30)
# Anything a browser can send: every code point but the lone surrogates, which UTF-8 cannot carry.
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
separators_and_marks = st.text(alphabet=st.characters(categories=["Z", "M", "Cc", "Cf", "So"]), max_size=20)
fuzzed = st.one_of(awkward_text, any_text, separators_and_marks)
# A required field (headline, a linked title) often holds something visible amid the rest, so
# that enough inputs get past the form to test the pages.
anchored = st.builds(lambda before, letter, after: before + letter + after, fuzzed, st.sampled_from(["", "字", "新", "闻"]), fuzzed)
long_text = st.builds(lambda piece, times: piece * times, st.text(alphabet=st.sampled_from(AWKWARD), min_size=1, max_size=4), st.integers(60, 4000))

FIELDS = [
    "headline",
    "kicker",
    "subtitle",
    "summary",
    "body",
    "author_line",
    "dateline_place",
    "tags",
    "photos-0-caption",
    "related_links-0-title",
]

REQUIRED = {"headline", "related_links-0-title"}


@st.composite
def pasted_story(draw):
    """Fuzzed text for every field; one field at most gets a very long string."""
    values = {name: draw(anchored if name in REQUIRED else fuzzed) for name in FIELDS}
    long_field = draw(st.sampled_from([None, *FIELDS]))
    if long_field:
        values[long_field] = draw(long_text)
    return values


def typed(**fields):
    """Plain text in every field but those given (explicit examples, run every time)."""
    values = {name: "好" for name in FIELDS}
    values.update({name.replace("__", "-"): value for name, value in fields.items()})
    return values


def story_form(story, photo, values):
    """The change form as the admin posts it: the story's fields, one photo, one related link."""
    data = {
        "kicker": values["kicker"],
        "headline": values["headline"],
        "subtitle": values["subtitle"],
        "slug": story.slug,
        "section": story.section_id,
        "tags": values["tags"],
        "outlet": "",
        "author_line": values["author_line"],
        "dateline_outlet": "",
        "dateline_place": values["dateline_place"],
        "dateline_date": "",
        "summary": values["summary"],
        "body": values["body"],
        "thumbnail": "",
        "base_version": story.version,
        "correction_note": "",
        "_save": "Save",
        "photos-0-image": photo.pk,
        "photos-0-caption": values["photos-0-caption"],
        "photos-0-credit": "",
        "photos-0-alt_text": "",
        "photos-0-position": "0",
        "related_links-0-url": "https://example.com/elsewhere",
        "related_links-0-title": values["related_links-0-title"],
        "related_links-0-target": "",
        "related_links-0-outlet": "",
        "related_links-0-published_at": "",
        "related_links-0-position": "0",
    }
    for prefix, rows in [("bylines", 0), ("photos", 1), ("related_links", 1), ("recommendations", 0)]:
        data.update({
            f"{prefix}-TOTAL_FORMS": str(rows), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        })
    return data


def as_stored(story):
    """Everything a refused post must leave as it was."""
    story = Article.objects.get(pk=story.pk)
    return {
        **{name: getattr(story, name) for name in ["headline", "kicker", "subtitle", "summary", "body", "author_line", "dateline_place", "version", "status"]},
        "tags": sorted(story.tags.names()),
        "photos": list(story.photos.values_list("image_id", "image__caption")),
        "related": list(story.related_links.values_list("url", "title")),
        "revisions": story.revisions.count(),
    }


def pages_showing(story):
    """The reader's pages that show `story`: the ones named here, and whatever else the
    registry of public pages says shows it."""
    urls = {
        urlsplit(story.get_absolute_url()).path,
        reverse("articles:home"),
        reverse("articles:feed"),
        reverse("articles:atom"),
        reverse("sitemap"),
        reverse("sitemap_sections"),
        reverse("sitemap_stories", args=[0]),
        reverse("news_sitemap"),
    }
    if story.section_id:
        slug = story.section.slug
        urls |= {reverse("articles:section", args=[slug]), reverse("articles:section_feed", args=[slug]), reverse("articles:section_atom", args=[slug])}
    for tag in story.tags.all():
        urls |= {reverse("articles:tag", args=[tag.slug]), reverse("articles:tag_feed", args=[tag.slug]), reverse("articles:tag_atom", args=[tag.slug])}
    urls |= set(registry.urls_for(registry.shown(story)))
    return sorted(urls)


def refusals(html):
    """The messages of a refused form, each cut short (for the statistics: no names, no numbers)."""
    items = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    return sorted({re.sub(r"<[^>]+>|「.*?」|\d+", "", item).strip()[:60] for item in items}) or ["(no list)"]


class _Html(HTMLParser):
    def error(self, message):  # older parsers call it on markup they cannot read
        raise AssertionError(message)


def assert_well_formed(url, response, values):
    assert response.status_code == 200, f"{url} answered {response.status_code} for {values!r}"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8")
    found = FORBIDDEN.search(text)
    assert found is None, f"{url} prints {found.group()!r} (at {found.start()}) for {values!r}"
    if response["Content-Type"].split(";")[0].endswith("xml"):
        try:
            ET.fromstring(content)
        except ET.ParseError as error:
            raise AssertionError(f"{url} is not well-formed XML ({error}) for {values!r}") from None
        return
    parser = _Html(convert_charrefs=True)
    parser.feed(text)
    parser.close()
    for block in JSON_LD.findall(text):
        try:
            json.loads(block)
        except ValueError as error:
            raise AssertionError(f"{url}: its JSON-LD does not parse ({error}) for {values!r}") from None


@pytest.fixture
def newsroom(settings):
    """A draft by a reporter, in a section, and a photo in the library; pages are never cached,
    since the cache outlives the rolled-back examples."""
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    people = factories.desk()
    section = factories.section(name="本地", slug="local")
    photo = factories.image(caption="资料图")
    story = Article.objects.create(headline="草稿", body="<p>正文。</p>", section=section, created_by=people["writer"])
    editor = Client()
    editor.force_login(people["editor"])
    return {"people": people, "story": story, "photo": photo, "editor": editor, "reader": Client()}


TALLY = Counter()


def test_any_pasted_text_is_refused_or_printed_well_formed_on_every_page(newsroom):
    story, photo, editor, reader = newsroom["story"], newsroom["photo"], newsroom["editor"], newsroom["reader"]
    change = reverse("admin:articles_article_change", args=[story.pk])
    TALLY.clear()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(values=pasted_story())
    # Tags whose slugs collide, differ only in case or in Unicode normalization, have no letters.
    @example(values=typed(tags="Night, night, NIGHT, a!, a?, e\u0301, \u00e9, 🔥, 😀, a/b, ../x, #x, ?q"))
    @example(values=typed(**{name.replace("-", "__"): "\x0b\x1f\x01\u202e\u2066标题\u2028\x85\ufeff" for name in FIELDS}))
    @example(values=typed(headline="\u202eمرحبا שלום 👨\u200d👩\u200d👧", body="<p>\x00</p><script>x</script>" * 500))
    def the_desk_saves(values):
        TALLY["fuzzed"] += 1
        with transaction.atomic():
            before = as_stored(story)
            response = editor.post(change, story_form(story, photo, values))
            if response.status_code != 302:
                assert response.status_code == 200, f"the form answered {response.status_code} for {values!r}"
                html = response.content.decode()
                assert "errornote" in html or "errorlist" in html, f"refused without a message: {values!r}"
                assert as_stored(story) == before, f"the refused form saved something: {values!r}"
                TALLY["refused"] += 1
                for reason in refusals(html):
                    TALLY[f"refused: {reason}"] += 1
                    event(f"refused: {reason}")
            else:
                published = factories.publish(Article.objects.get(pk=story.pk), newsroom["people"])
                assert published.status == Article.Status.PUBLISHED
                for url in pages_showing(published):
                    assert_well_formed(url, reader.get(url), values)
                    TALLY["pages"] += 1
                TALLY["published"] += 1
                event("published")
            transaction.set_rollback(True)

    the_desk_saves()
    print("\n".join(f"{k}: {v}" for k, v in sorted(TALLY.items())))
    print(f"\nfuzzed {TALLY['fuzzed']} inputs: {TALLY['published']} published ({TALLY['pages']} pages checked), {TALLY['refused']} refused")
    assert TALLY["published"] >= EXAMPLES // 4, f"too few inputs got through the form to test the pages: {dict(TALLY)}"
