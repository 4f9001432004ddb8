"""With a CDN in front, the nginx page cache of deploy/nginx/newsroom-proxy.conf (which no
purge reaches) keeps no page: otherwise the CDN, told to drop a page, would fetch it again
from nginx's stale copy and keep that for NEWSROOM_CDN_MAX_AGE."""

import subprocess
import time

import pytest
import urllib3
from django.db import transaction

from articles.models import Article
from cdn import purge
from tests import factories
from tests.deploy.services import NGINX, free_port, nginx, nginx_site, wait_for_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx)"),
]


@pytest.fixture
def behind_nginx(tmp_path, live_server, http_purge, settings):
    """The app behind the shipped nginx proxy config, with a CDN (the recorder) configured."""
    settings.NEWSROOM_CDN_MAX_AGE = 3600
    port = free_port()
    main = nginx_site(tmp_path, listen_port=port, upstream_port=int(live_server.url.rsplit(":", 1)[1]),
                      static_root=tmp_path / "static", media_root=tmp_path / "media")
    started = subprocess.run([NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
                             capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr
    wait_for_port(port)
    http = urllib3.PoolManager(retries=False, timeout=15)
    yield lambda path: http.request("GET", f"http://127.0.0.1:{port}{path}")
    nginx("-s", "quit", folder=tmp_path, main=main)
    for _ in range(50):
        if not (tmp_path / "nginx.pid").exists():
            break
        time.sleep(0.1)


def test_nginx_keeps_no_page_the_cdn_may_fetch_again_after_a_purge(behind_nginx, http_purge):
    story = factories.published_story(headline="原来的标题")
    first, second = behind_nginx(story.get_absolute_url()), behind_nginx(story.get_absolute_url())
    assert second.headers["X-Cache-Status"] != "HIT"
    assert "s-maxage=3600" in second.headers["Cache-Control"]  # the CDN still keeps it long
    assert "X-Accel-Expires" not in second.headers  # meant for nginx alone
    with purge.batch(), transaction.atomic():
        factories.edit(story, headline="更正后的标题")
    assert f"/stories/{story.pk}/" in http_purge.purged_paths()
    # What the CDN gets when it comes back for the page right after the purge:
    assert "更正后的标题" in behind_nginx(story.get_absolute_url()).data.decode()
