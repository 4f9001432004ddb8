"""专题 topics: stories gathered under a headline, an introduction and a lead image.

A topic lists its stories either in the order editors give them (`position`) or newest
first. Readers see a topic's page only while at least one of its stories is live, and see
only its live stories: a draft can join a topic early and appears when it is published.

Every topic has an address from its headline, made once and kept: editing the headline
later leaves links and the sitemap alone. A headline with Latin letters or digits keeps
them in the slug; Chinese characters, which have no ASCII slug, are represented by 8 hex
digits of the headline's SHA-1 (the approach of articles.tags), so 「两会特别报道」 becomes
``zt-`` and eight digits, the same for the same headline on every machine.
"""

import hashlib

from django.db import models
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .models import Article, Image, live_q

SLUG_LENGTH = 60


def topic_slug(headline):
    """The slug a headline gets: its ASCII words, plus a short hash of the whole headline when
    it holds anything else (Chinese), or "zt-" and the hash when it holds nothing ASCII."""
    ascii_part = slugify(headline)[:40].strip("-")
    if headline.isascii() and ascii_part:
        return ascii_part[:SLUG_LENGTH]
    digest = hashlib.sha1(headline.strip().encode("utf-8")).hexdigest()[:8]
    return f"{ascii_part}-{digest}" if ascii_part else f"zt-{digest}"


class TopicQuerySet(models.QuerySet):
    def public(self):
        """Topics readers can open: those with at least one live story."""
        live = TopicStory.objects.filter(topic=models.OuterRef("pk")).filter(
            article__in=Article.objects.filter(live_q())
        )
        return self.filter(models.Exists(live))

    def containing(self, story_id):
        return self.filter(entries__article_id=story_id)


class Topic(models.Model):
    """A 专题 page: a headline, an introduction, a lead image and the stories it collects."""

    class Order(models.TextChoices):
        NEWEST = "newest", _("Newest first")
        MANUAL = "manual", _("In the order given")

    headline = models.CharField(_("headline"), max_length=200)
    slug = models.SlugField(
        _("address"),
        max_length=SLUG_LENGTH + 10,
        unique=True,
        blank=True,
        help_text=_("Made from the headline when left empty, and kept when the headline changes."),
    )
    introduction = models.TextField(_("introduction"), blank=True)
    lead_image = models.ForeignKey(
        Image, verbose_name=_("lead image"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.CharField(_("order of stories"), max_length=10, choices=Order, default=Order.NEWEST)
    stories = models.ManyToManyField(Article, through="TopicStory", related_name="topics", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = self._free_slug(topic_slug(self.headline))
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:topic", kwargs={"slug": self.slug})

    def _free_slug(self, wanted):
        taken = set(
            Topic.objects.exclude(pk=self.pk).filter(slug__startswith=wanted).values_list("slug", flat=True)
        )
        slug, number = wanted, 2
        while slug in taken:
            slug, number = f"{wanted}-{number}", number + 1
        return slug

    def live_stories(self):
        """Its live stories in the topic's order, as cards (section, outlet and thumbnail joined)."""
        stories = Article.objects.published().filter(topic_entries__topic=self).for_listing().defer("body")
        if self.order == self.Order.MANUAL:
            return stories.order_by("topic_entries__position", "-published_at", "-pk")
        return stories.order_by("-published_at", "-pk")


class TopicStory(models.Model):
    """One story in a topic, at a position (used when the topic is ordered by hand)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="entries")
    article = models.ForeignKey(
        Article, verbose_name=_("story"), on_delete=models.CASCADE, related_name="topic_entries"
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("story in the topic")
        verbose_name_plural = _("stories in the topic")
        constraints = [models.UniqueConstraint(fields=["topic", "article"], name="topic_story_once")]

    def __str__(self):
        return f"{self.topic_id}:{self.article_id}"
