"""manage.py sync_photo_visibility: put every photo's files where its stories say they belong.

A photo's renditions are readers' while a story readers can see prints it, and kept private
otherwise; originals are always private (delivery.photos). Changes keep this up to date on
their own; run this once after upgrading from a version that kept every file public, after
a restore or `move_media_to_storage`, or to check: `--check` only counts what is out of place.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.models import Image, Rendition
from articles.photo_storage import photo_storage
from cdn import purge
from delivery import photos

CHUNK = 500


class Command(BaseCommand):
    help = "Move photos' files to match their stories' visibility (public renditions, private originals)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only count the photos out of place; exit 1 if any")

    def handle(self, *args, check, **options):
        ids = list(photos.all_image_ids())
        if check:
            misplaced = self.misplaced(ids)
            if misplaced:
                raise CommandError(f"{len(misplaced)} of {len(ids)} photos have files out of place: {misplaced[:20]}")
            self.stdout.write(self.style.SUCCESS(f"All {len(ids)} photos have their files in place."))
            return
        hidden = []
        for start in range(0, len(ids), CHUNK):
            hidden += photos.sync(ids[start : start + CHUNK])
        paths = photos.site_paths(hidden)
        if paths:
            purge.request(paths, set(), reason="sync_photo_visibility")
        public = Image.objects.filter(is_public=True).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(ids)} photos: {public} public, {len(ids) - public} private; "
                f"{len(hidden)} files taken away from readers."
            )
        )

    def misplaced(self, ids):
        wanted = photos.live_image_ids(ids)
        out = []
        for image in Image.objects.filter(pk__in=ids).only("pk", "file"):
            names = list(Rendition.objects.filter(image=image).values_list("file", flat=True))
            public = image.pk in wanted
            if (image.file and photo_storage.is_public(image.file.name)) or any(
                photo_storage.is_public(name) != public for name in names
            ):
                out.append(image.pk)
        return out
