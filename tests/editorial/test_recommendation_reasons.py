"""推荐阅读 that say why: the editors' picks, the slots the system fills when the story is
published or changed (同标签, 同栏目, 内容相近), the desk's switch, withdrawals, the change
page's suggestions and the preview's reasons."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, Recommendation, Section
from editorial import workflow
from tests import factories

from .conftest import change_form_data

pytestmark = pytest.mark.django_db

FILLED, PICKED = Recommendation.Source.FILLED, Recommendation.Source.PICKED


def ago(hours):
    return timezone.now() - timedelta(hours=hours)


def story_with(headline, *, section, hours, tags=()):
    story = factories.published_story(headline=headline, section=section, published_at=ago(hours))
    if tags:
        story.tags.add(*tags)
        factories.announced(story, "edit")
    return story


@pytest.fixture
def newsroom():
    """A story about 历城 in 本地, and around it: one sharing its tag (elsewhere), two of its
    section, one with similar words (elsewhere) and one with nothing in common."""
    local = factories.section(name="本地", slug="local")
    sport = factories.section(name="体育", slug="sport")
    others = {
        "tagged": story_with("历城区新建三座口袋公园", section=sport, hours=30, tags=["历城"]),
        "section_new": story_with("泉城广场夜景开放", section=local, hours=2),
        "section_old": story_with("济南地铁新线试运行", section=local, hours=20),
        "similar": story_with("历城书记论坛第二期举行", section=sport, hours=5),
        "unrelated": story_with("全运会游泳比赛结果", section=sport, hours=1),
    }
    desk = factories.desk()
    story = factories.draft(headline="“历城书记论坛”精彩开讲", section=local, created_by=desk["writer"])
    story.tags.add("历城")
    return {"story": story, "desk": desk, "local": local, "sport": sport, **others}


def rows(story):
    return list(
        Recommendation.objects.filter(article=story).order_by("position", "pk").values_list("target__headline", "source", "reason")
    )


def block(client, story):
    html = client.get(story.get_absolute_url()).content.decode()
    if 'id="recommended-title"' not in html:
        return ""
    return html.split('id="recommended-title"', 1)[1].split("</section>", 1)[0]


def test_signing_off_fills_the_empty_slots_with_the_reason_for_each(newsroom):
    """Tags first, then the section, then similar text; newest first within each."""
    story = factories.publish(newsroom["story"], newsroom["desk"])
    assert rows(story) == [
        ("历城区新建三座口袋公园", FILLED, "同标签「历城」"),
        ("泉城广场夜景开放", FILLED, "同栏目"),
        ("济南地铁新线试运行", FILLED, "同栏目"),
        ("历城书记论坛第二期举行", FILLED, "内容相近"),
    ]


def test_editors_picks_come_first_and_only_the_slots_they_leave_are_filled(client, newsroom):
    story = newsroom["story"]
    for position, n in enumerate(range(4)):
        pick = factories.published_story(headline=f"编辑选的第{n}篇", published_at=ago(50 + n))
        Recommendation.objects.create(article=story, target=pick, position=position, reason="编辑认为值得一读")
    story = factories.publish(story, newsroom["desk"])
    assert [source for _, source, _ in rows(story)] == [PICKED] * 4 + [FILLED] * 2
    shown = block(client, story)
    assert shown.count('class="rec"') == 6
    assert shown.index("编辑选的第3篇") < shown.index("历城区新建三座口袋公园") < shown.index("泉城广场夜景开放")
    assert "济南地铁新线试运行" not in shown


def test_a_readers_request_reads_the_stored_block_and_works_out_no_suggestion(client, newsroom):
    story = factories.publish(newsroom["story"], newsroom["desk"])
    later = story_with("历城新开一家图书馆", section=newsroom["local"], hours=0, tags=["历城"])
    with CaptureQueriesContext(connection) as queries:
        shown = block(client, story)
    assert "历城区新建三座口袋公园" in shown and "泉城广场夜景开放" in shown
    assert "历城新开一家图书馆" not in shown  # not worked out again for a reader
    assert not any("articles_searchentry" in q["sql"] for q in queries.captured_queries)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the page cache follows the commit
        factories.edit(story, summary="补充了摘要。")  # a change fills the slots again, newest first
    assert "历城新开一家图书馆" in block(client, Article.objects.get(pk=story.pk))
    assert later.pk


def test_the_preview_says_why_each_item_is_there_and_readers_see_no_reason(client, newsroom):
    story = newsroom["story"]
    client.force_login(newsroom["desk"]["editor"])
    preview = client.get(f"/admin/articles/article/{story.pk}/preview/").content.decode()
    assert "同标签「历城」" in preview and "内容相近" in preview and "自动补足" in preview
    assert not Recommendation.objects.filter(article=story).exists()  # the preview stores nothing
    story = factories.publish(story, newsroom["desk"])
    client.logout()
    public = client.get(story.get_absolute_url()).content.decode()
    assert "历城区新建三座口袋公园" in public
    assert "rec-reason" not in public and "同标签" not in public and "自动补足" not in public


def test_a_section_whose_desk_does_not_allow_it_shows_the_picks_only(client, newsroom):
    Section.objects.filter(pk=newsroom["local"].pk).update(fill_recommendations=False)
    story = factories.publish(newsroom["story"], newsroom["desk"])
    assert rows(story) == []
    assert block(client, story) == ""


def test_switching_filling_off_in_the_section_admin_clears_the_filled_rows_at_once(client, newsroom):
    story = factories.publish(newsroom["story"], newsroom["desk"])
    Recommendation.objects.create(article=story, target=newsroom["unrelated"], position=0)
    assert Recommendation.objects.filter(article=story, source=FILLED).count() == 4
    client.force_login(newsroom["desk"]["chief"])
    local = newsroom["local"]
    response = client.post(
        f"/admin/articles/section/{local.pk}/change/",
        {"name": local.name, "slug": local.slug, "description": "", "position": 0, "_save": "Save"},
    )
    assert response.status_code == 302
    assert not Section.objects.get(pk=local.pk).fill_recommendations
    assert rows(story) == [("全运会游泳比赛结果", PICKED, "")]


def test_a_withdrawn_item_drops_out_of_every_block_at_once_and_its_slot_is_filled_again(client, newsroom):
    story = factories.publish(newsroom["story"], newsroom["desk"])
    for n in range(4):
        story_with(f"本地旧闻{n}", section=newsroom["local"], hours=40 + n)
    picked = factories.published_story(headline="编辑选的稿件", published_at=ago(60))
    Recommendation.objects.create(article=story, target=picked, position=0)
    factories.edit(story, summary="加了一条编辑推荐。")
    shown = block(client, story)  # cached now
    assert "编辑选的稿件" in shown and "泉城广场夜景开放" in shown and "本地旧闻2" not in shown
    editor = newsroom["desk"]["editor"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        workflow.withdraw(newsroom["section_new"], actor=editor, reason="核实有误")
        workflow.withdraw(picked, actor=editor, reason="版权问题")
    shown = block(client, story)
    assert "泉城广场夜景开放" not in shown and "编辑选的稿件" not in shown
    assert "全运会游泳比赛结果" not in shown  # nothing in common: never a filler
    assert shown.count('class="rec"') == 6 and "本地旧闻2" in shown and "本地旧闻3" in shown
    assert ("本地旧闻3", FILLED, "同栏目") in [(h, s, r) for h, s, r in rows(story)]
    # The rows pointing to the withdrawn stories stay (hidden), so their pages are found.
    assert Recommendation.objects.filter(article=story, target=newsroom["section_new"]).exists()


def test_the_change_page_lists_the_filled_rows_and_suggestions_with_their_reasons(client, newsroom):
    story = factories.publish(newsroom["story"], newsroom["desk"])
    client.force_login(newsroom["desk"]["editor"])
    html = client.get(f"/admin/articles/article/{story.pk}/change/").content.decode()
    panel = html.split('id="recommendation-panel"', 1)[1].split("</section>", 1)[0]
    assert "自动补足的条目" in panel and "系统建议" in panel
    assert "同标签「历城」" in panel and "同栏目" in panel and "内容相近" in panel
    assert f'data-target="{newsroom["tagged"].pk}"' in panel and "加为推荐" in panel
    assert "全运会游泳比赛结果" not in panel


def test_the_change_page_reads_suggestions_in_the_same_few_queries_however_many_there_are(client, newsroom):
    story = factories.publish(newsroom["story"], newsroom["desk"])
    client.force_login(newsroom["desk"]["editor"])
    url = f"/admin/articles/article/{story.pk}/change/"
    client.get(url)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for n in range(12):
        story_with(f"历城新闻{n}", section=newsroom["local"], hours=3 + n, tags=["历城"])
    assert count() == before


def test_picking_a_suggestion_in_the_change_form_keeps_it_as_a_pick_with_its_reason(client, newsroom):
    story = factories.publish(newsroom["story"], newsroom["desk"])
    tagged = newsroom["tagged"]
    assert Recommendation.objects.get(article=story, target=tagged).source == FILLED
    client.force_login(newsroom["desk"]["editor"])
    data = change_form_data(story, tags="历城", internal_note="加推荐阅读", **{
        "recommendations-TOTAL_FORMS": "1",
        "recommendations-0-target": tagged.pk,
        "recommendations-0-reason": "同标签「历城」",
        "recommendations-0-position": "0",
    })
    response = client.post(f"/admin/articles/article/{story.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert rows(story)[0] == ("历城区新建三座口袋公园", PICKED, "同标签「历城」")
    assert [source for _, source, _ in rows(story)] == [PICKED] + [FILLED] * 3


@pytest.mark.parametrize("targets, message", [("self", "不能推荐自己"), ("twice", "被选了两次")])
def test_a_pick_of_the_story_itself_or_twice_is_refused_and_nothing_changes(client, newsroom, targets, message):
    story = factories.publish(newsroom["story"], newsroom["desk"])
    before, version = rows(story), Article.objects.get(pk=story.pk).version
    other = newsroom["unrelated"]
    picks = [story.pk] if targets == "self" else [other.pk, other.pk]
    data = change_form_data(story, tags="历城", internal_note="改推荐阅读", **{"recommendations-TOTAL_FORMS": str(len(picks))})
    for n, pk in enumerate(picks):
        data.update({f"recommendations-{n}-target": pk, f"recommendations-{n}-reason": "", f"recommendations-{n}-position": n})
    client.force_login(newsroom["desk"]["editor"])
    response = client.post(f"/admin/articles/article/{story.pk}/change/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert rows(story) == before and Article.objects.get(pk=story.pk).version == version


def test_a_restored_version_keeps_the_picks_and_fills_the_rest_again(newsroom):
    from editorial import editing, revisions

    story = factories.publish(newsroom["story"], newsroom["desk"])
    Recommendation.objects.create(article=story, target=newsroom["unrelated"], position=0, reason="编辑推荐")
    story = factories.edit(story, summary="第二版。")
    snapshot = revisions.snapshot(Article.objects.get(pk=story.pk))
    assert [r["target_id"] for r in snapshot["recommendations"]] == [newsroom["unrelated"].pk]
    editing.save_story(
        Article.objects.get(pk=story.pk),
        lambda article: revisions.apply_snapshot(article, snapshot, announce=False),
        actor=newsroom["desk"]["chief"],
        what="restore",
        correction_note="恢复。",
    )
    assert rows(story)[0] == ("全运会游泳比赛结果", PICKED, "编辑推荐")
    assert [source for _, source, _ in rows(story)] == [PICKED] + [FILLED] * 4


def test_the_fill_command_catches_up_stories_published_before_filling(newsroom):
    from io import StringIO

    from django.core.management import call_command

    story = factories.publish(newsroom["story"], newsroom["desk"])
    Recommendation.objects.filter(article=story).delete()
    out = StringIO()
    call_command("fill_recommendations", "--section", "local", stdout=out)
    assert rows(story)[0] == ("历城区新建三座口袋公园", FILLED, "同标签「历城」")
    assert "blocks filled anew" in out.getvalue()
