"""The admin of 专题 topics: editors and the chief gather stories under a headline.

A topic is printed on its own page and feeds and, by name, on the page of each of its
stories; each save or deletion announces SharedChanged (kind "topic") naming the stories it
held before and holds now, its address before and after, and its lead image before and
after (a lead image is public only while its topic is), so delivery refreshes exactly those
pages and photos.
"""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from articles.models import Topic, TopicStory
from articles.text import TextRuleModelForm

from .shared import announce_shared_change, stories_printing


class TopicStoryInline(admin.TabularInline):
    model = TopicStory
    extra = 1
    fields = ["article", "position"]
    autocomplete_fields = ["article"]
    verbose_name = _("story in the topic")
    verbose_name_plural = _("stories in the topic (the position counts when the topic is ordered by hand)")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TextRuleModelForm
    list_display = ["headline", "slug", "order", "story_count", "updated_at"]
    search_fields = ["headline", "slug"]
    fields = ["headline", "slug", "introduction", "lead_image", "order"]
    autocomplete_fields = ["lead_image"]
    inlines = [TopicStoryInline]

    @admin.display(description=_("stories"))
    def story_count(self, obj):
        return obj.entries.count()

    def save_model(self, request, obj, form, change):
        stored = Topic.objects.filter(pk=obj.pk).first() if change and obj.pk else None
        form.topic_before = (
            (stored.slug,) if stored else (),
            stories_printing("topic", obj.pk) if stored else set(),
            {stored.lead_image_id} if stored and stored.lead_image_id else set(),
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        slugs, stories, images = getattr(form, "topic_before", ((), set(), set()))
        topic = form.instance
        if topic.lead_image_id:
            images = images | {topic.lead_image_id}
        announce_shared_change(
            "topic",
            topic.pk,
            what="edit" if change else "add",
            story_ids=stories | stories_printing("topic", topic.pk),
            slugs=(*slugs, topic.slug),
            image_ids=images,
        )

    def delete_model(self, request, obj):
        pk, stories, slug, image = obj.pk, stories_printing("topic", obj.pk), obj.slug, obj.lead_image_id
        super().delete_model(request, obj)
        announce_shared_change(
            "topic", pk, what="delete", story_ids=stories, slugs=(slug,), image_ids={image} if image else ()
        )

    def delete_queryset(self, request, queryset):
        # One by one, so that each deletion is announced with the stories it held.
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)
