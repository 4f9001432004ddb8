"""Readers' pages. Every query starts from Article.objects.published()."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from .models import Article, Person, Section


def home(request):
    stories = Article.objects.published().for_listing().order_by("-published_at", "-pk")
    page = Paginator(stories, 20).get_page(request.GET.get("page"))
    return render(request, "articles/article_list.html", {"page": page, "stories": page.object_list})


def section_detail(request, slug):
    section = get_object_or_404(Section, slug=slug)
    stories = (
        Article.objects.published().filter(section=section).for_listing().order_by("-published_at", "-pk")
    )
    page = Paginator(stories, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "articles/article_list.html",
        {"page": page, "stories": page.object_list, "section": section},
    )


def person_detail(request, pk):
    person = get_object_or_404(Person, pk=pk)
    stories = (
        Article.objects.published()
        .filter(bylines__person=person)
        .distinct()
        .for_listing()
        .order_by("-published_at", "-pk")
    )
    page = Paginator(stories, 20).get_page(request.GET.get("page"))
    return render(
        request, "articles/article_list.html", {"page": page, "stories": page.object_list, "person": person}
    )


def article_detail(request, pk, slug=None):
    article = Article.objects.for_detail().filter(pk=pk).first()
    if article is None:
        raise Http404
    if article.status == Article.Status.WITHDRAWN:
        return render(request, "articles/article_withdrawn.html", {"article": article}, status=410)
    if not article.is_live:
        raise Http404
    if (slug or "") != article.slug:
        return redirect(article, permanent=True)
    related = list(
        article.related_links.select_related("target", "outlet", "target__outlet").order_by("position", "pk")
    )
    live_ids = set(
        Article.objects.published()
        .filter(pk__in=[link.target_id for link in related if link.target_id])
        .values_list("pk", flat=True)
    ) if any(link.target_id for link in related) else set()
    related = [link for link in related if not link.target_id or link.target_id in live_ids]
    return render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "photos": article.photo_list,
            "related_links": related,
            "recommended": article.recommended(),
        },
    )
