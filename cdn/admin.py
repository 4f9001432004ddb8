from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import PendingPurge


@admin.register(PendingPurge)
class PendingPurgeAdmin(admin.ModelAdmin):
    """What the CDN has not confirmed yet: read-only, so nobody edits a purge by hand."""

    list_display = ["pk", "reason", "target", "failures", "next_attempt_at", "created_at", "last_error"]
    list_filter = ["target"]
    readonly_fields = [field.name for field in PendingPurge._meta.fields]
    actions = ["retry_at_next_run"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry at the next run of retry_purges"), permissions=["view"])
    def retry_at_next_run(self, request, queryset):
        count = queryset.update(next_attempt_at=timezone.now())
        self.message_user(request, _("%(count)d purges will be retried at the next run.") % {"count": count}, messages.SUCCESS)
