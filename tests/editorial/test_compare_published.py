"""On a live story, one click compares the story as it is being edited with what readers see."""

import pytest

from articles.models import Article
from editorial.models import Revision
from tests import factories

from .conftest import change_form_data, story_in

pytestmark = pytest.mark.django_db


def compare_url(story):
    return f"/admin/articles/article/{story.pk}/versions/published/"


def test_a_live_story_change_page_has_the_compare_button_and_a_draft_has_none(client, people):
    live = story_in("published", people, headline="已发布的稿件")
    draft = story_in("draft", people, headline="草稿")
    client.force_login(people["editor"])
    html = client.get(f"/admin/articles/article/{live.pk}/change/").content.decode()
    assert f'formaction="{compare_url(live)}"' in html
    assert 'form="article_form"' in html
    assert "与读者所见比较" in html
    client.force_login(people["chief"])
    assert compare_url(draft) not in client.get(f"/admin/articles/article/{draft.pk}/change/").content.decode()


def test_the_form_as_sent_is_compared_with_the_published_version_and_nothing_is_saved(client, people):
    live = story_in("published", people, headline="市政府召开新闻发布会")
    revisions_before = Revision.objects.filter(article=live).count()
    client.force_login(people["editor"])
    data = change_form_data(live, headline="市政府召开第二场新闻发布会", body="<p>正文。</p><p>新增一段。</p>")
    response = client.post(compare_url(live), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<ins>第二场</ins>" in html
    assert "+ 新增一段。" in html
    assert "读者所见" in html
    live.refresh_from_db()
    assert live.headline == "市政府召开新闻发布会"
    assert Revision.objects.filter(article=live).count() == revisions_before


def test_the_latest_version_is_compared_with_what_readers_see(client, people):
    live = story_in("published", people, headline="暴雨预警发布")
    client.force_login(people["editor"])
    stale = live.version
    factories.edit(live, actor=people["chief"], body="<p>总编改过的正文。</p>")
    # An edit started from the older version is refused and kept as the latest version.
    client.post(f"/admin/articles/article/{live.pk}/change/", change_form_data(live, headline="暴雨红色预警发布", base_version=stale))
    latest = Revision.objects.filter(article=live).order_by("-number").first()
    assert latest.applied is False and latest.data["headline"] == "暴雨红色预警发布"
    html = client.get(compare_url(live)).content.decode()
    assert f"v{latest.number}" in html or f"{latest.number}" in html
    assert "<ins>红色</ins>" in html


def test_with_nothing_changed_the_page_says_readers_see_exactly_this(client, people):
    live = story_in("published", people)
    client.force_login(people["editor"])
    response = client.post(compare_url(live), change_form_data(live))
    assert "读者看到的正是这些内容" in response.content.decode()


def test_only_a_live_story_can_be_compared_and_only_by_those_who_may_see_it(client, people):
    scheduled = story_in("scheduled", people)
    withdrawn = story_in("withdrawn", people)
    client.force_login(people["editor"])
    assert client.get(compare_url(scheduled)).status_code == 404
    assert client.get(compare_url(withdrawn)).status_code == 404
    other = story_in("draft", people)
    Article.objects.filter(pk=other.pk).update(created_by=people["other_reporter"])
    client.force_login(people["writer"])
    assert client.get(compare_url(other)).status_code == 404
