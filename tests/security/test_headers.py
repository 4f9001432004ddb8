"""Every response tells the browser what it may run, frame and send on."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django_prose_editor.widgets import ProseEditorWidget

from tests import factories

REPO = Path(__file__).resolve().parents[2]


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    parts = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_usual_headers(response):
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
class TestHeadersOnEveryResponse:
    def test_story_page(self, client):
        story = factories.published_story()
        response = client.get(story.get_absolute_url())
        assert response.status_code == 200
        assert_usual_headers(response)

    def test_page_not_found(self, client):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        assert_usual_headers(response)

    def test_admin_sign_in_page(self, client):
        response = client.get(reverse("admin:login"))
        assert response.status_code == 200
        assert_usual_headers(response)

    def test_uploaded_photo(self, client):
        # Readers get the renditions of a photo a public story prints (readers.media).
        image = factories.image()
        story = factories.delivered(factories.published_story(thumbnail=image))
        response = client.get(image.rendition("thumb").url)
        assert story.is_live and response.status_code == 200
        # Stricter than a page's policy: an image needs nothing, and never runs as a page.
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"

    def test_static_file(self, client, settings):
        settings.WHITENOISE_USE_FINDERS = True
        settings.WHITENOISE_AUTOREFRESH = True
        response = client.get("/static/admin/css/base.css")
        assert response.status_code == 200
        assert_usual_headers(response)


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_not_readable_by_scripts(client, django_user_model):
    django_user_model.objects.create_user("zhangfan", password="right-horse-battery", is_staff=True)
    page = client.get(reverse("admin:login"))
    assert page.cookies["csrftoken"]["httponly"]
    response = client.post(
        reverse("admin:login"),
        {"username": "zhangfan", "password": "right-horse-battery", "next": "/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    ["admin:index", "admin:articles_article_add", "admin:articles_image_add", "admin:auth_user_add"],
)
def test_admin_pages_run_no_inline_script_without_the_nonce(admin_client, url_name):
    """The policy allows no inline script but one carrying this response's nonce."""
    response = admin_client.get(reverse(url_name))
    assert response.status_code == 200
    nonces = [src for src in policy(response)["script-src"] if src.startswith("'nonce-")]
    for attributes in INLINE_SCRIPT.findall(response.content.decode()):
        if 'type="application/json"' in attributes:
            continue  # data, never run
        assert nonces and f'nonce="{nonces[0][7:-1]}"' in attributes, attributes


def test_rich_text_editor_import_map_carries_the_nonce_of_the_response(settings):
    """The prose editor's import map is the one inline script the admin needs."""
    from csp.middleware import CSPMiddleware

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    request = RequestFactory().get("/admin/articles/article/add/")
    template = engines["django"].from_string("{% load csp_nonce %}{{ media|with_csp_nonce:request }}")

    def view(request):
        from django.http import HttpResponse

        return HttpResponse(template.render({"media": ProseEditorWidget().media, "request": request}))

    response = CSPMiddleware(view)(request)
    html = response.content.decode()
    nonce = next(src for src in policy(response)["script-src"] if src.startswith("'nonce-"))[7:-1]
    assert f'<script type="importmap" nonce="{nonce}">' in html or re.search(
        rf'<script[^>]*type="importmap"[^>]*nonce="{re.escape(nonce)}"', html
    ), html


def test_rich_text_editor_base_stylesheet_is_allowed_by_hash_and_nothing_else_inline(client):
    """The editor injects one fixed stylesheet; its hash is allowed, 'unsafe-inline' is not."""
    from newsroom.csp_sources import editor_style_hashes

    hashes = editor_style_hashes()
    assert hashes, "the installed editor's base stylesheet was not found in editor.js"
    style_src = policy(client.get(reverse("admin:login")))["style-src"]
    assert all(source in style_src for source in hashes)
    assert [source for source in style_src if source.startswith("'") and source not in hashes] == ["'self'"]


def test_deploy_check_passes_with_the_documented_production_environment(tmp_path):
    """`manage.py check --deploy` has nothing to say about the production set-up."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL", "ALLOWED_HOSTS"}
    }
    environment.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL="1",
        ALLOWED_HOSTS="news.example.cn",
        CSRF_TRUSTED_ORIGINS="https://news.example.cn",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_without_https_settings(tmp_path):
    """The same check does complain when the production switches are off, so it can fail."""
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECURE_SSL"}}
    environment.update(SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="news.example.cn")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
