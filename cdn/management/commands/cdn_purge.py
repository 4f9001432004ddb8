"""Purge pages or keys by hand (after a template change, or to test the CDN set-up)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from cdn import conf
from cdn.models import PendingPurge
from cdn.purge import send


class Command(BaseCommand):
    help = (
        "Tell the CDN to drop the given public paths and/or dependency keys now, e.g. "
        "`cdn_purge / /sections/local/` or `cdn_purge --key site` (every page). What the CDN "
        "does not confirm is kept for retry_purges, like any other purge."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="public paths, e.g. / or /stories/12/")
        parser.add_argument(
            "--key", action="append", default=[], dest="keys",
            help="a dependency key such as site, home, story:12, section:3 (may be repeated)",
        )

    def handle(self, *args, paths, keys, **options):
        try:
            cfg = conf.config()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        if not cfg.enabled:
            raise CommandError("No CDN is configured: set NEWSROOM_CDN_BACKEND (docs/deploy/cdn.md).")
        if not paths and not keys:
            raise CommandError("Name some paths, or --key.")
        for given, kind in ((paths, "urls"), (keys, "keys")):
            if given and kind not in cfg.purge_by:
                raise CommandError(
                    f"NEWSROOM_CDN_PURGE_BY={','.join(sorted(cfg.purge_by))}: this CDN is not told about {kind}."
                )
        bad = [path for path in paths if not path.startswith("/")]
        if bad:
            raise CommandError(f"Paths start with '/': {', '.join(bad)}")
        before = set(PendingPurge.objects.values_list("pk", flat=True))
        send(paths, keys, reason="by hand")
        kept = PendingPurge.objects.exclude(pk__in=before).count()
        if kept:
            raise CommandError(f"{kept} targets did not confirm; kept for retry_purges (see the newsroom.cdn log).")
        self.stdout.write(self.style.SUCCESS(f"Purged {len(paths)} paths and {len(keys)} keys."))
