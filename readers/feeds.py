"""RSS 2.0 and Atom feeds: the whole site, each section, each tag. Newest live stories only.

Every text printed into a feed passes articles.text.clean_text: XML 1.0 forbids control
characters, and Django's feed writer raises on them, so one stored before the text rule
existed would otherwise stop every feed carrying the story. Ordinary text is unchanged."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import escape
from taggit.models import Tag

from articles.models import Article, Section
from articles.text import clean_text
from delivery import registry as deps
from delivery.cache import cached_page

from .reprints import SourcedAtomFeed, SourcedRssFeed, feed_item_source

FEED_ITEMS = 30


class LatestStoriesFeed(Feed):
    """最新新闻: the newest stories of the whole site."""

    description = "最新新闻"

    def title(self, obj=None):
        return clean_text(settings.NEWSROOM_SITE_NAME)

    def link(self, obj=None):
        return reverse("articles:home")

    def stories(self, obj):
        return Article.objects.published()

    def items(self, obj=None):
        return self.stories(obj).select_related("section", "outlet").order_by("-published_at", "-pk")[:FEED_ITEMS]

    def item_title(self, item):
        return clean_text(item.headline)

    def item_description(self, item):
        # Feed readers render the description as HTML; the summary is plain text.
        return escape(clean_text(item.summary, multiline=True))

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return max(item.updated_at, item.published_at)

    def item_author_name(self, item):
        return clean_text(item.author_line) or None

    def item_categories(self, item):
        return [clean_text(item.section.name)] if item.section_id else []

    def item_guid(self, item):
        return reverse("articles:detail", kwargs={"pk": item.pk})

    item_guid_is_permalink = False

    # A reprint's entry names where it comes from (readers.reprints).
    feed_type = SourcedRssFeed

    def item_extra_kwargs(self, item):
        return feed_item_source(item)

    def get_feed(self, obj, request):
        """The feed, each story's RSS <guid> and Atom <id> made absolute on the origin its
        links get (the request's; static publishing builds that from its public origin)."""
        feed = super().get_feed(obj, request)
        for entry in feed.items:
            entry["unique_id"] = request.build_absolute_uri(entry["unique_id"])
        return feed


class LatestStoriesAtomFeed(LatestStoriesFeed):
    feed_type = SourcedAtomFeed
    subtitle = LatestStoriesFeed.description


class SectionFeed(LatestStoriesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Section, slug=slug)

    def title(self, obj=None):
        return clean_text(f"{obj.name} - {settings.NEWSROOM_SITE_NAME}")

    def link(self, obj=None):
        return obj.get_absolute_url()

    def description(self, obj=None):
        # Some readers render a channel's description as HTML too; names are plain text.
        return escape(clean_text(obj.description or obj.name, multiline=True))

    def stories(self, obj):
        return Article.objects.published().filter(section=obj)


class SectionAtomFeed(SectionFeed):
    feed_type = SourcedAtomFeed

    def subtitle(self, obj=None):
        return clean_text(obj.description or obj.name, multiline=True)


class TagFeed(LatestStoriesFeed):
    def get_object(self, request, slug):
        from .views import public_tag

        return public_tag(slug)

    def title(self, obj=None):
        return clean_text(f"{obj.name} - {settings.NEWSROOM_SITE_NAME}")

    def link(self, obj=None):
        return reverse("articles:tag", kwargs={"slug": obj.slug})

    def description(self, obj=None):
        return escape(clean_text(f"标签:{obj.name}"))

    def stories(self, obj):
        return Article.objects.published().filter(tags=obj)


class TagAtomFeed(TagFeed):
    feed_type = SourcedAtomFeed

    def subtitle(self, obj=None):
        return clean_text(f"标签:{obj.name}")


def _cached(feed_class, keys_for):
    feed = feed_class()

    @cached_page
    def view(request, **kwargs):
        response = feed(request, **kwargs)
        response.dependency_keys = keys_for(**kwargs)
        return response

    return view


def _section_keys(slug):
    pk = Section.objects.filter(slug=slug).values_list("pk", flat=True).first()
    return {deps.FEEDS, deps.section_key(pk)}


def _tag_keys(slug):
    pk = Tag.objects.filter(slug=slug).values_list("pk", flat=True).first()
    return {deps.FEEDS, deps.tag_key(pk)}


latest_rss = _cached(LatestStoriesFeed, lambda: {deps.FEEDS})
latest_atom = _cached(LatestStoriesAtomFeed, lambda: {deps.FEEDS})
section_rss = _cached(SectionFeed, _section_keys)
section_atom = _cached(SectionAtomFeed, _section_keys)
tag_rss = _cached(TagFeed, _tag_keys)
tag_atom = _cached(TagAtomFeed, _tag_keys)
