"""Put back in the queue the tasks a worker started long ago and never finished.

A worker that is killed outright (kill -9, out of memory, the machine lost) leaves the task
it was running marked RUNNING, and the database backend of django-tasks never looks at it
again: the static files and CDN purges of that change would wait for the next change. Run
every few minutes (deploy/systemd/newsroom-task-upkeep.timer), this makes such a task READY
again so that a worker runs it. Delivery's tasks are safe to run twice (they rewrite files
and purge addresses from the database as it is now), so the only cost of requeueing a task
that was merely slow is doing its work again; the age limit is far above what a task takes.
"""

import logging
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("newsroom.tasks")


class Command(BaseCommand):
    help = "Make tasks left RUNNING by a worker that died (started more than --minutes ago) READY again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes", type=int, default=10, help="how long a task may run before it counts as stuck (default 10)"
        )

    def handle(self, *args, minutes, **options):
        stuck = DBTaskResult.objects.running().filter(started_at__lt=timezone.now() - timedelta(minutes=minutes))
        requeued = []
        for row in stuck.only("id", "task_path", "started_at", "worker_ids"):
            # One row at a time, and only if it is still RUNNING: a worker finishing it meanwhile wins.
            if DBTaskResult.objects.running().filter(pk=row.pk).update(status=TaskResultStatus.READY, started_at=None):
                requeued.append(row)
                logger.warning(
                    "task requeued: id=%s path=%s started %s by worker %s never finished",
                    row.id, row.task_path, row.started_at.isoformat(), (row.worker_ids or ["?"])[-1],
                )
        self.stdout.write(f"{len(requeued)} stuck task(s) requeued.")
