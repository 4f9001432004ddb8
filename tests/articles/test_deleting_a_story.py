"""A story with bylines and photos can be deleted, and nothing of it is left behind."""

import pytest

from articles.models import ArticleImage, Byline, SearchEntry
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_deleting_a_story_with_bylines_and_photos_leaves_no_search_row():
    story = factories.published_story(headline="一篇将被删除的稿件")
    Byline.objects.create(article=story, person=factories.person(), role="reporter", position=0)
    ArticleImage.objects.create(article=story, image=factories.image(), position=0)
    pk = story.pk
    story.delete()
    assert not SearchEntry.objects.filter(article_id=pk).exists()
    assert not Byline.objects.filter(article_id=pk).exists()


def test_removing_a_byline_still_reindexes_the_story():
    story = factories.published_story(headline="署名调整的稿件")
    byline = Byline.objects.create(article=story, person=factories.person("欧阳晓晨"), role="reporter", position=0)
    factories.announced(story)
    assert "欧阳" in SearchEntry.objects.get(article=story).summary_terms
    factories.edit(story, lambda _story: byline.delete(), note="去掉一个署名。")
    assert "欧阳" not in SearchEntry.objects.get(article=story).summary_terms
