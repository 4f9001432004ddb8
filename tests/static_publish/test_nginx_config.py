"""The shipped nginx config is valid and sends static pages with the headers Django sends."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

CONFIG = Path(settings.BASE_DIR) / "deploy" / "nginx" / "newsroom.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def server_level_headers():
    """add_header lines of the server block itself (not of a location)."""
    headers, depth = {}, 0
    for line in CONFIG.read_text().splitlines():
        stripped = line.split("#", 1)[0].strip()
        match = re.match(r'add_header\s+(\S+)\s+(".*?"|\S+)(\s+always)?;', stripped)
        if match and depth == 1:
            headers[match.group(1)] = match.group(2).strip('"')
        depth += stripped.count("{") - stripped.count("}")
    return headers


def directives(policy):
    return {part.strip() for part in policy.split(";") if part.strip()}


def test_static_pages_carry_the_security_headers_django_sends(client):
    django_headers = client.get("/robots.txt").headers
    nginx_headers = server_level_headers()
    assert directives(nginx_headers["Content-Security-Policy"]) == directives(
        django_headers["Content-Security-Policy"]
    )
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy",
                 "Permissions-Policy", "Content-Language"):
        assert nginx_headers[name] == django_headers[name], name


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
def test_nginx_accepts_the_config(tmp_path):
    site = CONFIG.read_text().replace("/srv/newsroom", str(tmp_path)).replace("listen 80;", "listen 127.0.0.1:8399;")
    (tmp_path / "newsroom.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; access_log off; include {tmp_path}/newsroom.conf; }}\n"
    )
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr, result.stderr
