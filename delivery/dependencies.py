"""Which public pages show a story: the one place that knows.

Two views of the same knowledge:

* dependency keys ("story:12", "section:3", "tag:5", "person:7", "home", "feeds",
  "sitemaps", "search", "site"). Every cached page records the keys of what it shows;
  a change bumps the keys it touches (delivery.cache), and every page that recorded one
  of them is rebuilt on its next request. Nothing needs a manual purge.
* public URLs (`urls_for_article`): the concrete addresses showing a story, for whoever must
  push or regenerate them (a CDN purge, static publishing). `public_urls_changed` is sent
  with them after a change, when someone listens.

Status changes happen in editorial.workflow; this module only listens to model signals, so
publishing, editing, correcting, withdrawing and scheduling all refresh the same pages.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.db.models import Q
from django.dispatch import Signal, receiver
from django.urls import reverse
from taggit.models import Tag

from . import cache as page_cache
from articles.models import (
    Article,
    ArticleImage,
    Byline,
    Correction,
    Image,
    Outlet,
    Person,
    Recommendation,
    RelatedLink,
    Section,
)

SITE = "site"  # every page: masthead, section navigation, outlets
HOME = "home"
FEEDS = "feeds"
SITEMAPS = "sitemaps"
SEARCH = "search"

# Statuses in which a story is, was, or is about to be on public pages.
PUBLIC_STATUSES = {Article.Status.PUBLISHED, Article.Status.SCHEDULED, Article.Status.WITHDRAWN}

# Sent after a change with urls=[path, ...]: connect a CDN purge or a static publisher here.
public_urls_changed = Signal()


def story_key(pk):
    return f"story:{pk}"


def section_key(pk):
    return f"section:{pk}"


def tag_key(pk):
    return f"tag:{pk}"


def person_key(pk):
    return f"person:{pk}"


def image_key(pk):
    return f"image:{pk}"


def keys_for_article(article, *, section_ids=(), tag_ids=(), person_ids=()):
    """Every dependency key a change to `article` touches (current and previous placement)."""
    keys = {story_key(article.pk), HOME, FEEDS, SITEMAPS, SEARCH}
    sections = set(section_ids) | ({article.section_id} if article.section_id else set())
    keys |= {section_key(pk) for pk in sections if pk}
    tags = set(tag_ids) | set(article.tags.values_list("pk", flat=True))
    keys |= {tag_key(pk) for pk in tags}
    people = set(person_ids) | set(Byline.objects.filter(article=article).values_list("person_id", flat=True))
    keys |= {person_key(pk) for pk in people}
    return keys


def urls_for_article(article, *, section_ids=(), tag_ids=(), person_ids=(), paths=()):
    """The public paths that show `article`: its page, lists, feeds, sitemaps, and the
    story pages that link to it (相关新闻, 推荐阅读, previous/next in its section).

    Like `keys_for_article`, it takes the story's previous placement (sections, tags and
    people it was just taken off, addresses it had): those pages showed it until now."""
    urls = {article.get_absolute_url(), reverse("articles:detail", kwargs={"pk": article.pk}), *paths}
    urls |= {reverse("articles:home"), reverse("articles:feed"), reverse("articles:atom")}
    urls |= {reverse("sitemap"), reverse("news_sitemap")}
    if article.published_at:
        from readers.sitemaps import BLOCK

        urls.add(reverse("sitemap_stories", kwargs={"block": article.pk // BLOCK}))
    sections = set(section_ids) | ({article.section_id} if article.section_id else set())
    for slug in Section.objects.filter(pk__in=[pk for pk in sections if pk]).values_list("slug", flat=True):
        urls |= {
            reverse("articles:section", kwargs={"slug": slug}),
            reverse("articles:section_feed", kwargs={"slug": slug}),
            reverse("articles:section_atom", kwargs={"slug": slug}),
        }
    tags = Tag.objects.filter(Q(pk__in=[pk for pk in tag_ids if pk]) | Q(pk__in=article.tags.values("pk")))
    for slug in tags.values_list("slug", flat=True):
        urls |= {
            reverse("articles:tag", kwargs={"slug": slug}),
            reverse("articles:tag_feed", kwargs={"slug": slug}),
            reverse("articles:tag_atom", kwargs={"slug": slug}),
        }
    people = set(person_ids) | set(Byline.objects.filter(article=article).values_list("person_id", flat=True))
    for pk in people:
        if pk:
            urls.add(reverse("articles:person", kwargs={"pk": pk}))
    linking = set(RelatedLink.objects.filter(target=article).values_list("article_id", flat=True))
    linking |= set(Recommendation.objects.filter(target=article).values_list("article_id", flat=True))
    published = Article.objects.published()
    if article.section_id and article.published_at:
        neighbours = published.filter(section_id=article.section_id).exclude(pk=article.pk)
        linking |= set(neighbours.before((article.published_at, article.pk)).values_list("pk", flat=True)[:1])
        linking |= set(neighbours.after((article.published_at, article.pk)).values_list("pk", flat=True)[:1])
    for story in published.filter(pk__in=linking).only("pk", "slug"):
        urls.add(story.get_absolute_url())
    return sorted(urls)


def invalidate_article(article, *, paths=(), **previous):
    """Refresh every page showing `article`, once the current transaction commits.

    `previous` (section_ids, tag_ids, person_ids) and `paths` name where the story was
    until this change, so the pages it has just left are refreshed too."""
    keys = keys_for_article(article, **previous)
    page_cache.forget_next_scheduled()

    def bump():
        page_cache.invalidate(keys)
        if public_urls_changed.has_listeners():
            urls = urls_for_article(article, paths=paths, **previous)
            public_urls_changed.send(sender=Article, article=article, urls=urls, keys=keys)

    transaction.on_commit(bump)


def _shows_publicly(article):
    return article.status in PUBLIC_STATUSES


# --- model signals -------------------------------------------------------------------------

CONTENT_FIELDS = {"kicker", "headline", "subtitle", "summary", "body", "author_line"}


@receiver(pre_save, sender=Article)
def _remember_previous_state(sender, instance, **kwargs):
    instance._reader_previous = None
    if instance.pk:
        instance._reader_previous = (
            Article.objects.filter(pk=instance.pk).values("status", "section_id", "slug", "deleted_at").first()
        )


@receiver(post_save, sender=Article)
def _article_saved(sender, instance, created, update_fields=None, raw=False, **kwargs):
    if raw:
        return
    if update_fields is None or CONTENT_FIELDS & set(update_fields):
        from articles.search import index_article

        index_article(instance)
    previous = getattr(instance, "_reader_previous", None) or {}
    # A story moved to or out of the trash keeps its status: its pages change all the same.
    trash_moved = bool(previous) and previous.get("deleted_at") != instance.deleted_at
    if _shows_publicly(instance) or previous.get("status") in PUBLIC_STATUSES or trash_moved:
        paths = []
        if previous.get("slug") and previous["slug"] != instance.slug:
            paths.append(reverse("articles:detail_slug", kwargs={"pk": instance.pk, "slug": previous["slug"]}))
        invalidate_article(instance, section_ids=[previous.get("section_id")], paths=paths)


# Stories being deleted: the deletion of their bylines and photos must not re-index them.
_deleting = set()


@receiver(pre_delete, sender=Article)
def _remember_pages_of_deleted(sender, instance, **kwargs):
    _deleting.add(instance.pk)
    # Its tags, bylines and links are gone by post_delete: name its pages while they exist.
    instance._reader_urls = None
    if _shows_publicly(instance) and public_urls_changed.has_listeners():
        instance._reader_urls = urls_for_article(instance)


@receiver(post_delete, sender=Article)
def _article_deleted(sender, instance, **kwargs):
    _deleting.discard(instance.pk)
    page_cache.forget_next_scheduled()
    keys = {story_key(instance.pk), HOME, FEEDS, SITEMAPS, SEARCH}
    if instance.section_id:
        keys.add(section_key(instance.section_id))
    urls = getattr(instance, "_reader_urls", None)

    def bump():
        page_cache.invalidate(keys)
        if urls:
            public_urls_changed.send(sender=Article, article=instance, urls=urls, keys=keys)

    transaction.on_commit(bump)


def _parts_changed(article_id, reindex=True, **previous):
    if article_id in _deleting:
        return
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return
    if reindex:
        from articles.search import index_article

        index_article(article)
    if _shows_publicly(article):
        invalidate_article(article, **previous)


@receiver(post_save, sender=Byline)
@receiver(post_delete, sender=Byline)
@receiver(post_save, sender=ArticleImage)
@receiver(post_delete, sender=ArticleImage)
def _byline_or_photo_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        # A byline taken off (or moved to another person) leaves that person's page.
        _parts_changed(instance.article_id, person_ids=[instance.person_id] if sender is Byline else [])
        if sender is Byline:
            transaction.on_commit(lambda: page_cache.invalidate({person_key(instance.person_id)}))


@receiver(post_save, sender=Correction)
@receiver(post_delete, sender=Correction)
@receiver(post_save, sender=RelatedLink)
@receiver(post_delete, sender=RelatedLink)
@receiver(post_save, sender=Recommendation)
@receiver(post_delete, sender=Recommendation)
def _story_block_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _parts_changed(instance.article_id, reindex=False)


@receiver(m2m_changed, sender=Article.tags.through)
def _tags_changed(sender, instance, action, pk_set=None, **kwargs):
    if not isinstance(instance, Article):
        return
    if action == "pre_clear":
        instance._reader_previous_tags = set(instance.tags.values_list("pk", flat=True))
    elif action in {"post_add", "post_remove", "post_clear"} and _shows_publicly(instance):
        removed = set(pk_set or ()) | getattr(instance, "_reader_previous_tags", set())
        invalidate_article(instance, tag_ids=removed)


@receiver(post_save, sender=Image)
@receiver(post_delete, sender=Image)
def _image_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    transaction.on_commit(lambda: page_cache.invalidate({image_key(instance.pk), SEARCH}))
    using = set(ArticleImage.objects.filter(image=instance).values_list("article_id", flat=True))
    using |= set(Article.objects.filter(thumbnail=instance).values_list("pk", flat=True))
    for article_id in using:
        _parts_changed(article_id)


@receiver(post_save, sender=Person)
@receiver(post_delete, sender=Person)
def _person_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return

    def bump():
        page_cache.invalidate({person_key(instance.pk)})
        if public_urls_changed.has_listeners():
            urls = [reverse("articles:person", kwargs={"pk": instance.pk})]
            public_urls_changed.send(sender=Person, article=None, urls=urls, keys={person_key(instance.pk)})

    transaction.on_commit(bump)


@receiver(post_save, sender=Section)
@receiver(post_delete, sender=Section)
@receiver(post_save, sender=Outlet)
@receiver(post_delete, sender=Outlet)
def _site_chrome_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return

    def bump():
        page_cache.invalidate({SITE})
        if public_urls_changed.has_listeners():
            # Every page prints the section navigation: listeners that keep copies of
            # pages (static files) must refresh all of them; the section's own pages first.
            urls = [reverse("articles:home"), reverse("sitemap_sections")]
            if sender is Section:
                urls += [
                    reverse("articles:section", kwargs={"slug": instance.slug}),
                    reverse("articles:section_feed", kwargs={"slug": instance.slug}),
                    reverse("articles:section_atom", kwargs={"slug": instance.slug}),
                ]
            public_urls_changed.send(sender=sender, article=None, urls=urls, keys={SITE})

    transaction.on_commit(bump)
