"""急稿 and review deadlines: how long a story may wait in each review stage, and who hears
when it waits longer.

A story is in a review stage (first review, final review) from the review event that
brought it there until the next step moves it on. How long it may wait there depends on
its priority: 急稿 (Article.is_breaking) or ordinary, as the chief sets in StageDeadline
(by default 10 minutes and 4 hours per stage). A due time (Article.due_at) brings every
stage's deadline forward to it; a stage entered after the due time is overdue at once.

Everything here is read from the review history (ReviewEvent), which already says who took
each step and when: the wait in a stage, who held it (the editor who moved it on), the
day's overruns and the monthly time to publish. The deadlines of past stages are computed
with today's settings and the story's priority as it is now.

`notify_overdue` (``manage.py notify_overdue``, from cron every minute) mails the duty
editors of each stage that has run past its deadline, once per entry into the stage
(OverdueNotice): the 值班编辑 the chief put on that stage for the day, who can act on the
story, or else everyone who can.
"""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.models import Article
from newsroom import db_locks
from newsroom.local_time import local_time

from . import roles
from .models import DutyEditor, OverdueNotice, ReviewEvent, StageDeadline
from .notifications import admin_link, send_mail
from .revisions import display_name

S = Article.Status
A = ReviewEvent.Action
P = StageDeadline.Priority

# stage -> the step that moves a story on from it (who can take it can act on the stage)
STAGE_STEPS = {S.FIRST_REVIEW: "pass_first_review", S.FINAL_REVIEW: "sign_off"}
STAGES = list(STAGE_STEPS)
STAGE_LABELS = {S.FIRST_REVIEW: gettext_lazy("First-review stage"), S.FINAL_REVIEW: gettext_lazy("Final-review stage")}
DEFAULT_MINUTES = {P.BREAKING: 10, P.ORDINARY: 4 * 60}
SIGN_OFFS = [A.SIGNED_OFF, A.SCHEDULED]


def limits():
    """{(stage, priority): timedelta}: how long a story may wait, as the chief has set it."""
    stored = {(row.stage, row.priority): row.minutes for row in StageDeadline.objects.all()}
    return {
        (stage, priority): timedelta(minutes=stored.get((stage, priority), DEFAULT_MINUTES[priority]))
        for stage in STAGES
        for priority in P.values
    }


def priority_of(article):
    return P.BREAKING if article.is_breaking else P.ORDINARY


def deadline_for(stage, article, entered_at, allowed=None):
    """When a stage entered at `entered_at` is due: its allowance, or the due time if sooner
    (never before the stage began)."""
    allowed = allowed or limits()
    due = entered_at + allowed[(stage, priority_of(article))]
    if article.due_at is not None:
        due = max(entered_at, min(due, article.due_at))
    return due


# --- the queues: each story's wait in its stage, in SQL ----------------------------------


def _entries():
    """The events that brought each story into the stage it is in now (the latest one)."""
    return (
        ReviewEvent.objects.filter(article=OuterRef("pk"), to_status=OuterRef("status"))
        .exclude(from_status=F("to_status"))
        .order_by("-created_at", "-pk")
    )


def with_stage_times(queryset):
    """Annotate stage_entry_id, stage_entered_at and stage_deadline (None outside review).

    Sorting by stage_deadline puts overdue stories first, the longest overdue at the top."""
    if "stage_deadline" in queryset.query.annotations:
        return queryset
    queryset = queryset.annotate(
        stage_entry_id=Subquery(_entries().values("pk")[:1]),
        stage_entered_at=Subquery(_entries().values("created_at")[:1]),
    )
    entered = F("stage_entered_at")
    whens = []
    for (stage, priority), allowed in limits().items():
        by_allowance = ExpressionWrapper(entered + Value(allowed), output_field=DateTimeField())
        due = Greatest(entered, Least(by_allowance, Coalesce("due_at", by_allowance)))
        # PostgreSQL's LEAST and GREATEST skip NULLs: a story with no entry event gets no deadline.
        whens.append(When(status=stage, is_breaking=priority == P.BREAKING, stage_entered_at__isnull=False, then=due))
    return queryset.annotate(stage_deadline=Case(*whens, default=None, output_field=DateTimeField()))


def overdue(queryset, now=None):
    """The stories in `queryset` waiting in a review stage past its deadline (the status
    filter comes first: only stories in review are looked at, by the status index)."""
    return with_stage_times(queryset.filter(status__in=STAGES)).filter(stage_deadline__lt=now or timezone.now())


def by_deadline(queryset):
    """Overdue first (the longest overdue at the top), then the stories due soonest."""
    return with_stage_times(queryset).order_by(F("stage_deadline").asc(nulls_last=True), "-updated_at", "-pk")


def duration_text(delta):
    """A wait as the desk says it: 2小时5分, 1天3小时, 15分."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        if hours:
            return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
        return _("%(days)d d") % {"days": days}
    if hours:
        if minutes:
            return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": minutes}


@dataclass
class Wait:
    """Where a story in review stands against its deadline, as the queues print it."""

    stage: str
    entered_at: datetime
    deadline: datetime
    now: datetime

    @property
    def stage_label(self):
        return STAGE_LABELS[self.stage]

    @property
    def is_overdue(self):
        return self.deadline < self.now

    @property
    def waited(self):
        return _("waiting %(time)s") % {"time": duration_text(self.now - self.entered_at)}

    @property
    def over(self):
        return _("overdue %(time)s") % {"time": duration_text(self.now - self.deadline)} if self.is_overdue else ""

    @property
    def left(self):
        return "" if self.is_overdue else _("due in %(time)s") % {"time": duration_text(self.deadline - self.now)}

    @property
    def due_local(self):
        return local_time(self.deadline)


def wait_of(article, now=None):
    """The Wait of a story annotated by with_stage_times, or None outside review."""
    deadline = getattr(article, "stage_deadline", None)
    if deadline is None or article.status not in STAGE_STEPS:
        return None
    return Wait(article.status, article.stage_entered_at, deadline, now or timezone.now())


# --- the history: who held each stage and for how long ---------------------------------


@dataclass
class Spell:
    """One stay of a story in a review stage, from the event that brought it there to the one
    that moved it on (None while it still waits)."""

    stage: str
    entry: ReviewEvent
    exit: ReviewEvent | None
    deadline: datetime
    now: datetime

    @property
    def stage_label(self):
        return STAGE_LABELS[self.stage]

    @property
    def entered_at(self):
        return self.entry.created_at

    @property
    def left_at(self):
        return self.exit.created_at if self.exit else None

    @property
    def held_by(self):
        """The editor who moved the story on (passed, sent back or signed it off)."""
        return self.exit.actor_name if self.exit else ""

    @property
    def outcome(self):
        return self.exit.get_action_display() if self.exit else ""

    @property
    def duration(self):
        return (self.left_at or self.now) - self.entered_at

    @property
    def duration_text(self):
        return duration_text(self.duration)

    @property
    def overran(self):
        return (self.left_at or self.now) > self.deadline

    @property
    def over_text(self):
        return duration_text((self.left_at or self.now) - self.deadline) if self.overran else ""


def spells(article, events=None, *, now=None, allowed=None):
    """The stays of `article` in review stages, oldest first, from its review history."""
    now, allowed = now or timezone.now(), allowed or limits()
    if events is None:
        events = ReviewEvent.objects.filter(article=article).order_by("created_at", "pk")
    found, current = [], None
    for event in events:
        if current is not None and event.to_status != current.stage:
            current.exit = event
            found.append(current)
            current = None
        if current is None and event.to_status in STAGE_STEPS and event.from_status != event.to_status:
            deadline = deadline_for(event.to_status, article, event.created_at, allowed)
            current = Spell(event.to_status, event, None, deadline, now)
    if current is not None:
        found.append(current)
    return found


def _day_bounds(day):
    zone = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), zone)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), zone)


def overruns_on(day=None, *, now=None):
    """The stays whose deadline fell on `day` (a newsroom date, default today) and that ran
    past it, as [(article, spell, notice or None)], the latest deadline first."""
    now = now or timezone.now()
    day = day or timezone.localtime(now, timezone.get_default_timezone()).date()
    start, end = _day_bounds(day)
    allowed = limits()
    entered = ReviewEvent.objects.filter(
        to_status__in=STAGES, created_at__gte=start - max(allowed.values()), created_at__lt=end
    ).exclude(from_status=F("to_status"))
    stories = Article.objects.filter(pk__in=entered.values("article_id"), deleted_at__isnull=True).select_related("section")
    stories = {article.pk: article for article in stories}
    history = {}
    for event in ReviewEvent.objects.filter(article_id__in=list(stories)).order_by("created_at", "pk"):
        history.setdefault(event.article_id, []).append(event)
    found = []
    for pk, article in stories.items():
        for spell in spells(article, history.get(pk, []), now=now, allowed=allowed):
            if start <= spell.deadline < end and spell.deadline < now and spell.overran:
                found.append((article, spell))
    notices = OverdueNotice.objects.in_bulk([spell.entry.pk for _article, spell in found], field_name="entry_id")
    found.sort(key=lambda pair: pair[1].deadline, reverse=True)
    return [(article, spell, notices.get(spell.entry.pk)) for article, spell in found]


# --- mail to the duty editor -------------------------------------------------------------


def _can_act(user, stage, article):
    return bool(user.email) and user.is_active and roles.can(user, STAGE_STEPS[stage], article)


def duty_editors(article, stage, when):
    """Who is mailed when `article` runs over in `stage` at `when`: that day's 值班编辑 for the
    stage who can act on this story, or, with none, everyone who can."""
    day = timezone.localtime(when, timezone.get_default_timezone()).date()
    rostered = DutyEditor.objects.filter(day=day, stage=stage, editor__isnull=False).select_related("editor")
    on_duty = [row.editor for row in rostered if _can_act(row.editor, stage, article)]
    if on_duty:
        return on_duty
    staff = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .exclude(email="")
        .filter(Q(groups__name__in=roles.GROUP_NAMES.values()) | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
    )
    return [user for user in staff if _can_act(user, stage, article)]


def notify_overdue(*, now=None):
    """Mail the duty editors of every stage now past its deadline, once per entry into the
    stage; returns the OverdueNotice rows written. Safe on several servers at once: one run
    at a time holds a lock on PostgreSQL, and a stage entry has at most one notice."""
    now = now or timezone.now()
    written = []
    with transaction.atomic():
        if not db_locks.transaction_lock("notify_overdue"):
            return written
        due = (
            overdue(Article.objects.filter(status__in=STAGES, deleted_at__isnull=True), now)
            .exclude(stage_entry_id__in=OverdueNotice.objects.values("entry_id"))
            .select_related("first_review_editor", "section")
            .order_by("stage_deadline", "pk")
        )
        for article in due:
            users = duty_editors(article, article.status, now)
            try:
                with transaction.atomic():
                    notice = OverdueNotice.objects.create(
                        entry_id=article.stage_entry_id,
                        article=article,
                        stage=article.status,
                        due_at=article.stage_deadline,
                        sent_at=now,
                        recipients="、".join(display_name(user) for user in users),
                    )
            except IntegrityError:  # another run wrote it first
                continue
            written.append(notice)
            transaction.on_commit(lambda article=article, users=users, now=now: _mail(article, users, now))
    return written


def _mail(article, users, now):
    if not users:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        stage = str(STAGE_LABELS[article.status])
        context = {
            "headline": article.headline,
            "stage": stage,
            "breaking": article.is_breaking,
            "entered": local_time(article.stage_entered_at),
            "due": local_time(article.stage_deadline),
            "waited": duration_text(now - article.stage_entered_at),
            "over": duration_text(now - article.stage_deadline),
            "link": admin_link(article),
        }
        subject = _("[Overdue] %(stage)s: %(headline)s") % {"stage": stage, "headline": article.headline}
    return send_mail([user.email for user in users], subject, "deadline_overdue", context)


# --- the monthly report: time to publish per desk ----------------------------------------


def percentile(values, fraction):
    """The nearest-rank percentile of sorted `values`."""
    return values[max(0, math.ceil(fraction * len(values)) - 1)]


@dataclass
class DeskMonth:
    desk: str
    count: int
    median: timedelta
    p90: timedelta

    @property
    def median_text(self):
        return duration_text(self.median)

    @property
    def p90_text(self):
        return duration_text(self.p90)


def _summary(desk, durations):
    durations = sorted(durations)
    return DeskMonth(desk, len(durations), statistics.median(durations), percentile(durations, 0.9))


def month_start(day):
    return day.replace(day=1)


def time_to_publish(months=6, *, now=None):
    """Time to publish per desk (栏目), month by month, newest month first: from a story's
    first submission for review to its sign-off (a scheduled story's wait for its time is
    the desk's choice, not its delay). [(first day of month, label, [DeskMonth], all desks)]."""
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    first = month_start(timezone.localtime(now, zone).date())
    for _month in range(months - 1):
        first = month_start(first - timedelta(days=1))
    start, _end = _day_bounds(first)
    submitted = ReviewEvent.objects.filter(article=OuterRef("article"), action=A.SUBMITTED).order_by("created_at", "pk")
    rows = (
        ReviewEvent.objects.filter(action__in=SIGN_OFFS, created_at__gte=start)
        .annotate(submitted_at=Subquery(submitted.values("created_at")[:1]))
        .order_by("article_id", "created_at", "pk")
        .values_list("article_id", "created_at", "submitted_at", "article__section__name")
    )
    latest = {}  # a story signed off twice (sent back from scheduled) counts once, at its last
    for article_id, signed_at, submitted_at, desk in rows:
        if submitted_at is not None and submitted_at <= signed_at:
            latest[article_id] = (signed_at, signed_at - submitted_at, desk or _("No section"))
    by_month = {}
    for signed_at, duration, desk in latest.values():
        month = month_start(timezone.localtime(signed_at, zone).date())
        by_month.setdefault(month, {}).setdefault(desk, []).append(duration)
    report = []
    for month in sorted(by_month, reverse=True):
        desks = by_month[month]
        rows = [_summary(desk, durations) for desk, durations in sorted(desks.items())]
        everything = [duration for durations in desks.values() for duration in durations]
        report.append((month, formats.date_format(month, "YEAR_MONTH_FORMAT"), rows, _summary(_("All desks"), everything)))
    return report
