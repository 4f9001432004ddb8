"""A photo's files follow its row, in whatever storage holds them (disk or bucket).

- Deleting a photo removes its original and every rendition from the storage. A photo
  that a story still prints cannot be deleted at all (PROTECT on ArticleImage.image and
  Article.thumbnail), so this only ever removes files nobody shows.
- Replacing a photo's file removes the old original and the renditions made from it;
  new ones are made from the new file.
- A new upload gets its renditions at once, so the first reader of the story does not
  wait for the original to be fetched and resized.

Files are removed only after the database has committed: a rolled-back delete leaves
every file in place. A file that cannot be removed then (the storage is down) is logged
for the operator and left behind, unreferenced under its random name; the delete itself
has already happened and is not undone.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from newsroom.storage import is_storage_failure

from .models import Image, Rendition
from .renditions import ensure_renditions

logger = logging.getLogger("newsroom.media")


def delete_file_after_commit(storage, name):
    """Remove `name` from `storage` once the current transaction commits."""
    if not name:
        return

    def remove():
        try:
            storage.delete(name)
        except Exception as error:  # the rows are gone already; a leftover file must not fail the request
            logger.warning("could not remove %s from the media storage (%s); remove it by hand", name, error)

    transaction.on_commit(remove)


def make_renditions_after_commit(image):
    """Make the renditions of a new upload once it is committed; if the storage fails
    now, pages make them on first view instead."""

    def make():
        if image.pk is None:  # not saved after all
            return
        try:
            ensure_renditions(image)
        except Exception as error:
            if not (is_storage_failure(error) or isinstance(error, OSError)):
                raise
            logger.warning("renditions of photo %s not made now (%s); the first page view makes them", image.pk, error)

    transaction.on_commit(make)


@receiver(post_delete, sender=Image)
def _photo_deleted(sender, instance, **kwargs):
    delete_file_after_commit(instance.file.storage, instance.file.name)


@receiver(post_delete, sender=Rendition)
def _rendition_deleted(sender, instance, **kwargs):
    delete_file_after_commit(instance.file.storage, instance.file.name)


@receiver(pre_save, sender=Image)
def _note_replaced_file(sender, instance, raw=False, **kwargs):
    if raw or instance._state.adding or instance.pk is None:
        return
    stored = Image.objects.filter(pk=instance.pk).values_list("file", flat=True).first()
    if stored and stored != instance.file.name:
        instance._replaced_file = stored


@receiver(post_save, sender=Image)
def _drop_replaced_file(sender, instance, raw=False, **kwargs):
    replaced = instance.__dict__.pop("_replaced_file", None)
    if raw or replaced is None:
        return
    getattr(instance, "_prefetched_objects_cache", {}).pop("renditions", None)
    for rendition in Rendition.objects.filter(image=instance):
        rendition.delete()  # its file goes after commit (_rendition_deleted)
    Image.objects.filter(pk=instance.pk).update(rendition_index={})
    instance.rendition_index = {}
    delete_file_after_commit(instance.file.storage, replaced)
    make_renditions_after_commit(instance)
