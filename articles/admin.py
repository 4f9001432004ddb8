"""The newsroom's admin for stories and what is printed around them."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .forms import ImageForm
from .models import (
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


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Outlet)
class OutletAdmin(admin.ModelAdmin):
    list_display = ["name", "url"]
    search_fields = ["name"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["user"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageForm
    list_display = ["preview", "caption", "credit", "width", "height", "is_placeholder", "created_at"]
    list_filter = ["is_placeholder", "created_at"]
    search_fields = ["caption", "credit", "alt_text", "original_filename"]
    readonly_fields = ["preview", "width", "height", "original_filename", "is_placeholder"]
    fields = ["file", "preview", "caption", "credit", "alt_text", "width", "height", "original_filename", "is_placeholder"]

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj.pk or not obj.file:
            return "-"
        rendition = obj.rendition("thumb")
        return format_html('<img src="{}" width="{}" height="{}" alt="">', rendition.url, rendition.width // 2, rendition.height // 2)


class BylineInline(admin.TabularInline):
    model = Byline
    extra = 0
    autocomplete_fields = ["person"]


class ArticleImageInline(admin.TabularInline):
    model = ArticleImage
    extra = 0
    autocomplete_fields = ["image"]


class RelatedLinkInline(admin.StackedInline):
    model = RelatedLink
    fk_name = "article"
    extra = 0
    autocomplete_fields = ["target", "outlet"]


class RecommendationInline(admin.TabularInline):
    model = Recommendation
    fk_name = "article"
    extra = 0
    autocomplete_fields = ["target"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["headline", "status", "section", "outlet", "published_at", "responsible_editor"]
    list_filter = ["status", "section", "outlet", "published_at"]
    list_select_related = ["section", "outlet", "responsible_editor"]
    search_fields = ["headline", "kicker", "subtitle", "summary"]
    date_hierarchy = "published_at"
    show_full_result_count = False
    readonly_fields = ["status", "published_at", "first_review_editor", "responsible_editor", "version"]
    autocomplete_fields = ["section", "outlet", "dateline_outlet", "thumbnail"]
    inlines = [BylineInline, ArticleImageInline, RelatedLinkInline, RecommendationInline]
    fieldsets = [
        (None, {"fields": ["kicker", "headline", "subtitle", "slug", "section", "tags"]}),
        (_("Source and dateline"), {"fields": ["outlet", "author_line", "dateline_outlet", "dateline_place", "dateline_date"]}),
        (_("Text"), {"fields": ["summary", "body", "thumbnail", "is_top"]}),
        (_("Publication"), {"fields": ["status", "published_at", "first_review_editor", "responsible_editor", "version"]}),
    ]
