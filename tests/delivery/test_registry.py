"""Every kind of public page is declared once (readers/pages.py); what a change touches, what
static publishing writes and what the sitemaps list all follow from those declarations."""

import re

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.urls import include, path, reverse
from django.utils.encoding import iri_to_uri

from articles.events import Placement, SharedChanged, StoryChanged
from articles.models import Article, Byline, Recommendation, RelatedLink, Section, Topic, TopicStory
from delivery import registry, subscribers
from editorial import workflow
from editorial.roles import FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from readers import most_read
from tests import factories

pytestmark = pytest.mark.django_db


def corrections_page(request):
    return HttpResponse("更正")


# The site's URLconf with one public page more, declared nowhere (used as ROOT_URLCONF below).
urlpatterns = [
    path("corrections/", corrections_page, name="corrections"),
    path("", include("newsroom.urls")),
]


@pytest.fixture
def desk():
    return {
        "writer": factories.user(roles=[REPORTER]),
        "reviewer": factories.user(roles=[FIRST_REVIEWER]),
        "editor": factories.user(roles=[RESPONSIBLE_EDITOR]),
    }


def through_the_desk(desk, headline, section, *, slug="", tag=None, person=None):
    """A story written, reviewed and signed off: published the newsroom's way."""
    article = factories.draft(headline=headline, slug=slug, section=section, created_by=desk["writer"])
    if tag:
        article.tags.add(tag)
    if person:
        Byline.objects.create(article=article, person=person)
    workflow.submit(article, actor=desk["writer"])
    workflow.pass_first_review(article, actor=desk["reviewer"])
    return workflow.sign_off(article, actor=desk["editor"])


@pytest.fixture
def newsroom(desk):
    """A small site: three stories in 本地 (one linking to the main story, one recommending
    it), one in 体育, a draft with a tag and a reporter of its own, a withdrawn story."""
    local, sport = factories.section(name="本地", slug="local"), factories.section(name="体育", slug="sport")
    reporter = factories.person("张帆")
    older = through_the_desk(desk, "更早的新闻", local, slug="older")
    story = through_the_desk(desk, "泉城新闻", local, slug="quancheng", tag="泉城", person=reporter)
    linking = through_the_desk(desk, "相关的新闻", sport, slug="linking")
    RelatedLink.objects.create(article=linking, target=story)
    recommending = through_the_desk(desk, "推荐它的新闻", sport)
    Recommendation.objects.create(article=recommending, target=story)
    draft = factories.draft(headline="草稿", section=local)
    draft.tags.add("未发")
    Byline.objects.create(article=draft, person=factories.person("未署名"))
    withdrawn = through_the_desk(desk, "撤下的新闻", local, slug="withdrawn")
    workflow.withdraw(withdrawn, actor=desk["editor"], reason="事实有误")
    topic = Topic.objects.create(headline="泉城专题")
    TopicStory.objects.create(topic=topic, article=story)
    return {
        "local": local, "sport": sport, "reporter": reporter, "story": Article.objects.get(pk=story.pk),
        "older": older, "linking": linking, "recommending": recommending, "draft": draft, "withdrawn": withdrawn,
        "topic": topic,
    }


def changed(article, **before):
    """The StoryChanged of an edit to `article`; `before` overrides where it stood until now."""
    after = Placement.of(Article.objects.get(pk=article.pk))
    previous = Placement(**{**after.as_dict(), **before}) if before else after
    return StoryChanged(story_id=article.pk, what="edit", before=previous, after=after)


# --- every public page is declared ----------------------------------------------------------------


def test_every_public_url_pattern_is_declared():
    assert registry.undeclared_patterns() == []


def test_a_public_page_nobody_declared_is_reported(settings):
    settings.ROOT_URLCONF = __name__
    assert registry.undeclared_patterns() == [("corrections/", "corrections")]


def test_the_desk_the_language_switch_and_media_are_not_public_pages():
    routes = [route for route, _ in registry.public_patterns()]
    assert routes and not [route for route in routes if route.startswith(("admin/", "review/", "i18n/", "media/"))]


def test_robots_and_the_sitemaps_keep_their_plain_names():
    assert [reverse(name) for name in ["robots", "sitemap", "sitemap_sections", "news_sitemap"]] == [
        "/robots.txt", "/sitemap.xml", "/sitemap-sections.xml", "/sitemap-news.xml",
    ]
    assert reverse("sitemap_stories", kwargs={"block": 3}) == "/sitemap-stories-3.xml"


# --- every declared instance exists ---------------------------------------------------------------


# Declared only so that no public pattern goes undeclared: the 点击排行 beacon, posted to by
# story pages (readers.most_read), is never a page anyone reads.
NOT_PAGES = {"articles:read"}


def test_every_declared_instance_answers_at_the_address_reverse_gives(client, newsroom):
    for page in registry.pages():
        if page.url_name in NOT_PAGES:
            continue
        instances = list(page.instances())
        assert instances, page.url_name
        for instance in instances:
            address = page.path(instance.kwargs)
            assert address == registry._reverse_first(page.url_names, instance.kwargs)
            response = client.get(address)
            assert response.status_code == 200, address


def test_pages_of_drafts_tags_and_people_are_not_listed(newsroom):
    urls = set(registry.every_url())
    assert newsroom["draft"].get_absolute_url() not in urls
    assert iri_to_uri("/tags/未发/") not in {iri_to_uri(url) for url in urls}
    assert f"/people/{newsroom['draft'].bylines.get().person_id}/" not in urls
    assert newsroom["withdrawn"].get_absolute_url() not in urls


def test_static_publishing_writes_every_static_page_and_no_search(newsroom):
    urls = list(registry.every_url())
    assert len(urls) == len(set(urls))
    for expected in [
        "/", "/robots.txt", "/feeds/rss.xml", "/feeds/atom.xml", "/sitemap.xml", "/sitemap-sections.xml",
        "/sitemap-news.xml", "/sitemap-stories-0.xml", "/sections/local/", "/feeds/sections/sport/atom.xml",
        iri_to_uri("/tags/泉城/"), iri_to_uri("/feeds/tags/泉城/rss.xml"), f"/people/{newsroom['reporter'].pk}/",
        newsroom["story"].get_absolute_url(), newsroom["recommending"].get_absolute_url(),
    ]:
        assert expected in urls
    assert not [url for url in urls if url.startswith("/search/")]
    assert registry.count_urls() >= len(urls)


def test_the_sitemaps_list_what_the_registry_declares(client, newsroom):
    def locations(address):
        return re.findall(r"<loc>http://testserver([^<]*)</loc>", client.get(address).content.decode())

    assert locations("/sitemap.xml") == ["/sitemap-sections.xml", "/sitemap-news.xml", "/sitemap-stories-0.xml"]
    sections = [section.get_absolute_url() for section in Section.objects.all()]
    topics = [topic.get_absolute_url() for topic in Topic.objects.public().order_by("pk")]
    assert topics and locations("/sitemap-sections.xml") == ["/", *sections, *topics]
    stories = registry.page("articles:detail")
    assert locations("/sitemap-stories-0.xml") == [stories.path(i.kwargs) for i in stories.instances()]
    live = Article.objects.published().order_by("pk")
    assert locations("/sitemap-stories-0.xml") == [story.get_absolute_url() for story in live]


# --- what a change touches ------------------------------------------------------------------------


def test_a_published_storys_change_names_its_pages_lists_feeds_and_the_stories_linking_to_it(newsroom):
    story = newsroom["story"]
    urls = registry.urls_for(changed(story))
    tag = story.tags.get()
    for expected in [
        "/stories/{}/".format(story.pk), story.get_absolute_url(), "/", "/sections/local/",
        "/feeds/sections/local/rss.xml", "/feeds/sections/local/atom.xml", iri_to_uri(f"/tags/{tag.slug}/"),
        iri_to_uri(f"/feeds/tags/{tag.slug}/rss.xml"), iri_to_uri(f"/feeds/tags/{tag.slug}/atom.xml"),
        f"/people/{newsroom['reporter'].pk}/", "/feeds/rss.xml", "/feeds/atom.xml", "/sitemap.xml",
        "/sitemap-news.xml", "/sitemap-stories-0.xml",
        newsroom["linking"].get_absolute_url(), newsroom["recommending"].get_absolute_url(),
        newsroom["older"].get_absolute_url(),  # its previous story in 本地
    ]:
        assert expected in urls
    assert "/sections/sport/" not in urls and "/search/" not in urls
    assert urls == sorted(urls)


def test_a_published_storys_change_touches_the_keys_its_pages_record(newsroom):
    story = newsroom["story"]
    assert registry.keys_for(changed(story)) == {
        f"story:{story.pk}", "home", "feeds", "sitemaps", "search", f"section:{newsroom['local'].pk}",
        f"tag:{story.tags.get().pk}", f"person:{newsroom['reporter'].pk}", f"topic:{newsroom['topic'].pk}",
    }


def test_a_story_moved_and_renamed_names_the_pages_it_left(newsroom):
    story = newsroom["story"]
    Article.objects.filter(pk=story.pk).update(section=newsroom["sport"], slug="renamed")
    event = changed(story, section_id=newsroom["local"].pk, slug="quancheng")
    urls = registry.urls_for(event)
    for expected in [f"/stories/{story.pk}/quancheng/", f"/stories/{story.pk}/renamed/", "/sections/local/",
                     "/sections/sport/", "/feeds/sections/local/rss.xml", "/feeds/sections/sport/atom.xml"]:
        assert expected in urls
    assert {f"section:{newsroom['local'].pk}", f"section:{newsroom['sport'].pk}"} <= registry.keys_for(event)


def test_a_change_to_a_story_no_reader_saw_touches_nothing(newsroom):
    event = changed(newsroom["draft"])
    assert registry.urls_for(event) == [] and registry.keys_for(event) == set()


def test_a_photo_change_touches_the_pages_of_the_stories_printing_it(newsroom):
    story = newsroom["story"]
    photo = factories.image()
    event = SharedChanged(kind="image", pk=photo.pk, story_ids=(story.pk, newsroom["draft"].pk))
    assert {f"image:{photo.pk}", f"story:{story.pk}", "home", "search"} <= registry.keys_for(event)
    assert f"story:{newsroom['draft'].pk}" not in registry.keys_for(event)
    assert {story.get_absolute_url(), "/", "/sections/local/"} <= set(registry.urls_for(event))


def test_a_section_change_touches_every_page_by_the_site_key(newsroom):
    event = SharedChanged(kind="section", pk=newsroom["local"].pk, slugs=("local", "local-news"))
    assert registry.keys_for(event) == {"site"}
    assert {"/", "/sitemap-sections.xml", "/sections/local/", "/sections/local-news/",
            "/feeds/sections/local-news/rss.xml"} <= set(registry.urls_for(event))


def test_a_renamed_person_is_refreshed_on_their_page_and_their_stories(newsroom):
    story, reporter = newsroom["story"], newsroom["reporter"]
    event = SharedChanged(kind="person", pk=reporter.pk, story_ids=(story.pk,))
    assert registry.keys_for(event) == {f"person:{reporter.pk}"}
    assert registry.urls_for(event) == sorted({f"/people/{reporter.pk}/", story.get_absolute_url()})


# --- the subscriber --------------------------------------------------------------------------------


def test_the_subscriber_refreshes_the_cache_files_and_cdn_after_the_commit(
    newsroom, client, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.NEWSROOM_STATIC_PUBLISH_ROOT = tmp_path / "site"
    settings.NEWSROOM_STATIC_PUBLISH_ORIGIN = "http://testserver"
    # The delivery runs once the change commits, in this process (no worker).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
    purged = []
    monkeypatch.setattr(subscribers.purge, "request", lambda urls, keys, reason="": purged.append((urls, keys, reason)))
    story = newsroom["story"]
    assert "泉城新闻" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            before = Placement.of(story)
            Article.objects.filter(pk=story.pk).update(headline="改过的标题")
            subscribers.story_changed(changed(story, **before.as_dict()))
            assert purged == []
    assert "改过的标题" in client.get("/").content.decode()
    assert "改过的标题" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    [(urls, keys, reason)] = purged
    assert story.get_absolute_url() in urls and f"story:{story.pk}" in keys and reason == f"story {story.pk}"


def test_the_subscriber_ignores_changes_no_reader_saw(newsroom, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        subscribers.story_changed(changed(newsroom["draft"]))
    assert callbacks == []


def test_every_key_a_page_records_is_one_some_change_bumps(newsroom, client, settings):
    """Views name what they show (response.dependency_keys); the registry names what a change
    bumps. A key a page records that no change can bump would keep that page forever."""
    from articles.events import SharedChanged as Shared
    from articles.models import Image, Outlet, Person
    from taggit.models import Tag

    recorded = set()
    for url in [*registry.every_url(), "/search/?q=%E6%96%B0%E9%97%BB"]:
        response = client.get(url)
        recorded |= set(getattr(response, "dependency_keys", ()) or ())
    assert recorded, "the pages record their keys"
    bumped = {registry.SITE}
    for article in Article.objects.all():
        bumped |= registry.keys_for(registry.shown(article))
    for kind, model in [
        ("section", Section), ("tag", Tag), ("person", Person), ("image", Image), ("outlet", Outlet), ("topic", Topic)
    ]:
        for pk in model.objects.values_list("pk", flat=True):
            bumped |= registry.keys_for(Shared(kind=kind, pk=pk))
    # The 点击排行 lists change with readers, not with the desk: the flush bumps their keys.
    bumped |= {most_read.MOST_READ, *(most_read.section_most_read_key(pk) for pk in Section.objects.values_list("pk", flat=True))}
    assert recorded - bumped == set()
