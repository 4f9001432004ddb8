"""Outside reviewers: a named reader outside the newsroom reads one story before it goes out.

A responsible editor (or the chief) sends a link to a named person, the 通讯员's unit, a
lawyer, an expert. The link is a signed token made for that person and that story only;
the newsroom keeps a hash of it, never the token. Through it the reviewer reads the story
as readers would see it, comments on passages and answers 同意 or 不同意 (with a reason).
What they say appears in the story's timeline and beside the story on its change page.

The link dies when the story goes live (publication, or a scheduled time reached), when it
is withdrawn or moved to the trash, and when it expires; a dead link answers 410.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from articles.models import Article
from articles.text import clean_text
from newsroom.local_time import local_time

from . import roles
from .models import OutsideRemark, OutsideReview
from .notifications import send_mail

TOKEN_SALT = "editorial.outside_review"
# The longest a link may be made to live; the review's own expires_at is usually sooner.
MAX_HOURS = 14 * 24
PASSAGE_LIMIT = 2000
TEXT_LIMIT = 5000
# One link cannot flood a story's timeline.
REMARKS_LIMIT = 200

SENDERS = {roles.RESPONSIBLE_EDITOR, roles.CHIEF_EDITOR}


def link_hours():
    """How long a new link lives unless the editor asks for less (NEWSROOM_SHARE_LINK_HOURS)."""
    return min(getattr(settings, "NEWSROOM_SHARE_LINK_HOURS", 72), MAX_HOURS)


def may_send(user):
    """Only a 责任编辑 or the 总编辑 sends a story outside the newsroom."""
    return bool(user.is_authenticated and user.is_active and user.is_staff and roles.user_roles(user) & SENDERS)


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


# --- is the link still alive? ---------------------------------------------------------

GONE_MESSAGES = {
    "published": gettext_noop("This story has been published: the review link is closed. Please read it on the site."),
    "withdrawn": gettext_noop("This story has been withdrawn: the review link is closed."),
    "trashed": gettext_noop("This story is no longer under review: the review link is closed."),
    "expired": gettext_noop("This review link has expired. Ask the editor who sent it for a new one."),
}


def why_closed(review, now=None):
    """None while the link is open, else why it is closed: published, withdrawn, trashed or expired."""
    article = review.article
    if article.deleted_at is not None:
        return "trashed"
    if article.status == Article.Status.WITHDRAWN:
        return "withdrawn"
    if article.is_live or article.status == Article.Status.PUBLISHED:
        return "published"
    if (now or timezone.now()) >= review.expires_at:
        return "expired"
    return None


def gone_message(reason):
    return _(GONE_MESSAGES[reason])


def open_review(token):
    """The review a token opens, or None for a token that is not ours (tampered, made up).

    The signature is checked before the database is asked; an expired one still finds its
    review, so the reviewer is told the link expired rather than that it never existed."""
    try:
        signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return OutsideReview.objects.select_related("article").filter(token_hash=_hash(token)).first()


# --- sending a link ---------------------------------------------------------------------


def can_be_sent(article):
    """A story still being written or reviewed, or scheduled but not live yet."""
    return article.deleted_at is None and not article.is_live and article.status not in {
        Article.Status.PUBLISHED,
        Article.Status.WITHDRAWN,
    }


@transaction.atomic
def send(article, *, actor, name, unit, email="", hours=None, link_for=None):
    """Make a link for one named reviewer; returns (review, token).

    `link_for(token)` gives the absolute address to mail when `email` is given. Refusals
    (PermissionDenied, ValidationError) store nothing and send nothing."""
    if not may_send(actor):
        raise PermissionDenied(_("Only a responsible editor or the chief editor may send a story to an outside reviewer."))
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not can_be_sent(article):
        raise ValidationError(_("A story that is live, withdrawn or in the trash cannot be sent for outside review."))
    name, unit, email = clean_text(name or "").strip(), clean_text(unit or "").strip(), (email or "").strip()
    if not name or not unit:
        raise ValidationError(_("Give the reviewer's name and unit."))
    hours = link_hours() if hours is None else hours
    if not 1 <= hours <= MAX_HOURS:
        raise ValidationError(_("A review link lives between 1 and %(n)d hours.") % {"n": MAX_HOURS})
    from .revisions import display_name

    token = signing.dumps(secrets.token_urlsafe(24), salt=TOKEN_SALT)
    now = timezone.now()
    review = OutsideReview.objects.create(
        article=article,
        reviewer_name=name[:100],
        reviewer_unit=unit[:200],
        email=email,
        version=article.version,
        token_hash=_hash(token),
        sent_by=actor,
        sent_by_name=display_name(actor),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    if email and link_for is not None:
        link = link_for(token)
        transaction.on_commit(lambda: mail_link(review.pk, link))
    return review, token


def mail_link(review_pk, link):
    """Mail the reviewer their link, in the newsroom's language. Returns the number sent."""
    review = OutsideReview.objects.select_related("article").filter(pk=review_pk).first()
    if review is None or not review.email:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "name": review.reviewer_name,
            "headline": review.article.headline,
            "who": review.sent_by_name,
            "expires": local_time(review.expires_at),
            "link": link,
        }
        subject = _("[For review] %(headline)s") % {"headline": review.article.headline}
    return send_mail([review.email], subject, "outside_review_link", context)


def address(token):
    """The reviewer's page, as a path."""
    return reverse("editorial:outside_review", args=[token])


# --- what the reviewer says ------------------------------------------------------------


@transaction.atomic
def remark(review, *, kind, text="", passage="", paragraph=None):
    """Keep a comment or an answer from the reviewer. A closed link, a comment without text
    or a 不同意 without a reason is refused (ValidationError) and nothing is kept."""
    review = OutsideReview.objects.select_for_update().select_related("article").get(pk=review.pk)
    closed = why_closed(review)
    if closed:
        raise ValidationError(gone_message(closed), code="gone")
    if kind not in OutsideRemark.Kind.values:
        raise ValidationError(_("Choose 同意 or 不同意."))
    text = clean_text(text or "", multiline=True).strip()
    passage = " ".join(clean_text(passage or "", multiline=True).split())
    if kind == OutsideRemark.Kind.COMMENT and not text:
        raise ValidationError(_("Write your comment."))
    if kind == OutsideRemark.Kind.DISAGREE and not text:
        raise ValidationError(_("Give a reason for 不同意."))
    if len(text) > TEXT_LIMIT or len(passage) > PASSAGE_LIMIT:
        raise ValidationError(_("That is too long: a comment takes up to %(n)d characters and a passage up to %(p)d.") % {"n": TEXT_LIMIT, "p": PASSAGE_LIMIT})
    if review.remarks.count() >= REMARKS_LIMIT:
        raise ValidationError(_("This link has taken as many comments as it can. Please write to the editor."))
    if kind != OutsideRemark.Kind.COMMENT:
        passage, paragraph = "", None
    return OutsideRemark.objects.create(
        review=review, kind=kind, text=text, passage=passage, paragraph=paragraph, version=review.version
    )


# --- what the desk sees ------------------------------------------------------------------


@dataclass
class TimelineItem:
    """An outside review in the story's timeline, beside its ReviewEvents (timeline.html)."""

    created_at: object
    what: str  # "sent" or a remark's kind
    review: OutsideReview
    remark: OutsideRemark | None = None
    outside: bool = True


def reviews_of(article):
    """The story's outside reviews, each with its remarks and whether its link is closed."""
    reviews = list(OutsideReview.objects.filter(article=article).prefetch_related("remarks"))
    now = timezone.now()
    for review in reviews:
        review.article = article
        review.closed = why_closed(review, now)
        remarks = list(review.remarks.all())
        review.answer = next((r for r in reversed(remarks) if r.kind != OutsideRemark.Kind.COMMENT), None)
        review.comments = [r for r in remarks if r.kind == OutsideRemark.Kind.COMMENT]
    return reviews


def timeline(article, events, reviews=None):
    """The story's steps (`events`) and its outside reviews, in the order they happened."""
    items = list(events)
    for review in reviews if reviews is not None else reviews_of(article):
        items.append(TimelineItem(review.created_at, "sent", review))
        for note in review.remarks.all():
            items.append(TimelineItem(note.created_at, note.kind, review, note))
    return sorted(items, key=lambda item: item.created_at)
