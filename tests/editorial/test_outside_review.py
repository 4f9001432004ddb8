"""Outside reviewers: a 责任编辑 sends a named outsider a signed link that expires; the outsider
reads the story as readers would, comments on passages and answers 同意 or 不同意; the desk
sees it in the timeline and beside the story. The link dies at publication, withdrawal or
expiry, is never indexed or cached, and opens nothing but its one story."""

import hashlib
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from editorial import workflow
from editorial.models import OutsideRemark, OutsideReview

from .conftest import PEOPLE, change_form_data, story_in

BODY = "<p>历城区举办论坛。</p><p>区委书记在启动仪式上致辞，称投资达十亿元。</p><p>第三段。</p>"


def _story(people, state="final_review", **fields):
    article = story_in(state, people, **fields)
    Article.objects.filter(pk=article.pk).update(body=BODY)
    return Article.objects.get(pk=article.pk)


def _send(client, article, **overrides):
    data = {"reviewer_name": "张律师", "reviewer_unit": "山东某律师事务所", "email": "", "hours": "72", **overrides}
    return client.post(reverse("admin:articles_article_outside_review", args=[article.pk]), data)


def _link(response):
    """The outsider's path, as the send page shows it once."""
    page = response.content.decode()
    value = page.split('class="outside-link-value"')[0].rsplit('value="', 1)[1].split('"')[0]
    return value.replace("http://testserver", "")


@pytest.fixture
def sent(client, people):
    """A story in final review, sent by the 责任编辑 to a lawyer; returns (story, path)."""
    article = _story(people)
    client.force_login(people["editor"])
    return article, _link(_send(client, article))


def _nothing_kept(before=0):
    return OutsideRemark.objects.count() == before


# --- sending ------------------------------------------------------------------------------


def test_a_responsible_editor_sends_a_named_link_and_only_its_hash_is_kept(client, people):
    article = _story(people)
    client.force_login(people["editor"])
    response = _send(client, article)
    assert response.status_code == 200
    path = _link(response)
    token = path.rstrip("/").rsplit("/", 1)[1]
    review = OutsideReview.objects.get()
    assert (review.article, review.reviewer_name, review.reviewer_unit) == (article, "张律师", "山东某律师事务所")
    assert review.sent_by == people["editor"] and review.sent_by_name == "钱责编"
    assert review.version == article.version
    assert review.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert token not in str(OutsideReview.objects.values().get())
    assert review.expires_at - review.created_at == timedelta(hours=72)
    assert "只保存" in response.content.decode() or "不能再次显示" in response.content.decode()


def test_the_link_is_mailed_to_the_reviewer_when_an_email_is_given(client, people, mailoutbox, django_capture_on_commit_callbacks):
    article = _story(people, headline="请律师看稿")
    client.force_login(people["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        path = _link(_send(client, article, email="lawyer@example.com"))
    (mail,) = mailoutbox
    assert mail.to == ["lawyer@example.com"]
    assert "请律师看稿" in mail.subject
    assert path in mail.body and "张律师" in mail.body
    assert path in mail.alternatives[0][0]


def test_no_mail_is_sent_without_an_email(client, people, mailoutbox, django_capture_on_commit_callbacks):
    article = _story(people)
    client.force_login(people["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, article)
    assert OutsideReview.objects.count() == 1
    assert mailoutbox == []


@pytest.mark.parametrize("person", PEOPLE)
def test_only_a_responsible_editor_or_the_chief_may_send_a_link(client, people, person):
    article = _story(people)
    client.force_login(people[person])
    page = client.get(reverse("admin:articles_article_outside_review", args=[article.pk]))
    response = _send(client, article)
    change = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    send_button = reverse("admin:articles_article_outside_review", args=[article.pk])
    if person in {"editor", "chief"}:
        assert page.status_code == response.status_code == 200
        assert OutsideReview.objects.count() == 1
        assert send_button in change
    else:
        # A reporter who did not write it never learns the story exists (404); everyone else is refused (403).
        assert page.status_code == response.status_code == (404 if person in {"other_reporter", "outsider"} else 403)
        assert OutsideReview.objects.count() == 0
        assert send_button not in change


def test_a_refused_link_is_explained_and_nothing_is_kept(client, people):
    article = _story(people)
    client.force_login(people["writer"])
    response = _send(client, article)
    assert response.status_code == 403
    assert "只有责任编辑或总编辑可以将稿件送外审" in response.content.decode()
    assert OutsideReview.objects.count() == 0


@pytest.mark.parametrize("state", ["published", "withdrawn"])
def test_a_live_or_withdrawn_story_cannot_be_sent(client, people, state):
    article = _story(people, state)
    client.force_login(people["chief"])
    response = _send(client, article)
    assert response.status_code == 400
    assert "已发布、已撤稿或在回收站中的稿件不能送外审" in response.content.decode()
    assert OutsideReview.objects.count() == 0


def test_a_link_needs_the_reviewers_name_and_unit(client, people):
    article = _story(people)
    client.force_login(people["editor"])
    response = _send(client, article, reviewer_name="  ", reviewer_unit="")
    assert response.status_code == 400
    assert "这个字段是必填项" in response.content.decode()
    assert OutsideReview.objects.count() == 0


# --- reading ------------------------------------------------------------------------------


def test_the_outsider_reads_the_story_as_readers_would_see_it(sent):
    article, path = sent
    response = Client().get(path)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 class="headline">{article.headline}</h1>' in page
    assert "区委书记在启动仪式上致辞" in page
    assert "外审" in page and "张律师" in page
    assert 'name="kind" value="comment"' in page and 'value="disagree"' in page
    assert "editorial/outside_review.js" in page


def test_the_outsiders_page_is_never_indexed_or_cached(sent):
    article, path = sent
    response = Client().get(path)
    assert "noindex" in response["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow, noarchive">' in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    # Nothing of it reached the readers' page cache: the story's own address is still not found.
    assert Client().get(article.get_absolute_url()).status_code == 404


def test_the_outsider_reads_the_version_the_link_was_made_for(client, people, sent):
    article, path = sent
    client.force_login(people["editor"])
    client.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, headline="改过的标题", body=BODY))
    assert Article.objects.get(pk=article.pk).headline == "改过的标题"
    page = Client().get(path).content.decode()
    assert article.headline in page and "改过的标题" not in page


# --- what the outsider says ----------------------------------------------------------------


def test_a_comment_on_a_passage_reaches_the_timeline_and_the_side_panel(client, people, sent):
    article, path = sent
    outsider = Client()
    response = outsider.post(path, {"kind": "comment", "passage": "投资达十亿元", "paragraph": "2", "text": "金额请再核实，合同写的是九亿元。"})
    assert response.status_code == 302
    remark = OutsideRemark.objects.get()
    assert (remark.kind, remark.passage, remark.paragraph, remark.version) == ("comment", "投资达十亿元", 2, article.version)
    assert "金额请再核实" in outsider.get(response["Location"]).content.decode()

    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    timeline = page.split('id="timeline-title"')[1]
    assert "张律师" in timeline and "投资达十亿元" in timeline and "金额请再核实" in timeline
    assert "钱责编" in timeline and "送外审" in timeline
    panel = page.split('class="outside-review-panel"')[1].split("</aside>")[0]
    assert "第 2 段" in panel and "“投资达十亿元”" in panel and "合同写的是九亿元" in panel


@pytest.mark.parametrize("paragraph", ["", "0", "²", "-3", "abc", "99999999"])
def test_a_paragraph_number_that_is_not_one_is_left_out(sent, paragraph):
    _, path = sent
    assert Client().post(path, {"kind": "comment", "text": "意见", "paragraph": paragraph}).status_code == 302
    assert OutsideRemark.objects.get().paragraph is None


def test_a_comment_in_the_newsrooms_time_zone(client, people, sent, time_machine):
    article, path = sent
    time_machine.move_to(datetime(2026, 5, 15, 8, 8, tzinfo=dt_timezone.utc), tick=False)
    Client().post(path, {"kind": "comment", "text": "好"})
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "2026年5月15日 16:08" in page.split('class="outside-review-panel"')[1]


def test_agree_and_disagree_with_a_reason_appear_as_answers(client, people, sent):
    article, path = sent
    outsider = Client()
    assert outsider.post(path, {"kind": "agree", "text": ""}).status_code == 302
    assert outsider.post(path, {"kind": "disagree", "text": "第二段的金额与合同不符。"}).status_code == 302
    assert list(OutsideRemark.objects.values_list("kind", flat=True)) == ["agree", "disagree"]
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    timeline = page.split('id="timeline-title"')[1]
    assert "outside-answer-agree" in timeline and "outside-answer-disagree" in timeline
    panel = page.split('class="outside-review-panel"')[1].split("</aside>")[0]
    assert "不同意" in panel and "第二段的金额与合同不符" in panel  # the latest answer counts


def test_disagree_without_a_reason_is_refused_and_nothing_is_kept(sent):
    article, path = sent
    response = Client().post(path, {"kind": "disagree", "text": "  "})
    assert response.status_code == 400
    assert "请说明不同意的理由" in response.content.decode()
    assert f'<h1 class="headline">{article.headline}</h1>' in response.content.decode()  # the page is back, with the story
    assert _nothing_kept()


def test_a_comment_without_text_or_an_unknown_answer_is_refused(sent):
    _, path = sent
    outsider = Client()
    assert outsider.post(path, {"kind": "comment", "passage": "投资达十亿元", "text": ""}).status_code == 400
    response = outsider.post(path, {"kind": "maybe", "text": "随便"})
    assert response.status_code == 400 and "请选择同意或不同意" in response.content.decode()
    assert _nothing_kept()


def test_the_comment_form_works_with_the_newsrooms_csrf_check(sent):
    _, path = sent
    outsider = Client(enforce_csrf_checks=True)
    page = outsider.get(path).content.decode()
    csrf = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert outsider.post(path, {"kind": "comment", "text": "无 token"}).status_code == 403
    assert outsider.post(path, {"kind": "comment", "text": "有 token", "csrfmiddlewaretoken": csrf}).status_code == 302
    assert list(OutsideRemark.objects.values_list("text", flat=True)) == ["有 token"]


# --- when the link dies --------------------------------------------------------------------


def _is_gone(path, words):
    outsider = Client()
    response = outsider.get(path)
    page = response.content.decode()
    assert response.status_code == 410
    assert words in page
    assert "noindex" in response["X-Robots-Tag"] and "no-store" in response["Cache-Control"]
    assert '<meta name="robots"' in page
    refused = outsider.post(path, {"kind": "comment", "text": "晚到的意见"})
    assert refused.status_code == 410
    assert _nothing_kept()


def test_the_link_dies_at_publication(people, sent):
    article, path = sent
    workflow.sign_off(article, actor=people["editor"])
    _is_gone(path, "稿件已发布，审阅链接已关闭")


def test_the_link_dies_when_a_scheduled_story_goes_live(people, sent, time_machine):
    article, path = sent
    time_machine.move_to(timezone.now(), tick=False)
    workflow.sign_off(article, actor=people["editor"], publish_at=timezone.now() + timedelta(hours=1))
    assert Client().get(path).status_code == 200  # scheduled: not published yet
    time_machine.shift(timedelta(hours=1, seconds=1))
    _is_gone(path, "稿件已发布，审阅链接已关闭")


def test_the_link_dies_at_withdrawal(people, sent):
    article, path = sent
    workflow.sign_off(article, actor=people["editor"])
    workflow.withdraw(article, actor=people["editor"], reason="撤稿")
    _is_gone(path, "稿件已撤回，审阅链接已关闭")


def test_the_link_dies_at_expiry(sent, time_machine):
    _, path = sent
    time_machine.move_to(timezone.now(), tick=False)
    time_machine.shift(timedelta(hours=71))
    assert Client().get(path).status_code == 200
    time_machine.shift(timedelta(hours=1))
    _is_gone(path, "审阅链接已过期")


def test_a_shorter_link_dies_sooner(client, people, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    article = _story(people)
    client.force_login(people["editor"])
    path = _link(_send(client, article, hours="2"))
    time_machine.shift(timedelta(hours=2))
    assert Client().get(path).status_code == 410


# --- one story, nothing else ---------------------------------------------------------------


def test_a_made_up_or_altered_token_opens_nothing(sent):
    _, path = sent
    token = path.rstrip("/").rsplit("/", 1)[1]
    outsider = Client()
    assert outsider.get(path[:-4] + "xyz/").status_code == 404
    assert outsider.get(reverse("editorial:outside_review", args=["abc"])).status_code == 404
    # A properly signed token of another kind (a plain share link) is not a reviewer's token.
    from editorial.views import share_token

    other = share_token(Article.objects.get())
    assert outsider.get(reverse("editorial:outside_review", args=[other])).status_code == 404
    assert outsider.get(reverse("editorial:shared", args=[token])).status_code == 404
    assert outsider.post(path[:-4] + "xyz/", {"kind": "comment", "text": "x"}).status_code == 404
    assert _nothing_kept()


def test_the_token_opens_its_own_story_and_no_other(people, sent):
    article, path = sent
    other = _story(people, headline="另一篇未发稿件")
    outsider = Client()
    page = outsider.get(path, {"pk": other.pk, "article": other.pk, "version": 1}).content.decode()
    assert article.headline in page and "另一篇未发稿件" not in page
    outsider.post(path, {"kind": "comment", "text": "意见", "article": other.pk, "review": 999})
    remark = OutsideRemark.objects.get()
    assert remark.review.article == article
    assert not OutsideReview.objects.filter(article=other).exists()
    # The other story's own addresses stay closed to the link holder.
    assert outsider.get(other.get_absolute_url()).status_code == 404
    assert outsider.get(reverse("admin:articles_article_preview", args=[other.pk])).status_code == 302


def test_the_token_holder_cannot_reach_the_admin_or_list_anything(sent):
    _, path = sent
    outsider = Client()
    outsider.get(path)
    for address in [
        reverse("admin:index"),
        reverse("admin:articles_article_changelist"),
        reverse("admin:articles_article_change", args=[OutsideReview.objects.get().article_id]),
        reverse("admin:articles_article_outside_review", args=[OutsideReview.objects.get().article_id]),
    ]:
        response = outsider.get(address)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert outsider.get("/review/outside/").status_code == 404
    assert outsider.get("/review/").status_code == 404


def test_the_outsider_sees_only_their_own_remarks(client, people):
    article = _story(people)
    client.force_login(people["editor"])
    lawyer = _link(_send(client, article))
    expert = _link(_send(client, article, reviewer_name="李教授", reviewer_unit="山东大学"))
    Client().post(lawyer, {"kind": "comment", "text": "律师的意见"})
    page = Client().get(expert).content.decode()
    assert "李教授" in page and "律师的意见" not in page
