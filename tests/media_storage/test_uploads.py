"""A reporter's photo goes into the bucket: checked, without its location, with renditions.

And when the bucket cannot take it (the service is unreachable, the bucket is missing),
the reporter is told so on the form they filled in, with nothing lost and nothing stored.
"""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags
from PIL import Image as PILImage

from articles.models import Image
from tests.editorial.conftest import change_form_data, people, story_in  # noqa: F401

from .conftest import free_port, s3_environ, use_environment

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:articles_image_add")
CAPTION = "历城区委书记在启动仪式上致辞"
CREDIT = "大众网记者 张帆 摄"


def phone_photo():
    """A 640×480 JPEG as a phone writes it: turned by EXIF, with camera and GPS position."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "NewsCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (36.0, 40.0, 1.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (117.0, 1.0, 2.5)
    out = io.BytesIO()
    PILImage.effect_noise((640, 480), 60).convert("RGB").save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def pixels(data):
    with PILImage.open(io.BytesIO(data)) as picture:
        return picture.size, picture.tobytes()


def upload(client, content, name="IMG_0001.jpg"):
    return client.post(
        ADD_URL,
        {"file": SimpleUploadedFile(name, content, "image/jpeg"), "caption": CAPTION, "credit": CREDIT, "alt_text": ""},
    )


@pytest.fixture
def reporter_client(client, people):  # noqa: F811
    client.force_login(people["writer"])
    return client


def test_reporters_upload_is_stored_in_the_bucket_without_its_location(bucket, reporter_client, commit):
    original = phone_photo()
    response = commit(upload, reporter_client, original)
    assert response.status_code == 302, response.content.decode()[:2000]

    image = Image.objects.get()
    assert re.fullmatch(r"photos/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", image.file.name), "a random name, not IMG_0001"
    assert image.original_filename in {"", "IMG_0001.jpg"}
    assert (image.width, image.height) == (640, 480)
    assert bucket.names("photos/") == [image.file.name]

    stored = bucket.read(image.file.name)
    exif = PILImage.open(io.BytesIO(stored)).getexif()
    assert ExifTags.IFD.GPSInfo not in exif, "the place the photo was taken stays with the photographer"
    assert exif[ExifTags.Base.Orientation] == 6 and ExifTags.Base.Make not in exif, "nor the camera"
    assert pixels(stored) == pixels(original), "the picture itself is stored unchanged"
    head = bucket.head(image.file.name)
    assert head["ContentType"] == "image/jpeg"
    assert "immutable" in head.get("CacheControl", "")


def test_an_upload_gets_its_renditions_in_the_bucket_at_once_and_they_are_reused(bucket, reporter_client, commit, settings):
    commit(upload, reporter_client, phone_photo())
    image = Image.objects.get()

    renditions = {rendition.spec: rendition for rendition in image.renditions.all()}
    assert set(renditions) == set(settings.NEWSROOM_RENDITIONS)
    assert bucket.names("renditions/") == sorted(rendition.file.name for rendition in renditions.values())
    w480 = PILImage.open(io.BytesIO(bucket.read(renditions["w480"].file.name)))
    assert w480.size == (480, 640), "upright: the EXIF orientation is applied"
    assert ExifTags.IFD.GPSInfo not in w480.getexif() and ExifTags.Base.Make not in w480.getexif()
    image.refresh_from_db()
    assert image.rendition_index["w480"] == {"name": renditions["w480"].file.name, "width": 480, "height": 640}

    before = bucket.names()
    assert image.rendition("w800").pk == renditions["w800"].pk
    commit(image.rendition, "thumb")
    assert bucket.names() == before, "made once, then reused"


def test_a_photo_uploaded_with_a_story_goes_to_the_bucket(bucket, client, people, commit):  # noqa: F811
    article = story_in("draft", people)
    client.force_login(people["writer"])
    data = change_form_data(article)
    data.update(
        {
            "photos-TOTAL_FORMS": "1",
            "photos-0-upload": SimpleUploadedFile("IMG_0002.jpg", phone_photo(), "image/jpeg"),
            "photos-0-caption": CAPTION,
            "photos-0-position": "1",
        }
    )
    response = commit(client.post, reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    image = article.photos.get().image
    assert image.file.name in bucket.names("photos/")
    assert ExifTags.IFD.GPSInfo not in PILImage.open(io.BytesIO(bucket.read(image.file.name))).getexif()
    assert image.renditions.count() == 4


def assert_told_on_the_form(response, *words):
    assert response.status_code == 200, "the form comes back, not a server error"
    page = response.content.decode()
    errors = response.context["adminform"].form.errors.as_data()
    assert [error.code for error in errors["file"]] == ["storage_unavailable"]
    for word in words:
        assert word in page
    assert CAPTION in page, "the caption the reporter typed is still there"
    assert f'value="{CREDIT}"' in page, "the credit the reporter typed is still there"
    assert Image.objects.count() == 0


def test_an_unreachable_storage_is_reported_on_the_form_with_nothing_lost(s3_endpoint, settings, reporter_client):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    use_environment(settings, s3_environ(closed, "newsroom-media"))
    response = upload(reporter_client, phone_photo())
    assert_told_on_the_form(response, "cannot be reached", "newsroom-media", closed)


def test_a_missing_bucket_is_reported_on_the_form_with_nothing_lost(s3_endpoint, settings, reporter_client):
    use_environment(settings, s3_environ(s3_endpoint, "no-such-bucket"))
    response = upload(reporter_client, phone_photo())
    assert_told_on_the_form(response, "does not exist", "no-such-bucket")


def test_a_story_with_an_upload_the_storage_refuses_keeps_everything_typed(s3_endpoint, settings, client, people):  # noqa: F811
    article = story_in("draft", people)
    use_environment(settings, s3_environ(s3_endpoint, "no-such-bucket"))
    client.force_login(people["writer"])
    data = change_form_data(article, headline="改过的标题", body="<p>新写的正文。</p>")
    data.update(
        {
            "photos-TOTAL_FORMS": "1",
            "photos-0-upload": SimpleUploadedFile("IMG_0003.jpg", phone_photo(), "image/jpeg"),
            "photos-0-caption": CAPTION,
            "photos-0-position": "1",
        }
    )
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "does not exist" in page and "no-such-bucket" in page
    assert "改过的标题" in page and "新写的正文" in page and CAPTION in page
    article.refresh_from_db()
    assert article.headline != "改过的标题" and not article.photos.exists() and not Image.objects.exists()


def test_a_storage_failing_after_the_check_answers_503_and_saves_nothing(bucket, settings, reporter_client, monkeypatch):
    """The bucket answered the check, then went away before the photo was written."""
    monkeypatch.setattr("articles.forms.storage_problem", lambda storage: None)
    use_environment(settings, s3_environ(f"http://127.0.0.1:{free_port()}", bucket.name))
    response = upload(reporter_client, phone_photo())
    assert response.status_code == 503
    assert "nothing was saved" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert not Image.objects.exists() and bucket.names() == []

