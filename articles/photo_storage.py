"""Where a photo's bytes live: at its name when readers may fetch it, under private/ when not.

A photo (Image.file) and its renditions (Rendition.file) keep one name for life, e.g.
``renditions/2026/12/<random>-w800-<random>.jpg``, and one public address built from it
(MEDIA_URL + name): pages, caches, static files and feeds print that address and never
need rewriting when the photo's visibility changes. What changes is where the bytes are:

* ``<name>`` in the media storage: readers' address answers (nginx, the bucket's public
  policy or Django's media view serve it);
* ``private/<name>``: the newsroom's own copy, which no public address reaches. Staff and
  share links see it through signed, expiring addresses (editorial.photos).

Every new file is written privately. `publish(name)` and `unpublish(name)` move the bytes
between the two places; delivery.photos decides when (a photo is public while a public
story prints it). Originals are never published: readers only ever get renditions.

`PhotoStorage` wraps the configured media storage (``default_storage``: a folder or an
S3-compatible bucket) and looks in both places, so everything that reads or deletes files
by name (renditions, backups, ``move_media_to_storage``, deleting a photo) works whatever
the photo's visibility, including files stored before this split, which sit at their name.
"""

import os

from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.utils.deconstruct import deconstructible

from newsroom.storage import storage_problem

PRIVATE = "private/"


def private_name(name):
    return PRIVATE + name


@deconstructible(path="articles.photo_storage.PhotoStorage")
class PhotoStorage(Storage):
    """The media storage, with a private place for the files readers may not fetch."""

    @property
    def inner(self):
        return default_storage

    # --- where the bytes are --------------------------------------------------------------

    def located(self, name):
        """The name under which the inner storage holds `name` now (private first)."""
        private = private_name(name)
        if self.inner.exists(private):
            return private
        return name

    def is_public(self, name):
        """Whether readers' address of `name` answers (the bytes sit at the name itself)."""
        return self.inner.exists(name)

    def publish(self, name):
        """Move `name` to its public place; True if it moved."""
        return self._move(private_name(name), name)

    def unpublish(self, name):
        """Move `name` to its private place; True if it moved (it was public)."""
        return self._move(name, private_name(name))

    def _move(self, source, target):
        inner = self.inner
        if not inner.exists(source):
            return False
        if isinstance(inner, FileSystemStorage):
            # One rename on the same disk: readers never see half a file.
            target_path = inner.path(target)
            os.makedirs(os.path.dirname(target_path), exist_ok=True)
            os.replace(inner.path(source), target_path)
            return True
        copy = getattr(inner, "copy_within", None)
        if callable(copy):
            copy(source, target)  # a bucket copies server-side (newsroom.s3.MediaStorage)
        else:
            if inner.exists(target):
                inner.delete(target)
            with inner.open(source, "rb") as handle:
                saved = inner.save(target, handle)
            if saved != target:
                inner.delete(saved)
                raise OSError(f"could not store {target} under its own name (got {saved})")
        inner.delete(source)
        return True

    def problem(self):
        """Why nothing can be stored now (newsroom.storage), asked of the storage underneath."""
        return storage_problem(self.inner)

    def describe(self):
        describe = getattr(self.inner, "describe", None)
        return describe() if callable(describe) else str(getattr(self.inner, "location", ""))

    # --- the Storage API, over both places ------------------------------------------------

    def _open(self, name, mode="rb"):
        return self.inner.open(self.located(name), mode)

    def _save(self, name, content):
        saved = self.inner.save(private_name(name), content)
        return saved[len(PRIVATE) :] if saved.startswith(PRIVATE) else saved

    def get_valid_name(self, name):
        return self.inner.get_valid_name(name)

    def exists(self, name):
        return self.inner.exists(private_name(name)) or self.inner.exists(name)

    def delete(self, name):
        for where in (private_name(name), name):
            if self.inner.exists(where):
                self.inner.delete(where)

    def size(self, name):
        return self.inner.size(self.located(name))

    def url(self, name):
        """Readers' address: it answers once the photo is published."""
        return self.inner.url(name)

    def path(self, name):
        return self.inner.path(self.located(name))

    def listdir(self, path):
        folders, files = set(), set()
        for where in (private_name(path), path):
            try:
                found_folders, found_files = self.inner.listdir(where)
            except (FileNotFoundError, NotADirectoryError):
                continue
            folders.update(found_folders)
            files.update(found_files)
        if not path.strip("/"):
            folders.discard(PRIVATE.strip("/"))
        return sorted(folders), sorted(files)

    def get_accessed_time(self, name):
        return self.inner.get_accessed_time(self.located(name))

    def get_created_time(self, name):
        return self.inner.get_created_time(self.located(name))

    def get_modified_time(self, name):
        return self.inner.get_modified_time(self.located(name))


photo_storage = PhotoStorage()


def get_photo_storage():
    """The storage of photos and renditions (a callable, so migrations name no instance)."""
    return photo_storage
