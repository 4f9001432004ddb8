"""Small faults in what readers and editors are shown, each seen through HTTP.

Times in <time datetime> in whole seconds, srcset naming each width once, feed ids that
are addresses, a 500 page its own Content-Security-Policy lets through, a 404 that is
nobody's canonical page, no empty 作者 label, and upload errors that say what happened.
"""

import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone
from PIL import Image as PILImage

from articles.models import ArticleImage, Correction, Image, Recommendation, RelatedLink
from newsroom import urls as project_urls
from tests import factories

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
# What HTML accepts in <time datetime>: no fraction of a second needed, an offset given.
HTML_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
SIGNED_OFF_AT = timezone.make_aware(datetime(2025, 12, 3, 8, 12, 41, 123456))  # Asia/Shanghai


def text(response):
    return response.content.decode()


def time_attributes(html):
    return re.findall(r'<time[^>]* datetime="([^"]*)"', html)


def png(width, height):
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


# --- <time datetime> -------------------------------------------------------------


@pytest.fixture
def story_signed_off_with_microseconds():
    """A story whose time carries microseconds, as every sign-off through the workflow does,
    with a correction, a related story and a recommended one printing their own times."""
    section = factories.section(slug="local")
    story = factories.published_story(headline="签发的新闻", section=section, published_at=SIGNED_OFF_AT)
    other = factories.published_story(section=section, published_at=SIGNED_OFF_AT - timedelta(hours=1, microseconds=7))
    Recommendation.objects.create(article=story, target=other, position=0)
    RelatedLink.objects.create(article=story, target=other, position=0)
    RelatedLink.objects.create(article=story, url="https://example.cn/a", title="外部链接",
                               published_at=SIGNED_OFF_AT - timedelta(microseconds=5), position=1)
    Correction.objects.create(article=story, note="更正:人名有误。")
    return story


def test_every_time_on_the_story_page_is_in_whole_seconds_with_its_offset(client, story_signed_off_with_microseconds):
    html = text(client.get(story_signed_off_with_microseconds.get_absolute_url()))
    times = time_attributes(html)
    assert len(times) >= 4, "the story, the related story, the outside link, the recommendation, the correction"
    assert [value for value in times if not HTML_DATETIME.fullmatch(value)] == []
    assert '<time class="published" datetime="2025-12-03T08:12:41+08:00">2025-12-03 08:12:41</time>' in html


def test_a_story_signed_off_through_the_workflow_prints_a_valid_time(client):
    story = factories.publish(factories.draft(headline="走完流程的新闻"))
    html = text(client.get(story.get_absolute_url()))
    expected = timezone.localtime(story.published_at).replace(microsecond=0).isoformat()
    assert f'<time class="published" datetime="{expected}">' in html


@pytest.mark.parametrize("url", ["/", "/sections/local/", "/search/?q=签发"])
def test_list_pages_print_times_in_whole_seconds(client, story_signed_off_with_microseconds, url):
    times = time_attributes(text(client.get(url)))
    assert "2025-12-03T08:12:41+08:00" in times
    assert [value for value in times if not HTML_DATETIME.fullmatch(value)] == []


def test_the_desk_timeline_prints_times_without_fractions(admin_client):
    story = factories.publish(factories.draft(headline="时间线新闻"))
    html = text(admin_client.get(reverse("admin:articles_article_change", args=[story.pk])))
    times = time_attributes(html)
    assert times, "the review history is listed"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", value) for value in times), times


# --- srcset ------------------------------------------------------------------------


def test_a_photo_narrower_than_the_widest_rendition_lists_each_width_once(client):
    story = factories.published_story(headline="窄图新闻")
    narrow = Image.objects.create(caption="窄图", file=ContentFile(png(700, 400), name="narrow.png"))
    ArticleImage.objects.create(article=story, image=narrow, position=0)
    html = text(client.get(story.get_absolute_url()))
    srcset = re.search(r'<figure class="photo">\s*<img [^>]*srcset="([^"]+)"', html).group(1)
    widths = [int(width) for width in re.findall(r" (\d+)w(?:,|$)", srcset)]
    assert widths == [480, 700]


# --- feeds -------------------------------------------------------------------------


def test_rss_guid_and_atom_id_are_absolute_addresses_of_the_story(client):
    story = factories.published_story(headline="订阅新闻", slug="feed-story")
    rss = ET.fromstring(client.get("/feeds/rss.xml").content)
    assert [item.findtext("guid") for item in rss.iter("item")] == [f"http://testserver/stories/{story.pk}/"]
    atom = ET.fromstring(client.get("/feeds/atom.xml", secure=True).content)
    entry = next(atom.iter(f"{ATOM}entry"))
    assert entry.findtext(f"{ATOM}id") == f"https://testserver/stories/{story.pk}/"
    link = entry.find(f"{ATOM}link").get("href")
    assert link.startswith("https://testserver/"), "the id stands on the same origin as the link"


# --- error pages -------------------------------------------------------------------


def _broken_view(request):
    raise RuntimeError("a fault on the server")


urlpatterns = [path("broken/", _broken_view), *project_urls.urlpatterns]


def test_the_500_page_has_no_inline_style_and_its_stylesheet_is_allowed(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/broken/")
    html = text(response)
    assert response.status_code == 500 and "服务器暂时出错" in html
    assert "<style" not in html and " style=" not in html
    policy = response["Content-Security-Policy"]
    style_src = re.search(r"style-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in style_src and "'self'" in style_src
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', html).group(1)
    assert href.startswith(settings.STATIC_URL)
    assert finders.find(href.removeprefix(settings.STATIC_URL))


def test_a_missing_page_names_no_canonical_address_and_no_open_graph_url(client, settings):
    settings.DEBUG = False
    html = text(client.get("/no-such-page/"))
    assert "页面不存在" in html
    assert 'rel="canonical"' not in html
    assert 'property="og:url"' not in html
    assert 'property="og:title"' in html, "the rest of the page head stays"


def test_pages_that_exist_keep_their_canonical_and_open_graph_url(client):
    story = factories.published_story(slug="kept")
    for url in ["/", story.get_absolute_url()]:
        html = text(client.get(url))
        assert html.count('rel="canonical"') == 1 and html.count('property="og:url"') == 1


# --- 作者 ------------------------------------------------------------------------------


def test_a_story_without_an_author_line_prints_no_author_label(client):
    story = factories.published_story(author_line="", section=factories.section(name="本地"))
    meta = re.search(r'<p class="story-meta">(.*?)</p>', text(client.get(story.get_absolute_url())), re.S).group(1)
    assert "作者" not in meta
    assert "本地</a>" in meta


def test_a_story_with_an_author_line_prints_it_after_the_label(client):
    story = factories.published_story(author_line="记者 张帆")
    assert '<span class="author">作者:记者 张帆</span>' in text(client.get(story.get_absolute_url()))


# --- upload errors -----------------------------------------------------------------


def refusal(admin_client, name, content, content_type="image/jpeg"):
    response = admin_client.post(
        reverse("admin:articles_image_add"),
        {"file": SimpleUploadedFile(name, content, content_type=content_type), "caption": "图说", "credit": "", "alt_text": ""},
    )
    assert response.status_code == 200 and Image.objects.count() == 0
    [error] = response.context["adminform"].form.errors.as_data()["file"]
    message = str(error.message % (error.params or {}))
    assert message in text(response)
    return error.code, message


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_empty_file_is_refused_as_empty(admin_client, media_root):
    code, message = refusal(admin_client, "photo.jpg", b"")
    assert code == "empty_file"
    assert "空" in message and "SVG" not in message


def test_a_file_that_is_not_a_photo_is_told_the_formats_the_site_takes(admin_client, media_root):
    code, message = refusal(admin_client, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml")
    assert code == "unsupported_format"
    assert "JPEG、PNG、WebP 或 GIF" in message and "SVG" not in message


def test_a_file_with_a_name_no_photo_has_is_told_only_the_formats_the_site_takes(admin_client, media_root):
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48)).save(out, "JPEG")
    code, message = refusal(admin_client, "photo.txt", out.getvalue())
    assert code == "invalid_extension"
    assert "JPEG、PNG、WebP 或 GIF" in message
    for refused in ("bmp", "tiff", "pdf", "psd", "xbm"):
        assert refused not in message
