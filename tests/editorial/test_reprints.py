"""转载: the approved source list is the chief editor's; a reprint names its original and the
editor who reprinted it; a reprint from an outlet off the list, or under a headline of its own
the chief has not approved, is refused at sign-off and nothing changes; readers' pages, JSON-LD
and feeds name the source of a reprint, and an original prints as it always did."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Outlet, Person
from editorial import reprints, workflow
from editorial.models import ReviewEvent

from .conftest import PEOPLE, change_form_data, state_of, story_in

ATOM = "{http://www.w3.org/2005/Atom}"
NOT_ON_LIST = "“新浪网”不在可转载稿源名单上，转载自该来源的稿件不能签发。名单由总编辑维护。"
HEADLINE_NEEDS_CHIEF = "标题与原标题“济南泉水持续喷涌”不同，须经总编辑批准才能签发。"


@pytest.fixture
def approved(db):
    return Outlet.objects.create(name="齐鲁网", url="https://www.iqilu.example/", kind=Outlet.Kind.PROVINCIAL, may_reprint=True)


@pytest.fixture
def unapproved(db):
    return Outlet.objects.create(name="新浪网", url="https://news.sina.example/", kind=Outlet.Kind.COMMERCIAL)


def reprint_of(outlet, **fields):
    """The fields of a complete reprint from `outlet`, its headline the original's."""
    return {
        "origin": Article.Origin.REPRINT,
        "outlet": outlet,
        "headline": "济南泉水持续喷涌",
        "original_headline": "济南泉水持续喷涌",
        "original_author": "刘原作",
        "original_url": "https://www.iqilu.example/news/2018/quanshui.shtml",
        "original_published_at": timezone.now() - timedelta(hours=3),
        **fields,
    }


def _as(client, user):
    client.force_login(user)
    return client


def _sign_off(client, article, follow=True):
    return client.post(reverse("admin:articles_article_step", args=[article.pk, "sign_off"]), follow=follow)


def _page_text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# --- the approved source list belongs to the chief editor ---------------------------------


OUTLET_CHANGE = {
    # person: (may open the outlet's change page, may put it on the approved list)
    "writer": (False, False),
    "other_reporter": (False, False),
    "reviewer": (True, False),
    "editor": (True, False),
    "chief": (True, True),
    "outsider": (False, False),
}


@pytest.mark.parametrize("person", PEOPLE)
def test_only_the_chief_editor_puts_an_outlet_on_the_approved_source_list(client, people, unapproved, person):
    """Everyone else's crafted POST leaves the flag as it was (the field is read-only for them)."""
    may_open, may_approve = OUTLET_CHANGE[person]
    _as(client, people[person])
    url = reverse("admin:articles_outlet_change", args=[unapproved.pk])
    response = client.post(url, {"name": "新浪网", "url": unapproved.url, "kind": "commercial", "may_reprint": "on"})
    unapproved.refresh_from_db()
    assert unapproved.may_reprint is may_approve
    if may_open:
        assert response.status_code == 302
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("person", ["reviewer", "editor"])
def test_an_editor_sees_the_flag_but_cannot_set_it(client, people, unapproved, person):
    html = _as(client, people[person]).get(reverse("admin:articles_outlet_change", args=[unapproved.pk])).content.decode()
    assert "列入可转载稿源名单" in html
    assert 'name="may_reprint"' not in html


def test_the_chief_editor_takes_an_outlet_off_the_list(client, people, approved):
    _as(client, people["chief"]).post(
        reverse("admin:articles_outlet_change", args=[approved.pk]),
        {"name": approved.name, "url": approved.url, "kind": "provincial"},
    )
    approved.refresh_from_db()
    assert approved.may_reprint is False


def test_an_outlet_added_by_an_editor_is_off_the_list_whatever_the_form_says(client, people):
    response = _as(client, people["editor"]).post(
        reverse("admin:articles_outlet_add"), {"name": "某某号", "kind": "commercial", "may_reprint": "on"}
    )
    assert response.status_code == 302
    outlet = Outlet.objects.get(name="某某号")
    assert outlet.kind == Outlet.Kind.COMMERCIAL
    assert outlet.may_reprint is False


def test_an_outlet_form_sent_without_a_kind_keeps_the_outlets(client, people, approved):
    _as(client, people["editor"]).post(reverse("admin:articles_outlet_change", args=[approved.pk]), {"name": "齐鲁网", "url": ""})
    approved.refresh_from_db()
    assert approved.kind == Outlet.Kind.PROVINCIAL and approved.url == "" and approved.may_reprint is True


def test_the_outlet_list_shows_kind_and_approval_and_filters_by_them(client, people, approved, unapproved):
    _as(client, people["chief"])
    html = client.get(reverse("admin:articles_outlet_changelist")).content.decode()
    assert "省级新闻单位" in html and "商业网站" in html
    listed = client.get(reverse("admin:articles_outlet_changelist") + "?may_reprint__exact=1").content.decode()
    assert "齐鲁网" in listed and "新浪网" not in listed


# --- marking a story as a reprint ---------------------------------------------------------


def test_a_reprint_without_outlet_original_headline_or_address_is_refused_field_by_field(client, people):
    article = story_in("first_review", people)
    before = state_of(article)
    data = change_form_data(article, origin="reprint", original_author="刘原作")
    response = _as(client, people["reviewer"]).post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["outlet"] == ["转载稿须注明来源单位。"]
    assert errors["original_headline"] == ["转载稿须填写原标题。"]
    assert errors["original_url"] == ["转载稿须填写原文地址。"]
    assert state_of(article) == before
    assert Article.objects.get(pk=article.pk).origin == Article.Origin.ORIGINAL


def test_an_original_publication_time_in_the_future_is_refused(client, people, approved):
    article = story_in("first_review", people)
    before = state_of(article)
    tomorrow = timezone.localtime() + timedelta(days=1)
    data = change_form_data(
        article,
        origin="reprint",
        outlet=approved.pk,
        original_headline="原标题",
        original_url="https://www.iqilu.example/a.shtml",
        original_published_at_0=f"{tomorrow:%Y-%m-%d}",
        original_published_at_1=f"{tomorrow:%H:%M:%S}",
    )
    response = _as(client, people["reviewer"]).post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.context["adminform"].form.errors["original_published_at"] == ["原文发布时间不能晚于现在。"]
    assert state_of(article) == before


def test_marking_a_reprint_records_the_editor_who_did_it_under_their_real_name(client, people, approved):
    article = story_in("first_review", people)
    data = change_form_data(
        article,
        origin="reprint",
        outlet=approved.pk,
        original_headline="济南泉水持续喷涌",
        original_author="刘原作",
        original_url="https://www.iqilu.example/news/2018/quanshui.shtml",
        original_published_at_0="2018-05-15",
        original_published_at_1="09:06:00",
    )
    response = _as(client, people["reviewer"]).post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.is_reprint
    assert article.reprinted_by.name == "赵初审"
    assert article.reprinted_by.user == people["reviewer"]
    # Entered in the newsroom's time: 09:06 in Shanghai is 01:06 UTC.
    assert article.original_published_at.astimezone(timezone.get_default_timezone()).strftime("%H:%M") == "09:06"
    latest = article.revisions.order_by("-number").first()
    assert latest.data["origin"] == "reprint" and latest.data["original_headline"] == "济南泉水持续喷涌"


def test_the_reprinting_editor_can_be_named_by_hand(client, people, approved):
    article = story_in("first_review", people)
    named = Person.objects.create(name="周转载")
    data = change_form_data(
        article,
        origin="reprint",
        outlet=approved.pk,
        original_headline="原标题",
        original_url="https://www.iqilu.example/a.shtml",
        reprinted_by=named.pk,
    )
    _as(client, people["reviewer"]).post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert Article.objects.get(pk=article.pk).reprinted_by == named


def test_a_form_sent_without_the_origin_keeps_the_story_original(client, people):
    article = story_in("first_review", people)
    data = change_form_data(article, headline="改过的标题")
    data.pop("origin", None)
    response = _as(client, people["reviewer"]).post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.headline == "改过的标题" and article.origin == Article.Origin.ORIGINAL


# --- sign-off: the approved source list -------------------------------------------------------


def test_a_reprint_from_an_outlet_off_the_list_is_refused_at_sign_off_and_nothing_changes(client, people, unapproved):
    article = story_in("final_review", people, **reprint_of(unapproved))
    before = state_of(article)
    response = _sign_off(_as(client, people["editor"]), article)
    assert NOT_ON_LIST in _page_text(response)
    assert state_of(article) == before
    assert not ReviewEvent.objects.filter(article=article, action=ReviewEvent.Action.SIGNED_OFF).exists()


def test_not_even_the_chief_signs_off_a_reprint_from_an_outlet_off_the_list(client, people, unapproved):
    article = story_in("final_review", people, **reprint_of(unapproved))
    before = state_of(article)
    response = _sign_off(_as(client, people["chief"]), article)
    assert NOT_ON_LIST in _page_text(response)
    assert state_of(article) == before


def test_scheduling_a_reprint_from_an_outlet_off_the_list_is_refused_too(client, people, unapproved):
    article = story_in("final_review", people, **reprint_of(unapproved))
    before = state_of(article)
    _as(client, people["editor"]).post(
        reverse("admin:articles_article_step", args=[article.pk, "sign_off"]), {"publish_at": "2099-01-01T08:00"}
    )
    assert state_of(article) == before


def test_the_bulk_sign_off_reports_the_refusal_and_moves_nothing(client, people, unapproved):
    article = story_in("final_review", people, **reprint_of(unapproved))
    before = state_of(article)
    response = _as(client, people["editor"]).post(
        reverse("admin:articles_article_changelist"),
        {"action": "sign_off_selected", "_selected_action": [article.pk], "index": "0"},
        follow=True,
    )
    assert NOT_ON_LIST in _page_text(response)
    assert state_of(article) == before


def test_once_the_chief_approves_the_outlet_the_reprint_is_signed_off(client, people, unapproved):
    article = story_in("final_review", people, **reprint_of(unapproved))
    _as(client, people["chief"]).post(
        reverse("admin:articles_outlet_change", args=[unapproved.pk]),
        {"name": unapproved.name, "url": unapproved.url, "kind": "commercial", "may_reprint": "on"},
    )
    _sign_off(_as(client, people["editor"]), article)
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.responsible_editor.name == "钱责编"


def test_an_incomplete_reprint_is_refused_at_sign_off(client, people, approved):
    """A reprint that reached final review without its original address (an import, say)."""
    article = story_in("final_review", people, **reprint_of(approved, original_url=""))
    before = state_of(article)
    response = _sign_off(_as(client, people["editor"]), article)
    assert "转载稿须填写原文地址。" in _page_text(response)
    assert state_of(article) == before


def test_an_original_story_from_an_outlet_off_the_list_is_signed_off_as_before(client, people, unapproved):
    article = story_in("final_review", people, outlet=unapproved)
    _sign_off(_as(client, people["editor"]), article)
    assert Article.objects.get(pk=article.pk).status == Article.Status.PUBLISHED


def test_the_change_page_says_beforehand_why_the_reprint_cannot_be_signed_off(client, people, unapproved):
    article = story_in("final_review", people, **reprint_of(unapproved))
    html = _page_text(_as(client, people["editor"]).get(reverse("admin:articles_article_change", args=[article.pk])))
    assert "来源：新浪网（商业网站），" in html
    assert "不在可转载稿源名单上" in html
    assert "这篇转载稿暂不能签发：" in html and NOT_ON_LIST in html
    assert "转载编辑" in html


# --- sign-off: a headline of its own needs the chief editor ------------------------------------


def test_a_changed_headline_without_the_chiefs_approval_is_refused_at_sign_off(client, people, approved):
    article = story_in("final_review", people, **reprint_of(approved, headline="泉水复涌 游客如织"))
    before = state_of(article)
    response = _sign_off(_as(client, people["editor"]), article)
    assert HEADLINE_NEEDS_CHIEF in _page_text(response)
    assert state_of(article) == before


def test_the_chief_approves_a_changed_headline_and_the_history_keeps_both_headlines(client, people, approved):
    article = story_in("final_review", people, **reprint_of(approved, headline="泉水复涌 游客如织"))
    response = _as(client, people["chief"]).post(
        reverse("admin:articles_article_approve_headline", args=[article.pk]), {"note": "标题更贴近本地读者"}, follow=True
    )
    assert "已批准这篇转载稿使用标题“泉水复涌 游客如织”。" in _page_text(response)
    event = ReviewEvent.objects.get(article=article, action=ReviewEvent.Action.HEADLINE_APPROVED)
    assert event.actor == people["chief"] and event.actor_name == "孙总编"
    assert event.note == "原标题:济南泉水持续喷涌\n改后标题:泉水复涌 游客如织\n标题更贴近本地读者"
    assert event.from_status == event.to_status == Article.Status.FINAL_REVIEW
    timeline = _page_text(client.get(reverse("admin:articles_article_change", args=[article.pk])))
    assert "总编辑批准转载稿改标题" in timeline and "改后标题:泉水复涌 游客如织" in timeline
    assert "标题已由孙总编批准" in timeline

    _sign_off(_as(client, people["editor"]), article)
    assert Article.objects.get(pk=article.pk).status == Article.Status.PUBLISHED


@pytest.mark.parametrize("person", ["writer", "reviewer", "editor", "outsider"])
def test_only_the_chief_editor_approves_a_changed_headline(client, people, approved, person):
    article = story_in("final_review", people, **reprint_of(approved, headline="泉水复涌 游客如织"))
    before = state_of(article)
    response = _as(client, people[person]).post(
        reverse("admin:articles_article_approve_headline", args=[article.pk]), follow=True
    )
    if person == "outsider":
        assert response.status_code == 404  # no newsroom role: the story is not theirs to see
    else:
        assert "只有总编辑可以批准转载稿修改标题。" in _page_text(response)
    assert state_of(article) == before
    assert Article.objects.get(pk=article.pk).headline_change_approved is False


def test_only_the_chief_is_offered_the_approval(client, people, approved):
    article = story_in("final_review", people, **reprint_of(approved, headline="泉水复涌 游客如织"))
    url = reverse("admin:articles_article_change", args=[article.pk])
    editor_page = _page_text(_as(client, people["editor"]).get(url))
    assert "修改后的标题等待总编辑批准。" in editor_page and "批准此标题" not in editor_page
    chief_page = _page_text(_as(client, people["chief"]).get(url))
    assert "批准此标题" in chief_page


def test_there_is_nothing_to_approve_when_the_headline_is_the_originals(client, people, approved):
    article = story_in("final_review", people, **reprint_of(approved))
    before = state_of(article)
    response = _as(client, people["chief"]).post(
        reverse("admin:articles_article_approve_headline", args=[article.pk]), follow=True
    )
    assert "这篇稿件不是改了标题的转载稿，无需批准。" in _page_text(response)
    assert state_of(article) == before


def test_a_headline_changed_again_after_approval_needs_approving_again(client, people, approved):
    article = story_in("final_review", people, **reprint_of(approved, headline="泉水复涌 游客如织"))
    reprints.approve_headline(article, actor=people["chief"])
    article.refresh_from_db()
    data = change_form_data(
        article,
        origin="reprint",
        outlet=approved.pk,
        headline="泉水复涌 市民点赞",
        original_headline=article.original_headline,
        original_author=article.original_author,
        original_url=article.original_url,
    )
    response = _as(client, people["editor"]).post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.headline == "泉水复涌 市民点赞" and not article.headline_change_approved
    # Changing it back to the approved headline does not bring the approval back.
    article.headline = "泉水复涌 游客如织"
    article.save()
    assert not Article.objects.get(pk=article.pk).headline_change_approved
    before = state_of(article)
    response = _sign_off(client, article)
    assert HEADLINE_NEEDS_CHIEF in _page_text(response)
    assert state_of(article) == before


# --- what readers see ---------------------------------------------------------------------------


def _published_reprint(people, outlet, **fields):
    article = story_in("final_review", people, **reprint_of(outlet, **fields))
    if article.headline_differs_from_original:
        reprints.approve_headline(article, actor=people["chief"])
    workflow.sign_off(article, actor=people["editor"])
    return Article.objects.get(pk=article.pk)


def test_a_reprint_prints_its_source_original_headline_and_original_author(client, people, approved):
    article = _published_reprint(people, approved, headline="泉水复涌 游客如织", author_line="本网编辑")
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<span class="source">来源: <a href="https://www.iqilu.example/" rel="noopener">齐鲁网</a></span>' in html
    assert (
        '<span class="original-headline">原标题:<a href="https://www.iqilu.example/news/2018/quanshui.shtml" '
        'rel="noopener nofollow">济南泉水持续喷涌</a></span>'
    ) in html
    assert '<span class="original-author">原作者:刘原作</span>' in html


def test_a_reprint_under_its_original_headline_and_author_prints_neither_again(client, people, approved):
    article = _published_reprint(people, approved, author_line="刘原作")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "来源: " in html
    assert "原标题" not in html and "原作者" not in html


def test_a_reprints_json_ld_names_the_original_and_its_outlet(client, people, approved):
    article = _published_reprint(people, approved, headline="泉水复涌 游客如织")
    html = client.get(article.get_absolute_url()).content.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["sourceOrganization"] == {"@type": "NewsMediaOrganization", "name": "齐鲁网", "url": "https://www.iqilu.example/"}
    based_on = data["isBasedOn"]
    assert based_on["headline"] == "济南泉水持续喷涌"
    assert based_on["url"] == "https://www.iqilu.example/news/2018/quanshui.shtml"
    assert based_on["author"] == {"@type": "Person", "name": "刘原作"}
    assert based_on["datePublished"] == article.original_published_at.isoformat()
    assert data["headline"] == "泉水复涌 游客如织"


def test_an_originals_json_ld_has_no_source(client, people, approved):
    article = story_in("published", people, outlet=approved)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "isBasedOn" not in html and "sourceOrganization" not in html and "原标题" not in html


def test_feeds_carry_the_source_of_a_reprint_and_none_for_an_original(client, people, approved):
    reprint = _published_reprint(people, approved, headline="泉水复涌 游客如织")
    story_in("published", people, headline="本网原创稿", outlet=approved)

    rss = ET.fromstring(client.get("/feeds/rss.xml").content)
    items = {item.findtext("title"): item for item in rss.iter("item")}
    source = items[reprint.headline].find("source")
    assert source.text == "齐鲁网" and source.get("url") == "https://www.iqilu.example/"
    assert items["本网原创稿"].find("source") is None

    atom = ET.fromstring(client.get("/feeds/atom.xml").content)
    entries = {entry.findtext(f"{ATOM}title"): entry for entry in atom.iter(f"{ATOM}entry")}
    entry = entries[reprint.headline]
    via = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "via"]
    assert via[0].get("href") == "https://www.iqilu.example/news/2018/quanshui.shtml"
    assert via[0].get("title") == "济南泉水持续喷涌"
    assert entry.find(f"{ATOM}source").findtext(f"{ATOM}title") == "齐鲁网"
    assert entries["本网原创稿"].find(f"{ATOM}source") is None


def test_versions_compare_shows_a_story_becoming_a_reprint(client, people, approved):
    article = story_in("first_review", people)
    data = change_form_data(
        article, origin="reprint", outlet=approved.pk, original_headline="原来的标题", original_url="https://www.iqilu.example/a.shtml"
    )
    _as(client, people["reviewer"]).post(reverse("admin:articles_article_change", args=[article.pk]), data)
    article.refresh_from_db()
    html = _page_text(client.get(reverse("admin:articles_article_compare", args=[article.pk])))
    assert "原创/转载" in html and "原标题" in html and "原来的标题" in html


def test_the_demo_site_reprints_from_listed_outlets_with_approved_headlines(client, db):
    from django.core.management import call_command

    call_command("generate_demo_stories", "40", stdout=open("/dev/null", "w"))
    assert set(Outlet.objects.filter(may_reprint=False).values_list("name", flat=True)) == {"泉城资讯网"}
    stories = Article.objects.published()
    reprints_shown = stories.filter(origin=Article.Origin.REPRINT)
    assert reprints_shown.exists() and stories.filter(origin=Article.Origin.ORIGINAL, outlet__name="大众网").exists()
    assert not stories.filter(origin=Article.Origin.ORIGINAL).exclude(outlet__name="大众网").exists()
    for story in reprints_shown:
        assert reprints.sign_off_problems(story) == []
        assert story.original_url.startswith("https://") and story.original_published_at < story.published_at
    retitled = [story for story in reprints_shown if story.headline_differs_from_original]
    assert retitled
    event = ReviewEvent.objects.get(article=retitled[0], action=ReviewEvent.Action.HEADLINE_APPROVED)
    assert event.actor_name == "演示总编" and retitled[0].original_headline in event.note
    html = client.get(retitled[0].get_absolute_url()).content.decode()
    assert f"原标题:<a href=\"{retitled[0].original_url}\"" in html
