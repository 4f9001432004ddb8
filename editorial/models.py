"""Editorial records: the review history and saved versions of stories.

Both are append-only. A ReviewEvent keeps the actor's name as well as the
account, so the history (and the editors printed under a story) survive the
account's deletion. A Revision is a full JSON snapshot of a story as saved.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models import Article


class ReviewEvent(models.Model):
    """One step a story took: who, when, from which status to which, and why."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted for review")
        PASSED = "passed", _("Passed first review")
        SENT_BACK = "sent_back", _("Sent back")
        SIGNED_OFF = "signed_off", _("Signed off and published")
        SCHEDULED = "scheduled", _("Signed off and scheduled")
        PUBLISHED_DUE = "published_due", _("Published at the scheduled time")
        WITHDRAWN = "withdrawn", _("Withdrawn (撤稿)")
        CORRECTED = "corrected", _("Corrected (更正)")
        TRASHED = "trashed", _("Moved to the trash")
        RESTORED = "restored", _("Restored from the trash")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="review_events")
    action = models.CharField(_("action"), max_length=20, choices=Action)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    from_status = models.CharField(_("from"), max_length=20, choices=Article.Status)
    to_status = models.CharField(_("to"), max_length=20, choices=Article.Status)
    note = models.TextField(_("reason or note"), blank=True)
    version = models.PositiveIntegerField(_("story version"), default=0)
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("review event")
        verbose_name_plural = _("review history")
        indexes = [models.Index(fields=["article", "-created_at", "-id"], name="reviewevent_article_idx")]

    def __str__(self):
        return f"{self.get_action_display()} {self.from_status}->{self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.pop("_allow_update", False):
            raise ValueError("Review history is append-only.")
        super().save(*args, **kwargs)


class Revision(models.Model):
    """A saved version of a story: text fields, photos, byline, tags and links."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("version"))
    data = models.JSONField(_("snapshot"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    applied = models.BooleanField(
        _("applied"),
        default=True,
        help_text=_("False for an edit refused because someone else saved first; kept so it is not lost."),
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("version")
        verbose_name_plural = _("versions")
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_unique_article_number")
        ]

    def __str__(self):
        return f"v{self.number}"


class EditingSession(models.Model):
    """Who last opened a story's change page, so others are warned they are not alone."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    # SET_NULL like every link to an account (deleting one never cascades); such rows are ignored.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="editingsession_unique_article_user")
        ]
