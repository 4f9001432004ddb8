"""Admin forms for stories: the rich-text body, the stale-edit check, corrections, photos.

Every text field of these forms follows the newsroom's text rule (articles.text): control
characters and bidi controls never reach the database, and a tag list is split and
limited by articles.tags.parse_tags (settings.TAGGIT_TAGS_FROM_STRING)."""

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_prose_editor.widgets import AdminProseEditorWidget

from articles import sanitize
from articles.forms import ImageForm, PhotoField, upload_without_location
from articles.models import Article, ArticleImage, Image, Outlet
from articles.photo_files import make_renditions_after_commit
from articles.text import TextRuleFormMixin, TextRuleModelForm
from newsroom.local_time import local_time

# Imported for its receiver: no tag is saved without a slug, whichever door made it.
from articles import tags  # noqa: F401

from . import revisions
from .proofreading import EscapedErrorsForm
from .photos import SignedFileInput
from .shared import announce_shared_change

# What the body editor offers; articles.sanitize.sanitize_html cleans it again on save.
BODY_EDITOR = {
    "extensions": {
        "Bold": True,
        "Italic": True,
        "Underline": True,
        "Strike": True,
        "Subscript": True,
        "Superscript": True,
        "Heading": {"levels": [2, 3, 4]},
        "BulletList": True,
        "OrderedList": True,
        "ListItem": True,
        "Blockquote": True,
        "HorizontalRule": True,
        "HardBreak": True,
        "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
        "Figure": True,
        "Image": True,
        "Caption": True,
    }
}


def plain_text(value):
    """A caption, credit or alt text with any markup removed (it is printed as text)."""
    return sanitize.plain_text(value).strip()


class ArticleAdminForm(TextRuleFormMixin, EscapedErrorsForm, forms.ModelForm):
    base_version = forms.IntegerField(label=_("Base version"), widget=forms.HiddenInput, required=False)
    # A published story is saved with a note: a public 更正, an internal note, or both.
    correction_note = forms.CharField(
        label=_("Correction note (更正说明)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Public: printed under the story for readers, with today's date."),
    )
    internal_note = forms.CharField(
        label=_("Internal note (内部修改说明)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_(
            "Internal: kept in the story's history only, never printed. Enough for what readers do not "
            "read as text (slug, tags, section)."
        ),
    )

    class Meta:
        model = Article
        fields = "__all__"
        widgets = {"body": AdminProseEditorWidget(config=BODY_EDITOR, preset="configurable")}

    # Set by ArticleAdmin.get_form.
    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["base_version"].initial = self.instance.version
        self.conflict = None
        if "origin" in self.fields:
            self.fields["origin"].required = False  # a form sent without it keeps the story's (clean_origin)

    def clean_origin(self):
        """原创 or 转载; the story's own when the form does not say (a form from before reprints)."""
        return self.cleaned_data.get("origin") or self.instance.origin or Article.Origin.ORIGINAL

    @property
    def is_correction(self):
        return self.instance.pk is not None and self.instance.status == Article.Status.PUBLISHED

    def clean(self):
        cleaned = super().clean()
        if self.is_correction and not any((cleaned.get(name) or "").strip() for name in ("correction_note", "internal_note")):
            self.add_error(
                "correction_note",
                forms.ValidationError(
                    _("A published story is saved with a note: a public correction, or an internal note."),
                    code="reason_required",
                ),
            )
        if self.instance.pk:
            try:
                # Locks the story row until the admin's transaction ends, so no one saves in between.
                revisions.check_version(self.instance, cleaned.get("base_version"))
            except revisions.EditConflict as conflict:
                self.conflict = conflict
                refused = self._keep_refused_edit(cleaned)
                raise forms.ValidationError(self._conflict_message(conflict, refused), code="edit_conflict")
        return cleaned

    def _keep_refused_edit(self, cleaned):
        """Save the refused edit as a version of its own, so both edits survive."""
        current = Article.objects.get(pk=self.instance.pk)
        data = revisions.with_form_fields(revisions.snapshot(current), cleaned)
        note = _("Refused edit: started from version %(n)s") % {"n": cleaned.get("base_version")}
        return revisions.record(current, author=self.user, note=str(note), applied=False, data=data)

    def _conflict_message(self, conflict, refused):
        latest = conflict.latest
        compare = reverse("admin:articles_article_compare", args=[self.instance.pk])
        who = latest.author_name if latest else _("someone else")
        when = latest.created_at if latest else None
        return format_html(
            '{} <a href="{}?a={}&amp;b={}">{}</a>',
            _(
                "Not saved: %(who)s saved this story (version %(v)s, %(when)s) after you opened version %(base)s. "
                "Your edit is kept as version %(mine)s; nothing was overwritten. Compare the two, then reload to continue."
            )
            % {
                "who": who,
                "v": latest.number if latest else "?",
                "when": local_time(when),
                "base": conflict.base_version,
                "mine": refused.number,
            },
            compare,
            latest.number if latest else refused.number,
            refused.number,
            _("Compare the two versions"),
        )


class PlainPhotoTextMixin:
    """Captions, credits and alt texts are plain text wherever a photo is edited."""

    def clean_caption(self):
        return plain_text(self.cleaned_data.get("caption"))

    def clean_credit(self):
        return plain_text(self.cleaned_data.get("credit"))

    def clean_alt_text(self):
        return plain_text(self.cleaned_data.get("alt_text"))


class ArticleImageForm(TextRuleFormMixin, PlainPhotoTextMixin, forms.ModelForm):
    """A photo on the story: pick an existing image or upload one, with caption, credit, alt text."""

    upload = PhotoField(label=_("Upload a photo"), required=False)
    caption = forms.CharField(label=_("Caption (图说)"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 30}))
    credit = forms.CharField(label=_("Credit"), required=False, max_length=200)
    alt_text = forms.CharField(label=_("Alt text"), required=False, max_length=300)

    class Meta:
        model = ArticleImage
        fields = ["image", "upload", "caption", "credit", "alt_text", "position"]

    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].required = False
        if self.instance.pk and self.instance.image_id:
            image = self.instance.image
            self.initial.update(caption=image.caption, credit=image.credit, alt_text=image.alt_text)

    def clean_upload(self):
        """Stored without the location the camera wrote into it, like the photo library's uploads."""
        return upload_without_location(self.cleaned_data.get("upload"))

    def clean(self):
        cleaned = super().clean()
        image = cleaned.get("image")
        if not image and not cleaned.get("upload") and not cleaned.get("DELETE"):
            raise forms.ValidationError(_("Choose an image or upload a photo."), code="no_image")
        if image and not cleaned.get("upload") and self._recaptions_live_photo(image, cleaned):
            raise forms.ValidationError(
                _("This photo is printed on a published story; only an editor who may correct it can change its caption."),
                code="live_photo",
            )
        return cleaned

    def _recaptions_live_photo(self, image, cleaned):
        changed = any(getattr(image, k) != (cleaned.get(k) or "") for k in ("caption", "credit", "alt_text"))
        if not changed or (self.user and self.user.has_perm("articles.withdraw_article")):
            return False
        return image.placements.filter(article__in=Article.objects.published()).exclude(article=self.instance.article_id).exists()

    def save(self, commit=True):
        upload = self.cleaned_data.get("upload")
        fields = {k: self.cleaned_data.get(k, "") for k in ("caption", "credit", "alt_text")}
        if upload:
            image = Image(original_filename=upload.name[:255], uploaded_by=self.user, **fields)
            image.file.save(upload.name, upload, save=False)
            image.save()
            make_renditions_after_commit(image)
            self.instance.image = image
        else:
            image = self.cleaned_data["image"]
            changed = {k: v for k, v in fields.items() if getattr(image, k) != v}
            if changed:
                # The photo is kept once: every story printing it prints the new caption.
                Image.objects.filter(pk=image.pk).update(**changed)
                announce_shared_change("image", image.pk)
        return super().save(commit=commit)


class OutletAdminForm(TextRuleModelForm):
    """An outlet's form; one sent without a kind of unit keeps the outlet's (a new one: 其他)."""

    class Meta:
        model = Outlet
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = False

    def clean_kind(self):
        return self.cleaned_data.get("kind") or self.instance.kind or Outlet.Kind.OTHER


class ImageAdminForm(TextRuleFormMixin, PlainPhotoTextMixin, ImageForm):
    """The photo library's form: the upload checks of ImageForm, and captions,
    credits and alt texts kept as plain text. Its "currently" link opens the original
    through a signed address (originals are never at a reader's address)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "file" in self.fields:
            self.fields["file"].widget = SignedFileInput()
