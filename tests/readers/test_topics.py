"""专题 topics: a headline, an introduction and a lead image over stories ordered by hand or by
time, with a page, feeds and a place in the sitemap, named on each of its stories' pages, kept
fresh by every delivery, and edited in the admin by editors and the chief only."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Image, Topic, TopicStory
from articles.topics import topic_slug
from delivery import registry
from editorial import workflow
from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from tests import factories
from tests.delivery.test_freshness import (  # noqa: F401  (fixtures)
    DELIVERIES,
    _posted,
    _staff,
    committed,
    desk,
    every_page,
    newsroom,
    rendered_now,
    step_withdraw,
    story_form_headline,
)

pytestmark = pytest.mark.django_db

SEED = factories.__file__.rsplit("/", 2)[0] + "/seeds/000_65fa244611cb5653.txt"


def topic_with(*stories, order=Topic.Order.NEWEST, **fields):
    topic = Topic.objects.create(headline=fields.pop("headline", "两会特别报道"), order=order, **fields)
    for position, story in enumerate(stories):
        TopicStory.objects.create(topic=topic, article=story, position=position)
    return topic


def headlines(html):
    return re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', html)


# --- the page ----------------------------------------------------------------------------------


def test_a_topic_page_shows_headline_introduction_lead_image_and_live_stories_newest_first(client):
    now = timezone.now()
    older = factories.published_story("较早的报道", published_at=now - timedelta(hours=2))
    newer = factories.published_story("较新的报道", published_at=now - timedelta(hours=1))
    draft = factories.draft("尚未发布的稿件")
    photo = factories.image(caption="会场全景", alt_text="人民大会堂会场")
    topic = topic_with(older, draft, newer, introduction="全国两会期间的全部报道。", lead_image=photo)
    response = client.get(topic.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="list-title">两会特别报道</h1>' in html
    assert "全国两会期间的全部报道。" in html
    assert 'alt="人民大会堂会场"' in html and "会场全景" in html
    assert headlines(html) == ["较新的报道", "较早的报道"]
    assert "尚未发布的稿件" not in html


def test_a_topic_ordered_by_hand_lists_its_stories_by_position(client):
    now = timezone.now()
    first = factories.published_story("放在最前的旧闻", published_at=now - timedelta(days=3))
    second = factories.published_story("今天的新闻", published_at=now - timedelta(minutes=5))
    topic = topic_with(first, second, order=Topic.Order.MANUAL)
    assert headlines(client.get(topic.get_absolute_url()).content.decode()) == ["放在最前的旧闻", "今天的新闻"]
    TopicStory.objects.filter(topic=topic, article=first).update(position=9)
    Topic.objects.filter(pk=topic.pk).update(order=Topic.Order.MANUAL)
    assert headlines(Client().get(topic.get_absolute_url() + "?x").content.decode()) == ["今天的新闻", "放在最前的旧闻"]


def test_a_topic_with_no_live_story_has_no_page_feed_or_sitemap_entry(client):
    draft = factories.draft("草稿")
    topic = topic_with(draft)
    assert client.get(topic.get_absolute_url()).status_code == 404
    assert client.get(reverse("articles:topic_feed", kwargs={"slug": topic.slug})).status_code == 404
    assert topic.get_absolute_url() not in client.get("/sitemap-sections.xml").content.decode()
    assert topic.get_absolute_url() not in set(registry.every_url())


def test_a_topic_is_in_the_sections_sitemap_and_static_publishing_once_a_story_is_live(client):
    topic = topic_with(factories.published_story("已发布"))
    assert f"http://testserver{topic.get_absolute_url()}</loc>" in client.get("/sitemap-sections.xml").content.decode()
    assert topic.get_absolute_url() in set(registry.every_url())


def test_topic_feeds_carry_only_its_live_stories(client):
    live = factories.published_story("专题里的新闻")
    other = factories.published_story("专题外的新闻")
    topic = topic_with(live, factories.draft("专题里的草稿"), introduction="专题介绍")
    rss = client.get(reverse("articles:topic_feed", kwargs={"slug": topic.slug})).content.decode()
    atom = client.get(reverse("articles:topic_atom", kwargs={"slug": topic.slug})).content.decode()
    for feed in (rss, atom):
        assert "两会特别报道" in feed and "专题里的新闻" in feed
        assert other.headline not in feed and "专题里的草稿" not in feed
    assert "<rss" in rss and "<feed" in atom


# --- addresses -----------------------------------------------------------------------------------


def test_a_chinese_headline_gets_a_short_slug_that_is_the_same_every_time():
    assert topic_slug("两会特别报道") == topic_slug("两会特别报道")
    assert re.fullmatch(r"zt-[0-9a-f]{8}", topic_slug("两会特别报道"))
    assert topic_slug("两会特别报道") != topic_slug("全运会特别报道")
    assert re.fullmatch(r"2026-[0-9a-f]{8}", topic_slug("2026两会"))
    assert topic_slug("G20 Summit") == "g20-summit"


def test_a_topic_keeps_its_address_when_its_headline_changes_and_two_topics_never_share_one():
    first = Topic.objects.create(headline="两会特别报道")
    second = Topic.objects.create(headline="两会特别报道")
    assert first.slug and second.slug and first.slug != second.slug
    address = first.get_absolute_url()
    first.headline = "2026年全国两会"
    first.save()
    first.refresh_from_db()
    assert first.get_absolute_url() == address


# --- on its stories' pages -----------------------------------------------------------------------


def test_a_story_page_names_the_topics_it_is_in(client):
    story = factories.published_story("收入专题的新闻")
    topic_with(story)
    topic_with(story, headline="济南城市建设")
    html = client.get(story.get_absolute_url()).content.decode()
    assert re.search(
        r'<p class="topics">本文收入专题：<a href="/topics/[^"]+/">两会特别报道</a>、<a href="/topics/[^"]+/">济南城市建设</a></p>',
        html,
    )


def test_the_seed_story_in_no_topic_prints_no_topic_line(client):
    call_command("import_seed", SEED, stdout=open("/dev/null", "w"))
    story = Article.objects.get(headline="“历城书记论坛”精彩开讲")
    html = client.get(story.get_absolute_url()).content.decode()
    assert "本文收入专题" not in html and 'class="topics"' not in html


def test_the_story_page_prints_its_topics_without_another_query(client, settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    story = factories.published_story("有专题的新闻")
    plain = factories.published_story("没有专题的新闻")
    topic_with(story)
    client.get(story.get_absolute_url()), client.get(plain.get_absolute_url())  # renditions made
    with CaptureQueriesContext(connection) as with_topic:
        client.get(story.get_absolute_url())
    with CaptureQueriesContext(connection) as without_topic:
        client.get(plain.get_absolute_url())
    assert len(with_topic) == len(without_topic)


# --- the lead image follows its topic ----------------------------------------------------------------


def test_the_lead_image_is_public_only_while_the_topic_has_a_live_story(desk, django_capture_on_commit_callbacks):
    photo = factories.image(caption="专题题图")
    story = factories.draft("专题的第一篇", created_by=desk["writer"])
    editor = _staff(desk, "editor")
    with committed(django_capture_on_commit_callbacks):
        _posted(editor.post(reverse("admin:articles_topic_add"), topic_form(headline="两会", lead_image=photo.pk, stories=[story])))
    assert Image.objects.get(pk=photo.pk).is_public is False
    with committed(django_capture_on_commit_callbacks):
        workflow.submit(story, actor=desk["writer"])
        workflow.pass_first_review(story, actor=desk["reviewer"])
        workflow.sign_off(story, actor=desk["editor"])
    assert Image.objects.get(pk=photo.pk).is_public is True
    with committed(django_capture_on_commit_callbacks):
        workflow.withdraw(Article.objects.get(pk=story.pk), actor=desk["editor"], reason="撤稿")
    assert Image.objects.get(pk=photo.pk).is_public is False


# --- the admin ---------------------------------------------------------------------------------------


def topic_form(*, headline, stories=(), order="newest", introduction="", lead_image="", slug="", topic=None):
    entries = list(topic.entries.all()) if topic else []
    data = {
        "headline": headline, "slug": slug, "introduction": introduction, "lead_image": lead_image, "order": order,
        "entries-TOTAL_FORMS": str(len(entries) + len(stories)), "entries-INITIAL_FORMS": str(len(entries)),
        "entries-MIN_NUM_FORMS": "0", "entries-MAX_NUM_FORMS": "1000", "_save": "1",
    }
    for n, entry in enumerate(entries):
        data.update({f"entries-{n}-id": entry.pk, f"entries-{n}-topic": topic.pk,
                     f"entries-{n}-article": entry.article_id, f"entries-{n}-position": entry.position})
    for n, story in enumerate(stories, start=len(entries)):
        data.update({f"entries-{n}-article": story.pk, f"entries-{n}-position": str(n)})
        if topic:
            data[f"entries-{n}-topic"] = topic.pk
    return data


@pytest.mark.parametrize(
    "role, allowed",
    [(REPORTER, False), (FIRST_REVIEWER, True), (RESPONSIBLE_EDITOR, True), (CHIEF_EDITOR, True)],
)
def test_editors_and_the_chief_keep_topics_and_reporters_may_not(role, allowed):
    story = factories.published_story("可收入专题的新闻")
    account = factories.user(roles=[role])
    client = Client()
    client.force_login(account)
    add = client.get(reverse("admin:articles_topic_add"))
    posted = client.post(reverse("admin:articles_topic_add"), topic_form(headline="角色测试专题", stories=[story]))
    if allowed:
        assert add.status_code == 200
        assert posted.status_code == 302
        assert Topic.objects.get().stories.get() == story
    else:
        assert add.status_code == 403 and posted.status_code == 403
        assert Topic.objects.count() == 0 and TopicStory.objects.count() == 0
        index = client.get(reverse("admin:index")).content.decode()
        assert reverse("admin:articles_topic_changelist") not in index


def test_a_story_listed_twice_in_one_topic_is_refused_with_a_clear_message_and_nothing_changes():
    story = factories.published_story("重复收入的新闻")
    editor = factories.user(roles=[RESPONSIBLE_EDITOR])
    client = Client()
    client.force_login(editor)
    response = client.post(reverse("admin:articles_topic_add"), topic_form(headline="重复", stories=[story, story]))
    assert response.status_code == 200
    assert "请修改下面的重复数据" in response.content.decode()
    assert Topic.objects.count() == 0 and TopicStory.objects.count() == 0


def test_a_topic_without_a_headline_is_refused_and_nothing_changes():
    editor = factories.user(roles=[FIRST_REVIEWER])
    client = Client()
    client.force_login(editor)
    response = client.post(reverse("admin:articles_topic_add"), topic_form(headline=""))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Topic.objects.count() == 0


# --- freshness: every delivery shows a topic's change at once ------------------------------------------


@pytest.fixture
def topical(newsroom):
    """Topic 泉城专题 holding story A and story W (to be withdrawn); story B in no topic."""
    topic = topic_with(newsroom["A"], newsroom["W"], headline="泉城专题", introduction="泉城的报道。")
    return {**newsroom, "topic": topic}


def topic_renamed(desk, n):
    topic = n["topic"]
    _posted(_staff(desk, "editor").post(
        reverse("admin:articles_topic_change", args=[topic.pk]),
        topic_form(headline="泉城专题(更新)", slug=topic.slug, introduction="新的介绍。", topic=topic),
    ))


def story_added_to_topic(desk, n):
    """Story B joins the topic: its page names the topic, the topic's page and feeds list it."""
    topic = n["topic"]
    _posted(_staff(desk, "editor").post(
        reverse("admin:articles_topic_change", args=[topic.pk]),
        topic_form(headline=topic.headline, slug=topic.slug, introduction=topic.introduction, stories=[n["B"]], topic=topic),
    ))


def topic_deleted(desk, n):
    topic = n["topic"]
    _posted(_staff(desk, "chief").post(reverse("admin:articles_topic_delete", args=[topic.pk]), {"post": "yes"}))


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(
    "write", [topic_renamed, story_added_to_topic, topic_deleted, story_form_headline, step_withdraw],
    ids=lambda w: w.__name__,
)
def test_every_page_showing_a_topic_is_fresh_at_once(
    write, delivery, desk, topical, settings, tmp_path, django_capture_on_commit_callbacks
):
    copies = delivery(settings, tmp_path)
    try:
        before = every_page(settings)
        assert topical["topic"].get_absolute_url() in before
        copies.warm(before)
        with committed(django_capture_on_commit_callbacks):
            write(desk, topical)
        stale = [
            url for url in sorted(set(before) | set(every_page(settings))) if copies.served(url) != rendered_now(url, settings)
        ]
        assert stale == [], f"{write.__name__} left stale pages under {delivery.__name__}: {stale}"
    finally:
        getattr(copies, "close", lambda: None)()
