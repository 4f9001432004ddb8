"""Every change of Article.status: draft -> first_review -> final_review -> published
(or scheduled -> published) -> withdrawn; send_back returns to draft with a reason.

Each step checks the person (`roles.can`, else PermissionDenied) and the story's
current status (else TransitionNotAllowed), saves, and appends one ReviewEvent,
all in one transaction: a refused step changes nothing. Mail goes out only
after the transaction commits. The admin, management commands and any API
call these functions and nothing else to move a story.

Each step that changes a story announces one StoryChanged (`what` is the step's name),
with where the story stood on the public site before the step and where it stands after,
inside the step's transaction (articles.events). A refused step announces nothing.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.events import Placement, StoryChanged, announce, together
from articles.models import Article, Correction, Person
from newsroom import db_locks

from . import proofreading, reprints, roles
from .models import ReviewEvent
from .revisions import display_name

S = Article.Status

# step -> statuses it may start from
ALLOWED_FROM = {
    "submit": {S.DRAFT},
    "pass_first_review": {S.FIRST_REVIEW},
    "send_back": {S.FIRST_REVIEW, S.FINAL_REVIEW, S.SCHEDULED},
    "sign_off": {S.FINAL_REVIEW},
    "withdraw": {S.PUBLISHED, S.SCHEDULED},
    "correct": {S.PUBLISHED},
    # A live story is withdrawn first, so its readers meet the 撤稿 notice, not a vanished page.
    "trash": {S.DRAFT, S.FIRST_REVIEW, S.FINAL_REVIEW, S.WITHDRAWN},
}
STEPS = list(ALLOWED_FROM)
REASON_REQUIRED = {"send_back", "withdraw", "correct"}
STEP_LABELS = {
    "submit": _("Submit for review"),
    "pass_first_review": _("Pass first review"),
    "send_back": _("Send back"),
    "sign_off": _("Sign off"),
    "withdraw": _("Withdraw (撤稿)"),
    "correct": _("Correct (更正)"),
    "trash": _("Move to the trash"),
}


class TransitionNotAllowed(Exception):
    """The story is not in a status this step starts from."""


class ReasonRequired(ValidationError):
    """Send back, withdraw and correct must say why."""


class PublishTimePassed(ValidationError):
    """Signing off with a publication time already past publishes at once: said and confirmed first."""


# Steps offered as buttons on the change page (trash goes through the admin's delete).
BUTTON_STEPS = [step for step in STEPS if step != "trash"]


def available_steps(user, article):
    """The steps `user` may take on `article` now: what the change page offers as buttons."""
    if article.deleted_at is not None:
        return []
    return [step for step in BUTTON_STEPS if article.status in ALLOWED_FROM[step] and roles.can(user, step, article)]


def _lock(article):
    locked = Article.objects.select_for_update(of=("self",)).select_related("first_review_editor").get(pk=article.pk)
    if locked.status == S.SCHEDULED and locked.is_live:
        # Readers see it already: its publication is recorded first, as publish_due would
        # record it, so the step starts from where the story stands (a live story is
        # withdrawn or corrected, not sent back).
        _publish(locked)
    return locked


def record_if_due(article):
    """Record the publication of a scheduled story whose time has come, if no one has yet.

    The desk calls it when it opens a story, so that the page, its form and its steps treat
    the story as the published story readers see. True if the story was moved."""
    if article.status != S.SCHEDULED or not article.is_live:
        return False
    with transaction.atomic():
        return _lock(article).status == S.PUBLISHED


def _check(actor, step, article, reason=None):
    if article.deleted_at is not None:
        raise TransitionNotAllowed(_("This story is in the trash."))
    if not roles.can(actor, step, article):
        raise PermissionDenied(_("You may not %(step)s this story.") % {"step": STEP_LABELS[step]})
    if article.status not in ALLOWED_FROM[step]:
        raise TransitionNotAllowed(
            _("“%(step)s” is not possible while the story is “%(status)s”.")
            % {"step": STEP_LABELS[step], "status": article.get_status_display()}
        )
    if step in REASON_REQUIRED and not (reason or "").strip():
        raise ReasonRequired(_("Please give a reason."), code="reason_required")


def _record(article, actor, action, *, from_status, note=""):
    event = ReviewEvent.objects.create(
        article=article,
        action=action,
        actor=actor,
        actor_name=display_name(actor) if actor else "定时发布",
        from_status=from_status,
        to_status=article.status,
        note=(note or "").strip(),
        version=article.version,
    )
    from . import notifications

    transaction.on_commit(lambda: notifications.story_moved(event.pk))
    return event


def _move(article, status, *fields):
    article.status = status
    article.save(update_fields=["status", "updated_at", *fields])


def _announce(step, article, before):
    """Tell the subscribers the step moved the story from `before` to where it stands now."""
    announce(StoryChanged(story_id=article.pk, what=step, before=before, after=Placement.of(article)))


@transaction.atomic
def submit(article, *, actor, note=""):
    """A writer hands a draft to first review."""
    article = _lock(article)
    _check(actor, "submit", article)
    before = Placement.of(article)
    from_status = article.status
    _move(article, S.FIRST_REVIEW)
    _record(article, actor, ReviewEvent.Action.SUBMITTED, from_status=from_status, note=note)
    _announce("submit", article, before)
    return article


@transaction.atomic
def pass_first_review(article, *, actor, note="", proofread=None):
    """初审: the first-review editor passes the story on to final review, and is recorded,
    with their proofreading (a proofreading.Proofread; None: no errors found)."""
    article = _lock(article)
    _check(actor, "pass_first_review", article)
    before = Placement.of(article)
    from_status = article.status
    article.first_review_editor = Person.for_user(actor)
    _move(article, S.FINAL_REVIEW, "first_review_editor")
    event = _record(article, actor, ReviewEvent.Action.PASSED, from_status=from_status, note=note)
    proofreading.record_review(article, event, proofread)
    _announce("pass_first_review", article, before)
    return article


@transaction.atomic
def send_back(article, *, actor, reason):
    """Either reviewer returns the story to its writer as a draft, saying why."""
    article = _lock(article)
    _check(actor, "send_back", article, reason)
    before = Placement.of(article)
    from_status = article.status
    # Kept on the event for the notice to the first-review editor; the story itself is unreviewed again.
    article.first_review_editor = None
    article.responsible_editor = None
    if from_status == S.SCHEDULED:
        article.published_at = None
    _move(article, S.DRAFT, "first_review_editor", "responsible_editor", "published_at")
    _record(article, actor, ReviewEvent.Action.SENT_BACK, from_status=from_status, note=reason)
    _announce("send_back", article, before)
    return article


@transaction.atomic
def sign_off(article, *, actor, publish_at=None, note="", publish_now_confirmed=False, proofread=None):
    """责任编辑 signs the story off: published now, or scheduled for `publish_at`, and the
    终审 proofreading is recorded with it (`proofread`, as for pass_first_review).

    A `publish_at` already past publishes the story now, and only with
    `publish_now_confirmed`: without it PublishTimePassed is raised and nothing changes.
    """
    article = _lock(article)
    _check(actor, "sign_off", article)
    reprints.check_sign_off(article)  # 转载: approved outlet, complete, headline approved
    before = Placement.of(article)
    from_status, now = article.status, timezone.now()
    if publish_at is not None and publish_at <= now and not publish_now_confirmed:
        raise PublishTimePassed(
            _("The publication time has passed: signing off now publishes the story at once."),
            code="publish_time_passed",
        )
    article.published_at = publish_at if publish_at and publish_at > now else now
    scheduled = article.published_at > now
    article.responsible_editor = Person.for_user(actor)
    _move(article, S.SCHEDULED if scheduled else S.PUBLISHED, "published_at", "responsible_editor")
    action = ReviewEvent.Action.SCHEDULED if scheduled else ReviewEvent.Action.SIGNED_OFF
    event = _record(article, actor, action, from_status=from_status, note=note)
    proofreading.record_review(article, event, proofread)
    _announce("sign_off", article, before)
    return article


@transaction.atomic
def withdraw(article, *, actor, reason):
    """撤稿: a published (or scheduled) story leaves the site; its page says it was withdrawn."""
    article = _lock(article)
    _check(actor, "withdraw", article, reason)
    before = Placement.of(article)
    from_status = article.status
    _move(article, S.WITHDRAWN)
    _record(article, actor, ReviewEvent.Action.WITHDRAWN, from_status=from_status, note=reason)
    _announce("withdraw", article, before)
    return article


@transaction.atomic
def correct(article, *, actor, note, escaped_errors=None):
    """更正: a published story stays live; a dated note printed under it says what changed.

    The note alone: a correction that changes the text is a save through
    editorial.editing.save_story, which records it with record_correction and announces
    the save once.
    """
    locked = _lock(article)
    before = Placement.of(locked)
    record_correction(article, actor=actor, note=note, escaped_errors=escaped_errors)
    _announce("correct", locked, before)
    return article


def record_correction(article, *, actor, note, escaped_errors=None):
    """The checks and records of 更正, without an announcement: for a save that announces itself.

    `escaped_errors` ({kind: count}) are the errors the correction corrects, counted as
    escaped into print (editorial.proofreading.record_escaped); none named counts one 「其他」.

    Raises PermissionDenied, TransitionNotAllowed or ReasonRequired before writing anything;
    the caller's transaction then keeps none of its own changes either.
    """
    locked = _lock(article)
    _check(actor, "correct", locked, note)
    Correction.objects.create(
        article=locked, note=note.strip(), created_by=actor, created_by_name=display_name(actor)
    )
    # Recorded against the edited story, so the event names the version the correction made.
    event = _record(article, actor, ReviewEvent.Action.CORRECTED, from_status=locked.status, note=note)
    proofreading.record_escaped(locked, event, escaped_errors, public=True)


def record_internal_note(article, *, actor, note, escaped_errors=None):
    """An edit of a live story noted for the desk only: checked as a correction is (the same
    people, a note required), kept in the story's history and printed nowhere.

    Like record_correction it announces nothing: the save that carries it announces itself.
    """
    locked = _lock(article)
    _check(actor, "correct", locked, note)
    event = _record(article, actor, ReviewEvent.Action.REVISED, from_status=locked.status, note=note)
    proofreading.record_escaped(locked, event, escaped_errors, public=False)


@transaction.atomic
def publish_due(*, now=None):
    """Move scheduled stories whose time has come to published (readers already see them).

    Run by cron through `manage.py publish_due`; it exists for the record and
    the mail, not for visibility, which the public queries decide by time.

    Safe on several servers at once: on PostgreSQL one run at a time holds an advisory lock
    (the others return at once, moving nothing), and the stories it moves are row-locked and
    skipped by anyone else, so each is recorded, mailed about and purged once.
    """
    now = now or timezone.now()
    moved = []
    if not db_locks.transaction_lock("publish_due"):
        return moved
    due = Article.objects.select_for_update(skip_locked=True).filter(status=S.SCHEDULED, published_at__lte=now)
    with together():  # stories due at the same minute join the home page in one delivery
        for article in due:
            _publish(article)
            moved.append(article)
    return moved


def _publish(article):
    """A scheduled story whose time has come becomes published: recorded, mailed, announced."""
    before = Placement.of(article)
    _move(article, S.PUBLISHED)
    _record(article, None, ReviewEvent.Action.PUBLISHED_DUE, from_status=S.SCHEDULED)
    _announce("publish_due", article, before)


# --- the trash: deleting softly ---------------------------------------------------------


@transaction.atomic
def trash(article, *, actor, reason=""):
    """Delete a story softly: it leaves every list and page but keeps its versions and history.

    A writer may trash their own draft; editors who sign off, and the chief, any story not
    live (a live one is withdrawn first). Only the chief restores it or empties the trash.
    """
    article = _lock(article)
    _check(actor, "trash", article)
    before = Placement.of(article)
    article.deleted_at, article.deleted_by = timezone.now(), actor
    article.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    _record(article, actor, ReviewEvent.Action.TRASHED, from_status=article.status, note=reason)
    _announce("trash", article, before)
    return article


def _check_chief(actor, article):
    if not roles.can(actor, "manage_trash", article):
        raise PermissionDenied(_("Only the chief editor may restore stories or empty the trash."))
    if article.deleted_at is None:
        raise TransitionNotAllowed(_("This story is not in the trash."))


@transaction.atomic
def restore_from_trash(article, *, actor, note=""):
    """The chief takes a story out of the trash, in the status it had when it went in."""
    article = _lock(article)
    _check_chief(actor, article)
    before = Placement.of(article)
    article.deleted_at, article.deleted_by = None, None
    article.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    _record(article, actor, ReviewEvent.Action.RESTORED, from_status=article.status, note=note)
    _announce("restore_from_trash", article, before)
    return article


@transaction.atomic
def empty_trash(article, *, actor):
    """The chief deletes a trashed story for good, with its versions and history."""
    article = _lock(article)
    _check_chief(actor, article)
    story_id, before = article.pk, Placement.of(article)
    article.delete()
    announce(StoryChanged(story_id=story_id, what="empty_trash", before=before, after=None))
