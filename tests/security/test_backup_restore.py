"""A backup holds the whole newsroom; restored into an empty database, nothing is missing."""

import hashlib
import io
import json
import tarfile

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from PIL import Image as PILImage

from articles.models import (
    Article,
    ArticleImage,
    Byline,
    Correction,
    Image,
    Recommendation,
    RelatedLink,
)
from newsroom.backup import backed_up_models, stored_files
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """Earlier flushes in this test process may have left cached content type ids stale."""
    ContentType.objects.clear_cache()


def jpeg(colour):
    out = io.BytesIO()
    PILImage.new("RGB", (320, 200), colour).save(out, "JPEG")
    return out.getvalue()


def build_newsroom():
    reporter = factories.user("zhangfan", roles=["reporter"], first_name="帆", last_name="张")
    factories.user("yinyutao", roles=["first_reviewer"])
    zhang = factories.person("张帆")
    zhang.user = reporter
    zhang.save()
    section = factories.section(name="本地新闻", slug="local")
    outlet = factories.outlet("大众网")
    photo = Image.objects.create(
        file=ContentFile(jpeg((200, 30, 30)), name="forum.jpg"), caption="历城区委书记在启动仪式上致辞", uploaded_by=reporter
    )
    photo.rendition("thumb")
    story = factories.published_story(
        headline="“历城书记论坛”精彩开讲",
        section=section,
        outlet=outlet,
        dateline_outlet=outlet,
        dateline_place="济南",
        responsible_editor=zhang,
        first_review_editor=factories.person("尹玉涛"),
        thumbnail=photo,
        created_by=reporter,
    )
    story.tags.add("历城", "论坛")
    Byline.objects.create(article=story, person=zhang, role=Byline.Role.REPORTER)
    Byline.objects.create(article=story, person=factories.person("张鹏"), role=Byline.Role.CORRESPONDENT, position=1)
    ArticleImage.objects.create(article=story, image=photo)
    other = factories.published_story(headline="济南时报：城市更新", outlet=factories.outlet("济南时报"))
    other.tags.add("论坛")
    Recommendation.objects.create(article=story, target=other)
    RelatedLink.objects.create(article=story, url="https://example.cn/a", title="外站报道", outlet=outlet)
    Correction.objects.create(article=story, note="更正：时间为15日", created_by=reporter, created_by_name="张帆")
    factories.draft(headline="未发布的草稿")
    return story


def snapshot():
    """Every backed-up row (natural keys for accounts' groups and tags' types) and every file's hash."""
    rows = {}
    for model in backed_up_models():
        objects = model._base_manager.order_by("pk")
        rows[model._meta.label] = json.loads(
            serializers.serialize("json", objects, use_natural_foreign_keys=True)
        ) if objects.exists() else []
    files = {}
    for name, storage in stored_files().items():
        with storage.open(name, "rb") as handle:
            files[name] = hashlib.sha256(handle.read()).hexdigest()
    return rows, files


def wipe(settings, tmp_path):
    """An empty, freshly migrated database and an empty media folder."""
    call_command("flush", interactive=False, verbosity=0)
    ContentType.objects.clear_cache()  # flush gave the content types new ids
    settings.MEDIA_ROOT = tmp_path / "restored-media"


@pytest.mark.django_db(transaction=True)
def test_restore_brings_back_every_row_and_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    story = build_newsroom()
    before_rows, before_files = snapshot()
    archive = tmp_path / "newsroom.tar.gz"

    call_command("backup_newsroom", str(archive), stdout=io.StringIO())
    wipe(settings, tmp_path)
    assert not Article.objects.exists() and not (tmp_path / "restored-media").exists()
    call_command("restore_newsroom", str(archive), stdout=io.StringIO())

    after_rows, after_files = snapshot()
    assert after_files == before_files and len(before_files) >= 2
    assert after_rows == before_rows
    # And in the newsroom's own words:
    restored = Article.objects.for_detail().get(pk=story.pk)
    assert restored.headline == "“历城书记论坛”精彩开讲"
    assert restored.byline_text == "记者 张帆 通讯员 张鹏"
    assert sorted(tag.name for tag in restored.tags.all()) == ["历城", "论坛"]
    assert restored.responsible_editor.user.username == "zhangfan"
    assert restored.responsible_editor.user.groups.get().name == "记者/通讯员"
    assert restored.responsible_editor.user.check_password("pw-for-tests-1")
    with restored.photo_list[0].file.open("rb") as handle:
        assert PILImage.open(handle).size == (320, 200)
    assert restored.corrections.get().note == "更正：时间为15日"
    if connection.vendor == "postgresql":
        assert Article.objects.create(headline="恢复后的新稿").pk > story.pk, "id sequences continue after restore"


@pytest.mark.django_db
def test_restore_refuses_a_database_that_already_has_stories(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    build_newsroom()
    archive = tmp_path / "newsroom.tar.gz"
    call_command("backup_newsroom", str(archive), stdout=io.StringIO())
    with pytest.raises(CommandError, match="empty"):
        call_command("restore_newsroom", str(archive))
    assert Article.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_damaged_file_and_leaves_the_database_empty(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    build_newsroom()
    archive = tmp_path / "newsroom.tar.gz"
    call_command("backup_newsroom", str(archive), stdout=io.StringIO())
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if "photos/" in member.name and member.name.endswith(".jpg"):  # the uploaded photo (random name)
                data = data[:-10] + b"0123456789"
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    wipe(settings, tmp_path)

    with pytest.raises(CommandError, match="damaged"):
        call_command("restore_newsroom", str(damaged))
    assert not Article.objects.exists()
    assert not any(path.is_file() for path in (tmp_path / "restored-media").rglob("*"))


@pytest.mark.django_db
def test_restore_refuses_a_file_name_that_climbs_out_of_media(settings, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    manifest = {"format": "newsroom-backup/1", "migrations": [], "models": {}, "created_at": "",
                "files": {"../../etc/cron.d/evil": {"size": 1, "sha256": ""}}}
    with tarfile.open(archive, "w:gz") as target:
        for name, data in [("manifest.json", json.dumps(manifest).encode()), ("data.json", b"[]")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    with pytest.raises(CommandError, match="unsafe"):
        call_command("restore_newsroom", str(archive))
