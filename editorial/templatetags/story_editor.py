"""What the story editor's autosave (static/editorial/autosave.js) needs to know about the
version on the page: who saved it, so a copy kept in the browser from an older version is
never put over someone else's save."""

from django import template
from django.conf import settings

from editorial.models import Revision

register = template.Library()


@register.inclusion_tag("editorial/autosave.html", takes_context=True)
def story_autosave(context, article):
    request = context["request"]
    saved = Revision.objects.filter(article=article, number=article.version, applied=True).only("author_id", "author_name").first()
    return {
        "article": article,
        "user_id": request.user.pk,
        "saved_by": saved.author_id if saved and saved.author_id else "",
        "saved_by_name": saved.author_name if saved else "",
        "time_zone": settings.TIME_ZONE,
        "language": context.get("LANGUAGE_CODE", settings.LANGUAGE_CODE),
    }
