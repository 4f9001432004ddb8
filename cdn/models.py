from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingPurge(models.Model):
    """A purge a CDN target did not confirm, kept until `manage.py retry_purges` delivers it.

    Holds public paths and dependency keys as the change named them; the addresses and
    surrogate keys are made from them at delivery, with the configuration then in force.
    """

    created_at = models.DateTimeField(_("first tried"), auto_now_add=True)
    target = models.CharField(_("target"), max_length=500, help_text=_("The cache server or API endpoint."))
    reason = models.CharField(_("what changed"), max_length=200, blank=True)
    urls = models.JSONField(_("paths"), default=list)
    keys = models.JSONField(_("keys"), default=list)
    failures = models.PositiveIntegerField(_("failed rounds"), default=1)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("pending CDN purge")
        verbose_name_plural = _("pending CDN purges")

    def __str__(self):
        return f"#{self.pk} {self.reason} -> {self.target}"
