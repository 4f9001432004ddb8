"""manage.py restore_newsroom IN.tar.gz: load a backup into a freshly migrated, empty database."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from newsroom.backup import restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_newsroom into an empty database "
        "(run `manage.py migrate` on a new database first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the archive backup_newsroom wrote")

    def handle(self, *args, backup, **options):
        manifest = restore_backup(backup)
        # Restored files are written to the private place; readers get back those of live stories.
        call_command("sync_photo_visibility", stdout=self.stdout, stderr=self.stderr)
        rows = sum(manifest["models"].values())
        self.stdout.write(
            self.style.SUCCESS(f"Restored {rows} rows and {len(manifest['files'])} files from {backup} ({manifest['created_at']})")
        )
