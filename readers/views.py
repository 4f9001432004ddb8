"""Readers' pages. Every query starts from Article.objects.published().

Each page costs a fixed number of queries whatever it shows (page size, photos, bylines,
tags, related and recommended items): lists fetch cards in one query and their fallback
photos in one more; renditions come from each photo's own index. Each page names what it
shows (response.dependency_keys) so delivery.cache can keep it until one of those changes.
"""

from datetime import date
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_safe
from taggit.models import Tag, TaggedItem

from articles import search as search_engine
from articles.models import (
    Article, ArticleImage, Byline, Correction, Image, Outlet, Person, Recommendation, RelatedLink, Section, live_sql,
)
from delivery import registry as deps
from delivery.cache import cached_page
from newsroom.compiled_query import CompiledQuery
from . import most_read, reprints
from .topics import topics_of, with_topic_rows
from .pagination import KeysetPage
from .templatetags.newsroom import rendition_info

HOME_LATEST = 10
HOME_PER_SECTION = 5
# The home page groups the newest stories by section from one bounded, index-ordered read
# instead of one query per section.
HOME_CANDIDATES = 300
RECOMMENDED = 6
SEARCH_PER_PAGE = 10
SEARCH_MAX_PAGE = 50


def attach_card_images(articles):
    """Set `card_image` on each story: its thumbnail, else its first photo (one query for all)."""
    missing = [a.pk for a in articles if not a.thumbnail_id]
    first_photo = {}
    if missing:
        for placement in (
            ArticleImage.objects.filter(article_id__in=missing).select_related("image").order_by("position", "pk")
        ):
            first_photo.setdefault(placement.article_id, placement.image)
    for article in articles:
        article.card_image = article.thumbnail if article.thumbnail_id else first_photo.get(article.pk)
    return articles


def _render(request, template, context, keys, status=200):
    response = render(request, template, context, status=status)
    response.dependency_keys = set(keys)
    return response


def _cards(queryset):
    """Stories as cards: what for_listing() joins, without the bodies no card prints
    (20 to 70 bodies were most of the bytes these pages read)."""
    return queryset.for_listing().defer("body")


def _list_page(request, queryset, context, keys, extra_params=None):
    page = KeysetPage(_cards(queryset), request, extra_params=extra_params)
    attach_card_images(page.object_list)
    response = _render(
        request, "articles/article_list.html", {**context, "page": page, "stories": page.object_list}, keys
    )
    # Asked only when the read model would keep a page of this list's older stories.
    response.printed_address = page.at_a_story
    return response


@require_safe
@cached_page
def home(request):
    published = Article.objects.published()
    top = list(_cards(published).filter(is_top=True).order_by("-published_at", "-pk")[:1])
    # The candidates are chosen from (id, section) pairs; only the ~70 stories shown are then
    # loaded whole (300 full rows with bodies cost more than the rest of the page).
    recent = list(
        published.exclude(pk__in=[a.pk for a in top])
        .order_by("-published_at", "-pk")
        .values_list("pk", "section_id")[:HOME_CANDIDATES]
    )
    latest_ids = [pk for pk, _ in recent[:HOME_LATEST]]
    section_ids = {}
    for pk, section_id in recent:
        if section_id:
            chosen = section_ids.setdefault(section_id, [])
            if len(chosen) < HOME_PER_SECTION:
                chosen.append(pk)
    read_today, read_week = most_read.list_ids()
    cards = _cards(published).in_bulk(set(latest_ids).union(*section_ids.values(), read_today, read_week))
    latest = [cards[pk] for pk in latest_ids if pk in cards]
    by_section = {}
    for section_id, pks in section_ids.items():
        stories = [cards[pk] for pk in pks if pk in cards]
        if stories:
            by_section[section_id] = (stories[0].section, stories)
    blocks = sorted(by_section.values(), key=lambda block: (block[0].position, block[0].name))
    shown = top + latest + [a for _, stories in blocks for a in stories]
    attach_card_images(shown)
    return _render(
        request,
        "articles/home.html",
        {
            "top": top[0] if top else None,
            "latest": latest,
            "blocks": blocks,
            # 点击排行, from the lists the last flush left (readers.most_read); only live stories.
            "most_read_today": [cards[pk] for pk in read_today if pk in cards],
            "most_read_week": [cards[pk] for pk in read_week if pk in cards],
        },
        {deps.HOME, most_read.MOST_READ},
    )


@require_safe
@cached_page
def section_detail(request, slug):
    section = get_object_or_404(Section, slug=slug)
    stories = Article.objects.published().filter(section=section)
    context = {"section": section, "feed_slug": section.slug}
    context["most_read_today"], context["most_read_week"] = _most_read_in(section)
    keys = {deps.section_key(section.pk), most_read.section_most_read_key(section.pk)}
    return _list_page(request, stories, context, keys)


def _most_read_in(section):
    """The section's 点击排行 today and this week: live stories still in it (one query, none
    when the lists are empty)."""
    read_today, read_week = most_read.list_ids(section.pk)
    if not read_today and not read_week:
        return [], []
    stories = Article.objects.published().filter(section=section, pk__in={*read_today, *read_week})
    found = stories.only("pk", "slug", "headline").in_bulk()
    return [found[pk] for pk in read_today if pk in found], [found[pk] for pk in read_week if pk in found]


def _live(outer_field):
    return Exists(Article.objects.published().filter(pk=OuterRef(outer_field)))


def public_tags():
    """Tags of at least one live story: a tag used only on drafts has no page or feed yet.
    (EXISTS from the tag's own rows, so the cost does not grow with the archive.)"""
    tagged = TaggedItem.objects.filter(
        tag=OuterRef("pk"), content_type=ContentType.objects.get_for_model(Article)
    ).filter(_live("object_id"))
    return Tag.objects.filter(Exists(tagged))


def public_tag(slug):
    """The tag at `slug` if a live story carries it, else 404.

    Two short reads, the tag and then one live story of it. As one statement (public_tags()
    filtered by slug) PostgreSQL could not see which tag it was while planning, and read every
    entry of a popular tag in the index before its first live story: 13 ms at 1M stories,
    growing with the archive. With the tag's id known, it stops at the first."""
    tag = get_object_or_404(Tag, slug=slug)
    carried = TaggedItem.objects.filter(tag_id=tag.pk, content_type=ContentType.objects.get_for_model(Article))
    if not carried.filter(_live("object_id")).exists():
        raise Http404
    return tag


@require_safe
@cached_page
def tag_detail(request, slug):
    tag = public_tag(slug)
    # A subquery, not a join: the join casts taggit's integer object_id to the story's bigint
    # id, which keeps PostgreSQL off the (content_type, object_id, tag) index; it then hashed
    # every live story (0.2 s at 100k). The subquery walks the live index newest-first and
    # probes the tag index, so a page costs the same at any archive size.
    tagged = TaggedItem.objects.filter(
        tag=tag, content_type=ContentType.objects.get_for_model(Article)
    ).values("object_id")
    stories = Article.objects.published().filter(pk__in=tagged)
    return _list_page(request, stories, {"tag": tag}, {deps.tag_key(tag.pk)})


@require_safe
@cached_page
def person_detail(request, pk):
    # Only people credited on a live story have a page: a correspondent named on a draft
    # alone is nobody's business yet (same query, a subquery more).
    live_bylines = Byline.objects.filter(person=OuterRef("pk")).filter(_live("article_id"))
    person = get_object_or_404(Person.objects.filter(Exists(live_bylines)), pk=pk)
    # A subquery, not a join with DISTINCT, keeps the keyset order on the article index.
    stories = Article.objects.published().filter(
        pk__in=Byline.objects.filter(person=person).values("article_id")
    )
    return _list_page(request, stories, {"person": person}, {deps.person_key(person.pk)})


# 推荐阅读: the cards' own columns, one statement written out (a two-level select_related of
# whole rows cost Django 3-4 ms a page to build and compile, 0.1 ms of it in the database),
# live targets only (live_sql: published()'s test).
_RECOMMENDED_SQL = (
    "SELECT t.id, t.headline, t.slug, t.summary, t.published_at, t.outlet_id, t.thumbnail_id,"
    " r.id AS row_id, r.position AS row_position, r.source AS row_source, r.reason AS row_reason,"
    " o.name AS outlet_name"
    " FROM articles_recommendation r"
    " JOIN articles_article t ON t.id = r.target_id"
    " LEFT JOIN articles_outlet o ON o.id = t.outlet_id"
    " WHERE r.article_id = %s AND {live}"
    " ORDER BY r.position, r.id"
    " LIMIT %s"
)
_IMAGES_SQL = "SELECT * FROM articles_image WHERE id IN ({marks})"


def _recommended(article):
    """推荐阅读: the stored rows in order, the editors' picks first and then the slots the system
    filled when the story was published or last changed (editorial.recommendations), live
    targets only, with their outlets and thumbnails: two statements, and no suggestion is worked
    out for a reader. Each story carries its row as `recommendation` (its source and reason, for
    the desk's preview)."""
    live, live_params = live_sql("t")
    targets = list(Article.objects.raw(_RECOMMENDED_SQL.format(live=live), [article.pk, *live_params, RECOMMENDED]))
    thumbnails = sorted({target.thumbnail_id for target in targets if target.thumbnail_id})
    if thumbnails:
        images = Image.objects.raw(_IMAGES_SQL.format(marks=", ".join(["%s"] * len(thumbnails))), thumbnails)
        by_pk = {image.pk: image for image in images}
    chosen = []
    for target in sorted(targets, key=lambda target: (target.row_position, target.pk)):
        target.recommendation = Recommendation(
            pk=target.row_id, article_id=article.pk, target_id=target.pk,
            position=target.row_position, source=target.row_source, reason=target.row_reason,
        )
        if target.outlet_id:
            target.outlet = Outlet(pk=target.outlet_id, name=target.outlet_name)
        if target.thumbnail_id:
            target.thumbnail = by_pk[target.thumbnail_id]
        chosen.append(target)
    return chosen


def _story_queryset(pk, now):
    stories = (
        Article.objects.select_related(
            "section", "outlet", "dateline_outlet", "first_review_editor", "responsible_editor", "thumbnail"
        )
        .with_neighbours(now)
        .with_story_blocks()
        .filter(pk=pk)
        .not_trashed()
    )
    return with_topic_rows(stories)  # the 专题 it is in, in the same query


# The page's main statement, compiled once per database: building and compiling this queryset
# cost more than the rest of the page's queries together (newsroom.compiled_query).
_STORY = CompiledQuery(Article, _story_queryset, name="newsroom_story", pk="integer", now="datetime")


def _aware(value):
    """A time read from JSON: PostgreSQL writes it with its offset, SQLite as naive UTC."""
    when = parse_datetime(value)
    return when if timezone.is_aware(when) else timezone.make_aware(when, dt_timezone.utc)


_BYLINES = CompiledQuery(
    Byline,
    lambda pk: Byline.objects.filter(article_id=pk).select_related("person").order_by("position", "pk"),
    name="newsroom_story_bylines",
    pk="integer",
)
_RELATED = CompiledQuery(
    RelatedLink,
    lambda pk: RelatedLink.objects.filter(article_id=pk)
    .select_related("target", "outlet", "target__outlet")
    .order_by("position", "pk"),
    name="newsroom_story_related",
    pk="integer",
)


def _story_parts(article):
    """The story's bylines (one query), tags and corrections (from its own row) and live
    related links (one query, only for stories that have any)."""
    bylines = _BYLINES.list(pk=article.pk)
    tags = [
        Tag(pk=tag_pk, name=name, slug=slug)
        for _, tag_pk, name, slug in sorted(article.tag_rows or [], key=lambda row: row[0])
    ]
    corrections = sorted(
        (
            Correction(pk=pk, article_id=article.pk, note=note, created_at=_aware(created_at))
            for pk, note, created_at in article.correction_rows or []
        ),
        key=lambda correction: (correction.created_at, correction.pk),
    )
    related = []
    if article.has_related:
        # A link to a story of this site shows only while that story is live.
        related = [link for link in _RELATED.list(pk=article.pk) if link.target_id is None or link.target.is_live]
    return bylines, tags, corrections, related


def _json_ld(request, article, photos, bylines, corrections):
    canonical = request.build_absolute_uri(article.get_absolute_url())
    people = [b.person.name for b in bylines]
    modified = article.updated_at
    if corrections and corrections[-1].created_at > modified:
        modified = corrections[-1].created_at
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": canonical,
        "headline": article.headline,
        "datePublished": article.published_at.isoformat(),
        "dateModified": max(modified, article.published_at).isoformat(),
        "author": [{"@type": "Person", "name": name} for name in people]
        or ([{"@type": "Person", "name": article.author_line}] if article.author_line else []),
        "publisher": {"@type": "Organization", "name": settings.NEWSROOM_SITE_NAME},
        "inLanguage": "zh-Hans",
    }
    images = photos or ([article.thumbnail] if article.thumbnail_id else [])
    if images:
        data["image"] = [request.build_absolute_uri(rendition_info(image, "w1200")["url"]) for image in images[:3]]
    if article.summary:
        data["description"] = article.summary
    if article.section_id:
        data["articleSection"] = article.section.name
    data.update(reprints.json_ld(article))  # a reprint names its original and source
    return data


@require_safe
@cached_page
def article_detail(request, pk, slug=None):
    article = _STORY.first(pk=pk, now=timezone.now())
    if article is None:
        raise Http404
    if article.status == Article.Status.WITHDRAWN:
        return _render(
            request, "articles/article_withdrawn.html", {"article": article}, {deps.story_key(pk)}, status=410
        )
    if not article.is_live:
        raise Http404
    if (slug or "") != article.slug:
        return redirect(article, permanent=True)
    bylines, tags, corrections, related = _story_parts(article)
    # The templates and the dateline read these as if prefetched.
    article._prefetched_objects_cache = {"bylines": bylines, "corrections": corrections}
    recommended = _recommended(article)
    photos, first_photo = [], {}
    needing = [a.pk for a in recommended if not a.thumbnail_id]
    for placement in (
        ArticleImage.objects.filter(article_id__in=[article.pk, *needing])
        .select_related("image")
        .order_by("position", "pk")
    ):
        if placement.article_id == article.pk:
            photos.append(placement.image)
        else:
            first_photo.setdefault(placement.article_id, placement.image)
    for item in recommended:
        item.card_image = item.thumbnail if item.thumbnail_id else first_photo.get(item.pk)
    neighbours = [story for story in (article.previous_story, article.next_story) if story]
    shown = {a.pk for a in recommended} | {link.target_id for link in related if link.target_id}
    shown |= {story["pk"] for story in neighbours}
    keys = {deps.story_key(pk) for pk in shown | {article.pk}}
    # The people printed on it: its bylines, and its 初审编辑 and 责任编辑 under the text.
    editors = (article.first_review_editor_id, article.responsible_editor_id)
    keys |= {deps.person_key(pk) for pk in [*(b.person_id for b in bylines), *editors] if pk}
    keys |= {deps.tag_key(tag.pk) for tag in tags}
    if article.section_id:
        keys.add(deps.section_key(article.section_id))
    share_image = article.thumbnail or (photos[0] if photos else None)
    return _render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "photos": photos,
            "share_image": share_image,
            "tags": tags,
            "bylines": bylines,
            "related_links": related,
            "recommended": recommended,
            "topics": topics_of(article),
            # The desk's preview (editorial.views.preview) shows why each item is there.
            "show_reasons": getattr(request, "newsroom_show_reasons", False),
            "json_ld": _json_ld(request, article, photos, bylines, corrections),
        },
        keys,
    )


def _parse_date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_safe
@cached_page
def search(request):
    query = search_engine.Query(request.GET.get("q", ""))
    raw = query.raw
    sections = Section.objects.in_order()
    section = next((s for s in sections if s.slug == request.GET.get("section")), None)
    date_from, date_to = _parse_date(request.GET.get("from")), _parse_date(request.GET.get("to"))
    try:
        page_number = max(1, min(SEARCH_MAX_PAGE, int(request.GET.get("page", "1"))))
    except ValueError:
        page_number = 1
    results, has_next = [], False
    if query:
        matches = search_engine.search(query, section=section, date_from=date_from, date_to=date_to)
        start = (page_number - 1) * SEARCH_PER_PAGE
        # OFFSET over ranked matches is bounded: at most SEARCH_MAX_PAGE pages are offered.
        results = matches[start : start + SEARCH_PER_PAGE + 1]
        has_next = len(results) > SEARCH_PER_PAGE and page_number < SEARCH_MAX_PAGE
        results = results[:SEARCH_PER_PAGE]
        for article in results:
            article.snippet = search_engine.snippet(article, query)
            article.headline_marked = search_engine.highlighted_headline(article, query)
    params = {
        key: value
        for key, value in (
            ("q", raw[: search_engine.MAX_QUERY_CHARS]),
            ("section", section.slug if section else ""),
            ("from", date_from.isoformat() if date_from else ""),
            ("to", date_to.isoformat() if date_to else ""),
        )
        if value
    }
    return _render(
        request,
        "articles/search.html",
        {
            "query": query,
            "raw_query": raw[: search_engine.MAX_QUERY_CHARS],
            "results": results,
            "sections": sections,
            # The form's list is the navigation's too: one query, not one each.
            "nav_sections": sections,
            "section": section,
            "date_from": date_from,
            "date_to": date_to,
            "page_number": page_number,
            "first_rank": (page_number - 1) * SEARCH_PER_PAGE + 1,
            "has_next": has_next,
            "params": params,
        },
        {deps.SEARCH},
    )


FAVICON = settings.BASE_DIR / "static" / "favicon.ico"


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for whatever the page links: the project's icon
    (static/favicon.ico; pages link its static address)."""
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    response.dependency_keys = set()
    return response


@require_safe
@cached_page
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search/", f"Sitemap: {sitemap}", ""]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response.dependency_keys = set()
    return response
