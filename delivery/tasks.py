"""Delivery's background work: what a committed change sends outside the database.

Rewriting static files and asking the CDN to purge take longer than an editor should wait
for the sign-off page, and must survive a crash of the web process. So the subscriber
(delivery.subscribers) does not do them itself: it enqueues `deliver_changes` with the events,
and a worker (``manage.py db_worker``, started by ``make run`` and by
deploy/systemd/newsroom-worker.service) does them shortly after.

The queue is django-tasks (settings.TASKS). With its database backend, the default, a task is
a row written in the same transaction as the change it follows: a rollback leaves no task, a
commit leaves one that a worker will run even if the web process dies the next moment. Other
backends (the immediate one of the tests, Redis through django-tasks-rq) cannot take part in
the transaction, so for them the task is enqueued once the change commits.
``enqueue_after_commit`` makes that choice in one place; docs/deploy/tasks.md has the rest.
"""

from django.db import DEFAULT_DB_ALIAS, router, transaction
from django_tasks import task
from django_tasks_db import DatabaseBackend


@task
def deliver_changes(changes):
    """Render into the read model, rewrite the static files of and purge the CDN addresses of
    the pages showing changes committed together.

    `changes` are events of articles.events as dicts (``as_dict()``): a task's arguments
    travel as JSON."""
    from delivery.subscribers import deliver  # the subscriber module enqueues this task

    deliver(changes)


@task
def deliver_change(event):
    """One change: what the queue held before changes were delivered together. Kept so that
    the rows written by the previous release still run after an upgrade."""
    from delivery.subscribers import deliver

    deliver([event])


# Wide refreshes wait behind every change's own delivery, and are cut in chunks so that a
# delivery queued meanwhile runs between two of them, not after the whole group. A delivery
# may arrive just as a chunk starts and wait for all of it: 8 story pages (about 0.3 s) keep
# that wait a small part of the two seconds a publish may take to reach files and the CDN
# (20 pages made the p95 of bench/signoff.py 1.2 s).
WIDE_PRIORITY = -50
WIDE_CHUNK = 8


@task
def refresh_pages_showing(url_name, group, after=None):
    """Rewrite the static files of a wide group of pages (delivery.registry.groups_for), one
    chunk per run, then queue the next chunk."""
    from . import registry, static_publish

    if not static_publish.enabled():
        return
    paths, cursor = registry.group_paths(url_name, group, after, WIDE_CHUNK)
    static_publish.publish(paths)
    if cursor is not None:
        enqueue_later(refresh_pages_showing, url_name, group, cursor)


@task
def rebuild_static_site():
    """Every page prints the sections and outlets: after such a change, write every file again
    (static_publish.rebuild, swapped in whole). A rebuild queued behind another one that has
    already caught up finds nothing marked stale and does nothing."""
    from . import static_publish

    if static_publish.enabled() and static_publish.site_marked_stale():
        static_publish.rebuild()


@task
def sync_photos(image_ids):
    """Bring photos to their stories' visibility (delivery.photos) and have the CDN forget
    the addresses that stopped answering: queued for a scheduled story's time."""
    from cdn import purge

    from . import photos

    hidden = photos.site_paths(photos.sync(image_ids))
    if hidden:
        purge.request(hidden, set(), reason="photos no longer public")


def sync_photos_at(when, image_ids):
    """Queue `sync_photos` for the moment `when`, once the current transaction commits. A
    queue that cannot wait until a time (the tests' immediate backend) queues nothing:
    ``publish_due`` and Django's media view catch up."""
    if not sync_photos.get_backend().supports_defer:
        return None
    return enqueue_after_commit(sync_photos.using(run_after=when), sorted(image_ids))


def refresh_group_later(url_name, group):
    """Queue the rewrite of a wide group of pages, unless one that has not started yet is
    already waiting: it will read the stories as they are when it runs, this change included.
    (A group whose rewrite is under way gets a new one: its first chunks are already written.)"""
    if queued_in_database(refresh_pages_showing):
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        path = f"{refresh_pages_showing.func.__module__}.{refresh_pages_showing.func.__qualname__}"
        waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=path)
        if any(row["args"][:2] == [url_name, group] and row["args"][2:] in ([], [None]) for row in waiting.values_list("args_kwargs", flat=True)):
            return None
    return enqueue_later(refresh_pages_showing, url_name, group)


def enqueue_later(task_, *args):
    """Enqueue background work that may wait behind every change's own delivery (a worker
    takes higher priorities first; backends without priorities keep the order of arrival)."""
    if task_.get_backend().supports_priority:
        task_ = task_.using(priority=WIDE_PRIORITY)
    return task_.enqueue(*args)


def queued_in_database(task_, using=DEFAULT_DB_ALIAS):
    """Whether enqueueing `task_` writes a row to database `using`, inside its transaction."""
    if not isinstance(task_.get_backend(), DatabaseBackend):
        return False
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult) == using


def enqueue_after_commit(task_, *args, using=DEFAULT_DB_ALIAS):
    """Have `task_` run with `args` once the current transaction on `using` has committed.

    With the database backend the task row is written now, in the transaction: it becomes
    visible to workers at the commit and vanishes with a rollback, and nothing is lost
    between the two. Any other backend would run or publish the task at once (the immediate
    backend runs it right here, even if the change is later rolled back), so it is
    enqueued from ``transaction.on_commit`` instead; if that fails (Redis down), the error is
    logged and the editor's committed change does not become an error page. Outside a
    transaction both are the same: the task is enqueued now.
    """
    if queued_in_database(task_, using):
        task_.enqueue(*args)
    else:
        transaction.on_commit(lambda: task_.enqueue(*args), using=using, robust=True)
