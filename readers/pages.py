"""Every kind of page readers can open, declared once in delivery.registry.

Each declaration says which URL patterns answer it (readers/urls.py), what instances should
exist (for static publishing and the sitemaps), which instances show a story at a given
placement or print a shared thing, and which dependency keys its pages record of a story.
A URL pattern readers can reach and nobody declares here fails tests/delivery.
"""

from datetime import datetime

from django.db.models import Exists, OuterRef
from taggit.models import Tag

from articles.models import Article, Byline, Person, Recommendation, RelatedLink, Section, Topic
from delivery.registry import (
    FEEDS,
    HOME,
    SEARCH,
    SITEMAPS,
    Instance,
    PublicPage,
    person_key,
    register,
    section_key,
    story_key,
    tag_key,
)

from . import sitemaps
from .pagination import CURSOR_QUERY
from .topics import topic_key
from .views import public_tags

BATCH = 2000  # rows read at a time when walking a whole table


def _streamed(queryset, field="pk"):
    """The values of `field` in primary-key order, in batches (flat memory at any size)."""
    return queryset.order_by("pk").values_list(field, flat=True).iterator(chunk_size=BATCH)


# --- stories ---------------------------------------------------------------------------------


def _story_kwargs(pk, slug):
    return {"pk": pk, "slug": slug} if slug else {"pk": pk}


def every_story(ids=None):
    """Every live story, with its sitemap date; `ids` = (low, high) keeps one sitemap block."""
    published = Article.objects.published()
    columns = ("pk", "slug", "updated_at", "published_at")
    if ids is not None:
        rows = published.filter(pk__gte=ids[0], pk__lt=ids[1]).order_by("pk").values_list(*columns)
        for pk, slug, updated_at, published_at in rows.iterator(chunk_size=5000):
            yield Instance(_story_kwargs(pk, slug), lastmod=max(updated_at, published_at))
        return
    after = 0
    while True:
        # Primary-key ranges rather than one long cursor: no transaction stays open for hours.
        batch = list(published.filter(pk__gt=after).order_by("pk").values_list(*columns)[:BATCH])
        for pk, slug, updated_at, published_at in batch:
            yield Instance(_story_kwargs(pk, slug), lastmod=max(updated_at, published_at))
        if len(batch) < BATCH:
            return
        after = batch[-1][0]


def stories_showing(placement):
    """The story's own page (with and without its slug), and the live stories whose pages
    show it: their 相关新闻, their 推荐阅读 (picked or filled: both are stored rows, kept when
    the story is withdrawn so that these pages are found; editorial.recommendations), and its
    previous and next story in its section."""
    yield {"pk": placement.story_id}
    if placement.slug:
        yield _story_kwargs(placement.story_id, placement.slug)
    linking = set(RelatedLink.objects.filter(target_id=placement.story_id).values_list("article_id", flat=True))
    linking |= set(Recommendation.objects.filter(target_id=placement.story_id).values_list("article_id", flat=True))
    published = Article.objects.published()
    if placement.section_id and placement.published_at:
        key = (datetime.fromisoformat(placement.published_at), placement.story_id)
        neighbours = published.filter(section_id=placement.section_id).exclude(pk=placement.story_id).values_list(
            "pk", flat=True
        )
        linking |= set(neighbours.before(key).order_by("-published_at", "-pk")[:1])
        linking |= set(neighbours.after(key).order_by("published_at", "pk")[:1])
    linking.discard(placement.story_id)
    for pk, slug in published.filter(pk__in=linking).values_list("pk", "slug"):
        yield _story_kwargs(pk, slug)


def stories_printing(event):
    """Story pages print their people's names, their tags and the topics they are in."""
    if event.kind in {"person", "tag", "topic"} and event.story_ids:
        for pk, slug in Article.objects.published().filter(pk__in=event.story_ids).values_list("pk", "slug"):
            yield _story_kwargs(pk, slug)


# --- sections, tags, people ------------------------------------------------------------------


def every_section():
    for slug in Section.objects.values_list("slug", flat=True):  # the order the sitemap lists them in
        yield {"slug": slug}


def section_showing(placement):
    if placement.section_id:
        for slug in Section.objects.filter(pk=placement.section_id).values_list("slug", flat=True):
            yield {"slug": slug}


def section_printing(event):
    if event.kind == "section":
        for slug in event.slugs:
            yield {"slug": slug}


def section_keys(placement):
    return {section_key(placement.section_id)} if placement.section_id else set()


def every_tag():
    """Tags of at least one live story: a tag used only on drafts has no page yet."""
    for slug in _streamed(public_tags(), "slug"):
        yield {"slug": slug}


def tag_showing(placement):
    for slug in Tag.objects.filter(pk__in=placement.tag_ids).values_list("slug", flat=True):
        yield {"slug": slug}


def tag_printing(event):
    if event.kind == "tag":
        for slug in event.slugs:
            yield {"slug": slug}


def tag_keys(placement):
    return {tag_key(pk) for pk in placement.tag_ids}


def every_person():
    """People credited on a live story (nobody else has a page)."""
    live = Article.objects.published().filter(pk=OuterRef("article_id"))
    credited = Byline.objects.filter(person=OuterRef("pk")).filter(Exists(live))
    for pk in _streamed(Person.objects.filter(Exists(credited))):
        yield {"pk": pk}


def person_showing(placement):
    for pk in placement.person_ids:
        yield {"pk": pk}


def person_printing(event):
    if event.kind == "person":
        yield {"pk": event.pk}


def person_keys(placement):
    return {person_key(pk) for pk in placement.person_ids}


# --- topics (专题) ----------------------------------------------------------------------------


def every_topic():
    """Topics with at least one live story (the others answer 404)."""
    for slug in Topic.objects.public().order_by("pk").values_list("slug", flat=True):
        yield {"slug": slug}


def _topics_of(placement):
    return Topic.objects.filter(entries__article_id=placement.story_id)


def topic_showing(placement):
    """The topics the story is in, whatever its status: its publication may open a topic's page."""
    for slug in _topics_of(placement).values_list("slug", flat=True):
        yield {"slug": slug}


def topic_printing(event):
    """A topic's pages print its headline, introduction and lead image."""
    if event.kind == "topic":
        for slug in event.slugs:
            yield {"slug": slug}
    elif event.kind == "image":
        for slug in Topic.objects.public().filter(lead_image_id=event.pk).values_list("slug", flat=True):
            yield {"slug": slug}


def topic_keys(placement):
    return {topic_key(pk) for pk in _topics_of(placement).values_list("pk", flat=True)}


def _no_instances(**within):
    return iter(())


# --- site-wide pages, feeds, sitemaps --------------------------------------------------------


def _one(placement_or_event):
    yield {}


def _when_site_wide(event):
    if event.site_wide:
        yield {}


def _when_listed(event):
    """The sections sitemap lists sections and topics."""
    if event.site_wide or event.kind == "topic":
        yield {}


def _always(*keys):
    return lambda placement: set(keys)


def _newest_story():
    """When the newest live story last changed: the date the sitemap index gives its lists."""
    return Article.objects.published().order_by("-published_at", "-pk").values_list("updated_at", flat=True).first()


def _dated(**within):
    yield Instance({}, lastmod=_newest_story())


def _last_block():
    last = Article.objects.published().order_by("-pk").values_list("pk", flat=True).first() or 0
    return last // sitemaps.BLOCK


def every_story_block():
    for block in range(_last_block() + 1):
        yield {"block": block}


def story_block_showing(placement):
    if placement.published_at:
        yield {"block": placement.story_id // sitemaps.BLOCK}


register(
    PublicPage(
        "articles:home", showing=_one, shared=_when_site_wide, keys=_always(HOME), sitemap="sections",
        changefreq="always",
    ),
    PublicPage(
        ("articles:detail_slug", "articles:detail"),
        every=every_story,
        count=lambda: Article.objects.published().count(),
        showing=stories_showing,
        shared=stories_printing,
        keys=lambda placement: {story_key(placement.story_id)},
        sitemap="stories",
    ),
    PublicPage(
        "articles:section", every=every_section, count=lambda: Section.objects.count(), showing=section_showing,
        shared=section_printing, keys=section_keys, sitemap="sections", changefreq="hourly", queries=CURSOR_QUERY,
    ),
    PublicPage(
        "articles:tag", every=every_tag, count=lambda: Tag.objects.count(), showing=tag_showing, shared=tag_printing,
        keys=tag_keys, queries=CURSOR_QUERY,
    ),
    PublicPage(
        "articles:person", every=every_person, count=lambda: Person.objects.count(), showing=person_showing,
        shared=person_printing, keys=person_keys, queries=CURSOR_QUERY,
    ),
    # Results change with every story; only the page cache and the CDN (by key) keep them.
    PublicPage("articles:search", keys=_always(SEARCH), static=False),
    PublicPage("articles:feed", showing=_one, keys=_always(FEEDS)),
    PublicPage("articles:atom", showing=_one, keys=_always(FEEDS)),
    PublicPage(
        "articles:section_feed", every=every_section, count=lambda: Section.objects.count(), showing=section_showing,
        shared=section_printing, keys=lambda placement: {FEEDS, *section_keys(placement)},
    ),
    PublicPage(
        "articles:section_atom", every=every_section, count=lambda: Section.objects.count(), showing=section_showing,
        shared=section_printing, keys=lambda placement: {FEEDS, *section_keys(placement)},
    ),
    PublicPage(
        "articles:tag_feed", every=every_tag, count=lambda: Tag.objects.count(), showing=tag_showing,
        shared=tag_printing, keys=lambda placement: {FEEDS, *tag_keys(placement)},
    ),
    PublicPage(
        "articles:tag_atom", every=every_tag, count=lambda: Tag.objects.count(), showing=tag_showing,
        shared=tag_printing, keys=lambda placement: {FEEDS, *tag_keys(placement)},
    ),
    PublicPage(
        "articles:topic", every=every_topic, count=lambda: Topic.objects.count(), showing=topic_showing,
        shared=topic_printing, keys=topic_keys, sitemap="sections", changefreq="daily",
    ),
    PublicPage(
        "articles:topic_feed", every=every_topic, count=lambda: Topic.objects.count(), showing=topic_showing,
        shared=topic_printing, keys=lambda placement: {FEEDS, *topic_keys(placement)},
    ),
    PublicPage(
        "articles:topic_atom", every=every_topic, count=lambda: Topic.objects.count(), showing=topic_showing,
        shared=topic_printing, keys=lambda placement: {FEEDS, *topic_keys(placement)},
    ),
    # The 点击排行 beacon story pages post to (readers.most_read): no page, nothing to keep.
    PublicPage("articles:read", every=_no_instances, static=False),
    PublicPage("robots"),
    PublicPage("favicon", static=False),  # a redirect to the icon among the static files
    PublicPage("sitemap", showing=_one, keys=_always(SITEMAPS)),
    PublicPage("sitemap_sections", every=_dated, shared=_when_listed, sitemap="index"),
    PublicPage(
        "news_sitemap", every=_dated, showing=_one, keys=_always(SITEMAPS), sitemap="index", changes_by_itself=True
    ),
    PublicPage(
        "sitemap_stories",
        every=every_story_block,
        count=lambda: _last_block() + 1,
        showing=story_block_showing,
        keys=_always(SITEMAPS),
        sitemap="index",
    ),
)
