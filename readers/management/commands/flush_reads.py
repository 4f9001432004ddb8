"""manage.py flush_reads: add the reads counted in the cache to the database and work out the
点击排行 lists again (readers.most_read). Run it from cron every few minutes; the beacon also
flushes by itself when NEWSROOM_MOST_READ_SECONDS have passed, so it is not the only way."""

from django.core.management.base import BaseCommand

from readers import most_read


class Command(BaseCommand):
    help = "Add the reads counted in the cache to the database and refresh the most-read lists."

    def handle(self, *args, **options):
        added = most_read.flush()
        if added is None:
            self.stdout.write("Another flush is running; nothing done.")
            return
        lists = most_read.current_lists()
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {added} reads. Most read today: {len(lists['today'].get('site', []))} stories, "
                f"this week: {len(lists['week'].get('site', []))}."
            )
        )
