"""The seed story's public page prints every element of the original, in its order."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.models import Article
from tests import factories

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_65fa244611cb5653.txt"

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_page(client):
    call_command("import_seed", str(SEED), stdout=open("/dev/null", "w"))
    story = Article.objects.get(headline="“历城书记论坛”精彩开讲")
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    return story, response.content.decode()


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_story_page_prints_every_element_in_the_seed_order(seed_page):
    _, html = seed_page
    html = html[html.index("<main"):]  # the head repeats some of it in meta tags
    markers = [
        '<h1 class="headline">“历城书记论坛”精彩开讲</h1>',
        ">2018-05-15 16:08:00</time>",
        "来源: 大众网",
        "历城区委书记吴承丙在启动仪式上致辞",
        "5月15,围绕如何推进基层协商民主主题,历城区组织举办了书记论坛活动</span>",
        "历城区策划并首创的“历城书记论坛”正式开讲</span>",
        '<span class="dateline">大众网济南5月15日讯</span><span class="byline">(记者 张帆 通讯员 张鹏)</span>“群众的事由群众商量着办”',
        "汇集真知灼见的思想盛宴和推动发展进步的活力源泉",
        "初审编辑:尹玉涛",
        "责任编辑:张帆",
        "推荐阅读",
        "动能转换瞰章丘丨宜居新区幸福梦照进现实",
        "房企“母子档”信用将“共享” 济南试行房企资质管理新规",
    ]
    positions = [html.find(marker) for marker in markers]
    assert -1 not in positions, [m for m, p in zip(markers, positions) if p == -1]
    assert positions == sorted(positions)


def test_photos_are_figures_with_captions_and_marked_placeholders(seed_page):
    _, html = seed_page
    figures = re.findall(r'<figure class="photo placeholder">(.*?)</figure>', html, re.S)
    assert len(figures) == 3
    for figure in figures:
        assert re.search(r'<img src="[^"]+" srcset="[^"]+ 480w, [^"]+ 800w, [^"]+ 1200w"', figure)
        assert 'width="1200" height="800"' in figure
        assert "原图缺失,此为占位图" in figure
    assert 'alt="历城区委书记吴承丙在启动仪式上致辞"' in figures[0]


def test_recommended_items_have_thumbnail_headline_summary_link_time_and_outlet(seed_page):
    story, html = seed_page
    section = html[html.index("推荐阅读"):]
    items = re.findall(r'<li class="rec">(.*?)</li>', section, re.S)
    assert len(items) == 6
    first = items[0]
    target = story.recommendations.order_by("position").first().target
    assert f'href="{target.get_absolute_url()}"' in first
    assert "<img" in first and 'width="240" height="160"' in first
    assert "今年将实现建绿透绿及全域绿化550万平方米" in first
    assert "[详细]</a>" in first
    assert ">05-15 14-55</time>" in first
    assert "大众网" in text_of(first)
    assert ">05-15 09-06</time>" in items[1] and "齐鲁网" in items[1]
    assert ">05-15 21-54</time>" in items[2] and "济南日报" in items[2]
    assert "<img" not in items[4]  # the seed names no picture for this one
    assert ">05-15 09-44</time>" in items[4] and "济南时报" in items[4]


def test_related_news_is_absent_when_empty(seed_page):
    _, html = seed_page
    assert "相关新闻" not in html


def test_story_page_is_one_html5_document_in_chinese(seed_page):
    _, html = seed_page
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-Hans">' in html
    assert html.count("<h1") == 1
    assert "<main" in html and "<article" in html


def test_recommended_story_page_shows_its_summary_and_outlet(seed_page, client):
    story, _ = seed_page
    target = story.recommendations.order_by("position").first().target
    html = client.get(target.get_absolute_url()).content.decode()
    assert target.headline in html
    assert "今年将实现建绿透绿" in html
    assert "来源: 大众网" in html


def test_home_lists_published_stories_newest_first_with_links(seed_page, client):
    story, _ = seed_page
    html = client.get("/").content.decode()
    headlines = ["济西湿地开业倒计时", "“历城书记论坛”精彩开讲", "动能转换瞰章丘丨宜居新区幸福梦照进现实"]
    positions = [html.find(h) for h in headlines]
    assert -1 not in positions and positions == sorted(positions)
    assert f'href="{story.get_absolute_url()}"' in html


def test_story_url_is_stable_across_headline_edits(seed_page, client, django_capture_on_commit_callbacks):
    story, _ = seed_page
    url = story.get_absolute_url()
    assert url == f"/stories/{story.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        factories.edit(story, headline="新标题")
    assert "新标题" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        factories.edit(story, slug="lichen-forum")
    response = client.get(url)
    assert response.status_code == 301
    assert response["Location"] == f"/stories/{story.pk}/lichen-forum/"
    assert client.get(f"/stories/{story.pk}/old-slug/").status_code == 301


def test_unpublished_story_page_is_not_found(client):
    draft = Article.objects.create(headline="草稿", body="<p>x</p>")
    assert client.get(draft.get_absolute_url()).status_code == 404
