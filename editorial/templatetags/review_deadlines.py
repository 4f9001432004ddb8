"""The dashboard's review deadlines and a story's time in each review stage
(editorial.deadlines), as inclusion tags: `{% review_deadlines_panel %}` on the admin
index, `{% stage_times article %}` under the change page's timeline."""

from django import template
from django.utils import timezone

from editorial import deadlines, queues
from editorial.deadline_admin import is_chief, is_editor

register = template.Library()

PANEL_ROWS = 12


@register.inclusion_tag("editorial/deadlines_dashboard.html", takes_context=True)
def review_deadlines_panel(context):
    """Stories in review, overdue first, with their waits; for the chief, the day's overruns."""
    user = context["request"].user
    if not is_editor(user):
        return {"show": False}
    now = timezone.now()
    waiting = deadlines.by_deadline(queues.visible_to(user).filter(status__in=deadlines.STAGES))
    rows = [(article, deadlines.wait_of(article, now)) for article in waiting.select_related("section")[:PANEL_ROWS]]
    return {
        "show": True,
        "rows": [(article, wait) for article, wait in rows if wait is not None],
        "overruns": deadlines.overruns_on(now=now) if is_chief(user) else None,
        "chief": is_chief(user),
    }


@register.inclusion_tag("editorial/deadlines_stages.html")
def stage_times(article):
    """Who held each review stage of `article` and for how long, from its review history."""
    return {"spells": deadlines.spells(article)}
