"""manage.py move_media_to_storage: copy the media files the database names from a local
folder into the configured media storage (an S3-compatible bucket), under the same names.

Run it once after setting AWS_STORAGE_BUCKET_NAME on a site that kept its photos on disk.
Every file a row points at (photos, renditions, anything a later model adds) is copied
unless the storage already holds it with the same size, then read back to check its size.
The local files are never deleted: remove the folder yourself once the site shows its
photos from the bucket. Running it again copies only what is still missing.
"""

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from newsroom.backup import require_media_storage, stored_files


class Command(BaseCommand):
    help = "Copy every media file the database names from a local folder (MEDIA_ROOT) into the media storage (bucket)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", help="the local media folder (default MEDIA_ROOT)")
        parser.add_argument("--dry-run", action="store_true", help="only say what would be copied")

    def handle(self, *args, source, dry_run, **options):
        folder = Path(source or settings.MEDIA_ROOT)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder; give the old media folder with --from.")
        local = FileSystemStorage(location=folder)
        files = stored_files()
        storages = [default_storage, *files.values()]
        for storage in storages:
            if isinstance(storage, FileSystemStorage) and Path(storage.location).resolve() == folder.resolve():
                raise CommandError(
                    f"The media storage is {folder} itself: nothing to move. "
                    "Set AWS_STORAGE_BUCKET_NAME (docs/deploy/media-storage.md) and run this again."
                )
        require_media_storage(storages)

        copied = present = 0
        copied_bytes = 0
        missing, differing = [], []
        for name, storage in sorted(files.items()):
            # A photo's file sits at its name or, not public, under private/ (articles.photo_storage).
            held = next((where for where in (f"private/{name}", name) if local.exists(where)), None)
            if held is None:
                missing.append(name)
                continue
            size = local.size(held)
            if storage.exists(name):
                if storage.size(name) == size:
                    present += 1
                else:
                    differing.append(name)
                continue
            if dry_run:
                self.stdout.write(f"would copy {name} ({size} bytes)")
                copied += 1
                copied_bytes += size
                continue
            with local.open(held, "rb") as handle:
                saved = storage.save(name, File(handle, name=name))
            if saved != name or storage.size(name) != size:
                raise CommandError(f"{name} was not stored whole under its own name (got {saved}); stopped.")
            copied += 1
            copied_bytes += size
            if options["verbosity"] > 1:
                self.stdout.write(f"copied {name}")

        for name in missing:
            self.stderr.write(f"warning: {name} is named in the database but not in {folder}; not copied")
        for name in differing:
            self.stderr.write(f"error: {name} is already in the storage with a different size; left as it is")
        verb = "Would copy" if dry_run else "Copied"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {copied} files ({copied_bytes / 1_048_576:.1f} MB); {present} already in the storage; "
                f"{len(missing)} missing from {folder}."
            )
        )
        if differing:
            raise CommandError(f"{len(differing)} files differ between {folder} and the storage; see above.")
        if copied and not dry_run:
            # Copies are written to the private place; readers get back those of live stories.
            call_command("sync_photo_visibility", stdout=self.stdout, stderr=self.stderr)
