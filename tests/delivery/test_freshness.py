"""Whatever the desk changes, by whatever path, every public page that shows it is fresh at once.

Generated from the registry of public pages: the pages checked are every page the registry
lists (before and after the change), plus a search. For each way the desk writes (the story
form and its inlines, the photo library, the people, section, outlet and tag admins, a bulk
action, a workflow step, restoring a version, management commands), with each delivery on in
turn (the page cache, static publishing, a CDN told by purges), every page a reader is served
after the change must be the page Django renders from the database right now.

"Served" means, by delivery:
* page cache: what an anonymous reader gets (a hit when the page is still cached);
* static publishing: the file on disk when there is one, else Django;
* CDN: the copy a CDN took of every page before the change, unless a purge named its address
  or one of its surrogate keys since, else Django.
"""

import difflib
import re
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, ArticleImage, Byline, Outlet, Person, Recommendation, RelatedLink, Section
from delivery import registry, static_publish
from delivery.models import StoredPage
from editorial import workflow
from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR
from tests import factories
from tests.cdn.conftest import PUBLIC, Recorder
from tests.editorial.conftest import change_form_data

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_65fa244611cb5653.txt"
SEARCHES = ["/search/?q=%E6%B3%89%E5%9F%8E", "/search/?q=%E5%85%B1%E7%94%A8"]  # 泉城, 共用
_NONCE = re.compile(rb'nonce="[^"]*"')


# --- the newsroom ------------------------------------------------------------------------------


@pytest.fixture
def desk():
    people = {
        "writer": factories.user("writer", roles=[REPORTER], first_name="王记者"),
        "reviewer": factories.user("reviewer", roles=[FIRST_REVIEWER], first_name="赵初审"),
        "editor": factories.user("editor", roles=[RESPONSIBLE_EDITOR], first_name="钱责编"),
        "chief": factories.user("chief", roles=[CHIEF_EDITOR], first_name="孙总编", is_superuser=True),
    }
    for account in people.values():
        Person.for_user(account)
    return people


def _through_the_desk(desk, headline, section, *, publish=True, **fields):
    article = Article.objects.create(
        headline=headline, body=f"<p>{headline}的正文。</p>", section=section, created_by=desk["writer"], **fields
    )
    workflow.submit(article, actor=desk["writer"])
    workflow.pass_first_review(article, actor=desk["reviewer"])
    if publish:
        workflow.sign_off(article, actor=desk["editor"])
    return Article.objects.get(pk=article.pk)


@pytest.fixture
def newsroom(desk):
    """Two sections; story A (local, tag 泉城, reporter 张帆, the shared photo); story B (sports,
    the same photo, 推荐阅读 and 相关新闻 pointing at A); story W, live, to be withdrawn; story F
    at final review, to be signed off; story S, scheduled for an hour from now."""
    local = Section.objects.create(name="本地", slug="local", position=1)
    sports = Section.objects.create(name="体育", slug="sports", position=2)
    outlet = Outlet.objects.create(name="大众网")
    reporter = Person.objects.create(name="张帆")
    photo = factories.image(caption="共用的图说")
    a = Article.objects.create(
        headline="泉城夜景", body="<p>泉城夜景的正文。</p>", section=local, outlet=outlet, created_by=desk["writer"]
    )
    a.tags.add("泉城")
    Byline.objects.create(article=a, person=reporter, role=Byline.Role.REPORTER)
    ArticleImage.objects.create(article=a, image=photo, position=0)
    b = Article.objects.create(headline="体育新闻", body="<p>体育新闻的正文。</p>", section=sports, created_by=desk["writer"])
    ArticleImage.objects.create(article=b, image=photo, position=0)
    Recommendation.objects.create(article=b, target=a, position=0)
    RelatedLink.objects.create(article=b, target=a, position=0)
    for story in (a, b):
        workflow.submit(story, actor=desk["writer"])
        workflow.pass_first_review(story, actor=desk["reviewer"])
        workflow.sign_off(story, actor=desk["editor"])
    w = _through_the_desk(desk, "将被撤下的稿件", local)
    f = _through_the_desk(desk, "等待签发的稿件", sports, publish=False)
    s = _through_the_desk(desk, "定时发布的稿件", local, publish=False)
    workflow.sign_off(s, actor=desk["editor"], publish_at=timezone.now() + timedelta(hours=1))
    stories = {name: Article.objects.get(pk=story.pk) for name, story in zip("ABWFS", (a, b, w, f, s))}
    return {**stories, "local": local, "sports": sports, "outlet": outlet, "reporter": reporter, "photo": photo}


# --- the ways the desk writes -------------------------------------------------------------------


def _staff(desk, name):
    client = Client()
    client.force_login(desk[name])
    return client


def _posted(response):
    """The admin accepted the post (it redirects); else say what the form refused."""
    if response.status_code != 302:
        html = response.content.decode()
        refused = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S) or re.findall(r"<p class=\"errornote\">(.*?)</p>", html, re.S)
        raise AssertionError(f"the admin answered {response.status_code}: {refused or html[:500]}")


def story_form_headline(desk, n):
    """The story's change form: a live story's headline, with its public 更正."""
    a = n["A"]
    _posted(_staff(desk, "editor").post(
        reverse("admin:articles_article_change", args=[a.pk]),
        change_form_data(a, headline="泉城夜景(更新)", section=a.section_id, outlet=a.outlet_id, tags="泉城", correction_note="标题有误,已更正。"),
    ))


def story_inline_shared_caption(desk, n):
    """The photo inline of story A rewrites the shared photo's caption: story B prints it too."""
    a, placement = n["A"], ArticleImage.objects.get(article=n["A"])
    data = change_form_data(a, section=a.section_id, outlet=a.outlet_id, tags="泉城", correction_note="图说有误,已更正。")
    data.update({
        "photos-TOTAL_FORMS": "1", "photos-INITIAL_FORMS": "1",
        "photos-0-id": placement.pk, "photos-0-article": a.pk, "photos-0-image": placement.image_id,
        "photos-0-caption": "改过的共用图说", "photos-0-credit": "", "photos-0-alt_text": "", "photos-0-position": "0",
    })
    _posted(_staff(desk, "editor").post(reverse("admin:articles_article_change", args=[a.pk]), data))


def story_inline_byline(desk, n):
    """The byline inline: A is now by 李明 as well."""
    a = n["A"]
    other = Person.objects.create(name="李明")
    existing = Byline.objects.get(article=a)
    data = change_form_data(a, section=a.section_id, outlet=a.outlet_id, tags="泉城", correction_note="补充作者。")
    data.update({
        "bylines-TOTAL_FORMS": "2", "bylines-INITIAL_FORMS": "1",
        "bylines-0-id": existing.pk, "bylines-0-article": a.pk, "bylines-0-person": existing.person_id,
        "bylines-0-role": existing.role, "bylines-0-position": "0",
        "bylines-1-article": a.pk, "bylines-1-person": other.pk, "bylines-1-role": Byline.Role.REPORTER, "bylines-1-position": "1",
    })
    _posted(_staff(desk, "editor").post(reverse("admin:articles_article_change", args=[a.pk]), data))


def photo_library_caption(desk, n):
    """The photo library's own change form."""
    photo = n["photo"]
    _posted(_staff(desk, "chief").post(
        reverse("admin:articles_image_change", args=[photo.pk]),
        {"caption": "图库里改的图说", "credit": "", "alt_text": "", "_save": "1"},
    ))


def person_renamed(desk, n):
    _posted(_staff(desk, "chief").post(
        reverse("admin:articles_person_change", args=[n["reporter"].pk]), {"name": "张帆帆", "user": "", "_save": "1"}
    ))


def editor_renamed(desk, n):
    """The 责任编辑 printed under every story they signed off."""
    editor = Person.objects.get(user=desk["editor"])
    _posted(_staff(desk, "chief").post(
        reverse("admin:articles_person_change", args=[editor.pk]),
        {"name": "钱责任编辑", "user": desk["editor"].pk, "_save": "1"},
    ))


def section_renamed(desk, n):
    _posted(_staff(desk, "chief").post(
        reverse("admin:articles_section_change", args=[n["local"].pk]),
        {"name": "本地新闻", "slug": "local", "position": "1", "_save": "1"},
    ))


def outlet_renamed(desk, n):
    _posted(_staff(desk, "chief").post(
        reverse("admin:articles_outlet_change", args=[n["outlet"].pk]), {"name": "大众日报", "url": "", "_save": "1"}
    ))


def tag_renamed(desk, n):
    from taggit.models import Tag

    tag = Tag.objects.get(name="泉城")
    _posted(_staff(desk, "chief").post(
        reverse("admin:taggit_tag_change", args=[tag.pk]),
        {"name": "泉城济南", "slug": tag.slug, "_save": "1",
         "taggit_taggeditem_items-TOTAL_FORMS": "0", "taggit_taggeditem_items-INITIAL_FORMS": "0"},
    ))


def bulk_sign_off(desk, n):
    """The story list's bulk action."""
    _posted(_staff(desk, "editor").post(
        reverse("admin:articles_article_changelist"),
        {"action": "sign_off_selected", "_selected_action": [n["F"].pk]},
    ))


def step_withdraw(desk, n):
    _posted(_staff(desk, "editor").post(
        reverse("admin:articles_article_step", args=[n["W"].pk, "withdraw"]), {"reason": "稿件有误,撤稿。"}
    ))


def version_restored(desk, n):
    """An earlier version put back from the history page (a correction, since A is live)."""
    story_form_headline(desk, n)
    first = n["A"].revisions.order_by("number").first()
    _posted(_staff(desk, "editor").post(
        reverse("admin:articles_article_restore", args=[n["A"].pk]), {"number": first.number, "note": "恢复原标题。"}
    ))


def command_publish_due(desk, n, time_machine):
    """The scheduled story's time comes and cron records it."""
    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=1))
    call_command("publish_due", stdout=open("/dev/null", "w"))


def command_import_seed(desk, n):
    call_command("import_seed", str(SEED), stdout=open("/dev/null", "w"))


WRITES = [
    story_form_headline,
    story_inline_shared_caption,
    story_inline_byline,
    photo_library_caption,
    person_renamed,
    editor_renamed,
    section_renamed,
    outlet_renamed,
    tag_renamed,
    bulk_sign_off,
    step_withdraw,
    version_restored,
    command_publish_due,
    command_import_seed,
]


# --- the deliveries ------------------------------------------------------------------------------


def _body(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return _NONCE.sub(b'nonce=""', content)


class PageCache:
    """Readers served by Django with its page cache."""

    def __init__(self, settings, tmp_path):
        self.reader = Client()

    def warm(self, urls):
        for url in urls:
            self.reader.get(url)

    def served(self, url):
        response = self.reader.get(url)
        return response.status_code, _body(response)


class StaticFiles(PageCache):
    """nginx sends a file when static publishing has one, else asks Django."""

    def __init__(self, settings, tmp_path):
        super().__init__(settings, tmp_path)
        settings.NEWSROOM_STATIC_PUBLISH_ROOT = self.root = tmp_path / "site"
        settings.NEWSROOM_STATIC_PUBLISH_ORIGIN = "http://testserver"

    def warm(self, urls):
        call_command("static_rebuild", stdout=open("/dev/null", "w"))
        super().warm(urls)

    def served(self, url):
        relative = None if "?" in url else static_publish.relative_file(url)
        if relative is not None and (self.root / relative).is_file():
            return 200, _NONCE.sub(b'nonce=""', (self.root / relative).read_bytes())
        return super().served(url)


class Cdn(PageCache):
    """A CDN in front: it keeps the copy it took of each page until a purge names the page's
    address or one of its surrogate keys."""

    def __init__(self, settings, tmp_path):
        super().__init__(settings, tmp_path)
        self.server = Recorder().start()
        settings.NEWSROOM_CDN_BACKEND = "http-purge"
        settings.NEWSROOM_CDN_PUBLIC_BASE_URL = [PUBLIC]
        settings.NEWSROOM_CDN_PURGE_SERVERS = [self.server.url]
        settings.NEWSROOM_CDN_PURGE_BY = ["urls", "keys"]
        # Behind the CDN the origin keeps its page cache too (an hour: only purges and key
        # bumps refresh a page); with none, every page would be "private, no-cache" and the
        # CDN would keep no copy, so nothing would be tested.
        settings.NEWSROOM_PAGE_CACHE_SECONDS = 3600
        self.copies = {}

    def warm(self, urls):
        for url in urls:
            response = self.reader.get(url)
            control = {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}
            if control & {"private", "no-cache", "no-store"}:
                continue  # a shared cache keeps no copy of it
            keys = set(response.get("Surrogate-Key", "").split())
            self.copies[url] = (response.status_code, _body(response), keys)
        kept = [url for url in urls if url in self.copies]
        assert len(kept) >= len(urls) // 2, f"the CDN kept {len(kept)} of {len(urls)} pages: too few to test purges"

    def served(self, url):
        for request in self.server.requests:
            if request["method"] == "PURGE":
                self.copies.pop(request["path"], None)
            elif request["method"] == "BAN":
                banned = set(request["headers"]["surrogate-key"].split())
                self.copies = {u: copy for u, copy in self.copies.items() if not copy[2] & banned}
        self.server.clear()
        if url in self.copies:
            return self.copies[url][:2]
        return super().served(url)

    def close(self):
        self.server.stop()


class ReadModel(PageCache):
    """No page cache: readers get what the read model (delivery.read_model) stores, which
    their visits before the change filled, else Django."""

    def __init__(self, settings, tmp_path):
        super().__init__(settings, tmp_path)
        settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
        settings.NEWSROOM_READ_MODEL = True
        settings.NEWSROOM_SITE_URL = "http://testserver"
        # One story a page, so every list has older pages (?before=…), stored like the first.
        settings.NEWSROOM_PAGE_SIZE = 1

    def warm(self, urls):
        super().warm(urls)
        stored = StoredPage.objects.count()
        assert stored >= len([url for url in urls if "?" not in url]) // 2, f"only {stored} pages stored"
        if any("?before=" in url for url in urls):
            assert StoredPage.objects.filter(address__contains="?before=").exists(), "no older page of a list was stored"


DELIVERIES = [PageCache, StaticFiles, Cdn, ReadModel]


def every_page(settings):
    urls = [*registry.every_url(), *SEARCHES]
    return urls + other_pages_of_lists(urls, settings)


_PAGE_LINK = re.compile(rb'rel="(?:next|prev)" href="\?((?:before|after)=[^"]+)"')


def other_pages_of_lists(urls, settings):
    """The older and newer pages the lists link to (较早, 较新), followed to the end, as a crawler
    would: with the read model on, each is stored like a first page."""
    found = []
    for first in urls:
        if not first.startswith(("/sections/", "/tags/", "/people/")) or not first.endswith("/"):
            continue
        todo, seen = [first], {first}
        while todo:
            status, body = rendered_now(todo.pop(), settings)
            for query in _PAGE_LINK.findall(body) if status == 200 else ():
                url = f"{first}?{query.decode()}"
                if url not in seen:
                    seen.add(url)
                    found.append(url)
                    todo.append(url)
    return found


def rendered_now(url, settings):
    """The page as Django builds it from the database at this moment, bypassing every copy."""
    kept = settings.NEWSROOM_PAGE_CACHE_SECONDS, settings.NEWSROOM_READ_MODEL
    settings.NEWSROOM_PAGE_CACHE_SECONDS, settings.NEWSROOM_READ_MODEL = 0, False
    try:
        response = Client().get(url)
        return response.status_code, _body(response)
    finally:
        settings.NEWSROOM_PAGE_CACHE_SECONDS, settings.NEWSROOM_READ_MODEL = kept


def _difference(url, served, truth):
    """What a reader would see differently on the first stale page (for the failure message)."""
    if served[0] != truth[0]:
        return f"{url}: served {served[0]}, now {truth[0]}"
    lines = difflib.unified_diff(
        served[1].decode().splitlines(), truth[1].decode().splitlines(), "served", "now", n=0, lineterm=""
    )
    return f"{url}:\n" + "\n".join(list(lines)[:20])


@contextmanager
def committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        yield


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
def test_every_page_showing_a_change_is_fresh_at_once(
    write, delivery, desk, newsroom, settings, tmp_path, django_capture_on_commit_callbacks, time_machine
):
    copies = delivery(settings, tmp_path)
    try:
        before = every_page(settings)
        copies.warm(before)
        with committed(django_capture_on_commit_callbacks):
            if write is command_publish_due:
                write(desk, newsroom, time_machine)
            else:
                write(desk, newsroom)
        stale, first = [], ""
        for url in sorted(set(before) | set(every_page(settings))):
            served, truth = copies.served(url), rendered_now(url, settings)
            if served != truth:
                stale.append(url)
                first = first or _difference(url, served, truth)
        assert stale == [], f"{write.__name__} left stale pages under {delivery.__name__}: {stale}\n{first}"
    finally:
        getattr(copies, "close", lambda: None)()
