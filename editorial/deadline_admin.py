"""The admin of 急稿 and review deadlines (editorial.deadlines): the chief's settings, the
duty roster, the mails sent, and what the story list adds (the wait in the stage, overdue
first in the review queues)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import deadlines, roles
from .models import DutyEditor, OverdueNotice, StageDeadline
from .revisions import display_name

# The queues whose list is sorted by deadline, overdue first (editorial.queues).
DEADLINE_QUEUES = {"first_review", "final_review", "overdue"}


def is_chief(user):
    return roles.CHIEF_EDITOR in roles.user_roles(user)


def is_editor(user):
    return is_chief(user) or (user.is_active and user.is_staff and user.has_perm("articles.review_article"))


class ChiefSetsEditorsSee:
    """Editors read it; only the chief editor changes it."""

    def has_module_permission(self, request):
        return is_editor(request.user)

    def has_view_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_add_permission(self, request):
        return is_chief(request.user)

    def has_change_permission(self, request, obj=None):
        return is_chief(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_chief(request.user)


@admin.register(StageDeadline)
class StageDeadlineAdmin(ChiefSetsEditorsSee, admin.ModelAdmin):
    list_display = ["stage", "priority", "minutes"]
    readonly_fields = ["stage", "priority"]
    fields = ["stage", "priority", "minutes"]

    # One row per stage and priority, written by the migration: the chief changes the minutes.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DutyEditor)
class DutyEditorAdmin(ChiefSetsEditorsSee, admin.ModelAdmin):
    list_display = ["day", "stage", "editor_name"]
    list_filter = ["stage", "day"]
    list_select_related = ["editor"]
    fields = ["day", "stage", "editor"]

    @admin.display(description=_("editor"), ordering="editor")
    def editor_name(self, obj):
        return display_name(obj.editor) if obj.editor_id else "-"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "editor":
            editors = [roles.GROUP_NAMES[role] for role in (roles.FIRST_REVIEWER, roles.RESPONSIBLE_EDITOR, roles.CHIEF_EDITOR)]
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .filter(Q(groups__name__in=editors) | Q(is_superuser=True))
                .distinct()
                .order_by("username")
            )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "editor":
            field.label_from_instance = display_name
        return field


@admin.register(OverdueNotice)
class OverdueNoticeAdmin(admin.ModelAdmin):
    """The mails about overdue stages, as sent: read only."""

    list_display = ["article", "stage", "due_at", "sent_at", "recipients"]
    list_filter = ["stage", "sent_at"]
    list_select_related = ["article"]

    def has_module_permission(self, request):
        return is_editor(request.user)

    def has_view_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StageWaitColumn:
    """For ArticleAdmin: the story list shows each story's wait in its review stage, and the
    review queues list overdue stories first (editorial.deadlines)."""

    def _sorts_by_deadline(self, request):
        return request.GET.get("queue") in DEADLINE_QUEUES

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if (match and match.url_name == "articles_article_changelist") or self._sorts_by_deadline(request):
            queryset = deadlines.with_stage_times(queryset)
        return queryset

    def get_ordering(self, request):
        if self._sorts_by_deadline(request):
            return [F("stage_deadline").asc(nulls_last=True), "-updated_at", "-pk"]
        return super().get_ordering(request)

    @admin.display(description=_("time in stage"))
    def stage_wait(self, obj):
        wait = deadlines.wait_of(obj)
        breaking = format_html('<span class="deadline-breaking">{}</span> ', _("Breaking")) if obj.is_breaking else ""
        if wait is None:
            return breaking or "-"
        if wait.is_overdue:
            return format_html(
                '{}<span class="deadline-wait deadline-overdue" title="{}">{} · <strong>{}</strong></span>',
                breaking,
                wait.due_local,
                wait.waited,
                wait.over,
            )
        return format_html('{}<span class="deadline-wait" title="{}">{}</span>', breaking, wait.due_local, wait.waited)
