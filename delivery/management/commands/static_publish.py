"""Write the static files of given pages now, or of scheduled stories whose time has come."""

from django.core.management.base import BaseCommand, CommandError

from delivery import static_publish


class Command(BaseCommand):
    help = (
        "Regenerate static pages (静态发布): the addresses given, and with --due the pages of "
        "scheduled stories whose time has come (run from cron every minute)."
    )

    def add_arguments(self, parser):
        parser.add_argument("urls", nargs="*", help="public paths, e.g. / or /sections/local/")
        parser.add_argument("--due", action="store_true", help="pages of scheduled stories now due")

    def handle(self, *args, urls, due, **options):
        if not static_publish.enabled():
            raise CommandError("Static publishing is off: set NEWSROOM_STATIC_PUBLISH_ROOT.")
        if not urls and not due:
            raise CommandError("Name some addresses, or pass --due.")
        results = []
        if urls:
            results.append(static_publish.publish(urls))
        if due:
            results.append(static_publish.publish_due())
        written = sum(len(r.written) for r in results)
        removed = sum(len(r.removed) for r in results)
        failed = [url for r in results for url in r.failed]
        self.stdout.write(f"{written} written, {removed} removed, {len(failed)} failed.")
        if failed:
            raise CommandError("Could not render: " + ", ".join(failed))
