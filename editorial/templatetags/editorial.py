from django import template
from django.urls import reverse

from editorial import queues

register = template.Library()


@register.simple_tag(takes_context=True)
def editorial_queues(context):
    """The dashboard's queues for the signed-in user: [(key, label, count, url), ...]."""
    user = context["request"].user
    if not user.has_perm("articles.view_article"):
        return []
    changelist = reverse("admin:articles_article_changelist")
    return [(key, label, count, f"{changelist}?queue={key}") for key, label, count in queues.for_user(user)]
