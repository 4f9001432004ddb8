"""Helpers shared by the readers' site tests."""

from datetime import timedelta

from django.utils import timezone

from articles.models import Article, ArticleImage, Byline, Correction, Recommendation, RelatedLink
from tests import factories


def story_with_everything(n, section, outlet, *, headline=None, published_at=None):
    """A live story with n photos, n byline people, n tags, n related and n recommended stories."""
    article = factories.published_story(
        headline=headline, section=section, outlet=outlet, summary="摘要", published_at=published_at
    )
    for i in range(n):
        ArticleImage.objects.create(article=article, image=factories.image(caption=f"图说{i}"), position=i)
        Byline.objects.create(article=article, person=factories.person(f"记者{i}"), position=i)
        article.tags.add(f"标签{i}")
        other = factories.published_story(section=section, outlet=outlet, summary=f"推荐{i}")
        ArticleImage.objects.create(article=other, image=factories.image(caption=f"推荐图{i}"))
        Recommendation.objects.create(article=article, target=other, position=i)
        RelatedLink.objects.create(article=article, target=factories.published_story(section=section), position=i)
        Correction.objects.create(article=article, note=f"更正{i}")
    return article


def scheduled(headline, minutes=60, **fields):
    return Article.objects.create(
        headline=headline,
        body="<p>定时稿件。</p>",
        status=Article.Status.SCHEDULED,
        published_at=timezone.now() + timedelta(minutes=minutes),
        **fields,
    )


def in_status(status, headline, **fields):
    extra = {}
    if status == Article.Status.WITHDRAWN:
        extra["published_at"] = timezone.now() - timedelta(days=1)
    return Article.objects.create(headline=headline, body="<p>不应公开。</p>", status=status, **extra, **fields)
