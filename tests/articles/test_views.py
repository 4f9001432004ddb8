"""The readers' pages: home, lists with keyset pages, the story page and its notices."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article, ArticleImage, Correction
from tests import factories

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


def story_ids(html):
    return [int(pk) for pk in re.findall(r'class="card-title"><a href="/stories/(\d+)/', html)]


@pytest.fixture
def seeded(db):
    call_command("import_seed", "seeds/000_65fa244611cb5653.txt", stdout=StringIO())
    return Article.objects.get(headline__contains="历城书记论坛")


def test_home_leads_with_the_pinned_top_story_then_sections(client):
    local, sports = factories.section(name="本地", slug="local"), factories.section(name="体育", slug="sports")
    top = factories.published_story(headline="今日头条", section=local, is_top=True,
                                    published_at=timezone.now() - timedelta(days=2))
    newer = factories.published_story(headline="体育快讯", section=sports)
    html = text(client.get("/"))
    assert html.index("今日头条") < html.index("体育快讯")
    assert 'id="top-title">头条<' in html
    assert f'href="{sports.get_absolute_url()}"' in html
    assert html.count(f'href="{top.get_absolute_url()}"') >= 1
    assert newer.headline in html


def test_section_pages_walk_back_by_stable_keyset_links(client, settings):
    settings.NEWSROOM_PAGE_SIZE = 2
    section = factories.section(slug="local")
    stories = [factories.published_story(section=section) for _ in range(5)]
    newest_first = sorted(stories, key=lambda a: (a.published_at, a.pk), reverse=True)
    first = text(client.get("/sections/local/"))
    assert story_ids(first) == [a.pk for a in newest_first[:2]]
    older = re.search(r'rel="next" href="(\?before=[^"]+)"', first).group(1)
    second = text(client.get("/sections/local/" + older.replace("&amp;", "&")))
    assert story_ids(second) == [a.pk for a in newest_first[2:4]]
    assert "OFFSET" not in older and "page=" not in older
    newer = re.search(r'rel="prev" href="(\?after=[^"]+)"', second).group(1)
    assert story_ids(text(client.get("/sections/local/" + newer))) == [a.pk for a in newest_first[:2]]
    # The same link shows the same stories after a new story is published.
    factories.published_story(section=section, published_at=timezone.now())
    assert story_ids(text(client.get("/sections/local/" + older))) == [a.pk for a in newest_first[2:4]]


def test_a_malformed_page_link_is_not_found(client):
    factories.section(slug="local")
    assert client.get("/sections/local/?before=yesterday").status_code == 404


def test_tag_and_person_pages_list_their_stories(client):
    reporter = factories.person("王芳")
    mine = factories.published_story(headline="王芳的稿件")
    mine.bylines.create(person=reporter)
    mine.tags.add("泉水")
    factories.published_story(headline="别人的稿件")
    assert "王芳的稿件" in text(client.get(f"/people/{reporter.pk}/"))
    assert "别人的稿件" not in text(client.get(f"/people/{reporter.pk}/"))
    tag_page = text(client.get(f"/tags/{mine.tags.get().slug}/"))
    assert "王芳的稿件" in tag_page and "别人的稿件" not in tag_page


def test_seed_story_page_keeps_every_element_in_the_seed_order(client, seeded):
    html = text(client.get(seeded.get_absolute_url()))
    order = ["历城书记论坛", "2018-05-15 16:08:00", "来源: 大众网", "历城区委书记吴承丙在启动仪式上致辞",
             "大众网济南5月15日讯", "记者 张帆 通讯员 张鹏", "初审编辑:尹玉涛", "责任编辑:张帆", "推荐阅读", "[详细]"]
    main = html.split("<main", 1)[1]
    positions = [main.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert main.count("<h1") == 1


def test_corrections_print_after_the_body(client, seeded):
    Correction.objects.create(article=seeded, note="原稿中时间有误,已改正。")
    html = text(client.get(seeded.get_absolute_url()))
    assert html.index("协商民主") < html.index("更正") < html.index("初审编辑")
    assert "原稿中时间有误,已改正。" in html


def test_withdrawn_story_says_so_with_410(client):
    story = factories.published_story(headline="将被撤回")
    Article.objects.filter(pk=story.pk).update(status=Article.Status.WITHDRAWN)
    response = client.get(story.get_absolute_url())
    assert response.status_code == 410
    assert "稿件已撤回" in text(response)
    assert "将被撤回" not in text(response)


def test_previous_and_next_in_the_section(client):
    section = factories.section()
    older, middle, newer = (factories.published_story(section=section, published_at=timezone.now() - timedelta(hours=h))
                            for h in (3, 2, 1))
    factories.published_story(published_at=timezone.now() - timedelta(minutes=150))  # another section
    html = text(client.get(middle.get_absolute_url()))
    assert re.search(rf'上一篇\(较早\):<a href="/stories/{older.pk}/">', html)
    assert re.search(rf'下一篇\(较新\):<a href="/stories/{newer.pk}/">', html)


def test_old_slug_redirects_permanently_to_the_current_address(client):
    story = factories.published_story(slug="old-words")
    story.slug = "new-words"
    story.save()
    response = client.get(f"/stories/{story.pk}/old-words/")
    assert response.status_code == 301
    assert response["Location"] == f"/stories/{story.pk}/new-words/"
    assert client.get(f"/stories/{story.pk}/").status_code == 301
    assert client.get(f"/stories/{story.pk}/new-words/").status_code == 200


def test_missing_page_is_a_chinese_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in text(response)
    assert 'lang="zh-Hans"' in text(response)


def test_server_error_page_is_chinese(client):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "服务器暂时出错" in html and 'lang="zh-Hans"' in html


def test_story_photos_have_srcset_sizes_dimensions_alt_and_lazy_loading(client):
    story = factories.published_story(headline="多图新闻")
    for position in range(3):
        ArticleImage.objects.create(article=story, image=factories.image(caption=f"第{position}张", alt_text=f"替代文字{position}"),
                                    position=position)
    html = text(client.get(story.get_absolute_url()))
    images = re.findall(r"<img [^>]+>", html.split('<div class="story-body">')[0].split("<main", 1)[1])
    assert len(images) == 3
    for image in images:
        for attribute in ("srcset=", "sizes=", "width=", "height=", "alt=\"替代文字"):
            assert attribute in image
    assert 'loading="eager"' in images[0]
    assert all('loading="lazy"' in image for image in images[1:])


def test_list_cards_use_small_thumbnails_lazy_below_the_first_screen(client):
    section = factories.section(slug="local")
    for n in range(5):
        story = factories.published_story(section=section)
        ArticleImage.objects.create(article=story, image=factories.image(caption=f"卡片图{n}"))
    html = text(client.get("/sections/local/"))
    images = re.findall(r'<a class="card-thumb"[^>]*><img [^>]+>', html)
    assert len(images) == 5
    assert all('width="240" height="160"' in image and 'alt="卡片图' in image for image in images)
    assert ['loading="eager"' in image for image in images] == [True, True, True, False, False]
    assert all('loading="lazy"' in image for image in images[3:])


def test_without_picks_recommended_reading_prefers_stories_sharing_a_tag(client):
    section, elsewhere = factories.section(), factories.section()
    story = factories.published_story(section=section)
    story.tags.add("泉水")
    factories.published_story(headline="同栏目新闻", section=section)
    sharing = factories.published_story(headline="同标签新闻", section=elsewhere,
                                        published_at=timezone.now() - timedelta(days=30))
    sharing.tags.add("泉水")
    factories.published_story(headline="无关新闻", section=elsewhere)
    factories.announced(story, "edit")  # its empty slots are filled when it changes, not per request
    html = text(client.get(story.get_absolute_url()))
    block = html.split('id="recommended-title"', 1)[1]
    assert block.index("同标签新闻") < block.index("同栏目新闻")
    assert "无关新闻" not in block


def _nav(html):
    return html.split('<nav class="section-nav" aria-label="栏目">', 1)[1].split("</nav>", 1)[0]


def test_the_section_navigation_marks_the_page_a_reader_is_on_and_escapes_names(client):
    local = factories.section(name="本地", slug="local")
    odd = factories.section(name="<文&体>", slug="culture")
    factories.published_story(headline="本地新闻", section=local)
    home = _nav(text(client.get("/")))
    assert '<li><a href="/" aria-current="page">首页</a></li>' in home
    assert '<li><a href="/sections/culture/">&lt;文&amp;体&gt;</a></li>' in home
    assert home.count("aria-current") == 1
    on_local = _nav(text(client.get(local.get_absolute_url())))
    assert '<li><a href="/">首页</a></li>' in on_local
    assert f'<li><a href="{local.get_absolute_url()}" aria-current="page">本地</a></li>' in on_local
    assert on_local.count("aria-current") == 1
    assert odd.name not in on_local  # printed escaped, never as markup


def test_the_search_form_keeps_the_section_a_reader_chose(client):
    factories.section(name="本地", slug="local")
    factories.section(name="<文&体>", slug="culture")
    html = text(client.get("/search/", {"q": "新闻", "section": "culture"}))
    form = html.split('<select id="search-section" name="section">', 1)[1].split("</select>", 1)[0]
    assert '<option value="">全部栏目</option>' in form
    assert '<option value="local">本地</option>' in form
    assert '<option value="culture" selected>&lt;文&amp;体&gt;</option>' in form
    assert form.count("selected") == 1
    assert "selected" not in text(client.get("/search/", {"q": "新闻"})).split('<select id="search-section"', 1)[1].split("</select>", 1)[0]


def test_the_navigation_lists_sections_by_their_position_then_name(client):
    for name, slug, position in (("体育", "sports", 2), ("本地", "local", 1), ("财经", "money", 1), ("文化", "culture", 0)):
        section = factories.section(name=name, slug=slug)
        section.position = position
        section.save()
    nav = _nav(text(client.get("/")))
    printed = re.findall(r'href="/sections/([a-z]+)/"', nav)
    # Position first; 本地 before 财经 at the same position, as the database orders the names.
    from articles.models import Section

    assert printed == [section.slug for section in Section.objects.all()]
    assert printed[0] == "culture" and printed[-1] == "sports"
