from django.core.management.base import BaseCommand

from editorial import workflow


class Command(BaseCommand):
    help = (
        "Record scheduled stories whose time has come as published, send their mail and queue "
        "their static files and CDN purges. Readers already see them from their time; run this "
        "from cron every minute, on one server or several (each story is published once)."
    )

    def handle(self, *args, **options):
        moved = workflow.publish_due()
        for article in moved:
            self.stdout.write(f"published: {article.pk} {article.headline}")
        self.stdout.write(self.style.SUCCESS(f"{len(moved)} scheduled stories marked published."))
