"""manage.py generate_demo_stories N makes a browsable demo site."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from articles.models import Article, ArticleImage

pytestmark = pytest.mark.django_db


def test_demo_site_has_n_live_stories_and_a_few_hidden_ones(client):
    call_command("generate_demo_stories", 25, stdout=StringIO())
    assert Article.objects.published().count() == 25
    assert Article.objects.exclude(pk__in=Article.objects.published()).count() == 5
    assert Article.objects.published().filter(is_top=True).count() == 1
    home = client.get("/").content.decode()
    assert 'id="top-title">头条<' in home
    assert "【未公开】" not in home
    assert client.get("/sections/local/").status_code == 200


def test_demo_count_must_be_sensible():
    with pytest.raises(CommandError):
        call_command("generate_demo_stories", 0)


def test_a_demo_with_fewer_photos_than_a_story_may_show_still_gives_every_story_its_photos():
    call_command("generate_demo_stories", 12, "--photos", "1", stdout=StringIO())
    assert Article.objects.published().count() == 12
    shown = ArticleImage.objects.values_list("article_id", "image_id")
    assert shown and len({image for _story, image in shown}) == 1  # the one photo, at most once a story
    assert len({story for story, _image in shown}) == len(shown)
    with pytest.raises(CommandError, match="--photos must be 0 or more"):
        call_command("generate_demo_stories", 3, "--photos", "-1")
