"""Static files and CDN purges are a worker's job: a task written in the change's own
transaction, run after the commit, outside the editor's request.

The rest of the suite runs tasks in-process once a change commits (tests/conftest.py chooses
the immediate backend). These tests put the database queue back and run the worker in this
process, as `db_worker --batch` does: every waiting task, then return. The worker closes
database connections between tasks, so these tests commit for real (transaction=True).
"""

import logging
import signal
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from articles import events
from articles.models import Article, Person
from delivery import static_publish
from editorial import workflow
from editorial.roles import FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from tests import factories
from tests.cdn.conftest import PUBLIC, Recorder

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
SUBSCRIBER = "delivery.subscribers.story_changed"


@pytest.fixture
def delivery_listens(settings):
    """Delivery hears of every change (whatever else settings.NEWSROOM_SUBSCRIBERS holds)."""
    if SUBSCRIBER not in settings.NEWSROOM_SUBSCRIBERS:
        settings.NEWSROOM_SUBSCRIBERS = [*settings.NEWSROOM_SUBSCRIBERS, SUBSCRIBER]


@pytest.fixture
def database_queue(settings, delivery_listens):
    """The production default: tasks are rows of this database, run by a worker."""
    settings.TASKS = DATABASE_QUEUE


@pytest.fixture
def cdn(settings):
    """A cache server taking PURGE and BAN on 127.0.0.1, recording what it is told."""
    server = Recorder().start()
    settings.NEWSROOM_CDN_BACKEND = "http-purge"
    settings.NEWSROOM_CDN_PUBLIC_BASE_URL = [PUBLIC]
    settings.NEWSROOM_CDN_PURGE_SERVERS = [server.url]
    settings.NEWSROOM_CDN_PURGE_BY = ["urls", "keys"]
    yield server
    server.stop()


@pytest.fixture
def desk():
    people = {
        "writer": factories.user("writer", roles=[REPORTER], password=None),
        "reviewer": factories.user("reviewer", roles=[FIRST_REVIEWER], password=None),
        "editor": factories.user("editor", roles=[RESPONSIBLE_EDITOR], password=None),
    }
    for account in people.values():
        Person.for_user(account)
    return people


@pytest.fixture
def story(desk):
    """A story passed on to the responsible editor, waiting for the sign-off."""
    article = Article.objects.create(
        headline="泉城新闻", slug="quancheng", body="<p>正文。</p>", section=factories.section(slug="local"),
        created_by=desk["writer"],
    )
    workflow.submit(article, actor=desk["writer"])
    workflow.pass_first_review(article, actor=desk["reviewer"])
    return Article.objects.get(pk=article.pk)


def sign_off_in_admin(client, editor, article):
    client.force_login(editor)
    response = client.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]))
    assert response.status_code == 302
    return Article.objects.get(pk=article.pk)


def page_file(root, article):
    return root / static_publish.relative_file(article.get_absolute_url())


def run_worker(verbosity=0):
    """Run every waiting task here, as one worker would, then return.

    db_worker installs its own signal handlers and sets its loggers' levels; both are put
    back so that Ctrl+C and logging behave afterwards as before."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    loggers = {name: logging.getLogger(name).level for name in ("django_tasks", "django_tasks_db")}
    try:
        call_command(
            "db_worker", batch=True, startup_delay=False, reload=False, verbosity=verbosity, queue_name="*",
            stdout=StringIO(),
        )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        for name, level in loggers.items():
            logging.getLogger(name).setLevel(level)


def delivery_tasks():
    return DBTaskResult.objects.filter(task_path="delivery.tasks.deliver_changes")


def test_a_signed_off_story_reaches_its_file_and_the_cdn_when_the_worker_runs_not_before(
    client, database_queue, static_root, cdn, desk, story
):
    """The editor's request only saves and queues; Django's own page is current at once."""
    story = sign_off_in_admin(client, desk["editor"], story)

    assert not page_file(static_root, story).exists()
    assert cdn.requests == []
    assert delivery_tasks().ready().count() == 1
    client.logout()
    assert "泉城新闻" in client.get(story.get_absolute_url()).text

    run_worker()

    assert "泉城新闻" in page_file(static_root, story).read_text(encoding="utf-8")
    assert story.get_absolute_url() in cdn.purged_paths()
    assert [f"story-{story.pk}" in keys for keys in cdn.banned_keys()] == [True]
    assert delivery_tasks().get().status == TaskResultStatus.SUCCESSFUL


def test_the_task_is_written_with_the_change_and_goes_with_its_rollback(database_queue, static_root, desk, story):
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.sign_off(story, actor=desk["editor"])
        assert delivery_tasks().count() == 1
        raise RuntimeError("the change is abandoned")

    assert not DBTaskResult.objects.exists()
    run_worker()
    assert not page_file(static_root, story).exists()


def test_a_failed_task_is_kept_as_failed_and_logged_with_its_traceback(
    client, database_queue, static_root, desk, story, monkeypatch, caplog
):
    """The editor's sign-off still succeeds: the failure is the worker's, on record."""

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(static_publish, "refresh", disk_full)
    story = sign_off_in_admin(client, desk["editor"], story)
    assert story.status == Article.Status.PUBLISHED

    with caplog.at_level(logging.INFO, logger="django_tasks"):
        run_worker(verbosity=1)

    task = delivery_tasks().get()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "builtins.OSError"
    assert "No space left on device" in task.traceback
    [logged] = [r for r in caplog.records if r.name == "django_tasks" and r.levelno == logging.ERROR]
    assert str(task.id) in logged.getMessage() and "FAILED" in logged.getMessage()
    assert logged.exc_info and "No space left on device" in str(logged.exc_info[1])


def test_a_task_left_running_by_a_killed_worker_runs_again_once_requeued(database_queue, static_root, desk, story):
    workflow.sign_off(story, actor=desk["editor"])
    task = delivery_tasks().get()
    task.claim("worker-killed-mid-task")
    delivery_tasks().update(started_at=timezone.now() - timedelta(minutes=30))

    run_worker()
    assert not page_file(static_root, story).exists()  # nobody looks at a RUNNING task again

    out = StringIO()
    call_command("requeue_stuck_tasks", minutes=10, stdout=out)
    assert out.getvalue().strip() == "1 stuck task(s) requeued."
    run_worker()

    assert page_file(static_root, story).exists()
    assert delivery_tasks().get().status == TaskResultStatus.SUCCESSFUL


def test_requeue_stuck_tasks_leaves_a_task_that_has_just_started_alone(database_queue, desk, story):
    workflow.sign_off(story, actor=desk["editor"])
    delivery_tasks().get().claim("worker-busy-with-it")

    out = StringIO()
    call_command("requeue_stuck_tasks", minutes=10, stdout=out)

    assert out.getvalue().strip() == "0 stuck task(s) requeued."
    assert delivery_tasks().get().status == TaskResultStatus.RUNNING


def test_without_a_queue_the_work_is_done_once_the_change_commits(settings, delivery_listens, static_root, desk, story):
    """The immediate backend (the test suite's, NEWSROOM_TASKS_BACKEND=immediate) would run a
    task as soon as it is enqueued, so it is enqueued only at the commit."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with transaction.atomic():
        workflow.sign_off(story, actor=desk["editor"])
        assert not page_file(static_root, story).exists()
    assert page_file(static_root, story).exists()

    other = Article.objects.get(pk=story.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.withdraw(other, actor=desk["editor"], reason="核实有误")
        raise RuntimeError("the change is abandoned")
    assert page_file(static_root, story).exists()  # a withdrawal would have removed it


def test_a_sign_off_fills_its_own_recommendations_and_rewrites_no_page_of_its_section(
    client, desk, database_queue, static_root
):
    """A new story's empty 推荐阅读 slots are filled from its section when it is signed off and
    stored with it (editorial.recommendations): its own page shows them, and the other story
    pages of the section, whose blocks were filled when they were published, keep them (no
    wide rewrite of the section is queued)."""
    section = factories.section(slug="local")
    older = [factories.published_story(headline=f"旧稿{n}", section=section) for n in range(3)]
    call_command("static_rebuild", stdout=StringIO())
    def block(page):
        text = page_file(static_root, page).read_text(encoding="utf-8")
        found = text.split('id="recommended-title"', 1)  # the first of them has none
        return found[1].split("</section>", 1)[0] if len(found) > 1 else ""

    written = {page.pk: block(page) for page in older}
    stories = []
    for n in range(3):
        article = Article.objects.create(headline=f"新稿{n}", body="<p>正文。</p>", section=section, created_by=desk["writer"])
        workflow.submit(article, actor=desk["writer"])
        workflow.pass_first_review(article, actor=desk["reviewer"])
        stories.append(sign_off_in_admin(client, desk["editor"], article))
    run_worker()
    assert DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).count() == 0
    assert not DBTaskResult.objects.filter(task_path__endswith="refresh_pages_showing").exists()
    text = page_file(static_root, stories[-1]).read_text(encoding="utf-8")
    assert all(page.headline in text for page in older) and stories[0].headline in text
    for page in older:
        assert block(page) == written[page.pk], page.headline  # (its 下一篇 link does change)


# --- many changes at once: one transaction, delivered together ------------------------------


def ready_for_sign_off(desk, headline, slug, section):
    article = Article.objects.create(headline=headline, slug=slug, body="<p>正文。</p>", section=section, created_by=desk["writer"])
    workflow.submit(article, actor=desk["writer"])
    workflow.pass_first_review(article, actor=desk["reviewer"])
    return article


def bulk_sign_off(client, editor, articles):
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "sign_off_selected", "_selected_action": [article.pk for article in articles]},
        follow=True,
    )
    assert response.status_code == 200
    return [message.message for message in response.context["messages"]]


def changes_per_task():
    return [len(row.args_kwargs["args"][0]) for row in delivery_tasks().order_by("enqueued_at", "id")]


def test_stories_signed_off_together_in_the_admin_are_one_task_and_each_reaches_its_file_and_the_cdn(
    client, database_queue, static_root, cdn, desk, story
):
    others = [ready_for_sign_off(desk, f"泉城新闻{n}", f"quancheng-{n}", story.section) for n in (2, 3)]
    draft = Article.objects.create(headline="还在写的稿子", slug="draft", body="<p>草稿。</p>", created_by=desk["writer"])

    said = bulk_sign_off(client, desk["editor"], [story, *others, draft])

    assert "已处理 3 篇稿件。" in said
    assert any("《还在写的稿子》" in message for message in said)  # refused, and says so
    assert changes_per_task() == [3]
    stories = list(Article.objects.filter(pk__in=[story.pk, *(o.pk for o in others)]))
    assert {s.status for s in stories} == {Article.Status.PUBLISHED}
    assert Article.objects.get(pk=draft.pk).status == Article.Status.DRAFT

    run_worker()

    for signed in stories:
        assert signed.headline in page_file(static_root, signed).read_text(encoding="utf-8")
        assert signed.get_absolute_url() in cdn.purged_paths()
    # One purge for the three: each page named once, every story's key in one ban.
    assert len(cdn.purged_paths()) == len(set(cdn.purged_paths()))
    [banned] = cdn.banned_keys()
    assert {f"story-{s.pk}" for s in stories} <= set(banned)
    assert delivery_tasks().get().status == TaskResultStatus.SUCCESSFUL


def test_a_bulk_change_is_cut_into_tasks_of_a_bounded_size(client, database_queue, desk, story, monkeypatch):
    """A worker runs an editor's single change between two tasks of a large import."""
    from delivery import subscribers

    monkeypatch.setattr(subscribers, "CHANGES_PER_TASK", 2)
    others = [ready_for_sign_off(desk, f"泉城新闻{n}", f"quancheng-{n}", story.section) for n in (2, 3)]

    bulk_sign_off(client, desk["editor"], [story, *others])

    assert changes_per_task() == [2, 1]


def test_changes_made_together_that_fail_leave_neither_the_changes_nor_a_task(database_queue, static_root, desk, story):
    other = ready_for_sign_off(desk, "泉城新闻2", "quancheng-2", story.section)

    with pytest.raises(RuntimeError), events.together():
        workflow.sign_off(story, actor=desk["editor"])
        workflow.sign_off(other, actor=desk["editor"])
        with events.together():  # a block inside another joins it
            pass
        assert not delivery_tasks().exists()  # told at the end of the outer block only
        raise RuntimeError("the import stops half way")

    assert not DBTaskResult.objects.exists()
    assert set(Article.objects.filter(pk__in=[story.pk, other.pk]).values_list("status", flat=True)) == {
        Article.Status.FINAL_REVIEW
    }
    run_worker()
    assert not page_file(static_root, story).exists()


def test_inside_a_block_search_hears_each_change_at_once_and_delivery_hears_them_at_its_end(
    client, database_queue, desk, story
):
    with events.together():
        factories.announced(story)  # as an import announces a story arriving whole
        workflow.sign_off(story, actor=desk["editor"])
        # Later steps of the same block may search for what it has just written.
        found = client.get("/search/", {"q": "泉城新闻"}).text
        assert f'href="{story.get_absolute_url()}"' in found
        assert not delivery_tasks().exists()
    assert changes_per_task() == [1]  # the story at final review was on no public page yet


def test_a_delivery_queued_by_the_previous_release_still_runs_after_an_upgrade(database_queue, static_root, desk, story):
    """Before changes were delivered together, the queue held `deliver_change` with one event."""
    from delivery import tasks

    workflow.sign_off(story, actor=desk["editor"])
    row = delivery_tasks().get()
    [event] = row.args_kwargs["args"][0]
    row.delete()
    tasks.deliver_change.enqueue(event)

    run_worker()

    assert "泉城新闻" in page_file(static_root, story).read_text(encoding="utf-8")
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_the_demo_generator_renders_the_pages_its_stories_share_once(delivery_listens, monkeypatch):
    """25 stories made in one command: the home page is rendered once for all of them (it was
    rendered once per story), and every story's page is stored for its first reader."""
    from delivery import internal, read_model

    rendered = []
    render = internal.get

    def counting(url, *args, **kwargs):
        rendered.append(url)
        return render(url, *args, **kwargs)

    monkeypatch.setattr(internal, "get", counting)
    call_command("generate_demo_stories", 25, "--photos", "3", stdout=StringIO())

    assert rendered.count("/") == 1
    assert len(rendered) == len(set(rendered))
    live = [story.get_absolute_url() for story in Article.objects.published()]
    assert len(live) == 25
    assert set(read_model.get_many(read_model.site_origin(), live)) == set(live)
