"""Cron runs publish_due and retry_purges on every application server at once: each story is
still published once, its writers mailed once, and the CDN told once.

Two servers are two threads here, each with its own database connection, started together;
the work of the first is slowed down so the second surely runs while the first holds its
locks. PostgreSQL only: SQLite serves a single server, where nothing runs twice at once.
"""

import io
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models.signals import pre_save
from django.utils import timezone

from articles.models import Article, Person
from cdn.models import PendingPurge
from editorial import workflow
from editorial.models import ReviewEvent
from editorial.roles import FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from newsroom import db_locks
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row and advisory locks are PostgreSQL's; SQLite runs on one server only",
    ),
]

STORIES = 4


def on_two_servers(command, *args):
    """Run `manage.py command` twice at the same moment; [(started, ended, output)] per run."""
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def server():
        out = io.StringIO()
        try:
            barrier.wait()
            started = time.monotonic()
            try:
                call_command(command, *args, stdout=out)
            except CommandError as error:
                out.write(f"error: {error}")
            runs.append((started, time.monotonic(), out.getvalue()))
        except Exception as error:  # surfaced below: a thread's failure must fail the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=server) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(runs) == 2
    (start_a, end_a, _), (start_b, end_b, _) = runs
    assert max(start_a, start_b) < min(end_a, end_b), "the two runs did not overlap"
    return runs


@pytest.fixture
def slow_saves():
    """Each story save inside publish_due takes a while, as on a loaded database."""

    def slow(sender, instance, **kwargs):
        if instance.status == Article.Status.PUBLISHED:
            time.sleep(0.15)

    pre_save.connect(slow, sender=Article, dispatch_uid="slow-saves")
    yield
    pre_save.disconnect(dispatch_uid="slow-saves", sender=Article)


@pytest.fixture
def due_stories(settings):
    writer = factories.user("writer", roles=[REPORTER], email="writer@example.com", password=None)
    reviewer = factories.user("reviewer", roles=[FIRST_REVIEWER], password=None)
    editor = factories.user("editor", roles=[RESPONSIBLE_EDITOR], password=None)
    for user in (writer, reviewer, editor):
        Person.for_user(user)
    at = timezone.now() + timedelta(hours=1)
    stories = []
    for number in range(STORIES):
        article = Article.objects.create(headline=f"定时稿件{number}", body="<p>正文。</p>", created_by=writer)
        workflow.submit(article, actor=writer)
        workflow.pass_first_review(article, actor=reviewer)
        stories.append(workflow.sign_off(article, actor=editor, publish_at=at))
    mail.outbox.clear()
    with time_machine.travel(at + timedelta(seconds=5), tick=True):
        yield stories


def test_publish_due_on_two_servers_publishes_mails_and_purges_each_story_once(http_purge, due_stories, slow_saves):
    http_purge.clear()
    runs = on_two_servers("publish_due")
    outputs = sorted(output.strip().splitlines()[-1] for _, _, output in runs)
    assert outputs == ["0 scheduled stories marked published.", f"{STORIES} scheduled stories marked published."]
    for article in due_stories:
        assert Article.objects.get(pk=article.pk).status == "published"
        assert ReviewEvent.objects.filter(article=article, action=ReviewEvent.Action.PUBLISHED_DUE).count() == 1
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == sorted(f"[已发布] {article.headline}" for article in due_stories)
    assert all(message.to == ["writer@example.com"] for message in mail.outbox)
    # Each story's step is delivered once, by one server: one BAN naming its key, its page
    # purged once (the lists they share are purged with each).
    named = sorted(key for keys in http_purge.banned_keys() for key in keys if key.startswith("story-"))
    assert named == sorted(f"story-{article.pk}" for article in due_stories)
    paths = http_purge.purged_paths()
    for article in due_stories:
        assert paths.count(f"/stories/{article.pk}/") == 1


def test_row_locks_alone_keep_each_story_to_one_server(http_purge, due_stories, slow_saves, monkeypatch):
    """Even without the advisory lock, a story one run holds is skipped by the other."""
    monkeypatch.setattr(db_locks, "transaction_lock", lambda name, using="default": True)
    http_purge.clear()
    on_two_servers("publish_due")
    for article in due_stories:
        assert ReviewEvent.objects.filter(article=article, action=ReviewEvent.Action.PUBLISHED_DUE).count() == 1
    assert sorted(message.subject for message in mail.outbox) == sorted(
        f"[已发布] {article.headline}" for article in due_stories
    )
    named = [key for keys in http_purge.banned_keys() for key in keys if key.startswith("story-")]
    assert sorted(named) == sorted(f"story-{article.pk}" for article in due_stories)


def test_retry_purges_on_two_servers_delivers_each_kept_purge_once(http_purge):
    due = timezone.now() - timedelta(seconds=1)
    for number in range(5):
        PendingPurge.objects.create(
            target=http_purge.url, reason=f"story {number}", urls=[f"/stories/{number}/"],
            keys=[f"story:{number}"], next_attempt_at=due,
        )
    http_purge.on_request = lambda request: time.sleep(0.1)  # a slow CDN: the runs overlap
    outputs = sorted(output for _, _, output in on_two_servers("retry_purges"))
    # Which server takes which purge depends on timing; that each goes out exactly once does not.
    assert sum(int(output.split()[0]) for output in outputs) == 5, outputs
    assert sorted(http_purge.purged_paths()) == [f"/stories/{number}/" for number in range(5)]
    assert sorted(key for keys in http_purge.banned_keys() for key in keys) == [f"story-{number}" for number in range(5)]
    assert not PendingPurge.objects.exists()
