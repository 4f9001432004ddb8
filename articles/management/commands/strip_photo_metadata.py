"""manage.py strip_photo_metadata: clean the originals stored before uploads were cleaned.

New uploads lose their personal metadata, comments, text chunks and trailing bytes on the
way in (articles.photo_metadata). Originals stored by an older version, or copied into the
media folder by hand, may still carry the author, the camera's serial number, the GPS
position or the time of the shot. This rewrites each such original in place, under the same
name, with the same pixels; renditions never carried any (they are re-encoded). Placeholders
are skipped. `--dry-run` only counts.
"""

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand

from articles.models import Image
from articles.photo_metadata import without_metadata


class Command(BaseCommand):
    help = "Remove personal metadata and anything hidden from the stored originals of photos (same pixels, same names)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only say which originals would change")

    def handle(self, *args, dry_run, **options):
        cleaned = unreadable = 0
        photos = Image.objects.filter(is_placeholder=False).exclude(file="").only("pk", "file")
        for image in photos.iterator(chunk_size=200):
            storage, name = image.file.storage, image.file.name
            try:
                with storage.open(name, "rb") as handle:
                    data = handle.read()
                result = without_metadata(data)
            except Exception as error:  # a missing or undecodable file: say so, go on
                unreadable += 1
                self.stderr.write(f"photo {image.pk} ({name}) could not be read: {error}")
                continue
            if result is None:
                continue
            cleaned += 1
            if dry_run:
                self.stdout.write(f"would clean photo {image.pk} ({name}): {len(data)} → {len(result)} bytes")
                continue
            storage.delete(name)
            saved = storage.save(name, ContentFile(result))
            if saved != name:
                self.stderr.write(f"photo {image.pk}: stored as {saved} instead of {name}; left for a look")
            elif options["verbosity"] > 1:
                self.stdout.write(f"cleaned photo {image.pk} ({name})")
        verb = "would be cleaned" if dry_run else "cleaned"
        self.stdout.write(self.style.SUCCESS(f"{cleaned} originals {verb}; {unreadable} could not be read."))
