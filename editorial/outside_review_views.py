"""The pages of outside review (editorial.outside_review): the editor's page that sends a
link, and the reviewer's page behind the link, where they read the story as readers would
see it, comment on passages and answer 同意 or 不同意.

The reviewer's page is never indexed and never cached, and answers for one story only: the
token names a review, the review names its story, and nothing in the request can name
another."""

import copy

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from . import outside_review
from .models import OutsideRemark, Revision
from .views import _admin_context, _article_for, _banner, render_as_public

NOINDEX = "noindex, nofollow, noarchive"


class SendForm(forms.Form):
    reviewer_name = forms.CharField(label=gettext_lazy("Reviewer's name"), max_length=100)
    reviewer_unit = forms.CharField(
        label=gettext_lazy("Unit or standing"),
        max_length=200,
        help_text=gettext_lazy("For example the correspondent's unit, a law firm, or an expert's institute."),
    )
    email = forms.EmailField(label=gettext_lazy("Email (optional)"), required=False, help_text=gettext_lazy("If given, the link is mailed to this address."))
    hours = forms.IntegerField(label=gettext_lazy("Valid for (hours)"), min_value=1, max_value=outside_review.MAX_HOURS)


def send(request, pk):
    """A 责任编辑 or the 总编辑 sends one story to a named outside reviewer. The link is shown
    once, right after it is made: only its hash is kept."""
    article = _article_for(request, pk)
    title = _("Send “%(headline)s” to an outside reviewer") % {"headline": article.headline}
    context = _admin_context(request, article, title)
    if not outside_review.may_send(request.user):
        context["refusal"] = _("Only a responsible editor or the chief editor may send a story to an outside reviewer.")
        return TemplateResponse(request, "editorial/outside_review_send.html", context, status=403)
    link = None
    if request.method == "POST":
        form = SendForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                review, token = outside_review.send(
                    article,
                    actor=request.user,
                    name=data["reviewer_name"],
                    unit=data["reviewer_unit"],
                    email=data["email"],
                    hours=data["hours"],
                    link_for=lambda token: settings.NEWSROOM_SITE_URL.rstrip("/") + outside_review.address(token),
                )
            except ValidationError as refusal:
                form.add_error(None, refusal)
            else:
                link = request.build_absolute_uri(outside_review.address(token))
                context.update(review=review)
                form = SendForm(initial={"hours": outside_review.link_hours()})
    else:
        form = SendForm(initial={"hours": outside_review.link_hours()})
    context.update(
        form=form,
        link=link,
        open_for_review=outside_review.can_be_sent(article),
        reviews=outside_review.reviews_of(article),
    )
    return TemplateResponse(request, "editorial/outside_review_send.html", context, status=400 if form.errors else 200)


# --- the reviewer's side ------------------------------------------------------------------


def _private(response):
    """Never kept by a browser, a proxy or the CDN, never indexed."""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = NOINDEX
    # The token is in the address: never passed on to another site (and the same site still
    # gets its Origin, which the CSRF check of the comment form needs).
    response["Referrer-Policy"] = "same-origin"
    return response


def _gone(request, reason):
    response = TemplateResponse(
        request, "editorial/outside_review_gone.html", {"message": outside_review.gone_message(reason)}, status=410
    )
    return _private(response)


def _as_get(request):
    """The same request as a GET, for the public view (which answers GET only) when a refused
    comment brings the page back with its errors."""
    clone = copy.copy(request)
    clone.method = "GET"
    return clone


def _page(request, review, *, errors=None, values=None, status=200):
    article = review.article
    revision = Revision.objects.filter(article=article, number=review.version).first()
    banner = _banner(
        _("For outside review by %(name)s (version %(n)s) - not public, please do not forward")
        % {"name": review.reviewer_name, "n": review.version}
    )
    response = render_as_public(_as_get(request), article, revision.data if revision else None, banner)
    remarks = list(review.remarks.all())
    panel = render_to_string(
        "editorial/outside_review_page.html",
        {
            "review": review,
            "remarks": remarks,
            "answer": next((r for r in reversed(remarks) if r.kind != OutsideRemark.Kind.COMMENT), None),
            "errors": errors or {},
            "values": values or {},
            "thanks": request.GET.get("sent") == "1",
            "labels": dict(OutsideRemark.Kind.choices),
        },
        request=request,
    )
    content = response.content.decode()
    content = content.replace("<head>", format_html('<head>\n<meta name="robots" content="{}">', NOINDEX), 1)
    # The review box right under the story, inside the page's <main>; its script at the end.
    main_end = content.rfind("</main>")
    content = content[:main_end] + panel + content[main_end:] if main_end >= 0 else content + panel
    script = format_html('<script src="{}" defer></script>', static("editorial/outside_review.js"))
    end = content.rfind("</body>")
    content = content[:end] + script + content[end:] if end >= 0 else content + script
    response.content = content
    response.status_code = status
    return _private(response)


def _paragraph(raw):
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 10000 else None


@require_http_methods(["GET", "HEAD", "POST"])
def page(request, token):
    """The reviewer's page. GET reads; POST keeps one comment or answer, then shows the page again."""
    request.skip_page_cache = True  # each reviewer's own page, always current
    review = outside_review.open_review(token)
    if review is None:
        raise Http404
    closed = outside_review.why_closed(review)
    if closed:
        return _gone(request, closed)
    if request.method != "POST":
        return _page(request, review)
    kind = request.POST.get("kind", "")
    values = {
        "kind": kind,
        "passage": request.POST.get("passage", ""),
        "paragraph": request.POST.get("paragraph", ""),
        "text": request.POST.get("text", ""),
    }
    try:
        outside_review.remark(
            review, kind=kind, text=values["text"], passage=values["passage"], paragraph=_paragraph(values["paragraph"])
        )
    except ValidationError as refusal:
        if refusal.code == "gone":
            return _gone(request, outside_review.why_closed(review) or "expired")
        form = "comment" if kind == OutsideRemark.Kind.COMMENT else "answer"
        return _page(request, review, errors={form: " ".join(refusal.messages)}, values=values, status=400)
    anchor = "your-comments" if kind == OutsideRemark.Kind.COMMENT else "your-answer"
    return redirect(f"{outside_review.address(token)}?sent=1#{anchor}")
