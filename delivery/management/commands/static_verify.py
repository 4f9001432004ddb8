"""Compare the static pages on disk with what the database says they are now."""

from django.core.management.base import BaseCommand, CommandError

from delivery import static_publish

SHOWN = 20


class Command(BaseCommand):
    help = "Check every static page (静态发布) against the database: missing, stale and extra files."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="write missing/stale pages, delete extra files")
        parser.add_argument("--every", type=float, default=2.0, help="seconds between progress lines")

    def handle(self, *args, fix, every, **options):
        if not static_publish.enabled():
            raise CommandError("Static publishing is off: set NEWSROOM_STATIC_PUBLISH_ROOT.")

        def report(done, total, rate):
            self.stdout.write(f"{done:>10,} / {total:,} pages checked  {rate:7.1f} pages/s")

        found = static_publish.verify(report=report, every=every, fix=fix)
        for label, urls in (("missing", found.missing), ("stale", found.stale), ("extra", found.extra),
                            ("failed", found.failed)):
            for url in urls[:SHOWN]:
                self.stdout.write(f"{label}: {url}")
            if len(urls) > SHOWN:
                self.stdout.write(f"{label}: … and {len(urls) - SHOWN:,} more")
        if found.site_stale:
            self.stdout.write("site: sections or outlets changed since the last rebuild; run static_rebuild")
        summary = (
            f"{found.checked:,} pages checked: {len(found.missing)} missing, {len(found.stale)} stale, "
            f"{len(found.extra)} extra, {len(found.failed)} failed"
        )
        if found.ok:
            self.stdout.write(self.style.SUCCESS(summary + ". Files match the database."))
        elif fix:
            self.stdout.write(self.style.WARNING(summary + "; fixed."))
        else:
            raise CommandError(summary + ".")
