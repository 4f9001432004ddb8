"""Nothing unpublished reaches a reader: drafts, stories in review, scheduled stories before
their time and withdrawn stories are absent from every public surface, one test per surface."""

import pytest
from django.utils import timezone

from articles.models import Article, ArticleImage, Recommendation, RelatedLink
from tests import factories
from tests.articles.readers import in_status, scheduled

pytestmark = pytest.mark.django_db

SECRET = "机密稿件"


@pytest.fixture
def site():
    """One live story and, around it, four hidden ones that share its section, tag, reporter,
    words and photo slots, and are picked as its related and recommended stories."""
    section, outlet, reporter = factories.section(slug="local"), factories.outlet(), factories.person("张帆")
    live = factories.published_story(headline="历城公开新闻", section=section, outlet=outlet, summary="公开摘要")
    live.tags.add("历城")
    live.bylines.create(person=reporter)
    hidden = [
        in_status(Article.Status.DRAFT, f"{SECRET}草稿", section=section, outlet=outlet),
        in_status(Article.Status.FIRST_REVIEW, f"{SECRET}初审", section=section, outlet=outlet),
        in_status(Article.Status.FINAL_REVIEW, f"{SECRET}终审", section=section, outlet=outlet),
        scheduled(f"{SECRET}定时", section=section, outlet=outlet),
        in_status(Article.Status.WITHDRAWN, f"{SECRET}撤稿", section=section, outlet=outlet),
    ]
    for position, story in enumerate(hidden):
        story.tags.add("历城")
        story.bylines.create(person=reporter)
        photo = factories.image(caption=f"{SECRET}图说{position}")
        ArticleImage.objects.create(article=story, image=photo)
        Recommendation.objects.create(article=live, target=story, position=position)
        RelatedLink.objects.create(article=live, target=story, position=position)
    return {"live": live, "hidden": hidden, "section": section, "reporter": reporter}


def assert_nothing_hidden(response, site):
    body = response.content.decode()
    assert SECRET not in body
    for story in site["hidden"]:
        assert f"/stories/{story.pk}/" not in body
        for placement in story.photos.all():
            for rendition in placement.image.renditions.all():
                assert rendition.file.name not in body
            assert placement.image.file.name not in body


def test_home_page(client, site):
    response = client.get("/")
    assert "历城公开新闻" in response.content.decode()
    assert_nothing_hidden(response, site)


def test_section_page(client, site):
    assert_nothing_hidden(client.get("/sections/local/"), site)


def test_tag_page(client, site):
    response = client.get(f"/tags/{site['live'].tags.get().slug}/")
    assert "历城公开新闻" in response.content.decode()
    assert_nothing_hidden(response, site)


def test_person_page(client, site):
    response = client.get(f"/people/{site['reporter'].pk}/")
    assert "历城公开新闻" in response.content.decode()
    assert_nothing_hidden(response, site)


def test_search_results(client, site):
    response = client.get("/search/", {"q": "草稿"})
    assert_nothing_hidden(response, site)
    assert "没有找到" in response.content.decode()
    found = client.get("/search/", {"q": "历城"}).content.decode()
    assert f"/stories/{site['live'].pk}/" in found


def test_search_by_caption_of_a_hidden_photo(client, site):
    assert_nothing_hidden(client.get("/search/", {"q": "图说"}), site)


def test_feeds(client, site):
    for url in ["/feeds/rss.xml", "/feeds/atom.xml", "/feeds/sections/local/rss.xml", "/feeds/sections/local/atom.xml"]:
        assert_nothing_hidden(client.get(url), site)


def test_tag_feeds(client, site):
    slug = site["live"].tags.get().slug
    for url in [f"/feeds/tags/{slug}/rss.xml", f"/feeds/tags/{slug}/atom.xml"]:
        assert_nothing_hidden(client.get(url), site)


def test_sitemaps(client, site):
    for url in ["/sitemap.xml", "/sitemap-stories-0.xml", "/sitemap-news.xml"]:
        assert_nothing_hidden(client.get(url), site)


def test_related_and_recommended_blocks_of_a_live_story(client, site):
    response = client.get(site["live"].get_absolute_url())
    assert response.status_code == 200
    assert_nothing_hidden(response, site)
    assert "推荐阅读" not in response.content.decode()  # every pick is hidden, none replaced by it


def test_previous_and_next_links_skip_hidden_stories(client, site):
    older = factories.published_story(
        headline="较早新闻", section=site["section"], published_at=site["live"].published_at - timezone.timedelta(hours=1)
    )
    response = client.get(older.get_absolute_url())
    assert "历城公开新闻" in response.content.decode()
    assert_nothing_hidden(response, site)


def test_hidden_story_pages_are_not_found_and_withdrawn_is_gone(client, site):
    *unpublished, withdrawn = site["hidden"]
    for story in unpublished:
        assert client.get(f"/stories/{story.pk}/").status_code == 404
    response = client.get(f"/stories/{withdrawn.pk}/")
    assert response.status_code == 410
    assert "稿件已撤回" in response.content.decode()
    assert SECRET not in response.content.decode()


def test_scheduled_story_appears_at_its_time(client, site, time_machine):
    story = site["hidden"][3]
    assert f"/stories/{story.pk}/" not in client.get("/").content.decode()
    time_machine.move_to(story.published_at + timezone.timedelta(seconds=1))
    assert f"/stories/{story.pk}/" in client.get("/").content.decode()
    assert client.get(f"/stories/{story.pk}/").status_code == 200


def test_recommended_reading_shows_a_scheduled_pick_from_its_time_and_never_one_in_the_trash(client, site, time_machine):
    live, scheduled_pick = site["live"], site["hidden"][3]
    trashed = factories.published_story(headline="已删除的推荐", section=site["section"])
    Recommendation.objects.create(article=live, target=trashed, position=9)
    Article.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())

    time_machine.move_to(scheduled_pick.published_at + timezone.timedelta(seconds=1))
    body = client.get(live.get_absolute_url()).content.decode()

    block = body[body.index('id="recommended-title"'):]
    assert f'href="{scheduled_pick.get_absolute_url()}"' in block
    assert "已删除的推荐" not in body and f"/stories/{trashed.pk}/" not in body
