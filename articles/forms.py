"""Forms the newsroom's staff fill in, beyond what the admin builds by itself."""

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.validators import FileExtensionValidator, get_available_image_extensions
from django.utils.translation import gettext_lazy as _

from newsroom.storage import storage_problem

from .models import Image
from .photo_files import make_renditions_after_commit
from .photo_metadata import without_metadata
from .validators import mark_checked, validate_photo_upload


class PhotoField(forms.ImageField):
    """An image upload that says precisely why a file is refused.

    Django's ImageField answers every bad file with one generic sentence; the
    newsroom's checks run first so the editor learns whether the file was too big,
    not a photo, damaged or too many pixels.
    """

    # Django's own check of the name, with a message naming the formats the newsroom
    # keeps rather than the seventy-odd that Pillow can read.
    default_validators = [
        FileExtensionValidator(
            allowed_extensions=get_available_image_extensions(),
            message=_(
                "Only JPEG, PNG, WebP or GIF photos can be uploaded; this file's name does not "
                "end like one (.jpg, .jpeg, .png, .webp or .gif)."
            ),
        )
    ]

    def to_python(self, data):
        if data is not None and data is not False:
            validate_photo_upload(data)
        return super().to_python(data)

    def clean(self, data, initial=None):
        """A good photo is accepted only while the photo storage can take it: when the
        bucket is unreachable, missing or refuses the newsroom, the editor is told so on
        the form, with everything else they typed still there, instead of a server error."""
        value = super().clean(data, initial)
        if isinstance(value, UploadedFile):
            problem = storage_problem(Image._meta.get_field("file").storage)
            if problem:
                raise forms.ValidationError(
                    _("%(problem)s The photo was not saved; please try again later or tell the site's administrator.")
                    % {"problem": problem},
                    code="storage_unavailable",
                )
        return value


class ImageForm(forms.ModelForm):
    """A photo with its caption and credit; the file must pass validate_photo_upload,
    and is stored without the metadata, comments or trailing bytes it came with."""

    class Meta:
        model = Image
        fields = ["file", "caption", "credit", "alt_text"]
        field_classes = {"file": PhotoField}

    def clean_file(self):
        return upload_without_metadata(self.cleaned_data.get("file"))

    def save(self, commit=True):
        adding = self.instance._state.adding
        image = super().save(commit)
        if adding:
            # A replaced file gets new renditions from articles.photo_files.
            make_renditions_after_commit(image)
        return image


def upload_without_metadata(upload):
    """A new upload as it will be stored: the same picture without the personal metadata,
    comments, text or trailing bytes it came with (articles.photo_metadata).

    Anything that is not a fresh upload (unchanged on edit, or cleared) passes through.
    """
    if not isinstance(upload, UploadedFile):
        return upload
    upload.seek(0)
    cleaned = without_metadata(upload.read())
    upload.seek(0)
    if cleaned is None:
        return upload
    stripped = SimpleUploadedFile(upload.name, cleaned, upload.content_type)
    mark_checked(stripped)
    return stripped


# The name the story form's photo inline (editorial.forms) imports.
upload_without_location = upload_without_metadata
