"""A stored original keeps the picture and nothing personal or hostile that came with it.

Each file here is what a phone, an editing program or an attacker might send: EXIF naming
the photographer, the camera and its serial number, the time and place of the shot; XMP
and IPTC; comments and text chunks holding a script; HTML appended after the picture.
Each is uploaded the two ways a reporter can (the photo library's add page and a photo
row on the story form), and the stored file's bytes are read back.
"""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags
from PIL import Image as PILImage
from PIL import PngImagePlugin

from articles.models import Image
from tests.editorial.conftest import change_form_data, people, story_in  # noqa: F401

pytestmark = pytest.mark.django_db

ARTIST = "Wang Xiaoming photographer"
DESCRIPTION = "Source at home, 12 Lishan Road"
MAKE = "NewsCam Corp"
MODEL = "NC-9000 Pro"
SERIAL = "SN-48151623"
CAPTURED = "2026:11:30 08:15:42"
LATITUDE = (36.0, 40.0, 1.5)
SCRIPT = "<script>alert(document.cookie)</script>"
HTML_TRAILER = b"<html><body>" + SCRIPT.encode() + b"</body></html>"
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="XMP-Creator-Zhang"/>'
    "</rdf:RDF></x:xmpmeta>"
).encode()

# None of these may be found in a stored original.
PERSONAL = [ARTIST, DESCRIPTION, MAKE, MODEL, SERIAL, CAPTURED, "XMP-Creator-Zhang", "IPTC-Byline-Li", "<script", "<html"]


def personal_exif(orientation=None):
    exif = PILImage.Exif()
    exif[ExifTags.Base.Artist] = ARTIST
    exif[ExifTags.Base.ImageDescription] = DESCRIPTION
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.BodySerialNumber] = SERIAL
    details[ExifTags.Base.DateTimeOriginal] = CAPTURED
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    return exif


def noise(size=(96, 64), mode="RGB"):
    return PILImage.effect_noise(size, 70).convert(mode)


def encoded(picture, fmt, **options):
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def jpeg_segment(marker, payload):
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def phone_jpeg():
    """Turned by EXIF (orientation 6), with every personal field, XMP, IPTC, a comment
    holding a script and HTML after the end of the picture."""
    data = encoded(noise(), "JPEG", quality=90, exif=personal_exif(orientation=6), xmp=XMP, comment=SCRIPT)
    iptc = jpeg_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x12\x1c\x02\x50\x00\x0eIPTC-Byline-Li")
    return data[:2] + iptc + data[2:] + HTML_TRAILER


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def hostile_png():
    """EXIF, a tEXt, a zTXt and an iTXt chunk holding a script, an unknown private chunk,
    and an HTML page after IEND."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT)
    info.add_text("Author", ARTIST, zip=True)
    info.add_itxt("Description", SCRIPT + DESCRIPTION, lang="en")
    data = encoded(noise(mode="RGBA"), "PNG", pnginfo=info, exif=personal_exif())
    private = png_chunk(b"prVt", SERIAL.encode())
    end = data.rindex(b"IEND") - 4
    return data[:end] + private + data[end:] + HTML_TRAILER


def hostile_gif():
    """Two frames (animated), a comment holding a script, an XMP application block,
    a plain-text extension and HTML after the trailer."""
    frames = [noise().convert("P"), noise().convert("P")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0, comment=SCRIPT)
    xmp = b"\x21\xff\x0bXMP DataXMP" + bytes((len(XMP[:200]),)) + XMP[:200] + b"\x00"
    plain_text = b"\x21\x01\x0c" + b"\x00" * 12 + bytes((len(ARTIST),)) + ARTIST.encode() + b"\x00"
    assert data.endswith(b"\x3b")
    return data[:-1] + xmp + plain_text + b"\x3b" + HTML_TRAILER


def hostile_webp():
    """Lossless, with EXIF, XMP and an HTML page after the RIFF container."""
    return encoded(noise(), "WEBP", lossless=True, exif=personal_exif(), xmp=XMP) + HTML_TRAILER


HOSTILE = {
    "jpeg": ("IMG_4410.jpg", phone_jpeg, "image/jpeg"),
    "png": ("screen.png", hostile_png, "image/png"),
    "gif": ("moving.gif", hostile_gif, "image/gif"),
    "webp": ("shot.webp", hostile_webp, "image/webp"),
}


def upload_to_library(client, people, name, content, content_type):  # noqa: F811
    response = client.post(
        reverse("admin:articles_image_add"),
        {"file": SimpleUploadedFile(name, content, content_type), "caption": "图说", "credit": "", "alt_text": ""},
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return Image.objects.get()


def upload_with_a_story(client, people, name, content, content_type):  # noqa: F811
    article = story_in("draft", people)
    data = change_form_data(article)
    data.update(
        {
            "photos-TOTAL_FORMS": "1",
            "photos-0-upload": SimpleUploadedFile(name, content, content_type),
            "photos-0-caption": "图说",
            "photos-0-position": "1",
        }
    )
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return article.photos.get().image


ROUTES = {"photo_library": upload_to_library, "story_form": upload_with_a_story}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def reporter(client, people):  # noqa: F811
    client.force_login(people["writer"])
    return client


def stored(image):
    with image.file.open("rb") as handle:
        return handle.read()


def frames_of(data):
    """Every frame's size and pixels, as Pillow decodes them."""
    with PILImage.open(io.BytesIO(data)) as picture:
        frames = []
        for index in range(getattr(picture, "n_frames", 1)):
            picture.seek(index)
            frames.append((picture.size, picture.convert("RGBA").tobytes()))
        return frames


def assert_nothing_personal(data):
    lowered = data.lower()
    for value in PERSONAL:
        assert value.lower().encode() not in lowered, f"{value!r} is still in the stored file"
    picture = PILImage.open(io.BytesIO(data))
    exif = picture.getexif()
    assert set(exif) <= {ExifTags.Base.Orientation}, "no EXIF but the orientation"
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo) and not exif.get_ifd(ExifTags.IFD.Exif)
    assert not getattr(picture, "text", {}), "no PNG text chunks"
    assert "comment" not in picture.info and "xmp" not in picture.info


@pytest.mark.parametrize("route", sorted(ROUTES))
class TestHostileOriginals:
    def test_a_phone_jpeg_keeps_its_orientation_and_every_pixel_and_nothing_personal(self, reporter, people, media_root, route):  # noqa: F811
        name, build, content_type = HOSTILE["jpeg"]
        upload = build()
        data = stored(ROUTES[route](reporter, people, name, upload, content_type))
        assert_nothing_personal(data)
        assert data.endswith(b"\xff\xd9"), "nothing after the end of the picture"
        assert b"\xff\xfe" not in data.split(b"\xff\xda")[0], "no comment segment"
        assert PILImage.open(io.BytesIO(data)).getexif()[ExifTags.Base.Orientation] == 6
        assert frames_of(data) == frames_of(upload), "the compressed picture is copied, not re-encoded"

    def test_a_png_loses_its_text_chunks_and_the_page_after_it_and_keeps_its_pixels(self, reporter, people, media_root, route):  # noqa: F811
        name, build, content_type = HOSTILE["png"]
        upload = build()
        data = stored(ROUTES[route](reporter, people, name, upload, content_type))
        assert_nothing_personal(data)
        for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"prVt"):
            assert chunk not in data
        assert data.endswith(b"IEND\xaeB`\x82")
        assert frames_of(data) == frames_of(upload), "lossless: the same pixels, transparency included"

    def test_an_animated_gif_stays_animated_without_its_comment_or_trailer(self, reporter, people, media_root, route):  # noqa: F811
        name, build, content_type = HOSTILE["gif"]
        upload = build()
        data = stored(ROUTES[route](reporter, people, name, upload, content_type))
        assert_nothing_personal(data)
        assert b"XMP DataXMP" not in data and data.endswith(b"\x3b")
        picture = PILImage.open(io.BytesIO(data))
        assert picture.n_frames == 2 and picture.info.get("duration") == 120 and picture.info.get("loop") == 0
        assert frames_of(data) == frames_of(upload)

    def test_a_webp_loses_its_exif_xmp_and_trailer_and_keeps_its_pixels(self, reporter, people, media_root, route):  # noqa: F811
        name, build, content_type = HOSTILE["webp"]
        upload = build()
        data = stored(ROUTES[route](reporter, people, name, upload, content_type))
        assert_nothing_personal(data)
        (riff_size,) = struct.unpack("<I", data[4:8])
        assert len(data) == 8 + riff_size, "nothing after the RIFF container"
        assert b"EXIF" not in data and b"XMP " not in data
        assert frames_of(data) == frames_of(upload)


def test_a_malformed_jpeg_that_pillow_still_reads_is_re_encoded_without_its_metadata(reporter, people, media_root):  # noqa: F811
    """A JPEG whose segments cannot be walked (here: junk between two markers, which the
    decoder skips) is re-encoded from its pixels, at high quality, and then filtered."""
    good = encoded(noise(), "JPEG", quality=95, exif=personal_exif())
    broken = good[:2] + b"\xff\x00" + good[2:]
    image = upload_to_library(reporter, people, "odd.jpg", broken, "image/jpeg")
    data = stored(image)
    assert_nothing_personal(data)
    assert PILImage.open(io.BytesIO(data)).size == (96, 64)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_hostile_files_do_carry_what_the_tests_look_for(kind):
    name, build, content_type = HOSTILE[kind]
    data = build().lower()
    assert SCRIPT.lower().encode() in data and HTML_TRAILER.lower() in data and ARTIST.lower().encode() in data


def test_a_photo_with_nothing_to_remove_is_stored_byte_for_byte(reporter, people, media_root):  # noqa: F811
    plain = encoded(noise(), "PNG")
    assert stored(upload_to_library(reporter, people, "plain.png", plain, "image/png")) == plain


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_strip_photo_metadata_cleans_originals_stored_by_an_older_version(kind, db, media_root):
    """An original stored before uploads were cleaned (written straight to the storage)
    loses everything personal and hidden, keeps its name and pixels; a second run has nothing to do."""
    from io import StringIO

    from django.core.files.base import ContentFile
    from django.core.management import call_command

    name, build, _ = HOSTILE[kind]
    upload = build()
    image = Image.objects.create(file=ContentFile(upload, name=name), caption="旧照片")
    assert stored(image) == upload, "stored as it came, as an older version did"
    kept_name = image.file.name

    out = StringIO()
    call_command("strip_photo_metadata", "--dry-run", stdout=out)
    assert "1 originals would be cleaned" in out.getvalue() and stored(image) == upload

    call_command("strip_photo_metadata", stdout=out)
    image.refresh_from_db()
    data = stored(image)
    assert image.file.name == kept_name
    assert_nothing_personal(data)
    assert SCRIPT.lower().encode() not in data.lower() and HTML_TRAILER.lower() not in data.lower()
    assert frames_of(data) == frames_of(upload)

    out = StringIO()
    call_command("strip_photo_metadata", stdout=out)
    assert "0 originals cleaned" in out.getvalue()
