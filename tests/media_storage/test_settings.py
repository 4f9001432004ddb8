"""AWS_STORAGE_BUCKET_NAME switches media to the bucket, and nothing else does; mistakes in
the AWS_* variables stop the server with a message saying what to write."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from storages.backends.s3 import S3Storage

from newsroom.media_storage import s3_media_settings

from .conftest import use_environment

ROOT = Path(__file__).resolve().parents[2]

REPORT = """
import json, sys, django
django.setup()
from django.conf import settings
from newsroom import urls
print(json.dumps({
    "default": settings.STORAGES["default"]["BACKEND"],
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
    "media_url": settings.MEDIA_URL,
    "serve_media": settings.NEWSROOM_SERVE_MEDIA,
    "media_route": any("readers.media" in repr(getattr(p, "urlconf_name", "")) for p in urls.urlpatterns),
    "img_src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"],
    "boto3_loaded": "boto3" in sys.modules,
}))
"""


def settings_with(**env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in {"DEBUG", "NEWSROOM_SERVE_MEDIA"}}
    environment.update(DJANGO_SETTINGS_MODULE="newsroom.settings", SECRET_KEY="tests-only-not-a-secret", **env)
    result = subprocess.run([sys.executable, "-c", REPORT], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_bucket_media_stay_on_disk_as_before():
    found = settings_with(DEBUG="1")
    assert found["default"] == "django.core.files.storage.FileSystemStorage"
    assert found["media_url"] == "/media/" and found["serve_media"] is True and found["media_route"] is True
    assert found["img_src"] == ["'self'", "data:"]
    assert found["boto3_loaded"] is False, "a laptop never loads boto3"


def test_a_bucket_moves_media_there_and_stops_django_serving_them():
    found = settings_with(
        DEBUG="1",
        NEWSROOM_SERVE_MEDIA="1",
        AWS_STORAGE_BUCKET_NAME="newsroom-media",
        AWS_S3_ENDPOINT_URL="https://minio.example.cn:9000",
        AWS_ACCESS_KEY_ID="newsroom",
        AWS_SECRET_ACCESS_KEY="not-a-secret",
    )
    assert found["default"] == "newsroom.s3.MediaStorage"
    assert found["staticfiles"] == "django.contrib.staticfiles.storage.StaticFilesStorage", "static files are untouched"
    assert found["media_url"] == "https://minio.example.cn:9000/newsroom-media/"
    assert found["serve_media"] is False and found["media_route"] is False
    assert found["img_src"] == ["'self'", "data:", "https://minio.example.cn:9000"]


def test_a_custom_media_domain_is_what_pages_print_and_what_the_policy_allows():
    found = settings_with(AWS_STORAGE_BUCKET_NAME="newsroom-media", AWS_S3_CUSTOM_DOMAIN="https://img.example.cn/")
    assert found["media_url"] == "https://img.example.cn/"
    assert found["img_src"] == ["'self'", "data:", "https://img.example.cn"]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"AWS_S3_ENDPOINT_URL": "minio.example.cn:9000"}, "AWS_S3_ENDPOINT_URL='minio.example.cn:9000': give the whole address"),
        ({"AWS_ACCESS_KEY_ID": "newsroom"}, "AWS_SECRET_ACCESS_KEY is missing"),
        ({"AWS_SECRET_ACCESS_KEY": "x"}, "AWS_ACCESS_KEY_ID is missing"),
        ({"AWS_QUERYSTRING_AUTH": "1", "AWS_S3_CUSTOM_DOMAIN": "img.example.cn"}, "not signed"),
        ({"AWS_QUERYSTRING_AUTH": "maybe"}, "AWS_QUERYSTRING_AUTH='maybe': write 1 (on) or 0 (off)"),
        ({"AWS_S3_ADDRESSING_STYLE": "dns"}, "write path or virtual"),
        ({"AWS_S3_CUSTOM_DOMAIN": "ftp://img.example.cn"}, "give the media host"),
        ({"AWS_MAX_ATTEMPTS": "none"}, "AWS_MAX_ATTEMPTS='none' is not a number"),
        ({"NEWSROOM_S3_CONNECT_TIMEOUT": "0"}, "must be more than 0"),
    ],
)
def test_mistakes_in_the_settings_are_named(env, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        s3_media_settings({"AWS_STORAGE_BUCKET_NAME": "newsroom-media", **env})
    assert message in str(refused.value)


def test_a_mistake_stops_the_server_with_its_message():
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(SECRET_KEY="k" * 50, AWS_STORAGE_BUCKET_NAME="m", AWS_S3_ENDPOINT_URL="minio:9000")
    result = subprocess.run([sys.executable, "-c", "import newsroom.wsgi"], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode != 0 and "AWS_S3_ENDPOINT_URL='minio:9000': give the whole address" in result.stderr


ADDRESS_CASES = {
    "Amazon S3, default region": {},
    "Amazon S3, China": {"AWS_S3_REGION_NAME": "cn-north-1"},
    "a bucket name with dots": {"AWS_STORAGE_BUCKET_NAME": "media.example.cn", "AWS_S3_REGION_NAME": "eu-central-1"},
    "path style forced": {"AWS_S3_ADDRESSING_STYLE": "path", "AWS_S3_REGION_NAME": "eu-central-1"},
    "MinIO, under a prefix": {"AWS_S3_ENDPOINT_URL": "https://minio.example.cn:9000", "AWS_LOCATION": "newsroom/media"},
    "virtual hosts on an own endpoint": {"AWS_S3_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com", "AWS_S3_ADDRESSING_STYLE": "virtual"},
    "a custom domain": {"AWS_S3_CUSTOM_DOMAIN": "img.example.cn"},
}


@pytest.mark.parametrize("case", sorted(ADDRESS_CASES))
def test_photo_addresses_are_the_ones_django_storages_prints(settings, case):
    """MediaStorage prints addresses from MEDIA_URL without asking botocore each time;
    they are exactly django-storages' own, and all share MEDIA_URL's origin."""
    environ = {"AWS_STORAGE_BUCKET_NAME": "newsroom-media", **ADDRESS_CASES[case]}
    use_environment(settings, environ)
    library = S3Storage()
    for name in ["photos/2026/11/0123456789abcdef0123456789abcdef.jpg", "renditions/2026/11/ab-w480-01234567.jpg", "图片/a b+c.png"]:
        printed = default_storage.url(name)
        assert printed == library.url(name), (case, name)
        assert printed.startswith(settings.MEDIA_URL)
