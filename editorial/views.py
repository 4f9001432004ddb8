"""The editorial pages inside the admin (steps, history, compare, restore, preview, share)
and the outside reviewer's read-only page. Each parses input, calls one workflow or
revisions function, and renders or redirects."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import get_script_prefix, resolve, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from articles.models import Article
from articles.text import clean_text

from . import editing, proofreading, queues, recommendations, revisions, roles, workflow
from .photos import staff_addresses
from .models import EditingSession, ReviewEvent, Revision

SHARE_SALT = "editorial.share"


def _article_for(request, pk):
    """A story the user may see in the admin, else 404 (a reporter never learns of others' drafts)."""
    return get_object_or_404(queues.visible_to(request.user), pk=pk)


def _admin_context(request, article, title):
    from django.contrib import admin

    return {
        **admin.site.each_context(request),
        "opts": Article._meta,
        "original": article,
        "article": article,
        "title": title,
    }


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


@require_POST
def transition(request, pk, step):
    """One workflow step from a button on the change page. Refusals change nothing."""
    if step not in workflow.BUTTON_STEPS:
        raise Http404
    article = _article_for(request, pk)
    reason = clean_text(request.POST.get("reason", ""), multiline=True)
    publish_at = None
    try:
        if step == "submit":
            workflow.submit(article, actor=request.user)
        elif step == "pass_first_review":
            proofread = proofreading.from_post(request.POST, article)
            workflow.pass_first_review(article, actor=request.user, note=reason, proofread=proofread)
        elif step == "send_back":
            workflow.send_back(article, actor=request.user, reason=reason)
        elif step == "sign_off":
            publish_at = _publish_at(request)
            confirmed = request.POST.get("publish_now") == "1"
            proofread = proofreading.from_post(request.POST, article)
            workflow.sign_off(
                article, actor=request.user, publish_at=publish_at, note=reason, publish_now_confirmed=confirmed, proofread=proofread
            )
        elif step == "withdraw":
            workflow.withdraw(article, actor=request.user, reason=reason)
        elif step == "correct":
            # A correction changes the text: it is made by saving the change form with a note.
            raise workflow.TransitionNotAllowed(_("Edit the story and give a correction note, then save."))
    except workflow.PublishTimePassed:
        return _confirm_publish_now(request, article, publish_at, reason)
    except (PermissionDenied, workflow.TransitionNotAllowed, ValidationError, ValueError) as refusal:
        text = " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
        messages.error(request, text or _("You may not do that."))
        return redirect(change_url(article))
    done_editing(article, request.user)
    article.refresh_from_db()
    messages.success(request, _("“%(headline)s” is now: %(status)s.") % {"headline": article.headline, "status": article.get_status_display()})
    if roles.can(request.user, "edit", article) or queues.visible_to(request.user).filter(pk=pk).exists():
        # Marked: the step brought them back to the page, they did not open the editor (note_editing).
        return redirect(f"{change_url(article)}?{RETURNED_BY_STEP}=1")
    return redirect("admin:index")


def _confirm_publish_now(request, article, publish_at, reason):
    """The sign-off asked for a time already past: say it publishes now, and ask again."""
    context = _admin_context(request, article, _("Publish “%(headline)s” now?") % {"headline": article.headline})
    context.update(publish_at=publish_at, raw_publish_at=request.POST.get("publish_at", ""), reason=reason)
    # The 终审 proofreading given with the sign-off goes with the confirmation.
    context["proofreading_carried"] = [(name, value) for name, value in request.POST.items() if name.startswith("proof-")]
    return TemplateResponse(request, "editorial/sign_off_confirm.html", context)


def _publish_at(request):
    raw = (request.POST.get("publish_at") or "").strip()
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ValueError(_("Give the publication time as YYYY-MM-DD HH:MM."))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def history(request, pk):
    """Every saved version, with who saved it and when; pick two to compare, or restore one."""
    article = _article_for(request, pk)
    context = _admin_context(request, article, _("Versions of “%(headline)s”") % {"headline": article.headline})
    context.update(
        revisions=article.revisions.all(),
        events=ReviewEvent.objects.filter(article=article),
        can_restore=roles.can(request.user, "edit", article),
        needs_note=article.shown_status == Article.Status.PUBLISHED,
    )
    return TemplateResponse(request, "editorial/article_history.html", context)


def compare(request, pk):
    """A readable difference between two versions (?a=3&b=5); the current one by default."""
    article = _article_for(request, pk)
    numbers = sorted(article.revisions.values_list("number", flat=True))
    if not numbers:
        raise Http404
    try:
        b = int(request.GET.get("b") or article.version)
        a = int(request.GET.get("a") or next((n for n in reversed(numbers) if n < b), b))
    except ValueError:
        raise Http404
    old = get_object_or_404(Revision, article=article, number=a)
    new = get_object_or_404(Revision, article=article, number=b)
    context = _admin_context(request, article, _("Compare versions %(a)s and %(b)s") % {"a": a, "b": b})
    context.update(old=old, new=new, changes=revisions.compare(old.data, new.data), numbers=numbers)
    return TemplateResponse(request, "editorial/revision_compare.html", context)


def compare_published(request, pk):
    """A live story: what readers see now against the story as it is being edited, either the
    change form as sent (POST, from the change page's button: saved or not, nothing is kept)
    or the latest version kept (GET), a refused edit included."""
    article = _article_for(request, pk)
    if not article.is_live:
        raise Http404
    published = revisions.snapshot(article)
    latest, unreadable = None, []
    if request.method == "POST":
        draft, unreadable = _draft_from_form(request, article, published)
    else:
        latest = article.revisions.order_by("-number").first()
        draft = latest.data if latest else published
    context = _admin_context(request, article, _("Compare with what readers see"))
    context.update(
        changes=revisions.compare(published, draft),
        latest=latest,
        from_form=request.method == "POST",
        unreadable=unreadable,
    )
    return TemplateResponse(request, "editorial/published_compare.html", context)


def _draft_from_form(request, article, published):
    """The story's fields as the change form sends them, over `published`; photos, byline and
    links stay as published. Returns (data, labels of fields the form could not read)."""
    from django.contrib import admin

    form_class = admin.site.get_model_admin(Article).get_form(request, article, change=True)
    with transaction.atomic():
        # The form's own checks lock the row and keep a refused edit: all of it is rolled back.
        form = form_class(request.POST, instance=Article.objects.get(pk=article.pk))
        form.is_valid()
        transaction.set_rollback(True)
    data = revisions.with_form_fields(published, form.cleaned_data)
    unreadable = [str(form.fields[name].label) for name in form.errors if name in revisions.FORM_FIELDS and name in form.fields]
    return data, unreadable


@require_POST
def restore(request, pk):
    article = _article_for(request, pk)
    number = request.POST.get("number", "")
    if not number.isdigit():
        raise Http404
    revision = get_object_or_404(Revision, article=article, number=int(number))
    workflow.record_if_due(article)  # a live story is restored as a correction
    try:
        article = editing.restore(article, revision, actor=request.user, note=clean_text(request.POST.get("note", ""), multiline=True))
    except (PermissionDenied, workflow.TransitionNotAllowed, ValidationError) as refusal:
        text = " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
        messages.error(request, text)
        return redirect("admin:articles_article_history", pk)
    messages.success(request, _("Version %(n)s restored as version %(new)s.") % {"n": number, "new": article.version})
    return redirect(change_url(article))


def render_as_public(request, article, data=None, banner=""):
    """The story page exactly as readers would get it, for the current draft or a saved version.

    The draft (or version) is put in place and marked live inside a transaction
    that is always rolled back, and the view serving the story's public address renders
    it: the same view, template and queries, with nothing stored (and nothing announced).
    """
    # Never stored in the page cache (an outsider's share link is an anonymous GET), and
    # photos not public yet are shown through signed addresses (editorial.photos).
    request.skip_page_cache = True
    with transaction.atomic(), staff_addresses():
        article = Article.objects.select_for_update().get(pk=article.pk)
        if data is not None:
            revisions.apply_snapshot(article, data, announce=False)
        published_at = article.published_at if article.published_at and article.published_at <= timezone.now() else timezone.now() - timedelta(seconds=1)
        Article.objects.filter(pk=article.pk).update(status=Article.Status.PUBLISHED, published_at=published_at)
        # The empty 推荐阅读 slots as they will be filled at publication (rolled back with the rest).
        recommendations.fill(article, force_live=True)
        match = resolve(_without_script_prefix(article.get_absolute_url()))
        response = match.func(request, *match.args, **match.kwargs)
        content = response.content.decode()
        transaction.set_rollback(True)
    if banner:
        start = content.find("<body")
        end = content.find(">", start) + 1 if start >= 0 else 0
        content = content[:end] + str(banner) + content[end:]
    result = HttpResponse(content)
    result["Cache-Control"] = "private, no-store"
    result["X-Robots-Tag"] = "noindex, nofollow"
    return result


def _without_script_prefix(url):
    """A path as reverse() gives it, as the URLconf matches it (a site served under /news/)."""
    prefix = get_script_prefix()
    return "/" + url[len(prefix):] if url.startswith(prefix) else url


def _banner(text):
    # Styled from a stylesheet, not a style attribute: the Content-Security-Policy allows no inline styles.
    return format_html(
        '<link rel="stylesheet" href="{}"><div class="preview-banner" role="status">{}</div>',
        static("editorial/preview.css"),
        text,
    )


def preview(request, pk):
    """Staff only: the current draft, or ?version=N, rendered as the public page."""
    article = _article_for(request, pk)
    data, label = None, _("current draft")
    if request.GET.get("version"):
        if not request.GET["version"].isdigit():
            raise Http404
        revision = get_object_or_404(Revision, article=article, number=int(request.GET["version"]))
        data, label = revision.data, _("version %(n)s") % {"n": revision.number}
    banner = _banner(_("Preview (%(what)s, status: %(status)s) - not public") % {"what": label, "status": article.get_status_display()})
    request.newsroom_show_reasons = True  # 推荐阅读 says, for the desk, why each item is there
    return render_as_public(request, article, data, banner)


CALENDAR_DAYS = 7


def calendar(request):
    """What goes live in the next seven days, day by day in the newsroom's time zone, each
    story with its time and the 责任编辑 who signed it off. A reporter sees their own."""
    if not request.user.has_perm("articles.view_article"):
        raise PermissionDenied
    zone = timezone.get_default_timezone()
    today = timezone.localdate(timezone=zone)
    days = [today + timedelta(days=n) for n in range(CALENDAR_DAYS)]
    end = datetime.combine(today + timedelta(days=CALENDAR_DAYS), time.min, tzinfo=zone)
    scheduled = (
        queues.visible_to(request.user)
        .with_shown_status()
        .filter(shown_status=Article.Status.SCHEDULED)
        .select_related("section", "responsible_editor")
        .order_by("published_at", "pk")
    )
    by_day = {day: [] for day in days}
    for story in scheduled.filter(published_at__lt=end):
        by_day.get(timezone.localtime(story.published_at, zone).date(), []).append(story)
    context = _admin_context(request, None, _("Scheduled for the next %(n)d days") % {"n": CALENDAR_DAYS})
    context.update(days=list(by_day.items()), today=today, later=scheduled.filter(published_at__gte=end).count())
    return TemplateResponse(request, "editorial/article_calendar.html", context)


def share_hours():
    return getattr(settings, "NEWSROOM_SHARE_LINK_HOURS", 72)


def share_token(article):
    return signing.dumps({"a": article.pk, "v": article.version}, salt=SHARE_SALT, compress=True)


def share(request, pk):
    """A signed, expiring read-only link to the current version, for a reviewer outside the newsroom."""
    article = _article_for(request, pk)
    url = request.build_absolute_uri(reverse("editorial:shared", args=[share_token(article)]))
    context = _admin_context(request, article, _("Share “%(headline)s” for review") % {"headline": article.headline})
    context.update(share_url=url, hours=share_hours(), expires=timezone.now() + timedelta(hours=share_hours()))
    return TemplateResponse(request, "editorial/article_share.html", context)


@require_safe
def shared(request, token):
    """The outside reviewer's page: read-only, expires, and shows the version the link was made for."""
    try:
        payload = signing.loads(token, salt=SHARE_SALT, max_age=timedelta(hours=share_hours()))
    except signing.SignatureExpired:
        return HttpResponse(_("This review link has expired."), status=410, content_type="text/plain; charset=utf-8")
    except signing.BadSignature:
        raise Http404
    article = get_object_or_404(Article.objects.not_trashed(), pk=payload["a"])
    if article.status == Article.Status.WITHDRAWN:
        raise Http404
    revision = Revision.objects.filter(article=article, number=payload["v"]).first()
    banner = _banner(_("Shared for review (version %(n)s) - not public, please do not forward") % {"n": payload["v"]})
    return render_as_public(request, article, revision.data if revision else None, banner)




# In the query of the change page a step redirects to: its taker was brought back, and is not
# counted as editing the story for that visit.
RETURNED_BY_STEP = "after_step"


def note_editing(article, user, editing=True):
    """Record that `user` opened the story to edit it; return the others who did in the last minutes.

    `editing` is False for someone who cannot edit it, or whom a step brought back to the page."""
    now = timezone.now()
    if editing:
        EditingSession.objects.update_or_create(article=article, user=user, defaults={"opened_at": now})
    else:
        done_editing(article, user)
    since = now - timedelta(minutes=getattr(settings, "NEWSROOM_EDITING_MINUTES", 10))
    return [
        (revisions.display_name(s.user), s.opened_at)
        for s in EditingSession.objects.filter(article=article, opened_at__gte=since, user__isnull=False)
        .exclude(user=user)
        .select_related("user")
    ]


def done_editing(article, user):
    """The user moved the story on (or cannot edit it): they no longer have it open."""
    EditingSession.objects.filter(article=article, user=user).delete()


INTERNAL_NOTES_PER_PAGE = 50


@require_safe
def internal_notes(request):
    """The chief editor's list of every internal note: changes to live stories that were kept
    in their history instead of printed as a 更正, newest first, each with its story."""
    if roles.CHIEF_EDITOR not in roles.user_roles(request.user):
        raise PermissionDenied
    notes = (
        ReviewEvent.objects.filter(action=ReviewEvent.Action.REVISED)
        .select_related("article")
        .order_by("-created_at", "-pk")
    )
    context = _admin_context(request, None, _("Internal notes on live stories"))
    context.update(page=Paginator(notes, INTERNAL_NOTES_PER_PAGE).get_page(request.GET.get("page")))
    return TemplateResponse(request, "editorial/internal_notes.html", context)
