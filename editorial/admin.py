"""The newsroom's admin for stories and what is printed around them."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection, models, transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import editing, queues, reprint_views, reprints, roles, views as editorial_views, workflow
from . import outside_review, outside_review_views
from . import recommendations
from . import deadline_admin, deadline_views
from . import error_rate
from .forms import ArticleAdminForm, ArticleImageForm, ImageAdminForm, OutletAdminForm
from .proofreading import EscapedErrorsForm
from .models import ReviewEvent
from .photos import photo_url, signed_url
from .revisions import display_name
from .shared import announce_shared_change, stories_printing, stories_tagged
from .widgets import ChosenPickersAdminMixin, with_chosen_pickers

from articles.events import together
from articles.models import (
    Article,
    ArticleImage,
    Byline,
    Image,
    Outlet,
    Person,
    Recommendation,
    RelatedLink,
    Section,
)
from articles.text import TextRuleModelForm
from taggit.models import Tag


class AnnouncesSharedChange:
    """Admin of a thing many pages print: each save and deletion announces SharedChanged
    (editorial.shared) with the stories printing it before and after, and its slug before
    and after, so delivery refreshes those pages.

    The announcement is made in save_related, which Django calls right after save_model,
    on the change form and for the list's editable rows alike: by then inlines (a tag's
    tagged items) are saved too.
    """

    shared_kind = None
    # Whether a thing just added is printed anywhere yet: a section is, in the navigation;
    # a new photo, person, outlet or tag is on no page until a story uses it.
    new_is_printed = False

    def public_slugs(self, obj):
        """The parts of its public addresses (a section's or tag's slug)."""
        return ()

    def save_model(self, request, obj, form, change):
        stored = type(obj).objects.filter(pk=obj.pk).first() if change and obj.pk else None
        form.shared_before = (
            self.public_slugs(stored) if stored else (),
            stories_printing(self.shared_kind, obj.pk) if stored else set(),
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change or self.new_is_printed:
            slugs, stories = getattr(form, "shared_before", ((), set()))
            obj = form.instance
            announce_shared_change(
                self.shared_kind,
                obj.pk,
                what="edit" if change else "add",
                story_ids=stories | stories_printing(self.shared_kind, obj.pk),
                slugs=(*slugs, *self.public_slugs(obj)),
            )

    def delete_model(self, request, obj):
        pk, stories, slugs = obj.pk, stories_printing(self.shared_kind, obj.pk), self.public_slugs(obj)
        super().delete_model(request, obj)
        announce_shared_change(self.shared_kind, pk, what="delete", story_ids=stories, slugs=slugs)

    def delete_queryset(self, request, queryset):
        # One by one, so that each deletion is announced with what printed it; delivered together.
        with together():
            for obj in queryset:
                self.delete_model(request, obj)


@admin.register(Section)
class SectionAdmin(AnnouncesSharedChange, admin.ModelAdmin):
    form = TextRuleModelForm
    list_display = ["name", "slug", "position", "fill_recommendations"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    shared_kind = "section"
    new_is_printed = True

    def public_slugs(self, obj):
        return (obj.slug,)


@admin.register(Outlet)
class OutletAdmin(AnnouncesSharedChange, admin.ModelAdmin):
    form = OutletAdminForm
    list_display = ["name", "kind", "may_reprint", "url"]
    list_filter = ["may_reprint", "kind"]
    search_fields = ["name"]
    shared_kind = "outlet"

    def get_readonly_fields(self, request, obj=None):
        """The approved source list (转载) is the chief editor's: others see the flag, never set it."""
        readonly = list(super().get_readonly_fields(request, obj))
        if not reprints.is_chief_editor(request.user):
            readonly.append("may_reprint")
        return readonly


@admin.register(Person)
class PersonAdmin(AnnouncesSharedChange, admin.ModelAdmin):
    form = TextRuleModelForm
    list_display = ["name", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["user"]
    shared_kind = "person"


@admin.register(Image)
class ImageAdmin(AnnouncesSharedChange, admin.ModelAdmin):
    form = ImageAdminForm
    shared_kind = "image"
    list_display = ["preview", "caption", "credit", "width", "height", "is_placeholder", "created_at"]
    list_filter = ["is_placeholder", "created_at"]
    search_fields = ["caption", "credit", "alt_text", "original_filename"]
    readonly_fields = ["preview", "width", "height", "original_filename", "is_placeholder"]
    fields = ["file", "preview", "caption", "credit", "alt_text", "width", "height", "original_filename", "is_placeholder"]

    def save_model(self, request, obj, form, change):
        """A photo added here is its uploader's, as one uploaded with a story is: it stays in
        their library and photo picker. A new file's own name is kept for searching (the
        stored file gets a random one)."""
        upload = form.cleaned_data.get("file")
        if upload and "file" in form.changed_data:
            obj.original_filename = upload.name[:255]
        if not change and obj.uploaded_by_id is None:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        """Editors see the whole library; a reporter sees the photos they uploaded, those on
        their own stories, and those already printed on published stories (by id or search,
        in the list, the change page and the photo picker alike)."""
        queryset = super().get_queryset(request)
        if roles.sees_all_stories(request.user) or request.user.is_superuser:
            return queryset
        own_stories = queues.visible_to(request.user)
        shown = ArticleImage.objects.filter(
            models.Q(article__in=own_stories) | models.Q(article__in=Article.objects.published())
        ).values("image_id")
        thumbnails = (Article.objects.published() | own_stories).filter(thumbnail__isnull=False).values("thumbnail_id")
        return queryset.filter(
            models.Q(uploaded_by=request.user) | models.Q(pk__in=shown) | models.Q(pk__in=thumbnails)
        )

    def has_change_permission(self, request, obj=None):
        """A photo printed on a live story changes only by those who may correct it (更正)."""
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.has_perm("articles.withdraw_article"):
            return True
        return not obj.placements.filter(article__in=Article.objects.published()).exists()

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj.pk or not obj.file:
            return "-"
        rendition = obj.rendition("thumb")
        url = photo_url(obj, rendition.file.name) if obj.is_public else signed_url(rendition.file.name)
        return format_html('<img src="{}" width="{}" height="{}" alt="">', url, rendition.width // 2, rendition.height // 2)


if admin.site.is_registered(Tag):
    # taggit registers its own tag admin (its app comes before this one in INSTALLED_APPS):
    # the same pages, announcing what they change.

    class TagAdmin(AnnouncesSharedChange, type(admin.site.get_model_admin(Tag))):
        form = TextRuleModelForm
        shared_kind = "tag"

        def public_slugs(self, obj):
            return (obj.slug,)

        def merge_tags_view(self, request):
            """Merging moves the stories of the selected tags to one tag: all their pages change."""
            if request.method != "POST":
                return super().merge_tags_view(request)
            ids = [int(pk) for pk in request.session.get("selected_tag_ids", "").split(",") if pk.strip().isdigit()]
            with transaction.atomic():
                merged = {tag.pk: (tag.slug, stories_tagged(tag.pk)) for tag in Tag.objects.filter(pk__in=ids)}
                response = super().merge_tags_view(request)
                if response.status_code == 302:  # merged; an invalid form is shown again
                    for pk, (slug, stories) in merged.items():
                        announce_shared_change("tag", pk, what="merge", story_ids=stories, slugs=(slug,))
                    target = Tag.objects.filter(name=request.POST.get("new_tag_name", "")).first()
                    if target is not None and target.pk not in merged:
                        announce_shared_change("tag", target.pk, what="merge", slugs=(target.slug,))
            return response

    admin.site.unregister(Tag)
    admin.site.register(Tag, TagAdmin)


class SameMediaInlineFormSet(helpers.InlineAdminFormSet):
    """An inline's scripts and stylesheets, taken once: every row is the same form, so
    Django's merging of each row's media again (a costly sort, on every change page) adds
    nothing."""

    @property
    def media(self):
        return self.opts.media + self.formset.media


class RowsReadOnceFormSet:
    """An inline formset reads its rows once, even when its get_queryset narrows Django's
    (which keeps its own result only when not overridden): the change page asks for them
    once per row otherwise."""

    def get_queryset(self):
        if not hasattr(self, "_rows_read"):
            self._rows_read = super().get_queryset()
        return self._rows_read


class StoryInlineMixin(ChosenPickersAdminMixin):
    """Inlines follow the story: editable exactly when the story is editable by this user.

    Their rows are read with what they point to (`joined`), and their pickers print it
    without a query of their own (editorial.widgets); pickers of `pick_only` fields choose
    an existing story or photo, with no popup to add or change one beside them."""

    joined = ()
    pick_only = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.joined)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_chosen_pickers(formset.form)
        return type(formset.__name__, (RowsReadOnceFormSet, formset), {})

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in self.pick_only and isinstance(getattr(formfield, "widget", None), RelatedFieldWidgetWrapper):
            formfield.widget.can_add_related = formfield.widget.can_change_related = formfield.widget.can_delete_related = False
        return formfield

    def _story_editable(self, request, obj):
        return obj is None or roles.can(request.user, "edit", obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._story_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._story_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._story_editable(request, obj)


class BylineInline(StoryInlineMixin, admin.TabularInline):
    model = Byline
    extra = 0
    joined = ["person"]
    autocomplete_fields = ["person"]
    fields = ["person", "role", "position"]


class ArticleImageInline(StoryInlineMixin, admin.StackedInline):
    model = ArticleImage
    form = ArticleImageForm
    extra = 0
    joined = ["image"]
    pick_only = ["image"]
    autocomplete_fields = ["image"]
    fields = [("image", "upload"), "caption", ("credit", "alt_text"), "position"]
    verbose_name_plural = _("photos (caption, credit, alt text, order)")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(formset.form.__name__, (formset.form,), {"user": request.user})
        return formset


class RelatedLinkInline(StoryInlineMixin, admin.StackedInline):
    model = RelatedLink
    form = TextRuleModelForm
    fk_name = "article"
    extra = 0
    joined = ["target", "outlet"]
    pick_only = ["target"]
    autocomplete_fields = ["target", "outlet"]
    fields = [("target", "position"), ("url", "title"), ("outlet", "published_at")]


class RecommendationInline(StoryInlineMixin, admin.TabularInline):
    """The editors' 推荐阅读 picks; the rows the system fills are listed beside them with the
    suggestions (editorial/recommendations.py, templates/editorial/recommendation_panel.html)."""

    model = Recommendation
    formset = recommendations.PicksFormSet
    fk_name = "article"
    extra = 0
    joined = ["target"]
    pick_only = ["target"]
    autocomplete_fields = ["target"]
    fields = ["target", "reason", "position"]
    verbose_name_plural = _("recommended reading (推荐阅读): editors' picks")


class QueueFilter(admin.SimpleListFilter):
    """The dashboard's queues as a filter on the story list."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, _fn in queues.QUEUES]

    def queryset(self, request, queryset):
        fn = queues.QUEUE_FILTERS.get(self.value())
        return fn(request.user, queryset) if fn else queryset


class StatusFilter(admin.SimpleListFilter):
    """The status as the desk reads it: a scheduled story is published from its time on."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Article.Status.choices

    def queryset(self, request, queryset):
        if self.value() in Article.Status.values:
            return queryset.with_shown_status().filter(shown_status=self.value())
        return queryset


class TrashFilter(admin.SimpleListFilter):
    """Trashed stories stay out of the list; the chief editor can open the trash."""

    title = _("trash")
    parameter_name = "trash"

    def lookups(self, request, model_admin):
        if roles.CHIEF_EDITOR in roles.user_roles(request.user):
            return [("1", _("In the trash"))]
        return []

    def queryset(self, request, queryset):
        return queryset.trashed() if self.value() == "1" else queryset.not_trashed()


def _run_step(modeladmin, request, queryset, step, *, done_message=None, **kwargs):
    """Apply one workflow step to each selected story; report what was refused and why.

    The steps that go through commit together and are delivered together (the home page and
    the lists they share are rendered once); a refused step is rolled back on its own."""
    done = 0
    with together():
        for article in queryset:
            try:
                getattr(workflow, step)(article, actor=request.user, **kwargs)
                done += 1
            except (PermissionDenied, workflow.TransitionNotAllowed, ValidationError) as refusal:
                text = " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
                modeladmin.message_user(request, f"《{article.headline}》: {text}", messages.ERROR)
    if done:
        text = done_message or gettext("%(n)d stories moved.")
        modeladmin.message_user(request, text % {"n": done}, messages.SUCCESS)


@admin.action(description=_("Submit selected stories for review"), permissions=["submit"])
def submit_selected(modeladmin, request, queryset):
    _run_step(modeladmin, request, queryset, "submit")


@admin.action(description=_("Pass selected stories at first review"), permissions=["review"])
def pass_selected(modeladmin, request, queryset):
    _run_step(modeladmin, request, queryset, "pass_first_review")


@admin.action(description=_("Sign off and publish selected stories now"), permissions=["sign_off"])
def sign_off_selected(modeladmin, request, queryset):
    _run_step(modeladmin, request, queryset, "sign_off")


@admin.action(description=_("Move selected stories to the trash"), permissions=["delete"])
def trash_selected(modeladmin, request, queryset):
    modeladmin.delete_queryset(request, queryset)


@admin.action(description=_("Restore selected stories from the trash"), permissions=["manage_trash"])
def restore_from_trash_selected(modeladmin, request, queryset):
    _run_step(modeladmin, request, queryset, "restore_from_trash", done_message=gettext("%(n)d stories restored."))


@admin.action(description=_("Delete selected trashed stories for good"), permissions=["manage_trash"])
def empty_trash_selected(modeladmin, request, queryset):
    _run_step(modeladmin, request, queryset, "empty_trash", done_message=gettext("%(n)d stories deleted for good."))


class BoundedCountPaginator(Paginator):
    """Counts at most COUNT_LIMIT stories: the admin list opens without counting the archive.

    An exact COUNT(*) reads every matching row, about a second at a million stories. Up to
    the limit the count is exact; past it, an unfiltered list takes PostgreSQL's estimate of
    the table's rows and a filtered one shows the limit, so its later pages are reached by
    narrowing the filters or searching."""

    COUNT_LIMIT = 10_000

    @cached_property
    def count(self):
        limit = self.COUNT_LIMIT
        counted = self.object_list.order_by()[: limit + 1].count()
        if counted <= limit:
            return counted
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where and not query.distinct:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [query.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > limit:
                return row[0]
        return limit


@admin.register(Article)
class ArticleAdmin(deadline_admin.StageWaitColumn, ChosenPickersAdminMixin, admin.ModelAdmin):
    form = ArticleAdminForm
    paginator = BoundedCountPaginator
    list_display = ["headline", "shown_status", "stage_wait", "section", "creator", "published_at", "responsible_editor"]
    list_filter = [QueueFilter, TrashFilter, StatusFilter, "section", "outlet", "origin", "published_at"]
    list_select_related = ["section", "created_by__person", "responsible_editor"]
    search_fields = ["headline", "kicker", "subtitle", "summary"]
    # No date_hierarchy: its year links cost a MIN/MAX and a DISTINCT over every story (about
    # 3 s at a million); the published_at filter above narrows by date without reading them.
    ordering = ["-updated_at", "-pk"]  # the desk's latest work first; drafts have no publication time
    show_full_result_count = False
    readonly_fields = ["shown_status", "published_at", "first_review_editor", "responsible_editor", "version", "creator"]
    autocomplete_fields = ["section", "outlet", "dateline_outlet", "thumbnail", "reprinted_by"]
    radio_fields = {"origin": admin.HORIZONTAL}
    inlines = [BylineInline, ArticleImageInline, RelatedLinkInline, RecommendationInline]
    actions = [submit_selected, pass_selected, sign_off_selected, trash_selected, restore_from_trash_selected, empty_trash_selected]
    fieldsets = [
        (None, {"fields": ["kicker", "headline", "subtitle", "slug", "section", "tags"]}),
        (_("Source and dateline"), {"fields": ["outlet", "author_line", "dateline_outlet", "dateline_place", "dateline_date"]}),
        (_("Original or reprint (原创/转载)"), {"fields": ["origin", "original_headline", "original_author", "original_url", "original_published_at", "reprinted_by"]}),
        (_("Text"), {"fields": ["summary", "body", "thumbnail", "is_top", "base_version"]}),
        (_("Publication"), {"fields": [("is_breaking", "due_at"), "shown_status", "published_at", "first_review_editor", "responsible_editor", "version", "creator"]}),
    ]

    @admin.display(description=_("status"), ordering="status")
    def shown_status(self, obj):
        """Published from its time on, before `publish_due` records it (Article.shown_status)."""
        return obj.get_shown_status_display()

    @admin.display(description=_("created by"), ordering="created_by")
    def creator(self, obj):
        """The writer's name, not their username (editorial.revisions.display_name)."""
        return display_name(obj.created_by) if obj.created_by_id else "-"

    def get_view_on_site_url(self, obj=None):
        """Only a story readers can see has a page to view; the others offer 预览 (preview)."""
        if obj is None or not obj.is_live:
            return None
        return super().get_view_on_site_url(obj)

    # --- who sees and edits what ---------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match and match.url_name == "autocomplete":
            # 相关新闻 / 推荐阅读 pickers: published stories plus the user's own.
            return queryset.filter(pk__in=Article.objects.published().values("pk")) | queues.visible_to(request.user, queryset)
        chief = roles.CHIEF_EDITOR in roles.user_roles(request.user)
        visible = queues.visible_to(request.user, queryset, include_trash=chief)
        if match and match.url_name == "articles_article_change":
            visible = visible.select_related(*self.autocomplete_fields)  # what its pickers print (editorial.widgets)
        return visible

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or roles.can(request.user, "edit", obj)

    # --- deleting is moving to the trash (editorial.workflow.trash) -----------------------

    def has_delete_permission(self, request, obj=None):
        # Who may trash this story at all; its status is the workflow's question (delete_view).
        if obj is None:
            return request.user.has_perm("articles.change_article")
        return obj.deleted_at is None and roles.can(request.user, "trash", obj)

    def delete_view(self, request, object_id, extra_context=None):
        article = self.get_object(request, object_id)
        if article is not None and self.has_delete_permission(request, article):
            if article.status not in workflow.ALLOWED_FROM["trash"]:
                self.message_user(request, gettext("Withdraw a live story before moving it to the trash."), messages.ERROR)
                return redirect("admin:articles_article_change", article.pk)
        return super().delete_view(request, object_id, extra_context)

    def has_manage_trash_permission(self, request):
        return roles.CHIEF_EDITOR in roles.user_roles(request.user)

    def history_view(self, request, object_id, extra_context=None):
        """The story's history is its versions page: who saved what and when, by name, with
        compare and restore (the steps are on the change page's timeline). Django's own page
        of admin log entries named people by username and fields in English."""
        if not str(object_id).isdigit():
            raise Http404
        return editorial_views.history(request, int(object_id))

    def changelist_view(self, request, extra_context=None):
        # The chief's way to the internal notes on live stories (editorial.views.internal_notes).
        extra_context = {"shows_internal_notes": self.has_manage_trash_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # trash_selected instead: soft, reported row by row
        return actions

    def get_deleted_objects(self, objs, request):
        """Nothing cascades: the stories go to the trash whole, with versions and history."""
        shown = [format_html("{}: {}", Article._meta.verbose_name, obj) for obj in objs]
        return shown, {Article._meta.verbose_name_plural: len(shown)}, set(), []

    def response_delete(self, request, obj_display, obj_id):
        self.message_user(
            request,
            gettext("“%(headline)s” is in the trash; the chief editor can restore it.") % {"headline": obj_display},
            messages.SUCCESS,
        )
        return redirect("admin:articles_article_changelist")

    def delete_model(self, request, obj):
        workflow.trash(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        # Each row through the same step and checks as a single delete; refusals are reported.
        _run_step(self, request, queryset, "trash", done_message=gettext("%(n)d stories moved to the trash."))

    def has_submit_permission(self, request):
        return request.user.has_perm("articles.submit_article")

    def has_review_permission(self, request):
        return request.user.has_perm("articles.review_article")

    def has_sign_off_permission(self, request):
        return request.user.has_perm("articles.sign_off_article")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.status == Article.Status.PUBLISHED and self.has_change_permission(request, obj):
            note = {
                "fields": ["correction_note", "internal_note"],
                "description": _(
                    "This story is live: saving it needs a note. Choose a public correction (更正), printed under "
                    "the story, or an internal note kept in its history only; or give both."
                ),
            }
            escaped = {
                "fields": [EscapedErrorsForm.ESCAPED_FIELDS],
                "classes": ["escaped-errors"],
                "description": _(
                    "The errors this change corrects, by kind: they count as errors that escaped into print "
                    "in the error rate (差错率). A public correction that names none counts as one “other”."
                ),
            }
            fieldsets = [
                (_("Note on this change (更正 or internal)"), note),
                (_("Errors corrected (差错类型)"), escaped),
                *fieldsets,
            ]
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return with_chosen_pickers(form, user=request.user)

    # --- saving: versions, conflicts, corrections ---------------------------------

    def save_model(self, request, obj, form, change):
        """Writes nothing: save_related, called right after, saves the story with its inlines
        through the editing door (editorial.editing explains why)."""
        if not change:
            obj.created_by = request.user
        if obj.is_reprint and obj.reprinted_by_id is None:
            obj.reprinted_by = Person.for_user(request.user)  # who marked it a reprint, by name

    def save_related(self, request, form, formsets, change):
        note = form.cleaned_data.get("correction_note", "") if form.is_correction else ""
        internal = form.cleaned_data.get("internal_note", "") if form.is_correction else ""
        kept = [gettext("Correction: ") + note if note else "", gettext("Internal note: ") + internal if internal else ""]

        def apply(article):
            admin.ModelAdmin.save_model(self, request, article, form, change)
            admin.ModelAdmin.save_related(self, request, form, formsets, change)

        editing.save_story(
            form.instance,
            apply,
            actor=request.user,
            what="correct" if form.is_correction else "edit" if change else "create",
            base_version=form.cleaned_data.get("base_version") if change else None,
            correction_note=note,
            internal_note=internal,
            revision_note="; ".join(filter(None, kept))[:200],
            escaped_errors=form.escaped_errors() if form.is_correction else None,
        )

    # --- the change page: steps, timeline, presence ----------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        article = self.get_object(request, object_id)
        if article is not None and workflow.record_if_due(article):
            article = self.get_object(request, object_id)  # published now: its form asks for a 更正
        extra_context = extra_context or {}
        if article is not None:
            can_edit = roles.can(request.user, "edit", article)
            opened = request.method == "GET" and editorial_views.RETURNED_BY_STEP not in request.GET
            reviews = outside_review.reviews_of(article)
            extra_context.update(
                workflow_steps=[(step, workflow.STEP_LABELS[step], step in workflow.REASON_REQUIRED) for step in workflow.available_steps(request.user, article)],
                # The steps, and what outside reviewers said (editorial.outside_review), in time order.
                outside_reviews=reviews,
                timeline=outside_review.timeline(article, ReviewEvent.objects.filter(article=article).select_related("actor", "proofreading_record"), reviews),
                may_send_outside=outside_review.may_send(request.user) and outside_review.can_be_sent(article),
                sent_back=queues.sent_back_reason(article),
                others_editing=editorial_views.note_editing(article, request.user, editing=can_edit and opened) if request.method == "GET" else [],
                can_edit=can_edit,
                corrections=article.corrections.all(),
                recommendation_panel=recommendations.Panel(article),
            )
        request.newsroom_story = article  # read once: get_object hands it to the form
        return super().change_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        story = getattr(request, "newsroom_story", None)
        if story is not None and from_field is None and str(story.pk) == str(object_id):
            return story
        return super().get_object(request, object_id, from_field)

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        inline_formsets = super().get_inline_formsets(request, formsets, inline_instances, obj)
        for inline_formset in inline_formsets:
            inline_formset.__class__ = SameMediaInlineFormSet
        return inline_formsets

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/step/<str:step>/", wrap(editorial_views.transition), name="articles_article_step"),
            path("<int:pk>/versions/", wrap(editorial_views.history), name="articles_article_history"),
            path("<int:pk>/versions/compare/", wrap(editorial_views.compare), name="articles_article_compare"),
            path("<int:pk>/versions/published/", wrap(editorial_views.compare_published), name="articles_article_compare_published"),
            path("<int:pk>/versions/restore/", wrap(editorial_views.restore), name="articles_article_restore"),
            path("<int:pk>/preview/", wrap(editorial_views.preview), name="articles_article_preview"),
            path("<int:pk>/share/", wrap(editorial_views.share), name="articles_article_share"),
            path("<int:pk>/outside-review/", wrap(outside_review_views.send), name="articles_article_outside_review"),
            path("<int:pk>/approve-headline/", wrap(reprint_views.approve_headline), name="articles_article_approve_headline"),
            path("calendar/", wrap(editorial_views.calendar), name="articles_article_calendar"),
            path("internal-notes/", wrap(editorial_views.internal_notes), name="articles_article_internal_notes"),
            path("time-to-publish/", wrap(deadline_views.time_to_publish), name="articles_article_time_to_publish"),
            path("error-rate/", wrap(error_rate.report), name="articles_article_error_rate"),
            path("error-rate/csv/", wrap(error_rate.report_csv), name="articles_article_error_rate_csv"),
            *super().get_urls(),
        ]


# 专题 topics have their admin in their own module; importing it registers it.
from . import topics_admin  # noqa: E402,F401
