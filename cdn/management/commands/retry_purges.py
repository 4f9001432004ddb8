"""Deliver the CDN purges that failed when their change was saved (run from cron every minute)."""

import time

from django.core.management.base import BaseCommand, CommandError

from cdn import conf
from cdn.models import PendingPurge
from cdn.purge import retry_pending


class Command(BaseCommand):
    help = (
        "Send again the CDN purges a cache server or the CDN's API did not confirm. Safe to run "
        "from cron on several servers at once; exits with status 1 while some still fail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="retry every kept purge now, not only those whose backoff is over"
        )
        parser.add_argument(
            "--max-seconds", type=float, default=50.0,
            help="stop taking new rounds after this long (default 50, under a cron minute)",
        )

    def handle(self, *args, all, max_seconds, **options):
        if not conf.enabled() and not PendingPurge.objects.exists():
            self.stdout.write("No CDN is configured and no purge is kept: nothing to do.")
            return
        delivered, failing = retry_pending(everything=all, deadline=time.monotonic() + max_seconds)
        waiting = PendingPurge.objects.count()
        self.stdout.write(f"{delivered} delivered, {failing} still failing, {waiting} kept in all.")
        if failing:
            raise CommandError(f"{failing} purges still fail; see the newsroom.cdn log or the admin's pending CDN purges.")
