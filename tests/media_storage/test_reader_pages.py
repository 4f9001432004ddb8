"""What readers get: every photo address on a public page points at the bucket (or the
media host in front of it), is allowed by the page's Content-Security-Policy, and
fetching it returns the photo."""

import io
import json
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image as PILImage

from articles.models import ArticleImage, Image
from tests import factories

from .conftest import fetch, s3_environ, use_environment

pytestmark = pytest.mark.django_db


def jpeg(size=(1600, 1000)):
    out = io.BytesIO()
    PILImage.effect_noise(size, 50).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def story_with_photo():
    photo = Image.objects.create(file=ContentFile(jpeg(), name="forum.jpg"), caption="历城区委书记在启动仪式上致辞")
    story = factories.published_story(headline="“历城书记论坛”精彩开讲", section=factories.section())
    ArticleImage.objects.create(article=story, image=photo)
    factories.delivered(story)
    factories.delivered(factories.published_story(headline="推荐阅读的新闻", section=story.section, thumbnail=photo))
    return story, photo


def photo_addresses(html):
    """Every photo address a reader's browser would load from `html`: <img src>, srcset,
    Open Graph and Twitter images, and the JSON-LD images."""
    found = set()
    for tag in re.findall(r"<img [^>]+>", html):
        found.update(unescape(src) for src in re.findall(r'\ssrc="([^"]+)"', tag))
        for srcset in re.findall(r'\ssrcset="([^"]+)"', tag):
            found.update(unescape(part.split()[0]) for part in srcset.split(","))
    found.update(unescape(url) for url in re.findall(r'<meta (?:property|name)="(?:og|twitter):image" content="([^"]+)"', html))
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
        found.update(json.loads(block).get("image", []))
    return found


def img_src(response):
    policy = response["Content-Security-Policy"]
    return next(part.split()[1:] for part in policy.split(";") if part.split() and part.split()[0] == "img-src")


def assert_served_from(addresses, base):
    assert addresses, "the page shows photos"
    for address in addresses:
        assert address.startswith(base), address
        status, content_type, data = fetch(address)
        assert status == 200, (address, status, data[:200])
        assert content_type == "image/jpeg"
        assert PILImage.open(io.BytesIO(data)).format == "JPEG"


def test_story_page_photos_come_from_the_bucket(bucket, client, settings, s3_endpoint):
    story, photo = story_with_photo()
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    addresses = photo_addresses(html)
    assert settings.MEDIA_URL == f"{s3_endpoint}/{bucket.name}/"
    assert_served_from(addresses, settings.MEDIA_URL)
    assert "/media/" not in html
    # The largest rendition, w1200, is what Open Graph and JSON-LD name.
    w1200 = photo.renditions.get(spec="w1200").file.name
    assert f"{settings.MEDIA_URL}{w1200}" in addresses
    assert s3_endpoint in img_src(response)
    assert set(bucket.names("renditions/")) >= {r.file.name for r in photo.renditions.all()}
    # Readers get renditions only; the original is not printed and not served to them.
    assert photo.file.name not in html
    status, _, _ = fetch(f"{settings.MEDIA_URL}{photo.file.name}")
    assert status in {403, 404}
    # Nor is the newsroom's private copy, though it exists (the bucket policy covers renditions/ only).
    assert bucket.key_of(photo.file.name) == f"private/{photo.file.name}"
    status, _, _ = fetch(f"{settings.MEDIA_URL}private/{photo.file.name}")
    assert status == 403


def test_list_pages_show_thumbnails_from_the_bucket(bucket, client, settings):
    story, _ = story_with_photo()
    for url in [reverse("articles:home"), story.section.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 200
        assert_served_from(photo_addresses(response.content.decode()), settings.MEDIA_URL)


def test_a_custom_media_domain_is_printed_and_allowed(bucket, client, settings, s3_endpoint):
    """A CDN or media host in front of the bucket (here the S3 server itself, reached under
    another address) is what pages print; the bucket's own address is not."""
    host = urlsplit(s3_endpoint).netloc
    use_environment(
        settings,
        s3_environ(s3_endpoint, bucket.name, AWS_S3_CUSTOM_DOMAIN=f"http://{host}/{bucket.name}"),
    )
    assert settings.MEDIA_URL == f"http://{host}/{bucket.name}/"
    story, _ = story_with_photo()
    response = client.get(story.get_absolute_url())
    assert_served_from(photo_addresses(response.content.decode()), settings.MEDIA_URL)
    assert f"http://{host}" in img_src(response)

