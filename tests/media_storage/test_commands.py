"""The newsroom's commands with media in a bucket: the seed import, the story generator's
photo pool, backup and restore, static publishing, and moving a disk's media into a bucket."""

import io
import os
import uuid
from pathlib import Path

import pytest
from django.test import TestCase
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image as PILImage

from delivery import static_publish
from articles.models import Article, ArticleImage, Image, Rendition
from articles.renditions import ensure_renditions
from bench.generate_stories import Command as GenerateStories
from tests import factories

from .conftest import Bucket, fetch, s3_environ, use_environment
from .test_reader_pages import assert_served_from, photo_addresses

SEED = Path(django_settings.BASE_DIR) / "seeds" / "000_65fa244611cb5653.txt"


def quiet():
    return io.StringIO()


def stored_names():
    return {*Image.objects.values_list("file", flat=True), *Rendition.objects.values_list("file", flat=True)}


def story_with_photo():
    out = io.BytesIO()
    PILImage.effect_noise((900, 600), 50).convert("RGB").save(out, "JPEG")
    photo = Image.objects.create(file=ContentFile(out.getvalue(), name="forum.jpg"), caption="历城区委书记在启动仪式上致辞")
    ensure_renditions(photo)
    story = factories.published_story(headline="“历城书记论坛”精彩开讲", section=factories.section(slug="local"))
    ArticleImage.objects.create(article=story, image=photo)
    return factories.delivered(story)


@pytest.mark.django_db
def test_the_seed_imports_with_its_placeholder_photos_in_the_bucket(bucket, client, settings):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the import's photos follow the story at its commit
        call_command("import_seed", str(SEED), stdout=quiet())
    story = Article.objects.get(headline="“历城书记论坛”精彩开讲")
    assert story.photos.count() >= 2 and all(image.is_placeholder for image in story.photo_list)
    assert stored_names() == set(bucket.names()), "every original and rendition the rows name is in the bucket"

    response = client.get(story.get_absolute_url())
    html = response.content.decode()
    assert "占位" in html or "placeholder" in html
    assert_served_from(photo_addresses(html), settings.MEDIA_URL)


@pytest.mark.django_db
def test_the_generated_photo_pool_lives_in_the_bucket_and_leaves_with_reset(bucket, commit):
    generate = [GenerateStories(), "4", "--seed", "7", "--now", "2026-01-01T00:00:00+00:00", "--images", "2"]
    call_command(*generate, stdout=quiet())
    pool = Image.objects.filter(import_key__startswith="gen")
    assert pool.count() == 2
    assert stored_names() == set(bucket.names()) and len(bucket.names()) == 10
    assert all(image.rendition_index.keys() == django_settings.NEWSROOM_RENDITIONS.keys() for image in pool)

    commit(call_command, *generate, "--reset", stdout=quiet())
    # The reset made the pool again; the first pool's files are gone from the bucket.
    assert stored_names() == set(bucket.names()) and len(bucket.names()) == 10


@pytest.mark.django_db
def test_static_pages_print_the_buckets_addresses(bucket, settings, tmp_path, client):
    settings.NEWSROOM_STATIC_PUBLISH_ROOT = tmp_path / "site"
    settings.NEWSROOM_STATIC_PUBLISH_ORIGIN = "http://testserver"
    story = story_with_photo()
    call_command("static_rebuild", stdout=quiet())
    page = (tmp_path / "site" / static_publish.relative_file(story.get_absolute_url())).read_text(encoding="utf-8")
    assert "/media/" not in page
    assert_served_from(photo_addresses(page), settings.MEDIA_URL)


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_bring_back_every_photo_in_the_bucket(bucket, client, settings, tmp_path):
    story = story_with_photo()
    before = {key: bucket.read(key) for key in bucket.names()}
    assert len(before) == 5
    archive = tmp_path / "newsroom.tar.gz"
    out = io.StringIO()
    call_command("backup_newsroom", str(archive), stdout=out)
    assert "5 files" in out.getvalue()

    call_command("flush", interactive=False, verbosity=0)
    ContentType.objects.clear_cache()
    bucket.empty()
    call_command("restore_newsroom", str(archive), stdout=quiet())

    assert {key: bucket.read(key) for key in bucket.names()} == before
    response = client.get(Article.objects.get(headline=story.headline).get_absolute_url())
    assert_served_from(photo_addresses(response.content.decode()), settings.MEDIA_URL)


@pytest.mark.django_db
def test_backup_refuses_clearly_when_the_bucket_is_missing(bucket, settings, tmp_path, s3_endpoint):
    story_with_photo()
    use_environment(settings, s3_environ(s3_endpoint, "no-such-bucket"))
    archive = tmp_path / "newsroom.tar.gz"
    with pytest.raises(CommandError, match="no-such-bucket.*does not exist"):
        call_command("backup_newsroom", str(archive), stdout=quiet())
    assert not archive.exists() and not list(tmp_path.glob("*.partial"))


@pytest.mark.django_db
def test_media_on_disk_move_into_the_bucket(s3_endpoint, settings, tmp_path, client):
    """A site that kept its photos on disk sets AWS_STORAGE_BUCKET_NAME and runs
    move_media_to_storage: the same names, the same bytes, and the pages show them."""
    settings.MEDIA_ROOT = tmp_path / "old-media"
    story = story_with_photo()
    # Held at its name while readers may fetch it, under private/ otherwise (articles.photo_storage).
    on_disk = {
        name: next(path for path in (tmp_path / "old-media" / "private" / name, tmp_path / "old-media" / name) if path.exists()).read_bytes()
        for name in stored_names()
    }
    assert len(on_disk) == 5

    bucket = Bucket(s3_endpoint, f"newsroom-media-{uuid.uuid4().hex[:12]}").create()
    use_environment(settings, s3_environ(s3_endpoint, bucket.name))
    out = io.StringIO()
    call_command("move_media_to_storage", "--from", str(tmp_path / "old-media"), "--dry-run", stdout=out)
    assert "Would copy 5 files" in out.getvalue() and bucket.names() == []

    out = io.StringIO()
    call_command("move_media_to_storage", "--from", str(tmp_path / "old-media"), stdout=out)
    assert "Copied 5 files" in out.getvalue()
    assert {key: bucket.read(key) for key in bucket.names()} == on_disk
    assert all(
        (tmp_path / "old-media" / name).exists() or (tmp_path / "old-media" / "private" / name).exists() for name in on_disk
    ), "the disk copy is kept"

    out = io.StringIO()
    call_command("move_media_to_storage", "--from", str(tmp_path / "old-media"), stdout=out)
    assert "Copied 0 files" in out.getvalue() and "5 already in the storage" in out.getvalue()

    response = client.get(story.get_absolute_url())
    assert_served_from(photo_addresses(response.content.decode()), settings.MEDIA_URL)
    status, _, _ = fetch(f"{settings.MEDIA_URL}{os.path.basename(story.photo_list[0].file.name)}")
    assert status in {403, 404}, "only the names the rows hold exist"


@pytest.mark.django_db
def test_moving_media_refuses_while_media_are_still_on_disk(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    story_with_photo()
    with pytest.raises(CommandError, match="nothing to move.*AWS_STORAGE_BUCKET_NAME"):
        call_command("move_media_to_storage", stdout=quiet())
