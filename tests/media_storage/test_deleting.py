"""A photo's files leave the bucket with it, and only then: a photo a story prints cannot
be deleted, a rolled-back delete keeps every file, a replaced file takes its renditions
along."""

import io
import logging

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from PIL import Image as PILImage

from articles.models import ArticleImage, Image, Rendition
from articles.renditions import ensure_renditions
from tests import factories
from tests.editorial.conftest import people  # noqa: F401

from .conftest import free_port, s3_environ, use_environment

pytestmark = pytest.mark.django_db


def jpeg(colour, size=(900, 600)):
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def photo_with_renditions(colour=(200, 30, 30)):
    image = Image.objects.create(file=ContentFile(jpeg(colour), name="photo.jpg"), caption="图说")
    ensure_renditions(image)
    return image


def files_of(image):
    return {image.file.name, *Rendition.objects.filter(image=image).values_list("file", flat=True)}


@pytest.fixture
def chief_client(client, people):  # noqa: F811
    client.force_login(people["chief"])
    return client


def test_deleting_a_photo_removes_its_original_and_renditions_from_the_bucket(bucket, chief_client, commit):
    kept = photo_with_renditions((10, 10, 10))
    doomed = photo_with_renditions()
    doomed_files = files_of(doomed)
    assert len(doomed_files) == 5 and doomed_files <= set(bucket.names())

    response = commit(chief_client.post, reverse("admin:articles_image_delete", args=[doomed.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Image.objects.filter(pk=doomed.pk).exists()
    assert not Rendition.objects.filter(image_id=doomed.pk).exists()
    assert set(bucket.names()) == files_of(kept), "the other photo's files stay"


def test_a_photo_a_story_prints_cannot_be_deleted_and_stays_in_the_bucket(bucket, chief_client, commit):
    photo = photo_with_renditions()
    story = factories.published_story()
    ArticleImage.objects.create(article=story, image=photo)
    thumbnail = photo_with_renditions((0, 90, 0))
    factories.published_story(thumbnail=thumbnail)
    before = set(bucket.names())

    for image in (photo, thumbnail):
        response = commit(chief_client.post, reverse("admin:articles_image_delete", args=[image.pk]), {"post": "yes"})
        assert response.status_code in {200, 302}
        assert Image.objects.filter(pk=image.pk).exists()
    assert set(bucket.names()) == before


def test_a_rolled_back_delete_keeps_every_file(bucket, commit):
    photo = photo_with_renditions()
    pk, files = photo.pk, files_of(photo)

    def delete_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            photo.delete()
            raise RuntimeError("something after the delete failed")

    commit(delete_then_fail)
    assert Image.objects.filter(pk=pk).exists()
    assert files <= set(bucket.names())


def test_replacing_a_photo_file_replaces_its_renditions(bucket, chief_client, commit, settings):
    photo = photo_with_renditions((200, 30, 30))
    old_files = files_of(photo)
    response = commit(
        chief_client.post,
        reverse("admin:articles_image_change", args=[photo.pk]),
        {"file": SimpleUploadedFile("new.jpg", jpeg((30, 30, 200), (1000, 500)), "image/jpeg"), "caption": "新图", "credit": "", "alt_text": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    photo.refresh_from_db()
    new_files = files_of(photo)
    assert not old_files & new_files
    assert set(bucket.names()) == new_files, "the old original and its renditions are gone"
    assert set(photo.renditions.values_list("spec", flat=True)) == set(settings.NEWSROOM_RENDITIONS)
    w480 = PILImage.open(io.BytesIO(bucket.read(photo.renditions.get(spec="w480").file.name)))
    assert w480.size == (480, 240) and w480.getpixel((240, 120))[2] > 150, "made from the new picture"
    assert photo.rendition_index["w480"]["name"] == photo.renditions.get(spec="w480").file.name


def test_a_delete_while_the_bucket_is_down_still_deletes_and_names_the_leftovers(bucket, chief_client, commit, settings, caplog):
    photo = photo_with_renditions()
    use_environment(settings, s3_environ(f"http://127.0.0.1:{free_port()}", bucket.name))
    with caplog.at_level(logging.WARNING, logger="newsroom.media"):
        response = commit(chief_client.post, reverse("admin:articles_image_delete", args=[photo.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Image.objects.filter(pk=photo.pk).exists()
    assert photo.file.name in caplog.text and "remove it by hand" in caplog.text
