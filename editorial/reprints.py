"""转载: the rules a reprint meets before it is signed off, and the chief editor's approval of
a reprint's changed headline.

A story is original (原创) or a reprint (转载) of a story first published elsewhere
(Article.origin). A reprint is signed off only when

- it names its outlet, original headline and original address (Article.reprint_errors);
- its outlet is on the approved source list (Outlet.may_reprint, kept by the chief editor);
- its headline is the original's, or the chief editor approved this very headline for it.

workflow.sign_off asks `check_sign_off` after its own checks: a refusal raises ReprintRefused
(a ValidationError, reported like any refused step) and changes nothing. `approve_headline`
records the approval in the story's history with both headlines; Article.save forgets it as
soon as either headline changes, so a headline changed again needs approving again.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from articles.demo import demo_stories_made
from articles.models import Article, Byline, Outlet

from . import roles
from .models import ReviewEvent
from .revisions import display_name


class ReprintRefused(ValidationError):
    """A reprint that may not be signed off yet; the messages say why."""


class ApprovalNotNeeded(Exception):
    """There is no changed reprint headline awaiting the chief's approval."""


def sign_off_problems(article):
    """Why `article` may not be signed off as it stands, as messages (empty: nothing stops it)."""
    if not article.is_reprint:
        return []
    problems = [error.messages[0] for error in article.reprint_errors().values()]
    if article.outlet_id and not article.outlet.may_reprint:
        problems.append(
            _("“%(outlet)s” is not on the approved source list: a reprint from it cannot be signed off. "
              "The chief editor keeps the list.")
            % {"outlet": article.outlet.name}
        )
    if article.headline_differs_from_original and not article.headline_change_approved:
        problems.append(
            _("The headline differs from the original headline “%(original)s”: the chief editor must "
              "approve it before sign-off.")
            % {"original": article.original_headline}
        )
    return problems


def check_sign_off(article):
    """Raise ReprintRefused if `article` is a reprint that may not be signed off now."""
    problems = sign_off_problems(article)
    if problems:
        raise ReprintRefused([str(problem) for problem in problems], code="reprint_refused")


def is_chief_editor(user):
    """The chief editor keeps the approved source list and approves a reprint's changed headline."""
    return user.is_authenticated and user.is_active and user.is_staff and roles.CHIEF_EDITOR in roles.user_roles(user)


@transaction.atomic
def approve_headline(article, *, actor, note=""):
    """The chief editor approves a reprint's headline that differs from the original's.

    Recorded in the story's history with both headlines. Refused (nothing written) for
    anyone else (PermissionDenied), and for a story with nothing to approve (ApprovalNotNeeded).
    """
    article = Article.objects.select_for_update(of=("self",)).get(pk=article.pk)
    if not is_chief_editor(actor):
        raise PermissionDenied(_("Only the chief editor may approve a reprint's changed headline."))
    if article.deleted_at is not None or article.status == Article.Status.WITHDRAWN:
        raise ApprovalNotNeeded(_("This story is withdrawn or in the trash."))
    if not article.headline_differs_from_original:
        raise ApprovalNotNeeded(_("This story is not a reprint printed under a headline of its own: there is nothing to approve."))
    if article.headline_change_approved:
        raise ApprovalNotNeeded(_("This headline is already approved."))
    article.approved_headline, article.approved_original_headline = article.headline, article.original_headline
    article.save(update_fields=["approved_headline", "approved_original_headline"])
    lines = [f"原标题:{article.original_headline}", f"改后标题:{article.headline}"]
    if (note or "").strip():
        lines.append(note.strip())
    return ReviewEvent.objects.create(
        article=article,
        action=ReviewEvent.Action.HEADLINE_APPROVED,
        actor=actor,
        actor_name=display_name(actor),
        from_status=article.status,
        to_status=article.status,
        note="\n".join(lines),
        version=article.version,
    )


def headline_approval(article):
    """The history entry of the approval that stands now, or None."""
    if not article.headline_change_approved:
        return None
    return (
        ReviewEvent.objects.filter(article=article, action=ReviewEvent.Action.HEADLINE_APPROVED)
        .order_by("-created_at", "-pk")
        .first()
    )


# --- the demo site ------------------------------------------------------------------------

# The demo's outlets as the chief would list them: the site's own (大众网, whose stories are
# its originals) and the three it reprints from, plus one commercial site kept off the list.
DEMO_HOME_OUTLET = "大众网"
DEMO_OUTLETS = {
    # name: (kind, on the approved source list, host of its addresses)
    "大众网": (Outlet.Kind.PROVINCIAL, True, "dzwww.example"),
    "齐鲁网": (Outlet.Kind.PROVINCIAL, True, "iqilu.example"),
    "济南日报": (Outlet.Kind.LOCAL, True, "jnrb.example"),
    "济南时报": (Outlet.Kind.LOCAL, True, "jnsb.example"),
    "泉城资讯网": (Outlet.Kind.COMMERCIAL, False, "quancheng-news.example"),
}
# One reprint in this many is printed under a headline of its own, approved by the chief.
DEMO_RETITLED_EVERY = 5


@receiver(demo_stories_made, dispatch_uid="editorial.reprints.demo")
def make_demo_reprints(sender, stories, now, **kwargs):
    """Stories of the other outlets become reprints, with their originals and the editor who
    reprinted them; every fifth published one carries a headline of its own, approved by the
    chief in its history. Uses no random numbers: the other demo receivers draw the same ones."""
    for name, (kind, listed, _host) in DEMO_OUTLETS.items():
        Outlet.objects.update_or_create(name=name, defaults={"kind": kind, "may_reprint": listed})
    others = [story for story in stories if story.outlet and story.outlet.name != DEMO_HOME_OUTLET]
    authors = {}
    for article_id, name in (
        Byline.objects.filter(article__in=others).order_by("article_id", "position", "pk").values_list("article_id", "person__name")
    ):
        authors.setdefault(article_id, name)
    reprinted, events = [], []
    for n, story in enumerate(others):
        host = DEMO_OUTLETS.get(story.outlet.name, (None, None, "news.example"))[2]
        when = (story.published_at or now) - timedelta(hours=2 + n % 5)
        story.origin = Article.Origin.REPRINT
        story.original_headline = story.headline
        story.original_author = authors.get(story.pk, "")
        story.original_url = f"https://{host}/{when:%Y%m%d}/{story.pk}.html"
        story.original_published_at = when
        story.reprinted_by = story.first_review_editor
        if story.status == Article.Status.PUBLISHED and n % DEMO_RETITLED_EVERY == 0:
            story.original_headline = f"济南{story.headline}"
            story.approved_headline, story.approved_original_headline = story.headline, story.original_headline
            events.append(
                ReviewEvent(
                    article=story,
                    action=ReviewEvent.Action.HEADLINE_APPROVED,
                    actor_name="演示总编",
                    from_status=Article.Status.FINAL_REVIEW,
                    to_status=Article.Status.FINAL_REVIEW,
                    note=f"原标题:{story.original_headline}\n改后标题:{story.headline}",
                    version=story.version,
                    created_at=story.published_at - timedelta(minutes=5),
                )
            )
        reprinted.append(story)
    fields = ["origin", "original_headline", "original_author", "original_url", "original_published_at", "reprinted_by",
              "approved_headline", "approved_original_headline"]
    Article.objects.bulk_update(reprinted, fields, batch_size=500)
    ReviewEvent.objects.bulk_create(events, batch_size=500)
