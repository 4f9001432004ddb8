"""The chief editor's approval of a reprint's changed headline, from the change page's 转载 panel
(templates/editorial/reprint_panel.html). The rules are editorial.reprints'."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from articles.text import clean_text

from . import reprints
from .views import _article_for, change_url


@require_POST
def approve_headline(request, pk):
    """Approve the story's headline against its original's; a refusal changes nothing."""
    article = _article_for(request, pk)
    try:
        reprints.approve_headline(article, actor=request.user, note=clean_text(request.POST.get("note", ""), multiline=True))
    except (PermissionDenied, reprints.ApprovalNotNeeded) as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The headline “%(headline)s” is approved for this reprint.") % {"headline": article.headline})
    return redirect(change_url(article))
