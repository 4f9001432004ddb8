"""Readers' photos served by Django (a single server without nginx, and `make run`).

Only renditions of public photos answer (articles.photo_storage keeps the others where no
address reaches); originals never do, whatever their state. A rendition asked for just
after a scheduled story's time, before the task publishing its photos has run, is
published on the spot if the story is live (delivery.photos.publish_if_live).

With nginx in front, nginx serves MEDIA_ROOT itself and refuses the private folder and
originals (deploy/nginx); with a bucket, its policy does (docs/deploy/media-storage.md).
"""

import mimetypes
import posixpath

from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404
from django.urls import path
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from articles.photo_storage import photo_storage, private_name
from delivery import photos

READERS_FOLDER = "renditions/"
# Renditions never change under one name: browsers keep them a day, shared caches (purged
# when a photo stops being public) a month.
CACHE_CONTROL = "public, max-age=86400, s-maxage=2592000"


@require_safe
def media(request, path):
    name = posixpath.normpath(path)
    if not name.startswith(READERS_FOLDER) or name != path or ".." in name.split("/"):
        raise Http404
    inner = photo_storage.inner
    try:
        if not inner.exists(name) and not (inner.exists(private_name(name)) and photos.publish_if_live(name)):
            raise Http404
        handle = inner.open(name, "rb")
    except (SuspiciousFileOperation, FileNotFoundError):
        raise Http404
    response = FileResponse(handle, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    try:
        response["Last-Modified"] = http_date(inner.get_modified_time(name).timestamp())
    except (NotImplementedError, OSError):
        pass
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


urlpatterns = [path("<path:path>", media, name="media")]
