"""Sitemaps: an index, the sections, stories in fixed blocks of ids, and a Google News
sitemap of the last 48 hours. Stories are split by id ranges (not pages counted with
COUNT and OFFSET), so every sitemap file is one bounded index range read at any size.

What the index, the sections sitemap and the story blocks list is what the registry of
public pages (delivery.registry, readers/pages.py) says exists, in the sitemap each kind
of page is declared in.

The news sitemap prints headlines; they pass articles.text.clean_text, so a control
character stored before the text rule existed cannot make the file ill-formed XML."""

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape

from articles.models import Article
from articles.text import clean_text
from delivery import registry
from delivery.cache import cached_page

BLOCK = 20000  # stories per sitemap file; the protocol allows 50,000
NEWS_HOURS = 48
NEWS_MAX = 1000


def _xml(request, template, context):
    response = render(request, template, context, content_type="application/xml; charset=utf-8")
    response.dependency_keys = {registry.SITEMAPS}
    return response


def _origin(request):
    return f"{request.scheme}://{request.get_host()}"


@cached_page
def index(request):
    # One address per block of ids: 50 at 1M stories, each from a path template filled in,
    # so the index costs about the same at any size.
    origin = _origin(request)
    entries = [
        {"location": origin + path, "lastmod": instance.lastmod}
        for _, path, instance in registry.sitemap_entries("index")
    ]
    return _xml(request, "sitemaps/index.xml", {"entries": entries})


@cached_page
def sections(request):
    entries = [
        {"path": path, "changefreq": page.changefreq} for page, path, _ in registry.sitemap_entries("sections")
    ]
    return _xml(request, "sitemaps/sections.xml", {"entries": entries})


@cached_page
def stories(request, block):
    if block > 10**9:
        raise Http404
    # Written directly rather than through a template: a block holds up to BLOCK entries.
    origin = _origin(request)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for _, path, instance in registry.sitemap_entries("stories", ids=(block * BLOCK, (block + 1) * BLOCK)):
        lastmod = instance.lastmod.isoformat(timespec="seconds")
        lines.append(f"<url><loc>{escape(origin + path)}</loc><lastmod>{lastmod}</lastmod></url>")
    lines.append("</urlset>\n")
    response = HttpResponse("\n".join(lines), content_type="application/xml; charset=utf-8")
    response.dependency_keys = {registry.SITEMAPS}
    return response


@cached_page
def news(request):
    since = timezone.now() - timedelta(hours=NEWS_HOURS)
    rows = list(
        Article.objects.published()
        .filter(published_at__gte=since)
        .only("pk", "slug", "headline", "published_at", "updated_at")
        .order_by("-published_at", "-pk")[:NEWS_MAX]
    )
    for story in rows:
        story.news_title = clean_text(story.headline)
    context = {"stories": rows, "site_name": clean_text(settings.NEWSROOM_SITE_NAME)}
    return _xml(request, "sitemaps/news.xml", context)
