"""The shipped Varnish configuration (deploy/varnish/newsroom.vcl) in front of a live Django:
pages are kept, staff pass through, and the newsroom's PURGE and BAN drop exactly the pages
that changed. Needs Debian's `varnish` package (CI installs it)."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import urllib3
from django.db import transaction

from articles.models import Article
from cdn import purge
from editorial.shared import announce_shared_change
from tests import factories

from .conftest import free_port

VCL = Path(__file__).resolve().parents[2] / "deploy" / "varnish" / "newsroom.vcl"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("varnishd") is None, reason="varnishd is not installed (apt-get install varnish)"),
]


@pytest.fixture
def varnish(live_server, tmp_path, settings):
    """varnishd on 127.0.0.1 with the shipped VCL, in front of the live server; the newsroom purges it."""
    backend_port = live_server.url.rsplit(":", 1)[1]
    vcl = tmp_path / "newsroom.vcl"
    vcl.write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{backend_port}";'))
    port = free_port()
    workdir = tmp_path / "varnish"
    workdir.mkdir()
    workdir.chmod(0o755)
    tmp_path.chmod(0o755)
    process = subprocess.Popen(
        # -j none first: stay this user (root in CI), who can read the test's private folder.
        ["varnishd", "-j", "none", "-F", "-a", f"127.0.0.1:{port}", "-f", str(vcl), "-n", str(workdir),
         "-s", "malloc,32m", "-T", "none", "-p", "default_grace=0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    http = urllib3.PoolManager(retries=False, timeout=5)
    origin = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            http.request("GET", origin + "/robots.txt")
            break
        except urllib3.exceptions.HTTPError:
            if process.poll() is not None:
                pytest.fail("varnishd stopped: " + process.stdout.read().decode()[-2000:])
            time.sleep(0.1)
    settings.NEWSROOM_CDN_BACKEND = "http-purge"
    settings.NEWSROOM_CDN_PUBLIC_BASE_URL = [origin]
    settings.NEWSROOM_CDN_PURGE_SERVERS = [origin]
    yield lambda path, **headers: http.request("GET", origin + path, headers=headers)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def story():
    section = factories.section(name="本地", slug="local")
    article = factories.published_story(headline="原来的标题", section=section)
    article.bylines.create(person=factories.person("张帆"))
    return article


def change(article, **fields):
    """An editor's change, committed, its purge sent as a request's would be."""
    with purge.batch(), transaction.atomic():
        factories.edit(article, **fields)


def test_varnish_keeps_pages_and_drops_a_story_the_moment_it_changes(varnish, story):
    path = story.get_absolute_url()
    first, second = varnish(path), varnish(path)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert "原来的标题" in second.data.decode()
    assert "Surrogate-Key" not in second.headers  # kept for Varnish, not sent to readers
    assert "X-Accel-Expires" not in second.headers
    varnish("/")
    assert varnish("/").headers["X-Cache"] == "hit"

    change(story, headline="更正后的标题")
    after = varnish(path)
    assert after.headers["X-Cache"] == "miss"
    assert "更正后的标题" in after.data.decode()
    assert "更正后的标题" in varnish("/").data.decode()


def test_a_ban_by_key_drops_every_page_carrying_it(varnish, settings, story):
    settings.NEWSROOM_CDN_PURGE_BY = ["keys"]  # no PURGE by address: the keys alone must do it
    path = story.get_absolute_url()
    second_page = "/sections/local/?page=2"  # never named by address in a purge
    for address in (path, "/sections/local/", second_page):
        varnish(address)
        assert varnish(address).headers["X-Cache"] == "hit"
    change(story, headline="新标题")
    assert varnish(path).headers["X-Cache"] == "miss"
    assert varnish("/sections/local/").headers["X-Cache"] == "miss"
    section = story.section
    with purge.batch(), transaction.atomic():
        section.name = "本地新闻"
        section.save()
        # What the section admin announces: the navigation on every page changes (key "site").
        announce_shared_change("section", section.pk, slugs=(section.slug,))
    assert varnish(second_page).headers["X-Cache"] == "miss"


def test_staff_with_a_session_always_reach_django(varnish, story):
    path = story.get_absolute_url()
    varnish(path)
    assert varnish(path).headers["X-Cache"] == "hit"
    staff = varnish(path, Cookie="sessionid=abc")
    assert staff.headers["X-Cache"] == "miss"
    assert "private" in staff.headers["Cache-Control"]
