"""What a photo upload must be before the newsroom keeps it.

A photo is kept only when Pillow recognises it as JPEG, PNG, WebP or GIF and decodes it
to the end. Everything is checked in an order that keeps hostile files cheap to refuse:
the size on disk first, then the format and the pixel count read from the header, and
only then the pixels themselves. So an SVG with a script, an HTML page renamed .jpg, a
PDF, a truncated JPEG or a small file declaring a gigantic picture never reaches the
disk or the rendition code.
"""

import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

# Pillow's format names. MPO is the multi-picture JPEG many phone cameras write.
ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}

# Set on an upload once it passed, so the model field's validator does not decode it twice.
_CHECKED = "_newsroom_photo_checked"


def validate_photo_upload(value):
    """Refuse anything but a whole JPEG, PNG, WebP or GIF of reasonable size.

    `value` is an uploaded file, or the model's FieldFile wrapping one. A photo
    already stored is not read again: it passed when it was uploaded.
    """
    if isinstance(value, FieldFile):
        if getattr(value, "_committed", True):
            return
        value = value.file
    if getattr(value, _CHECKED, False):
        return

    max_bytes = settings.NEWSROOM_MAX_UPLOAD_BYTES
    size = getattr(value, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("This file is %(size)s; photos may be at most %(max)s."),
            code="file_too_large",
            params={"size": filesizeformat(size), "max": filesizeformat(max_bytes)},
        )
    if size == 0:
        # Said plainly: Pillow would call it "not a photo", which sends the editor looking
        # for a format problem when the upload simply carried nothing.
        raise ValidationError(_("This file is empty (0 bytes); please choose the photo again."), code="empty_file")

    position = value.tell() if hasattr(value, "tell") else None
    try:
        _check_pixels(value)
    finally:
        if position is not None:
            value.seek(position)
    mark_checked(value)


def mark_checked(upload):
    """Note on `upload` that it passed, so later checks of the same object skip the decoding."""
    try:
        setattr(upload, _CHECKED, True)
    except AttributeError:  # an object refusing attributes is simply checked again
        pass


def _check_pixels(fileobj):
    fileobj.seek(0)
    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice that; refuse instead.
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(fileobj) as picture:
                _check_header(picture)
                picture.load()
        except ValidationError:
            raise
        except UnidentifiedImageError:
            raise _not_a_photo() from None
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # What Pillow raises for truncated or corrupt data ("image file is truncated").
            raise ValidationError(
                _("This photo file is damaged or incomplete and cannot be read. Please upload the whole file again."),
                code="damaged_image",
            ) from exc


def _check_header(picture):
    """Format and pixel count come from the header, before any pixel is decoded."""
    if picture.format not in ACCEPTED_FORMATS:
        raise _not_a_photo()
    width, height = picture.size
    if width * height > settings.NEWSROOM_MAX_IMAGE_PIXELS:
        raise _too_many_pixels()


def _too_many_pixels():
    return ValidationError(
        _("This photo has too many pixels (at most %(megapixels)s million are accepted); please upload a smaller version."),
        code="too_many_pixels",
        params={"megapixels": settings.NEWSROOM_MAX_IMAGE_PIXELS // 1_000_000},
    )


def _not_a_photo():
    return ValidationError(
        _("Only JPEG, PNG, WebP or GIF photos can be uploaded; this file is not one of them."),
        code="unsupported_format",
    )
