"""With static publishing on, every change rewrites exactly the files of the pages showing it."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from delivery import static_publish
from articles.models import Article, Byline, Person, Recommendation, RelatedLink
from editorial import workflow
from tests import factories
from tests.articles.readers import scheduled

pytestmark = pytest.mark.django_db


def file_of(root, url):
    return root / static_publish.relative_file(url)


def inodes(root):
    """Every file in the tree by address, with its inode: an atomic rewrite gives a new one."""
    found = {}
    for directory, _, files in os.walk(root):
        for name in files:
            if not name.startswith(".") and not name.endswith(".gz"):
                path = os.path.join(directory, name)
                found[static_publish.url_for_file(os.path.relpath(path, root))] = os.stat(path).st_ino
    return found


def all_text(root):
    return "".join(
        open(os.path.join(d, n), encoding="utf-8").read()
        for d, _, files in os.walk(root)
        for n in files
        if not n.startswith(".") and not n.endswith(".gz")
    )


@pytest.fixture
def newsroom(static_root, commit):
    """A published story with its section, tag and reporter; two stories pointing at it
    (推荐阅读 and 相关新闻); and an unrelated story elsewhere. Then a full build."""
    local, other, sports = factories.section(slug="local"), factories.section(slug="other"), factories.section(slug="sports")
    story = factories.published_story(headline="原来的标题", section=local)
    story.tags.add("泉城")
    Byline.objects.create(article=story, person=factories.person("张帆"))
    recommender = factories.published_story(headline="推荐它的稿件", section=other)
    Recommendation.objects.create(article=recommender, target=story)
    relater = factories.published_story(headline="关联它的稿件", section=other)
    RelatedLink.objects.create(article=relater, target=story)
    unrelated = factories.published_story(headline="无关的稿件", section=sports)
    unrelated.tags.add("足球")
    Byline.objects.create(article=unrelated, person=factories.person("李明"))
    call_command("static_rebuild", stdout=open(os.devnull, "w"))
    return {"story": story, "recommender": recommender, "relater": relater, "unrelated": unrelated}


def test_static_publishing_is_off_unless_a_folder_is_set(settings, commit, tmp_path):
    assert settings.NEWSROOM_STATIC_PUBLISH_ROOT is None
    commit(lambda: factories.published_story(headline="没有静态发布"))
    assert not static_publish.enabled()
    assert list(tmp_path.iterdir()) == []


def test_publishing_writes_its_page_and_every_list_showing_it(static_root, commit, client):
    section = factories.section(slug="local")
    draft = factories.draft(headline="新发布的稿件", section=section)
    draft.tags.add("泉城")
    person = factories.person("张帆")
    Byline.objects.create(article=draft, person=person)

    commit(lambda: factories.publish(draft))
    tag = draft.tags.get()
    for url in [draft.get_absolute_url(), "/", "/sections/local/", f"/tags/{tag.slug}/", f"/people/{person.pk}/",
                "/feeds/rss.xml", "/feeds/atom.xml", "/feeds/sections/local/rss.xml", "/sitemap-news.xml"]:
        path = file_of(static_root, url)
        assert "新发布的稿件" in path.read_text(encoding="utf-8"), url
        assert path.with_name(path.name + ".gz").exists(), url
    assert file_of(static_root, "/sitemap-stories-0.xml").exists()


def test_a_static_file_is_byte_for_byte_the_page_django_sends(newsroom, static_root, client):
    story = newsroom["story"]
    for url in [story.get_absolute_url(), "/", "/sections/local/", "/feeds/rss.xml", "/sitemap.xml"]:
        assert file_of(static_root, url).read_bytes() == client.get(url).content, url


def test_an_edit_rewrites_exactly_the_pages_that_show_the_story(newsroom, static_root, commit):
    story, unrelated = newsroom["story"], newsroom["unrelated"]
    before = inodes(static_root)

    commit(lambda: factories.edit(story, headline="改过的标题"))
    after = inodes(static_root)
    rewritten = {url for url in after if after[url] != before.get(url)}
    tag, person = story.tags.get(), story.bylines.get().person
    showing = {
        static_publish.url_for_file(static_publish.relative_file(url))
        for url in [story.get_absolute_url(), "/", "/sections/local/", f"/tags/{tag.slug}/",
                    f"/feeds/tags/{tag.slug}/rss.xml", f"/feeds/tags/{tag.slug}/atom.xml", f"/people/{person.pk}/",
                    "/feeds/rss.xml", "/feeds/atom.xml", "/feeds/sections/local/rss.xml", "/feeds/sections/local/atom.xml", "/sitemap.xml", "/sitemap-news.xml", "/sitemap-stories-0.xml",
                    newsroom["recommender"].get_absolute_url(), newsroom["relater"].get_absolute_url()]
    }
    assert rewritten == showing
    for url in showing - {"/sitemap.xml", "/sitemap-stories-0.xml"}:
        text = file_of(static_root, url).read_text(encoding="utf-8")
        assert "改过的标题" in text and "原来的标题" not in text, url
    untouched = {unrelated.get_absolute_url(), "/sections/sports/", "/feeds/sections/sports/rss.xml",
                 f"/tags/{unrelated.tags.get().slug}/", f"/people/{unrelated.bylines.get().person_id}/",
                 "/sections/other/", "/robots.txt", "/sitemap-sections.xml"}
    untouched = {static_publish.url_for_file(static_publish.relative_file(url)) for url in untouched}
    assert not (untouched & rewritten)


def test_withdrawing_removes_its_page_and_takes_it_off_the_lists(newsroom, static_root, commit, client):
    story = newsroom["story"]
    page = file_of(static_root, story.get_absolute_url())
    assert page.exists()

    editor = factories.desk()["editor"]
    commit(lambda: workflow.withdraw(story, actor=editor, reason="稿件有误。"))
    assert not page.exists() and not page.with_name("index.html.gz").exists()
    assert client.get(story.get_absolute_url()).status_code == 410  # nginx falls back to Django
    for url in ["/", "/sections/local/", "/feeds/rss.xml", "/sitemap-news.xml", newsroom["recommender"].get_absolute_url()]:
        assert "原来的标题" not in file_of(static_root, url).read_text(encoding="utf-8"), url


def test_moving_a_story_rewrites_the_section_it_left(newsroom, static_root, commit):
    story = newsroom["story"]

    commit(lambda: factories.edit(story, section=newsroom["unrelated"].section))
    assert "原来的标题" not in file_of(static_root, "/sections/local/").read_text(encoding="utf-8")
    assert "原来的标题" in file_of(static_root, "/sections/sports/").read_text(encoding="utf-8")


def test_a_new_slug_removes_the_page_at_the_old_address(newsroom, static_root, commit):
    story = newsroom["story"]
    old = file_of(static_root, story.get_absolute_url())

    story = commit(lambda: factories.edit(story, slug="new-words"))
    assert not old.exists()
    assert file_of(static_root, story.get_absolute_url()).exists()


def test_unpublished_stories_never_land_in_a_file(newsroom, static_root, commit):
    def write_drafts():
        draft = factories.draft(headline="草稿不应出现", section=newsroom["story"].section)
        draft.tags.add("泉城")
        draft.headline = "草稿改了也不应出现"
        draft.save()

    commit(write_drafts)
    call_command("static_rebuild", stdout=open(os.devnull, "w"))
    text = all_text(static_root)
    assert "草稿" not in text


def test_a_scheduled_story_lands_in_files_only_once_its_time_comes(newsroom, static_root, commit, time_machine):
    time_machine.move_to(timezone.now())
    later = commit(lambda: scheduled("定时发布的稿件", minutes=30, section=newsroom["story"].section))
    assert "定时发布的稿件" not in all_text(static_root)
    assert file_of(static_root, "/").exists()  # until shortly before its time, the lists stay files

    # Shortly before its time the pages it will join leave the disk: Django serves them
    # (its page cache expires at that very time), so no file is ever stale past it.
    time_machine.shift(timedelta(minutes=29))
    call_command("static_publish", "--due", stdout=open(os.devnull, "w"))
    assert not file_of(static_root, "/").exists()
    assert not file_of(static_root, "/sections/local/").exists()
    # Another change meanwhile does not bring a soon-stale home page back.
    commit(lambda: factories.published_story(headline="又一篇", section=newsroom["story"].section))
    assert not file_of(static_root, "/").exists()
    assert "定时发布的稿件" not in all_text(static_root)

    time_machine.shift(timedelta(minutes=2))
    call_command("static_publish", "--due", stdout=open(os.devnull, "w"))
    for url in [later.get_absolute_url(), "/", "/sections/local/", "/feeds/rss.xml"]:
        assert "定时发布的稿件" in file_of(static_root, url).read_text(encoding="utf-8"), url


def test_the_publisher_loop_writes_due_pages(newsroom, static_root, commit, time_machine):
    time_machine.move_to(timezone.now())
    later = commit(lambda: scheduled("整点发布", minutes=5, section=newsroom["story"].section))
    time_machine.shift(timedelta(minutes=6))
    call_command("static_publisher", "--once", stdout=open(os.devnull, "w"))
    assert "整点发布" in file_of(static_root, later.get_absolute_url()).read_text(encoding="utf-8")


def test_deleting_a_live_story_removes_its_page_and_its_lines(newsroom, static_root, commit):
    story = newsroom["story"]
    page = file_of(static_root, story.get_absolute_url())
    people = factories.desk()

    def delete():
        workflow.withdraw(story, actor=people["editor"], reason="稿件有误。")
        workflow.trash(story, actor=people["chief"])
        workflow.empty_trash(story, actor=people["chief"])

    commit(delete)
    assert not page.exists()
    assert "原来的标题" not in file_of(static_root, "/sections/local/").read_text(encoding="utf-8")


def test_renaming_a_section_queues_a_rebuild_of_every_file(newsroom, static_root, commit, settings):
    """Every page prints the sections: the renamed section's own pages are rewritten with the
    change's delivery, the rest by a rebuild queued behind it; until that is in, the site is
    marked stale and static_verify says so."""
    section = newsroom["story"].section
    unrelated = file_of(static_root, newsroom["unrelated"].get_absolute_url())
    chief = Client()
    chief.force_login(factories.desk()["chief"])
    data = {"name": "新的栏目名", "slug": section.slug, "position": section.position, "_save": "1"}
    # The queue holds the tasks (the database backend, no worker yet).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
    from django_tasks import default_task_backend

    commit(lambda: chief.post(reverse("admin:articles_section_change", args=[section.pk]), data))
    queued = [result.task for result in default_task_backend.results]
    assert [task.name for task in queued] == ["deliver_changes"]
    deliver_changes = queued[0]
    deliver_changes.call(*default_task_backend.results[0].args)
    assert "新的栏目名" in file_of(static_root, "/sections/local/").read_text(encoding="utf-8")
    assert "新的栏目名" not in unrelated.read_text(encoding="utf-8")
    assert static_publish.site_marked_stale()
    with pytest.raises(CommandError, match="stale|missing|extra|0 failed"):
        call_command("static_verify", stdout=open(os.devnull, "w"))
    rebuild = default_task_backend.results[-1]
    assert rebuild.task.name == "rebuild_static_site"
    rebuild.task.call(*rebuild.args)
    assert not static_publish.site_marked_stale()
    assert "新的栏目名" in file_of(static_root, newsroom["unrelated"].get_absolute_url()).read_text(encoding="utf-8")


def test_pages_showing_it_in_automatic_recommendations_follow_an_edit_and_a_withdrawal(static_root, commit):
    section = factories.section(slug="local")
    story = factories.published_story(headline="被自动推荐的稿件", section=section)
    neighbour = factories.published_story(headline="同栏目的旧稿件", section=section,
                                          published_at=timezone.now() - timedelta(days=30))
    older = factories.published_story(headline="更旧的稿件", section=section,
                                      published_at=timezone.now() - timedelta(days=60))
    call_command("static_rebuild", stdout=open(os.devnull, "w"))
    page = file_of(static_root, older.get_absolute_url())
    assert "被自动推荐的稿件" in page.read_text(encoding="utf-8")  # newest of its section: 推荐阅读

    commit(lambda: factories.edit(story, headline="自动推荐的稿件改了标题"))
    assert "自动推荐的稿件改了标题" in page.read_text(encoding="utf-8")

    editor = factories.desk()["editor"]
    commit(lambda: workflow.withdraw(story, actor=editor, reason="稿件有误。"))
    assert "自动推荐的稿件" not in page.read_text(encoding="utf-8")
    assert "同栏目的旧稿件" in page.read_text(encoding="utf-8")
    assert neighbour.pk


def test_a_first_sign_off_makes_the_editor_a_person_without_rendering_their_page(static_root, commit, monkeypatch):
    """The 责任编辑 becomes a Person at their first sign-off; no page shows them yet, so no
    page of theirs is rendered (it used to be, as a 404, inside the editor's request)."""
    people = factories.desk()
    draft = factories.draft(headline="第一次签发的稿件", section=factories.section(slug="local"))
    workflow.submit(draft, actor=people["chief"])
    workflow.pass_first_review(draft, actor=people["reviewer"])
    rendered = []
    real_publish = static_publish.publish
    monkeypatch.setattr(static_publish, "publish", lambda urls, **kw: rendered.extend(urls) or real_publish(urls, **kw))
    commit(lambda: workflow.sign_off(draft, actor=people["editor"]))
    person = Person.objects.get(user=people["editor"])
    assert draft.get_absolute_url() in rendered
    assert f"/people/{person.pk}/" not in rendered
    assert not file_of(static_root, f"/people/{person.pk}/").exists()
