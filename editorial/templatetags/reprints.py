"""The 转载 panel on a reprint's change page: where it comes from, whether the source is on the
approved list, what still stops its sign-off, and the chief editor's headline approval."""

from django import template

from articles.models import Article
from editorial import reprints

register = template.Library()

# Statuses in which the panel still says what stops the sign-off.
BEFORE_SIGN_OFF = {Article.Status.DRAFT, Article.Status.FIRST_REVIEW, Article.Status.FINAL_REVIEW}


@register.inclusion_tag("editorial/reprint_panel.html", takes_context=True)
def reprint_panel(context, article):
    if not article.is_reprint:
        return {"article": None}
    user = context["request"].user
    differs = article.headline_differs_from_original
    approved = article.headline_change_approved
    return {
        "article": article,
        "csrf_token": context.get("csrf_token"),
        "problems": reprints.sign_off_problems(article) if article.status in BEFORE_SIGN_OFF else [],
        "headline_differs": differs,
        "approval": reprints.headline_approval(article) if differs and approved else None,
        "can_approve": differs and not approved and reprints.is_chief_editor(user),
    }
