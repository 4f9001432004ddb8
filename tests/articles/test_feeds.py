"""Discovery: feeds, sitemaps, robots.txt, canonical and social meta, NewsArticle JSON-LD."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import ArticleImage, Byline
from tests import factories

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture
def stories():
    section = factories.section(name="本地", slug="local")
    first = factories.published_story(headline="第一条", section=section, summary="摘要一")
    first.tags.add("泉城")
    second = factories.published_story(headline="第二条", summary="摘要二", slug="second-story")
    return first, second


def test_site_rss_is_rss_2_with_the_newest_stories(client, stories):
    response = client.get("/feeds/rss.xml")
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    titles = [item.findtext("title") for item in root.iter("item")]
    assert titles == ["第一条", "第二条"]


def test_site_atom_feed(client, stories):
    root = ET.fromstring(client.get("/feeds/atom.xml").content)
    assert root.tag == f"{ATOM}feed"
    assert [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")] == ["第一条", "第二条"]


def test_section_and_tag_feeds_hold_only_their_stories(client, stories):
    for url in ["/feeds/sections/local/rss.xml", f"/feeds/tags/{stories[0].tags.get().slug}/rss.xml"]:
        root = ET.fromstring(client.get(url).content)
        assert [item.findtext("title") for item in root.iter("item")] == ["第一条"]
    for url in ["/feeds/sections/local/atom.xml", f"/feeds/tags/{stories[0].tags.get().slug}/atom.xml"]:
        root = ET.fromstring(client.get(url).content)
        assert [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")] == ["第一条"]
    assert client.get("/feeds/sections/nowhere/rss.xml").status_code == 404


def test_sitemap_index_leads_to_story_urls_with_lastmod(client, stories):
    index = ET.fromstring(client.get("/sitemap.xml").content)
    locations = [e.text for e in index.iter(f"{SITEMAP}loc")]
    assert "http://testserver/sitemap-news.xml" in locations
    story_map = next(loc for loc in locations if "sitemap-stories-" in loc)
    urlset = ET.fromstring(client.get(story_map.replace("http://testserver", "")).content)
    urls = {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in urlset.iter(f"{SITEMAP}url")}
    assert urls[f"http://testserver/stories/{stories[0].pk}/"]
    assert urls[f"http://testserver/stories/{stories[1].pk}/second-story/"].startswith(str(stories[1].updated_at.year))
    assert len(urls) == 2
    sections = ET.fromstring(client.get("/sitemap-sections.xml").content)
    assert "http://testserver/sections/local/" in [e.text for e in sections.iter(f"{SITEMAP}loc")]


def test_news_sitemap_holds_the_last_48_hours(client, stories):
    factories.published_story(headline="旧闻", published_at=timezone.now() - timedelta(hours=49))
    root = ET.fromstring(client.get("/sitemap-news.xml").content)
    titles = [e.text for e in root.iter(f"{NEWS}title")]
    assert sorted(titles) == ["第一条", "第二条"]
    assert root.find(f".//{NEWS}publication/{NEWS}language").text == "zh-cn"


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()


def test_pages_link_their_feeds_sitemap_and_canonical_address(client, stories):
    html = client.get("/sections/local/").content.decode()
    assert 'rel="alternate" type="application/rss+xml"' in html
    assert 'href="/feeds/sections/local/rss.xml"' in html and 'href="/feeds/sections/local/atom.xml"' in html
    assert 'rel="sitemap"' in html
    story_html = client.get(f"/stories/{stories[0].pk}/").content.decode()
    assert f'<link rel="canonical" href="http://testserver{stories[0].get_absolute_url()}">' in story_html


def json_ld(html):
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    return json.loads(block)


def test_story_page_has_news_article_json_ld_and_social_cards(client):
    section = factories.section(name="本地")
    story = factories.published_story(headline="泉城新闻", section=section, summary="一句话摘要")
    Byline.objects.create(article=story, person=factories.person("张帆"))
    ArticleImage.objects.create(article=story, image=factories.image(caption="图"))
    html = client.get(story.get_absolute_url()).content.decode()
    data = json_ld(html)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "泉城新闻"
    assert data["datePublished"] and data["dateModified"]
    assert data["author"] == [{"@type": "Person", "name": "张帆"}]
    assert data["publisher"]["@type"] == "Organization"
    assert data["articleSection"] == "本地"
    assert data["image"][0].startswith("http://testserver/")
    for meta in ['property="og:title" content="泉城新闻"', 'property="og:type" content="article"',
                 'property="og:image"', 'name="twitter:card" content="summary_large_image"']:
        assert meta in html


def test_a_script_end_tag_in_a_headline_cannot_close_the_json_ld(client):
    story = factories.published_story(headline='坏标题</script><script>alert(1)</script>')
    html = client.get(story.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert json_ld(html)["headline"] == '坏标题</script><script>alert(1)</script>'


def test_sitemap_index_names_every_block_of_ids_and_each_block_holds_its_stories(client, stories, monkeypatch):
    from readers import sitemaps

    monkeypatch.setattr(sitemaps, "BLOCK", 1)  # one story per block: a block per id up to the newest
    index = ET.fromstring(client.get("/sitemap.xml").content)
    blocks = [e.text for e in index.iter(f"{SITEMAP}loc") if "sitemap-stories-" in e.text]
    newest = max(story.pk for story in stories)
    assert blocks == [f"http://testserver/sitemap-stories-{n}.xml" for n in range(newest + 1)]
    for story in stories:
        urlset = ET.fromstring(client.get(f"/sitemap-stories-{story.pk}.xml").content)
        assert [u.findtext(f"{SITEMAP}loc") for u in urlset.iter(f"{SITEMAP}url")] == [
            "http://testserver" + story.get_absolute_url()
        ]
