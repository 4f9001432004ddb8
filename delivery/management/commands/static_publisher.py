"""A small long-running loop: scheduled stories appear as files the second their time comes."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from delivery import static_publish


class Command(BaseCommand):
    help = (
        "Keep static pages (静态发布) current with time: write the pages of scheduled stories when "
        "their time comes, and rebuild everything after a section/outlet change. Optional: without "
        "it, `static_publish --due` from cron does the same each minute, and Django answers meanwhile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=30.0, help="longest sleep in seconds")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args, poll, once, **options):
        if not static_publish.enabled():
            raise CommandError("Static publishing is off: set NEWSROOM_STATIC_PUBLISH_ROOT.")
        while True:
            tree = static_publish.root()
            if (tree / static_publish.SITE_STALE_MARKER).exists():
                self.stdout.write("Sections or outlets changed: rebuilding every page.")
                static_publish.rebuild()
            result = static_publish.publish_due()
            if result.written or result.removed:
                self.stdout.write(f"{timezone.now():%H:%M:%S} due: {len(result.written)} written, "
                                  f"{len(result.removed)} removed")
            if once:
                return
            # Wake when the next scheduled story's hold window opens, and again at its time.
            upcoming = static_publish.next_scheduled_time()
            wait = poll
            if upcoming is not None:
                left = (upcoming - timezone.now()).total_seconds()
                window = left - static_publish.hold_seconds()
                wait = min(poll, window if window > 0 else left + 0.05)
                wait = max(wait, 0.05)
            time.sleep(wait)
            close_old_connections()  # a long-lived process must not keep a dead connection
