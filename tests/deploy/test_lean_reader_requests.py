"""A reader's request skips work it does not need, and gets the very same response for it.

The site's stack replaces two middleware with leaner versions of the same thing: the
Content-Security-Policy written once for the whole site (newsroom.security), and Django's
messages store made only when a message is added or shown (newsroom.middleware). Each page a
reader asks for is compared, byte for byte and header for header, with what the stock stack
(django-csp's and Django's own classes, in the same places) answers; the admin keeps its nonce
and its messages.
"""

import pytest
from django.contrib import messages
from django.test import override_settings
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

STOCK = {
    "newsroom.security.ContentSecurityPolicyMiddleware": "csp.middleware.CSPMiddleware",
    "newsroom.middleware.LazyMessageMiddleware": "django.contrib.messages.middleware.MessageMiddleware",
}
PER_REQUEST = {"x-request-id"}


def answer(client, path):
    response = client.get(path)
    headers = {name.lower(): value for name, value in response.items() if name.lower() not in PER_REQUEST}
    return response.status_code, headers, response.content, dict(response.cookies)


@pytest.fixture
def pages(settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0  # every request builds its page
    settings.NEWSROOM_READ_MODEL = False
    section = factories.section("本地")
    story = factories.published_story("读者看到的新闻", section=section)
    return [
        story.get_absolute_url(),
        "/",
        f"/sections/{section.slug}/",
        "/search/?q=新闻",
        "/feeds/rss.xml",
        "/robots.txt",
        "/no-such-page/",
    ]


def test_a_reader_gets_the_same_bytes_and_headers_as_from_the_stock_middleware(client, settings, pages):
    assert all(name in settings.MIDDLEWARE for name in STOCK)
    stock = [STOCK.get(name, name) for name in settings.MIDDLEWARE]
    for path in pages:
        lean = answer(client, path)
        with override_settings(MIDDLEWARE=stock):
            expected = answer(client, path)
        assert lean == expected, path
        assert "content-security-policy" in lean[1], path


def test_the_same_policy_follows_a_change_of_settings(client, settings, pages):
    before = client.get(pages[0])["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["https://img.example.cn"]}}
    after = client.get(pages[0])["Content-Security-Policy"]
    assert after != before and "img-src https://img.example.cn" in after


def test_the_story_editor_keeps_its_nonce_and_readers_pages_have_none(admin_client, pages):
    admin_policy = admin_client.get(reverse("admin:articles_article_add"))["Content-Security-Policy"]
    reader_policy = admin_client.get(pages[1])["Content-Security-Policy"]
    assert "'nonce-" in admin_policy
    assert "'nonce-" not in reader_policy
    second = admin_client.get(reverse("admin:articles_article_add"))["Content-Security-Policy"]
    assert second != admin_policy  # a new nonce each time


def test_a_message_added_in_one_request_is_shown_on_the_next(admin_client, admin_user):
    from django.test import RequestFactory

    from newsroom.middleware import LazyMessageMiddleware

    # Through the site's own middleware: a message stored on a response ...
    request = RequestFactory().get("/admin/")
    request.COOKIES = {}
    request.session = admin_client.session
    middleware = LazyMessageMiddleware(lambda request: messages.success(request, "已保存。") or _ok())
    response = middleware(request)
    assert "messages" in response.cookies
    # ... is read back from the cookie by the next request and shown by the admin.
    admin_client.cookies["messages"] = response.cookies["messages"].value
    page = admin_client.get(reverse("admin:index"))
    assert [str(message) for message in page.context["messages"]] == ["已保存。"]
    assert "已保存。" in page.content.decode()


def _ok():
    from django.http import HttpResponse

    return HttpResponse("ok")
