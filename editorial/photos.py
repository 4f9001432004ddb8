"""Photos the newsroom sees before readers do: signed, expiring addresses.

A photo no public story prints is kept where readers' addresses do not reach
(articles.photo_storage). The desk still needs to see it: in the photo library, in a
story's preview, on a share link sent to an outside reviewer. For them the page prints a
signed address, ``/review/photo/<token>/``, that names one file and expires after
``NEWSROOM_PRIVATE_PHOTO_SECONDS`` (six hours by default: a preview left open in a tab
still shows its photos; reloading the page gives new addresses).

Pages for readers never print such an address: they are cached, published as static files
and kept by CDNs, where an expiring address would break. Only inside `staff_addresses()`
(the preview and share views) does `photo_url` sign the addresses of photos that are not
public.
"""

import contextlib
import contextvars
import mimetypes
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404
from django.urls import reverse
from django.views.decorators.http import require_safe

from articles.photo_storage import photo_storage

SALT = "newsroom.private-photo"
# Files a signed address may name: a photo's original or its renditions, nothing else.
SIGNABLE_FOLDERS = ("photos/", "renditions/")

_signing = contextvars.ContextVar("newsroom_private_photo_addresses", default=False)


def lifetime():
    return timedelta(seconds=getattr(settings, "NEWSROOM_PRIVATE_PHOTO_SECONDS", 6 * 3600))


def signed_url(name):
    """A signed, expiring address of the stored file `name`, for the newsroom's eyes."""
    token = signing.dumps(name, salt=SALT, compress=True)
    return reverse("editorial:photo", args=[token])


@contextlib.contextmanager
def staff_addresses():
    """Within this block, `photo_url` signs the addresses of photos readers may not fetch."""
    marker = _signing.set(True)
    try:
        yield
    finally:
        _signing.reset(marker)


def photo_url(image, name):
    """The address a page prints for the file `name` of `image` (its original or a rendition)."""
    if _signing.get() and not image.is_public:
        return signed_url(name)
    return photo_storage.url(name)


@require_safe
def private_photo(request, token):
    """The file a signed address names, while the address lasts."""
    try:
        name = signing.loads(token, salt=SALT, max_age=lifetime())
    except signing.BadSignature:  # expired, altered or made up
        raise Http404
    if not isinstance(name, str) or not name.startswith(SIGNABLE_FOLDERS) or ".." in name.split("/"):
        raise Http404
    try:
        handle = photo_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = f"private, max-age={int(lifetime().total_seconds())}"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Referrer-Policy"] = "no-referrer"
    return response


class _SignedFile:
    """A stored file as the file input shows it: its name, and a signed address."""

    def __init__(self, file):
        self.name = file.name
        self.url = signed_url(file.name)

    def __str__(self):
        return self.name


class SignedFileInput(forms.ClearableFileInput):
    """A photo's file field whose "currently" link opens the file through a signed address."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if context["widget"]["is_initial"] and getattr(value, "name", None):
            context["widget"]["value"] = _SignedFile(value)
        return context
