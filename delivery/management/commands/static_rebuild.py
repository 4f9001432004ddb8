"""Write every published page as a file from scratch, then swap the new folder in."""

from django.core.management.base import BaseCommand, CommandError

from delivery import static_publish


class Command(BaseCommand):
    help = "Rebuild every static page (静态发布) into a fresh folder and swap it in, showing progress."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=2.0, help="seconds between progress lines")
        parser.add_argument(
            "--resume", action="store_true", help="carry on with an interrupted rebuild, skipping the files it wrote"
        )

    def handle(self, *args, every, resume, **options):
        if not static_publish.enabled():
            raise CommandError("Static publishing is off: set NEWSROOM_STATIC_PUBLISH_ROOT.")

        def report(done, total, rate):
            left = max(total - done, 0) / rate if rate else 0
            self.stdout.write(
                f"{done:>10,} / {total:,} pages  {min(done / max(total, 1), 1):6.1%}  "
                f"{rate:7.1f} pages/s  about {int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d} left"
            )

        unfinished = static_publish.unfinished_generations()
        if unfinished and not resume:
            self.stdout.write(
                f"An interrupted rebuild left {unfinished[-1].name}; starting again (--resume carries on with it)."
            )
        try:
            result = static_publish.rebuild(report=report, every=every, resume=resume)
        except KeyboardInterrupt:
            raise CommandError("Interrupted: the live site is unchanged; run static_rebuild --resume to carry on.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt {static_publish.root()}: {len(result.written):,} files written, "
                f"{result.pages:,} pages checked at {result.rate:.1f} pages/s, {len(result.failed)} failed"
                + (f"; resumed, {result.skipped:,} already written." if result.resumed else ".")
            )
        )
        for url in result.failed:
            self.stderr.write(f"failed: {url}")
        if result.failed:
            raise CommandError(f"{len(result.failed)} pages could not be rendered; Django serves them.")
