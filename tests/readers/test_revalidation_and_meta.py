"""Readers' pages: browsers revalidate instead of keeping a page a minute, shared caches keep
their own lifetime, a favicon ships with the project, and every page describes itself."""

import re

import pytest
from django.contrib.staticfiles import finders

from editorial import workflow
from tests import factories

pytestmark = pytest.mark.django_db


def directives(response):
    return {part.strip() for part in response["Cache-Control"].split(",")}


def descriptions(response):
    return re.findall(r'<meta name="description" content="([^"]*)">', response.content.decode())


def test_browsers_revalidate_a_story_and_an_unchanged_one_answers_304(client):
    story = factories.published_story(headline="泉城夜景")
    first = client.get(story.get_absolute_url())
    assert {"public", "max-age=0"} <= directives(first)
    assert "s-maxage=60" in directives(first)  # shared caches (nginx's page cache) keep their own lifetime
    assert first["ETag"] and first["Last-Modified"]
    by_etag = client.get(story.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert by_etag.status_code == 304 and by_etag.content == b""
    by_date = client.get(story.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_date.status_code == 304


def test_every_kind_of_listing_revalidates_too(client):
    section = factories.section(slug="local")
    factories.published_story(section=section)
    for path in ("/", "/sections/local/", "/search/?q=新闻"):
        assert "max-age=0" in directives(client.get(path)), path


def test_a_browser_asking_again_after_a_withdrawal_gets_the_withdrawal_not_a_304(client, django_capture_on_commit_callbacks):
    people = factories.desk()
    story = factories.publish(factories.draft(headline="将被撤回的稿件"), people)
    seen = client.get(story.get_absolute_url())
    assert seen.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(story, actor=people["editor"], reason="事实有误")
    again = client.get(story.get_absolute_url(), HTTP_IF_NONE_MATCH=seen["ETag"])
    assert again.status_code == 410
    assert "将被撤回的稿件" not in again.content.decode()


def test_the_favicon_ships_with_the_project_and_every_page_links_it(client):
    assert finders.find("favicon.ico")
    response = client.get("/favicon.ico")
    assert response.status_code in (200, 301, 302)
    if response.status_code != 200:
        assert response["Location"].split("?")[0].rsplit("/", 1)[-1].startswith("favicon")
    home = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" href="[^"]*favicon[^"]*\.ico"', home)


def test_a_story_is_described_by_its_summary_or_else_its_first_words(client):
    summed = factories.published_story(headline="有摘要", summary="济南今年新增口袋公园三十处。")
    plain = factories.published_story(headline="无摘要", body="<p>大明湖畔 今晨\n\n迎来第一场雪。</p><p>第二段。</p>")
    assert descriptions(client.get(summed.get_absolute_url())) == ["济南今年新增口袋公园三十处。"]
    assert descriptions(client.get(plain.get_absolute_url())) == ["大明湖畔 今晨 迎来第一场雪。第二段。"]


def test_home_section_tag_person_and_search_pages_each_have_one_description(client):
    section = factories.section(name="民生", slug="minsheng")
    section.description = "济南民生新闻：就业、教育、医疗。"
    section.save()
    reporter = factories.person("王芳")
    story = factories.published_story(section=section)
    story.bylines.create(person=reporter)
    story.tags.add("泉水")
    factories.announced(story)
    pages = {
        "/": "新闻网",
        "/sections/minsheng/": "济南民生新闻：就业、教育、医疗。",
        f"/tags/{story.tags.get().slug}/": "泉水",
        f"/people/{reporter.pk}/": "王芳",
        "/search/?q=泉水": "泉水",
        "/search/": "搜索",
    }
    for path, words in pages.items():
        found = descriptions(client.get(path))
        assert len(found) == 1 and found[0].strip(), (path, found)
        assert words in found[0], (path, found)
