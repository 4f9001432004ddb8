"""The monthly report of time to publish per desk (editorial.deadlines.time_to_publish)."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from articles.models import Article

from .deadline_admin import is_editor
from .deadlines import STAGE_LABELS, duration_text, limits, time_to_publish as report
from .models import StageDeadline


def time_to_publish(request):
    """Editors and the chief: median and 90th percentile from submission to sign-off, per
    desk and month (?months=1..24, default 6)."""
    from django.contrib import admin

    if not is_editor(request.user):
        raise PermissionDenied
    try:
        months = min(24, max(1, int(request.GET.get("months", 6))))
    except ValueError:
        months = 6
    context = {
        **admin.site.each_context(request),
        "opts": Article._meta,
        "title": _("Time to publish, per desk and month"),
        "months": months,
        "report": report(months),
        "limits": [
            (STAGE_LABELS[stage], StageDeadline.Priority(priority).label, duration_text(allowed))
            for (stage, priority), allowed in limits().items()
        ],
    }
    return TemplateResponse(request, "editorial/deadlines_report.html", context)
