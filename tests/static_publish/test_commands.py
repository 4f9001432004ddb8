"""static_rebuild writes the whole site into a fresh folder and swaps it in; static_verify
compares the files with the database and fails on any difference."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from delivery import static_publish
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(static_root):
    section = factories.section(slug="local")
    stories = [factories.published_story(headline=f"新闻{i}", section=section) for i in range(3)]
    stories[0].tags.add("泉城")
    factories.draft(headline="草稿")
    return stories


def rebuild(every=0.0):
    out = io.StringIO()
    call_command("static_rebuild", "--every", str(every), stdout=out)
    return out.getvalue()


def verify(*args):
    out = io.StringIO()
    call_command("static_verify", *args, stdout=out)
    return out.getvalue()


def test_rebuild_writes_every_published_page_and_shows_progress(site, static_root):
    output = rebuild()
    assert "pages/s" in output and "Rebuilt" in output
    assert static_root.is_symlink()
    for story in site:
        assert (static_root / static_publish.relative_file(story.get_absolute_url())).exists()
    for url in ["/", "/sections/local/", "/feeds/rss.xml", "/sitemap.xml", "/sitemap-sections.xml", "/robots.txt"]:
        assert (static_root / static_publish.relative_file(url)).exists(), url


def test_a_second_rebuild_swaps_in_a_new_folder_and_drops_the_old_one(site, static_root):
    rebuild()
    first = static_root.resolve()
    rebuild()
    assert static_root.resolve() != first
    assert not first.exists()
    assert static_publish.generations(static_root) == [static_root.resolve()]


def test_rebuild_replaces_a_plain_folder(site, static_root):
    static_root.mkdir()
    (static_root / "leftover.html").write_text("old")
    rebuild()
    assert static_root.is_symlink() and not (static_root / "leftover.html").exists()


def test_verify_passes_right_after_a_rebuild(site, static_root):
    rebuild()
    assert "Files match the database" in verify()


def test_verify_finds_a_tampered_a_missing_and_an_extra_file(site, static_root):
    rebuild()
    page = static_root / static_publish.relative_file(site[0].get_absolute_url())
    page.write_text("<html>改过的文件</html>", encoding="utf-8")
    (static_root / static_publish.relative_file("/sections/local/")).unlink()
    (static_root / "stories" / "999999").mkdir(parents=True)
    (static_root / "stories" / "999999" / "index.html").write_text("不存在的稿件", encoding="utf-8")
    with pytest.raises(CommandError, match="1 missing, 1 stale, 1 extra"):
        verify()
    output = verify("--fix")
    assert "fixed" in output
    assert "Files match the database" in verify()


def test_verify_notices_a_stale_gzip_twin(site, static_root):
    rebuild()
    page = static_root / static_publish.relative_file("/")
    page.with_name("index.html.gz").write_bytes(b"not the page")
    with pytest.raises(CommandError, match="1 stale"):
        verify()


def test_commands_refuse_to_run_when_static_publishing_is_off(site, settings):
    settings.NEWSROOM_STATIC_PUBLISH_ROOT = None
    with pytest.raises(CommandError, match="NEWSROOM_STATIC_PUBLISH_ROOT"):
        rebuild()


def test_an_interrupted_rebuild_leaves_the_live_site_alone_and_resume_finishes_it(site, static_root, monkeypatch):
    rebuild()
    live_before = static_root.resolve()
    written = []
    real_publish = static_publish.publish

    def interrupted(urls, **kwargs):
        if kwargs.get("tree") is not None and kwargs["tree"] != static_root and written:
            raise KeyboardInterrupt
        written.extend(urls)
        return real_publish(urls, **kwargs)

    monkeypatch.setattr(static_publish, "CHUNK", 2)
    monkeypatch.setattr(static_publish, "publish", interrupted)
    with pytest.raises(CommandError, match="--resume"):
        rebuild()
    assert static_root.resolve() == live_before  # readers still get the previous generation
    (left,) = static_publish.unfinished_generations()
    assert len(written) == 2

    monkeypatch.setattr(static_publish, "publish", real_publish)
    out = io.StringIO()
    call_command("static_rebuild", "--resume", "--every", "0", stdout=out)
    assert "resumed, 2 already written" in out.getvalue()
    assert static_root.resolve() == left and not (left / static_publish.REBUILDING_MARKER).exists()
    assert static_publish.unfinished_generations() == []
    assert "Files match the database" in verify()


def test_a_new_rebuild_clears_an_interrupted_one(site, static_root):
    rebuild()
    stale = static_root.parent / f"{static_root.name}.20260101000000-left"
    stale.mkdir()
    (stale / static_publish.REBUILDING_MARKER).write_text("0")
    output = rebuild()
    assert "Rebuilt" in output and not stale.exists()


def test_rebuild_copies_the_pages_the_read_model_holds(site, static_root, settings):
    from delivery import read_model
    from delivery.models import StoredPage

    settings.NEWSROOM_READ_MODEL = True
    settings.NEWSROOM_SITE_URL = settings.NEWSROOM_STATIC_PUBLISH_ORIGIN
    call_command("build_read_model", stdout=io.StringIO())
    path = site[0].get_absolute_url()
    # The model is what is copied: a page it holds is not rendered again.
    StoredPage.objects.filter(address=read_model.address(settings.NEWSROOM_SITE_URL, path)).update(content=b"from the model")
    rebuild()
    assert (static_root / static_publish.relative_file(path)).read_bytes() == b"from the model"
