"""专题 topic pages and feeds, and the line naming its topics on a story's page.

A topic's page lists its live stories in the topic's order (by hand or newest first) under
its headline, introduction and lead image; it answers 404 while none of its stories is live.
Pages and feeds record the key ``topic:<pk>``: a change to the topic (its admin) or to one of
its stories (readers/pages.py declares which) bumps it.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import JSONArray
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.views.decorators.http import require_safe

from articles.models import JSONList, Topic, TopicStory
from articles.text import clean_text
from delivery.cache import cached_page
from delivery.registry import image_key, shared_key

from .feeds import LatestStoriesFeed, _cached

TOPIC_PAGE_STORIES = 200  # a topic is a curated collection, not an archive: no pagination


def topic_key(pk):
    return shared_key("topic", pk)


def public_topic(slug):
    """The topic at `slug` if one of its stories is live, else 404."""
    topic = get_object_or_404(Topic.objects.select_related("lead_image"), slug=slug)
    if not Topic.objects.public().filter(pk=topic.pk).exists():
        raise Http404
    return topic


def with_topic_rows(stories):
    """Annotate `topic_rows` on story rows: [[headline, slug], ...] of the topics it is in
    (None when none), in the same query as the story. A live story's topics are all public
    (a topic is public while one of its stories is live)."""
    rows = (
        TopicStory.objects.filter(article_id=models.OuterRef("pk"))
        .values("article_id")
        .annotate(rows=JSONList(JSONArray("topic__headline", "topic__slug")))
        .values("rows")
    )
    return stories.annotate(topic_rows=models.Subquery(rows, output_field=models.JSONField()))


def topics_of(article):
    """[(headline, address)] of the topics the story is in, by headline, from `topic_rows`."""
    found = sorted({(headline, slug) for headline, slug in getattr(article, "topic_rows", None) or []})
    return [(headline, reverse("articles:topic", kwargs={"slug": slug})) for headline, slug in found]


@require_safe
@cached_page
def topic_detail(request, slug):
    from .views import _render, attach_card_images

    topic = public_topic(slug)
    stories = list(topic.live_stories()[:TOPIC_PAGE_STORIES])
    attach_card_images(stories)
    keys = {topic_key(topic.pk)}
    if topic.lead_image_id:
        keys.add(image_key(topic.lead_image_id))
    return _render(request, "articles/topic_detail.html", {"topic": topic, "stories": stories}, keys)


class TopicFeed(LatestStoriesFeed):
    """A topic's live stories, newest first whatever the page's order (a feed is news)."""

    def get_object(self, request, slug):
        return public_topic(slug)

    def title(self, obj=None):
        return clean_text(f"{obj.headline} - {settings.NEWSROOM_SITE_NAME}")

    def link(self, obj=None):
        return obj.get_absolute_url()

    def description(self, obj=None):
        return escape(clean_text(obj.introduction or obj.headline, multiline=True))

    def stories(self, obj):
        from articles.models import Article

        return Article.objects.published().filter(topic_entries__topic=obj)


class TopicAtomFeed(TopicFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj=None):
        return clean_text(obj.introduction or obj.headline, multiline=True)


def _topic_keys(slug):
    from delivery.registry import FEEDS

    pk = Topic.objects.filter(slug=slug).values_list("pk", flat=True).first()
    return {FEEDS, topic_key(pk)}


topic_rss = _cached(TopicFeed, _topic_keys)
topic_atom = _cached(TopicAtomFeed, _topic_keys)

