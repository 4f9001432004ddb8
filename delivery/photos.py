"""Photos follow their stories: readers may fetch a photo while a public story prints it.

A photo (its renditions; originals are never public) is public while at least one story
that readers can see (``Article.objects.published()``: published, or scheduled and its
time come, and not in the trash) shows it among its photos or as its list thumbnail. The
bytes move between readers' place and the private one (articles.photo_storage); the
addresses printed on pages never change, so no page is rewritten for it.

When visibility is worked out again (`sync`):

* at every change of a story that is or was on public pages (``StoryChanged``), for the
  photos it shows now and showed before (and the lead images of its 专题 topics), as soon as the change commits, before the
  editor's page comes back: a signed-off story's photos are there for its first reader, a
  withdrawn story's photos stop answering at once. The CDN is asked to forget the
  addresses that stopped answering, with the story's pages;
* at a scheduled story's time, by a task queued for that moment (`sync_photos_at`), and
  again by ``publish_due``, which announces the story when it records it as published;
* when a reader asks Django's media view for a rendition that is not public yet although
  its story is live (a scheduled story whose task has not run): `publish_if_live`;
* by ``manage.py sync_photo_visibility`` for every photo (after an upgrade, a restore, or
  moving media to a bucket).
"""

import logging

from django.db import transaction

from articles.models import Article, ArticleImage, Image, Rendition, Topic

logger = logging.getLogger("newsroom.media")


def live_image_ids(image_ids):
    """Those of `image_ids` that a story readers can see prints now."""
    image_ids = set(image_ids)
    if not image_ids:
        return set()
    live = Article.objects.published()
    shown = set(
        ArticleImage.objects.filter(article__in=live, image_id__in=image_ids).values_list("image_id", flat=True)
    )
    thumbnails = set(live.filter(thumbnail_id__in=image_ids).values_list("thumbnail_id", flat=True))
    # A 专题's lead image is public while the topic's page is (one of its stories is live).
    leads = set(Topic.objects.public().filter(lead_image_id__in=image_ids).values_list("lead_image_id", flat=True))
    return shown | thumbnails | leads


def sync(image_ids):
    """Move the files of `image_ids` to match their visibility now; return the addresses
    that stopped answering readers (for the CDN to forget)."""
    image_ids = sorted(set(image_ids))
    if not image_ids:
        return []
    hidden_urls = []
    with transaction.atomic():
        # One sync of a photo at a time: a publication and a withdrawal racing over a shared
        # photo each decide from the database as it is when they hold the lock.
        images = list(Image.objects.select_for_update().filter(pk__in=image_ids).order_by("pk"))
        wanted = live_image_ids(image_ids)
        renditions = {}
        for rendition in Rendition.objects.filter(image_id__in=image_ids).only("image_id", "file"):
            renditions.setdefault(rendition.image_id, []).append(rendition.file)
        for image in images:
            public = image.pk in wanted
            files = renditions.get(image.pk, [])
            if public:
                for file in files:
                    file.storage.publish(file.name)
            else:
                for file in files:
                    if file.storage.unpublish(file.name):
                        hidden_urls.append(file.url)
            if image.file:
                # Originals stay private whatever the photo's state (files stored before the
                # split sit at their name: this moves them).
                image.file.storage.unpublish(image.file.name)
            if image.is_public != public:
                Image.objects.filter(pk=image.pk).update(is_public=public)
    return hidden_urls


def site_paths(urls):
    """The addresses the site's own CDN serves (paths under MEDIA_URL); photos in a bucket
    are answered by the bucket, which has forgotten them once they moved."""
    return [url for url in urls if url.startswith("/")]


def sync_after_commit(image_ids, *, reason=""):
    """`sync` once the current transaction commits; ask the CDN to forget what went private."""
    image_ids = tuple(sorted(set(image_ids)))
    if not image_ids:
        return

    def run():
        try:
            hidden = sync(image_ids)
        except Exception:
            # The change has committed; the worker's delivery of it syncs again.
            logger.exception("photo visibility of %s not brought up to date now; the delivery task retries", image_ids)
            return
        if site_paths(hidden):
            from cdn import purge

            purge.request(site_paths(hidden), set(), reason=reason or "photos no longer public")

    transaction.on_commit(run)


def publish_if_live(rendition_name):
    """A reader asked for a rendition that is not public: publish its photo if a story
    readers can see prints it now (a scheduled story whose time has come). True if it did."""
    rendition = Rendition.objects.filter(file=rendition_name).only("image_id").first()
    if rendition is None or rendition.image_id not in live_image_ids([rendition.image_id]):
        return False
    sync([rendition.image_id])
    return True


def images_of(changes):
    """The photos StoryChanged events concern: those their stories show now and showed before,
    and the lead images of their topics (one query for them all)."""
    ids, story_ids = set(), set()
    for event in changes:
        story_ids.add(event.story_id)
        for placement in (event.before, event.after):
            if placement is not None:
                ids.update(placement.image_ids)
    if story_ids:
        # A story's publication or withdrawal may open or close its topics' pages.
        ids.update(
            Topic.objects.filter(entries__article_id__in=story_ids, lead_image__isnull=False).values_list(
                "lead_image_id", flat=True
            )
        )
    return ids


def shown_by_stories(story_ids):
    """The photos the stories `story_ids` show (their photos and list thumbnails)."""
    ids = set(ArticleImage.objects.filter(article_id__in=story_ids).values_list("image_id", flat=True))
    ids |= set(
        Article.objects.filter(pk__in=story_ids, thumbnail__isnull=False).values_list("thumbnail_id", flat=True)
    )
    return ids


def all_image_ids():
    return Image.objects.values_list("pk", flat=True).iterator(chunk_size=2000)
