"""Editorial records: the review history and saved versions of stories.

Both are append-only. A ReviewEvent keeps the actor's name as well as the
account, so the history (and the editors printed under a story) survive the
account's deletion. A Revision is a full JSON snapshot of a story as saved.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext, pgettext

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
        # A live story edited with a note for the desk only (no 更正 printed).
        REVISED = "revised", _("Edited, with an internal note")
        TRASHED = "trashed", _("Moved to the trash")
        RESTORED = "restored", _("Restored from the trash")
        # 转载: the chief editor approved a reprint's headline that differs from the original's.
        HEADLINE_APPROVED = "headline_approved", _("Reprint headline approved by the chief editor")

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


# --- 急稿 and review deadlines (editorial.deadlines) ------------------------------------

REVIEW_STAGES = [
    (Article.Status.FIRST_REVIEW.value, Article.Status.FIRST_REVIEW.label),
    (Article.Status.FINAL_REVIEW.value, Article.Status.FINAL_REVIEW.label),
]


class StageDeadline(models.Model):
    """How long a story may wait in one review stage, by its priority. The chief sets them;
    a stage and priority without a row waits the default (editorial.deadlines.DEFAULT_MINUTES)."""

    class Priority(models.TextChoices):
        BREAKING = "breaking", _("Breaking news (急稿)")
        ORDINARY = "ordinary", _("Ordinary")

    stage = models.CharField(_("review stage"), max_length=20, choices=REVIEW_STAGES)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority)
    minutes = models.PositiveIntegerField(
        _("minutes allowed"),
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
        help_text=_("How long a story may wait in this stage before the duty editor is mailed."),
    )

    class Meta:
        ordering = ["stage", "priority"]
        verbose_name = _("review deadline")
        verbose_name_plural = _("review deadlines")
        constraints = [models.UniqueConstraint(fields=["stage", "priority"], name="stagedeadline_unique_stage_priority")]

    def __str__(self):
        return f"{self.get_stage_display()} · {self.get_priority_display()}"


class DutyEditor(models.Model):
    """值班编辑: who answers for a review stage on one day (a date in the newsroom's time zone).
    An overdue stage mails them; a day and stage with no one on duty mails everyone able to act."""

    day = models.DateField(_("day"))
    stage = models.CharField(_("review stage"), max_length=20, choices=REVIEW_STAGES)
    # SET_NULL like every link to an account; a row without one is ignored.
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("editor"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-day", "stage"]
        verbose_name = _("duty editor (值班编辑)")
        verbose_name_plural = _("duty editors (值班编辑)")
        constraints = [models.UniqueConstraint(fields=["day", "stage", "editor"], name="dutyeditor_unique_day_stage_editor")]

    def __str__(self):
        return f"{self.day} {self.get_stage_display()}"


class OverdueNotice(models.Model):
    """The one mail about a stage that ran over: one row per entry into the stage (the review
    event that brought the story there), so the same wait is never mailed about twice."""

    entry = models.OneToOneField(ReviewEvent, on_delete=models.CASCADE, related_name="overdue_notice")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(_("review stage"), max_length=20, choices=REVIEW_STAGES)
    due_at = models.DateTimeField(_("due at"))
    sent_at = models.DateTimeField(_("mailed at"), default=timezone.now)
    recipients = models.TextField(_("mailed to"), blank=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("overdue notice")
        verbose_name_plural = _("overdue notices")

    def __str__(self):
        return f"{self.article_id} {self.stage} {self.due_at:%Y-%m-%d %H:%M}"


class OutsideReview(models.Model):
    """A named reader outside the newsroom (the 通讯员's unit, a lawyer, an expert) asked to
    read one version of one story before it goes out, through a link of their own.

    Only a hash of the link's token is kept: whoever reads the database cannot open the link.
    The link dies when the story goes live or is withdrawn, and at `expires_at`
    (editorial.outside_review)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="outside_reviews")
    reviewer_name = models.CharField(_("reviewer's name"), max_length=100)
    reviewer_unit = models.CharField(
        _("unit or standing"), max_length=200, help_text=_("For example the correspondent's unit, a law firm, or an expert's institute.")
    )
    email = models.EmailField(_("email"), blank=True, help_text=_("If given, the link is mailed to this address."))
    version = models.PositiveIntegerField(_("story version"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by_name = models.CharField(_("sent by (name)"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("outside review")
        verbose_name_plural = _("outside reviews")

    def __str__(self):
        return f"{self.reviewer_name} ({self.reviewer_unit})"


class OutsideRemark(models.Model):
    """What an outside reviewer said: a comment on a passage, or the answer 同意 / 不同意."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        AGREE = "agree", _("Agrees (同意)")
        DISAGREE = "disagree", _("Disagrees (不同意)")

    review = models.ForeignKey(OutsideReview, on_delete=models.CASCADE, related_name="remarks")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    passage = models.TextField(_("quoted passage"), blank=True)
    paragraph = models.PositiveIntegerField(_("paragraph"), null=True, blank=True)
    text = models.TextField(_("comment or reason"), blank=True)
    version = models.PositiveIntegerField(_("story version"))
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("outside reviewer's remark")
        verbose_name_plural = _("outside reviewers' remarks")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:40]}"


class ProofreadingRecord(models.Model):
    """三校 and 差错率: the errors one review stage found in a story, by kind, with the
    characters read; or, at the stage after publication, the errors a correction admitted
    had escaped into print. Recorded with its step, in the same transaction
    (editorial.proofreading); the 差错率 report (editorial.error_rate) adds them up."""

    class Stage(models.TextChoices):
        FIRST_REVIEW = "first_review", _("First review (初审)")
        FINAL_REVIEW = "final_review", _("Final review (终审)")
        PUBLISHED = "published", _("After publication (见报后)")

    # The kinds of error the desk counts, in the order the forms and the report show them.
    KINDS = ["typo", "punctuation", "grammar", "fact", "number", "names", "political", "other"]

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="proofreading_records")
    stage = models.CharField(_("stage"), max_length=20, choices=Stage)
    event = models.OneToOneField(
        ReviewEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="proofreading_record"
    )
    # Who proofread (or recorded the correction); the name survives the person's deletion.
    editor = models.ForeignKey(
        "articles.Person", verbose_name=_("editor"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    editor_name = models.CharField(_("editor name"), max_length=150, blank=True)
    characters = models.PositiveIntegerField(_("characters read"), default=0)
    typo = models.PositiveIntegerField(_("Wrong characters"), default=0)
    punctuation = models.PositiveIntegerField(_("Punctuation"), default=0)
    grammar = models.PositiveIntegerField(_("Grammar"), default=0)
    fact = models.PositiveIntegerField(_("Facts"), default=0)
    number = models.PositiveIntegerField(_("Numbers"), default=0)
    names = models.PositiveIntegerField(_("Names of people and places"), default=0)
    political = models.PositiveIntegerField(_("Political errors"), default=0)
    other = models.PositiveIntegerField(_("Other errors"), default=0)
    created_at = models.DateTimeField(_("time"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("proofreading record")
        verbose_name_plural = _("proofreading records")
        indexes = [
            models.Index(fields=["stage", "created_at"], name="proofreading_stage_time_idx"),
            models.Index(fields=["article", "stage"], name="proofreading_article_idx"),
        ]

    def __str__(self):
        return f"{self.get_stage_display()}: {self.errors}/{self.characters}"

    @property
    def errors(self):
        return sum(getattr(self, kind) for kind in self.KINDS)

    def counts(self):
        """[(label, count), ...] of every kind, in order."""
        return [(self._meta.get_field(kind).verbose_name, getattr(self, kind)) for kind in self.KINDS]

    def kinds_text(self):
        """The kinds found and their counts, as the timeline prints them: 「错别字 2、标点 1」."""
        found = [f"{label} {count}" for label, count in self.counts() if count]
        return pgettext("between names", ", ").join(found) if found else gettext("none")
