from django.core.management.base import BaseCommand

from editorial import deadlines


class Command(BaseCommand):
    help = (
        "Mail the duty editor (值班编辑) of each review stage that has run past its deadline: "
        "急稿 and ordinary stories each have their own (the chief sets them). Each stay in a stage "
        "is mailed about once, however often this runs; run it from cron every minute, on one "
        "server or several."
    )

    def handle(self, *args, **options):
        notices = deadlines.notify_overdue()
        for notice in notices:
            self.stdout.write(f"overdue: {notice.article_id} {notice.get_stage_display()} -> {notice.recipients or '-'}")
        self.stdout.write(self.style.SUCCESS(f"{len(notices)} overdue stages mailed about."))
