"""The seed story's change page stays light: a fixed number of queries however many photos,
bylines and 推荐阅读 picks the story has, and a small page (bench/change_page.py times it)."""

import gzip
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article, Byline, Recommendation
from tests import factories

from .conftest import make_user

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_65fa244611cb5653.txt"
QUERY_BOUND = 30  # a fixed cost (session, roles, presence, history, panels); 43 before the pickers read nothing themselves
GZIP_BOUND = 60 * 1024

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_story(people):
    call_command("import_seed", str(SEED), stdout=open("/dev/null", "w"))
    return Article.objects.get(headline="“历城书记论坛”精彩开讲")


def _open(client, story):
    url = f"/admin/articles/article/{story.pk}/change/"
    client.get(url)  # the first visit notes the editor as editing; measure the next one
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


def test_the_seed_story_change_page_needs_few_queries_and_is_small(client, people, seed_story):
    assert seed_story.photos.count() >= 2 and seed_story.recommendations.count() == 6
    client.force_login(people["editor"])
    response, queries = _open(client, seed_story)
    assert queries <= QUERY_BOUND, queries
    assert len(gzip.compress(response.content, compresslevel=6)) < GZIP_BOUND


def test_more_photos_bylines_and_picks_cost_no_more_queries(client, people, seed_story):
    client.force_login(people["editor"])
    _, before = _open(client, seed_story)
    for n in range(3):
        seed_story.photos.create(image=factories.image(caption=f"另一张图{n}"), position=10 + n)
        Byline.objects.create(article=seed_story, person=factories.person(f"通讯员{n}"), role=Byline.Role.CORRESPONDENT, position=10 + n)
        Recommendation.objects.create(article=seed_story, target=factories.published_story(f"推荐{n}"), position=10 + n)
        seed_story.related_links.create(target=factories.published_story(f"相关{n}"), position=n)
    _, after = _open(client, seed_story)
    assert after == before


def test_story_pickers_print_their_choice_and_offer_no_popup_to_make_a_story(client, people, seed_story):
    client.force_login(people["editor"])
    response, _ = _open(client, seed_story)
    html = response.content.decode()
    pick = seed_story.recommendations.select_related("target").first()
    assert f'<option value="{pick.target_id}" selected>{pick.target.headline}</option>' in html
    assert 'id="add_id_recommendations-0-target"' not in html
    assert 'id="add_id_photos-0-image"' not in html
    # A person is still added from the byline row (通讯员 often have no account yet).
    assert 'id="add_id_bylines-0-person"' in html


def test_a_reporter_sees_the_same_light_page_for_their_own_draft(client, people):
    writer = make_user("weight_writer", "reporter", "周记者")
    story = Article.objects.create(headline="自己的稿件", body="<p>正文。</p>", created_by=writer)
    for n in range(4):
        story.photos.create(image=factories.image(caption=f"图{n}"), position=n)
    client.force_login(writer)
    response, queries = _open(client, story)
    assert queries <= QUERY_BOUND, queries
    assert "图3" in response.content.decode()
