"""The queues on the admin dashboard: where each story waits, and for whom.

"Sent back" is a draft whose latest review event is a send-back. A scheduled story leaves
"Scheduled" for "Recently published" at its time (Article.shown_status), whether or not
`publish_due` has recorded its publication yet.
"""

from datetime import timedelta

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models import Article

from . import deadlines, roles
from .models import ReviewEvent

S = Article.Status


def with_last_action(queryset):
    latest = ReviewEvent.objects.filter(article=OuterRef("pk")).order_by("-created_at", "-pk").values("action")[:1]
    return queryset.annotate(last_action=Subquery(latest))


def visible_to(user, queryset=None, *, include_trash=False):
    """The stories `user` may see in the admin: all for editors, their own for a reporter.

    Trashed stories only with `include_trash`, which the admin passes for the chief alone.
    """
    queryset = Article.objects.all() if queryset is None else queryset
    if not include_trash:
        queryset = queryset.filter(deleted_at__isnull=True)
    if roles.sees_all_stories(user) or user.is_superuser:
        return queryset
    return queryset.filter(Q(created_by=user) | Q(pk__in=Article.objects.filter(bylines__person__user=user).values("pk")))


def _mine(user, qs):
    return qs.filter(Q(created_by=user) | Q(pk__in=Article.objects.filter(bylines__person__user=user).values("pk")))


def _drafts(user, qs):
    never_sent_back = Q(last_action__isnull=True) | ~Q(last_action=ReviewEvent.Action.SENT_BACK)
    return _mine(user, with_last_action(qs).filter(never_sent_back, status=S.DRAFT))


def _sent_back(user, qs):
    return _mine(user, with_last_action(qs).filter(status=S.DRAFT, last_action=ReviewEvent.Action.SENT_BACK))


def _scheduled(user, qs):
    return qs.with_shown_status().filter(shown_status=S.SCHEDULED)


def _recent(user, qs):
    return qs.with_shown_status().filter(shown_status=S.PUBLISHED, published_at__gte=timezone.now() - timedelta(days=7))


# key, label, filter(user, queryset)
QUEUES = [
    ("my_drafts", _("My drafts"), _drafts),
    ("sent_back", _("Sent back to me"), _sent_back),
    ("first_review", _("Awaiting first review"), lambda user, qs: qs.filter(status=S.FIRST_REVIEW)),
    ("final_review", _("Awaiting final review"), lambda user, qs: qs.filter(status=S.FINAL_REVIEW)),
    # Either review stage, past its deadline (editorial.deadlines): the list sorts them overdue first.
    ("overdue", _("Overdue in review"), lambda user, qs: deadlines.overdue(qs)),
    ("scheduled", _("Scheduled"), _scheduled),
    ("recent", _("Recently published"), _recent),
]
QUEUE_FILTERS = {key: fn for key, label, fn in QUEUES}


def for_user(user):
    """[(key, label, count), ...] of the queues this user works from."""
    base = visible_to(user)
    return [(key, label, fn(user, base).count()) for key, label, fn in QUEUES]


def sent_back_reason(article):
    """The reason the latest send-back gave, if the story is a sent-back draft."""
    if article.status != S.DRAFT:
        return None
    latest = ReviewEvent.objects.filter(article=article).order_by("-created_at", "-pk").first()
    if latest and latest.action == ReviewEvent.Action.SENT_BACK:
        return latest
    return None
