"""manage.py backup_newsroom OUT.tar.gz: every app's rows and the media files they name."""

from django.core.management.base import BaseCommand

from newsroom.backup import create_backup


class Command(BaseCommand):
    help = "Write the whole newsroom (database rows of every app and media files) to one .tar.gz."

    def add_arguments(self, parser):
        parser.add_argument("out", help="the archive to write, e.g. newsroom-2026-11-27.tar.gz")

    def handle(self, *args, out, **options):
        manifest = create_backup(out)
        rows = sum(manifest["models"].values())
        self.stdout.write(self.style.SUCCESS(f"Backed up {rows} rows and {len(manifest['files'])} files to {out}"))
        for name in manifest["missing_files"]:
            self.stderr.write(f"warning: {name} is named in the database but missing from storage; not in the backup")
