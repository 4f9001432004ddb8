from django.core.management.base import BaseCommand

from editorial import workflow


class Command(BaseCommand):
    help = (
        "Record scheduled stories whose time has come as published and send their mail. "
        "Readers already see them from their time; run this from cron for the record and notices."
    )

    def handle(self, *args, **options):
        moved = workflow.publish_due()
        for article in moved:
            self.stdout.write(f"published: {article.pk} {article.headline}")
        self.stdout.write(self.style.SUCCESS(f"{len(moved)} scheduled stories marked published."))
