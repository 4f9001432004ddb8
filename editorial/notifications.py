"""Mail about stories on the move, sent after the step's transaction commits.

When a story arrives in a queue, everyone who can act on it there hears of it;
its writer hears when it is sent back, published or withdrawn. A send-back at
final review also reaches the first-review editor who passed it.

Each mail has a plain-text body and an HTML alternative saying the same: who took the
step, when (in the newsroom's time zone, see newsroom/local_time.py), the note, and an
absolute link to the story in the admin, built from settings.NEWSROOM_SITE_URL (a mail
client cannot open a bare path). Mails speak the newsroom's language
(settings.LANGUAGE_CODE), whatever language the person taking the step had chosen.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from articles.models import Article
from newsroom.local_time import local_time

from . import roles
from .models import ReviewEvent

A = ReviewEvent.Action


def _staff_with_mail():
    groups = list(roles.GROUP_NAMES.values())
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .exclude(email="")
        .filter(Q(groups__name__in=groups) | Q(is_superuser=True))
        .distinct()
    )


def _writers(article):
    users = get_user_model().objects.filter(
        Q(pk=article.created_by_id) | Q(person__bylines__article=article), is_active=True
    ).exclude(email="")
    return list(users.distinct())


def _who_can(article, steps, exclude=None):
    return [
        user
        for user in _staff_with_mail()
        if user.pk != getattr(exclude, "pk", None) and any(roles.can(user, step, article) for step in steps)
    ]


def recipients(event):
    """Who hears of `event`, and what the mail says: (subject, [users])."""
    article = event.article
    headline = article.headline
    if event.action == A.SUBMITTED:
        return f"[待初审] {headline}", _who_can(article, ["pass_first_review"], exclude=event.actor)
    if event.action == A.PASSED:
        return f"[待终审] {headline}", _who_can(article, ["sign_off"], exclude=event.actor)
    if event.action == A.SENT_BACK:
        users = _writers(article)
        if event.from_status in {Article.Status.FINAL_REVIEW, Article.Status.SCHEDULED}:
            passed = (
                ReviewEvent.objects.filter(article=article, action=A.PASSED, created_at__lte=event.created_at)
                .select_related("actor")
                .order_by("-created_at", "-pk")
                .first()
            )
            if passed and passed.actor and passed.actor.email and passed.actor not in users:
                users.append(passed.actor)
        return f"[退回] {headline}", users
    if event.action in {A.SIGNED_OFF, A.PUBLISHED_DUE}:
        return f"[已发布] {headline}", _writers(article)
    if event.action == A.WITHDRAWN:
        return f"[已撤稿] {headline}", _writers(article)
    return "", []


def admin_link(article):
    """The story's change page in the admin, as an absolute address a mail client can open."""
    path = reverse("admin:articles_article_change", args=[article.pk])
    return settings.NEWSROOM_SITE_URL.rstrip("/") + path


def send_mail(addresses, subject, template, context):
    """Mail each of `addresses` on its own, with a plain-text part and an HTML part rendered
    from editorial/mail/<template>.txt and .html, in the newsroom's language. Returns the
    number sent. Every mail of the desk (steps, overdue stages, outside reviewers) goes here."""
    if not addresses:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        # A headline is one line in every form, but a forged request can carry line breaks;
        # a mail header never does (Django would refuse the whole message).
        subject = " ".join(str(subject).split())
        text = render_to_string(f"editorial/mail/{template}.txt", context).strip() + "\n"
        html = render_to_string(f"editorial/mail/{template}.html", context)
    connection = get_connection(fail_silently=True)
    messages = []
    for address in addresses:
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [address], connection=connection)
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return connection.send_messages(messages) or 0


def story_moved(event_pk):
    event = ReviewEvent.objects.select_related("article", "actor").filter(pk=event_pk).first()
    if event is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject, users = recipients(event)
        context = {
            "headline": event.article.headline,
            "action": event.get_action_display(),
            "who": event.actor_name,
            "when": local_time(event.created_at),
            "note": event.note,
            "link": admin_link(event.article),
        }
    return send_mail([user.email for user in users], subject, "story_moved", context)
