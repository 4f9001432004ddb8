"""Hostile photo files: only whole JPEG, PNG, WebP and GIF photos are kept.

Every refusal is seen the way an editor sees it, through the admin's add-photo form:
a message on the file field, the caption and credit still filled in, and nothing
written, neither an Image row nor a file under MEDIA_ROOT.
"""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags
from PIL import Image as PILImage

from articles.models import Image
from articles.validators import validate_photo_upload

ADD_URL = reverse("admin:articles_image_add")
CAPTION = "历城区委书记在启动仪式上致辞"
CREDIT = "大众网记者 张帆 摄"


def picture_bytes(fmt, size=(64, 48), noise=False, **save_options):
    if noise:
        picture = PILImage.effect_noise(size, 80).convert("RGB")
    else:
        picture = PILImage.new("RGB", size, (200, 30, 30))
    if fmt == "GIF":
        picture = picture.convert("P")
    out = io.BytesIO()
    picture.save(out, fmt, **save_options)
    return out.getvalue()


def png_declaring(width, height):
    """A few hundred bytes of PNG whose header promises width×height pixels."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


HOSTILE = {
    "svg_with_onload": (
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
        b'<rect width="10" height="10"/></svg>',
        "image/svg+xml",
        "unsupported_format",
    ),
    "html_renamed_jpg": (
        "photo.jpg",
        b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>",
        "image/jpeg",
        "unsupported_format",
    ),
    "pdf": (
        "scan.pdf",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        "application/pdf",
        "unsupported_format",
    ),
}


def all_files_under(root):
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def editor_client(client, django_user_model):
    chief = django_user_model.objects.create_superuser("chief", "chief@example.cn", "not-used-here")
    client.force_login(chief)
    return client


def upload(client, name, content, content_type="application/octet-stream"):
    return client.post(
        ADD_URL,
        {
            "file": SimpleUploadedFile(name, content, content_type=content_type),
            "caption": CAPTION,
            "credit": CREDIT,
            "alt_text": "",
        },
    )


def assert_refused(response, code, media_root):
    assert response.status_code == 200, "a refused upload re-renders the form"
    form = response.context["adminform"].form
    errors = form.errors.as_data()
    assert [error.code for error in errors["file"]] == [code]
    message = str(errors["file"][0].message % (errors["file"][0].params or {}))
    assert message in response.content.decode()
    assert Image.objects.count() == 0
    assert all_files_under(media_root) == []
    page = response.content.decode()
    assert CAPTION in page, "the caption the editor typed is still there"
    assert f'value="{CREDIT}"' in page, "the credit the editor typed is still there"


@pytest.mark.django_db
class TestAcceptedPhotos:
    @pytest.mark.parametrize(
        "fmt, name", [("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp"), ("GIF", "a.gif")]
    )
    def test_each_photo_format_is_kept_with_its_size(self, editor_client, media_root, fmt, name):
        response = upload(editor_client, name, picture_bytes(fmt), f"image/{fmt.lower()}")
        assert response.status_code == 302, response.context and response.context["adminform"].form.errors
        image = Image.objects.get()
        assert (image.width, image.height) == (64, 48)
        assert image.caption == CAPTION
        assert len(all_files_under(media_root)) >= 1


@pytest.mark.django_db
class TestRefusedFiles:
    @pytest.mark.parametrize("case", sorted(HOSTILE))
    def test_file_that_is_not_a_photo_is_refused(self, editor_client, media_root, case):
        name, content, content_type, code = HOSTILE[case]
        assert_refused(upload(editor_client, name, content, content_type), code, media_root)

    def test_truncated_jpeg_is_refused_as_damaged(self, editor_client, media_root):
        whole = picture_bytes("JPEG", size=(400, 300), noise=True)
        response = upload(editor_client, "cut.jpg", whole[: len(whole) // 2], "image/jpeg")
        assert_refused(response, "damaged_image", media_root)

    def test_decompression_bomb_is_refused_before_decoding(self, editor_client, media_root):
        bomb = png_declaring(30000, 30000)
        assert len(bomb) < 1000
        assert_refused(upload(editor_client, "bomb.png", bomb, "image/png"), "too_many_pixels", media_root)

    def test_photo_over_the_pixel_limit_is_refused(self, editor_client, media_root, settings):
        settings.NEWSROOM_MAX_IMAGE_PIXELS = 100 * 100
        response = upload(editor_client, "big.png", picture_bytes("PNG", size=(101, 100)), "image/png")
        assert_refused(response, "too_many_pixels", media_root)

    def test_file_over_the_size_limit_is_refused(self, editor_client, media_root, settings):
        content = picture_bytes("JPEG", size=(200, 200), noise=True)
        settings.NEWSROOM_MAX_UPLOAD_BYTES = len(content) - 1
        response = upload(editor_client, "big.jpg", content, "image/jpeg")
        assert_refused(response, "file_too_large", media_root)


class TestValidatorOnEveryPath:
    """The model field carries the check, so inlines, imports and APIs get it too."""

    def test_validator_refuses_svg_directly(self):
        svg = SimpleUploadedFile("x.svg", HOSTILE["svg_with_onload"][1], "image/svg+xml")
        with pytest.raises(ValidationError) as refused:
            validate_photo_upload(svg)
        assert refused.value.code == "unsupported_format"

    def test_validator_accepts_a_jpeg_and_leaves_it_readable_from_the_start(self):
        photo = SimpleUploadedFile("a.jpg", picture_bytes("JPEG"), "image/jpeg")
        photo.seek(10)
        validate_photo_upload(photo)
        assert photo.tell() == 10

    @pytest.mark.django_db
    def test_model_full_clean_refuses_html_posing_as_jpeg(self, media_root):
        image = Image(file=SimpleUploadedFile("a.jpg", HOSTILE["html_renamed_jpg"][1], "image/jpeg"))
        with pytest.raises(ValidationError) as refused:
            image.full_clean()
        assert "file" in refused.value.error_dict

    @pytest.mark.django_db
    def test_stored_photo_is_not_read_again_when_its_caption_changes(self, media_root):
        image = Image.objects.create(file=SimpleUploadedFile("a.png", picture_bytes("PNG")))
        stored = image.file.path
        with open(stored, "wb") as handle:  # were it read again, this would be refused
            handle.write(HOSTILE["svg_with_onload"][1])
        image.caption = "新图说"
        image.full_clean()


def exif_photo():
    """A 40×20 JPEG whose EXIF says 'rotate 90° clockwise' and where it was taken."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "NewsCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (36.0, 40.0, 1.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (117.0, 1.0, 2.5)
    out = io.BytesIO()
    PILImage.new("RGB", (40, 20), (10, 120, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.django_db
def test_renditions_are_upright_and_carry_no_location(media_root):
    """What readers get is turned the right way up, with no camera or GPS metadata,
    even from an original that kept them (one stored by an import, not the upload form)."""
    image = Image.objects.create(file=SimpleUploadedFile("scene.jpg", exif_photo(), "image/jpeg"))
    with image.file.open("rb") as original:
        assert PILImage.open(original).getexif().get_ifd(ExifTags.IFD.GPSInfo), "the original has GPS"

    for spec in ("w480", "thumb"):
        rendition = image.rendition(spec)
        with rendition.file.open("rb") as handle:
            data = handle.read()
        picture = PILImage.open(io.BytesIO(data))
        exif = picture.getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert ExifTags.Base.Orientation not in exif
        assert ExifTags.Base.Make not in exif
        assert b"NewsCam" not in data
        assert "exif" not in picture.info
        if spec == "w480":
            assert picture.size == (20, 40), "portrait once the orientation is applied"


def decoded(data):
    with PILImage.open(io.BytesIO(data)) as picture:
        return picture.size, picture.tobytes()


def stored_original(image):
    with image.file.open("rb") as handle:
        return handle.read()


@pytest.mark.django_db
class TestStoredOriginalKeepsNoLocation:
    """Originals are kept as uploaded, pixels and all, minus where the photo was taken
    (tests/security/test_photo_files.py: minus all other metadata too)."""

    def test_jpeg_loses_gps_and_camera_keeps_orientation_and_every_pixel(self, editor_client, media_root):
        upload_bytes = exif_photo()
        assert upload(editor_client, "scene.jpg", upload_bytes, "image/jpeg").status_code == 302
        data = stored_original(Image.objects.get())
        exif = PILImage.open(io.BytesIO(data)).getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo) and ExifTags.IFD.GPSInfo not in exif
        assert exif[ExifTags.Base.Orientation] == 6 and ExifTags.Base.Make not in exif
        assert decoded(data) == decoded(upload_bytes), "the compressed picture is copied, not re-encoded"

    def test_progressive_jpeg_with_a_video_appended_keeps_only_the_picture(self, editor_client, media_root):
        exif = PILImage.Exif()
        exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (36.0, 40.0, 1.5)
        out = io.BytesIO()
        PILImage.effect_noise((160, 120), 60).convert("RGB").save(out, "JPEG", exif=exif, progressive=True)
        motion_photo = out.getvalue() + b"\x00\x00\x00\x18ftypmp42" + b"moov-with-location" * 50
        assert upload(editor_client, "motion.jpg", motion_photo, "image/jpeg").status_code == 302
        data = stored_original(Image.objects.get())
        assert data.endswith(b"\xff\xd9") and b"moov-with-location" not in data
        assert decoded(data) == decoded(out.getvalue())
        assert ExifTags.IFD.GPSInfo not in PILImage.open(io.BytesIO(data)).getexif()

    def test_png_loses_gps_and_keeps_its_pixels(self, editor_client, media_root):
        exif = PILImage.Exif()
        exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (36.0, 40.0, 1.5)
        out = io.BytesIO()
        PILImage.effect_noise((64, 48), 60).convert("RGB").save(out, "PNG", exif=exif)
        assert upload(editor_client, "shot.png", out.getvalue(), "image/png").status_code == 302
        data = stored_original(Image.objects.get())
        assert ExifTags.IFD.GPSInfo not in PILImage.open(io.BytesIO(data)).getexif()
        assert decoded(data) == decoded(out.getvalue())

    def test_photo_without_location_is_stored_byte_for_byte(self, editor_client, media_root):
        plain = picture_bytes("JPEG", size=(120, 80), noise=True)
        assert upload(editor_client, "plain.jpg", plain, "image/jpeg").status_code == 302
        assert stored_original(Image.objects.get()) == plain
