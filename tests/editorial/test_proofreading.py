"""三校 and 差错率: each review stage records what its proofreading found, by kind, and the
characters read; a correction after publication counts the errors that escaped; the admin's
report gives the rate per 10,000 characters per desk, editor and month against 万分之三, as
a chart, tables and a CSV, to the chief and the editors only."""

import csv
import io
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Correction, Section
from editorial import workflow
from editorial.error_rate import build
from editorial.models import ProofreadingRecord, ReviewEvent
from editorial.proofreading import Proofread, character_count

from .conftest import change_form_data, state_of, story_in

pytestmark = pytest.mark.django_db
Stage = ProofreadingRecord.Stage
REPORT = "admin:articles_article_error_rate"
CSV = "admin:articles_article_error_rate_csv"


def step(client, article, name, **data):
    return client.post(reverse("admin:articles_article_step", args=[article.pk, name]), data)


def records(article, stage=None):
    found = ProofreadingRecord.objects.filter(article=article)
    return found.filter(stage=stage) if stage else found


def in_first_review(people, body):
    """A story with `body`, submitted by its writer."""
    article = Article.objects.create(headline="有正文的稿件", body=body, created_by=people["writer"])
    workflow.submit(article, actor=people["writer"])
    return Article.objects.get(pk=article.pk)


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


# --- counting characters ---------------------------------------------------------------------


def test_the_character_count_reads_the_body_text_without_markup_or_white_space():
    story = Article(body="<p>大众网济南5月15日讯，&ldquo;历城&rdquo;论坛。</p>\n<p><strong>开讲</strong> 了</p>")
    assert character_count(story) == len("大众网济南5月15日讯，“历城”论坛。开讲了")


# --- the review steps record their proofreading ----------------------------------------------


def test_passing_first_review_records_the_errors_found_by_kind_and_the_characters_read(client, people):
    article = story_in("first_review", people)
    client.force_login(people["reviewer"])
    response = step(client, article, "pass_first_review", **{"proof-typo": "2", "proof-punctuation": "1", "proof-names": "1", "proof-characters": "1200"})
    assert response.status_code == 302
    (record,) = records(article)
    assert record.stage == Stage.FIRST_REVIEW
    assert (record.typo, record.punctuation, record.names, record.fact, record.errors) == (2, 1, 1, 0, 4)
    assert record.characters == 1200
    assert record.editor.user == people["reviewer"] and record.editor_name == "赵初审"
    assert record.event == ReviewEvent.objects.get(article=article, action=ReviewEvent.Action.PASSED)


def test_a_stage_left_empty_records_no_errors_and_the_story_character_count(client, people):
    article = in_first_review(people, "<p>这是一篇共有十六个字的稿件正文。</p>")
    client.force_login(people["reviewer"])
    step(client, article, "pass_first_review")
    (record,) = records(article)
    assert (record.errors, record.characters) == (0, 16)


def test_signing_off_records_the_final_review_proofreading(client, people):
    article = story_in("final_review", people)
    client.force_login(people["editor"])
    step(client, article, "sign_off", **{"proof-fact": "1", "proof-number": "2", "proof-characters": "800"})
    record = records(article, Stage.FINAL_REVIEW).get()
    assert (record.fact, record.number, record.characters) == (1, 2, 800)
    assert record.editor.user == people["editor"]
    assert record.event.action == ReviewEvent.Action.SIGNED_OFF
    assert records(article, Stage.FIRST_REVIEW).count() == 1  # story_in passed it at first review


def test_the_change_page_asks_each_review_step_for_its_proofreading(client, people):
    article = in_first_review(people, "<p>十个字的稿件正文内容。</p>")
    client.force_login(people["reviewer"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    form = page[page.index('class="step step-pass_first_review"') : page.index("</form>", page.index("step-pass_first_review"))]
    assert "初审校对" in form
    for label in ["错别字", "标点", "语法", "事实", "数字", "人名地名", "政治性差错", "其他", "审读字数"]:
        assert label in form, label
    assert 'name="proof-typo"' in form
    assert 'placeholder="11"' in form and "留空即按正文11字计" in form  # 十个字的稿件正文内容。
    assert '<label for="id_pass_first_review_proof-typo">错别字<input' in form


def test_a_sign_off_asked_to_confirm_a_past_time_keeps_its_proofreading(client, people):
    article = story_in("final_review", people)
    client.force_login(people["editor"])
    past = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = step(client, article, "sign_off", publish_at=past, **{"proof-typo": "3"}).content.decode()
    assert '<input type="hidden" name="proof-typo" value="3">' in page
    assert not records(article, Stage.FINAL_REVIEW).exists()
    step(client, article, "sign_off", publish_at=past, publish_now="1", **{"proof-typo": "3"})
    assert records(article, Stage.FINAL_REVIEW).get().typo == 3


def test_the_timeline_prints_what_each_stage_found_and_what_escaped(client, people):
    article = story_in("first_review", people)
    workflow.pass_first_review(article, actor=people["reviewer"], proofread=Proofread({"typo": 2, "punctuation": 1}, 1_500))
    workflow.sign_off(article, actor=people["editor"], proofread=Proofread({}, 1_500))
    workflow.correct(article, actor=people["editor"], note="更正。", escaped_errors={"names": 1})
    client.force_login(people["chief"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    timeline = re.sub(r"<[^>]+>", "", page[page.index('id="timeline-title"') : page.index("</ol>", page.index('id="timeline-title"'))])
    assert "初审校对：审读1500字，校出差错：错别字 2、标点 1" in timeline
    assert "终审校对：审读1500字，校出差错：无" in timeline
    assert "见报后差错：人名地名 1" in timeline


# --- refusals change nothing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "posted, message",
    [
        ({"proof-typo": "-1"}, "错别字"),
        ({"proof-grammar": "两个"}, "语法"),
        ({"proof-typo": "5", "proof-characters": "3"}, "差错多于审读字数"),
        ({"proof-characters": "0"}, "审读字数"),
    ],
)
def test_a_step_with_impossible_counts_is_refused_with_a_clear_message_and_nothing_changed(client, people, posted, message):
    article = story_in("first_review", people)
    before = state_of(article)
    client.force_login(people["reviewer"])
    response = step(client, article, "pass_first_review", **posted)
    assert response.status_code == 302
    assert any(message in text for text in messages_of(response)), messages_of(response)
    assert state_of(article) == before
    assert not records(article).exists()


def test_a_sign_off_refused_for_its_counts_records_nothing(client, people):
    article = story_in("final_review", people)
    before, kept = state_of(article), list(records(article).values_list("pk", flat=True))
    client.force_login(people["editor"])
    step(client, article, "sign_off", **{"proof-typo": "10", "proof-characters": "2"})
    assert state_of(article) == before
    assert list(records(article).values_list("pk", flat=True)) == kept


def test_someone_who_may_not_take_the_step_records_no_proofreading(client, people):
    article = story_in("first_review", people)
    before = state_of(article)
    client.force_login(people["writer"])
    response = step(client, article, "pass_first_review", **{"proof-typo": "1"})
    assert messages_of(response)
    assert state_of(article) == before
    assert not records(article).exists()


@pytest.mark.parametrize("errors, characters", [({"typo": -2}, None), ({"typo": 1.5}, None), ({"fact": 4}, 3), ({}, 0)])
def test_a_proofreading_that_cannot_be_true_cannot_be_given_to_a_step(errors, characters):
    """Checked when made, so the workflow never starts a step with it."""
    with pytest.raises(ValidationError):
        Proofread(errors=errors, characters=characters)


def test_a_correction_refused_for_its_counts_writes_nothing(people):
    article = story_in("published", people)
    before = state_of(article)
    with pytest.raises(ValidationError):
        workflow.correct(article, actor=people["editor"], note="更正。", escaped_errors={"typo": -1})
    assert state_of(article) == before and not records(article, Stage.PUBLISHED).exists()


# --- corrections count the errors that escaped ------------------------------------------------


def correct_through_form(client, article, **fields):
    url = reverse("admin:articles_article_change", args=[article.pk])
    return client.post(url, change_form_data(article, **fields))


def test_a_correction_counts_the_kinds_it_names_as_escaped_errors(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    response = correct_through_form(client, article, body="<p>正文已更正。</p>", correction_note="数字有误，已更正。", escaped_typo="1", escaped_number="2")
    assert response.status_code == 302
    record = records(article, Stage.PUBLISHED).get()
    assert (record.typo, record.number, record.errors) == (1, 2, 3)
    assert record.event.action == ReviewEvent.Action.CORRECTED
    assert record.event.note == "数字有误，已更正。"


def test_a_correction_that_names_no_kind_counts_one_other_error(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    correct_through_form(client, article, correction_note="原稿有误。")
    record = records(article, Stage.PUBLISHED).get()
    assert (record.other, record.errors) == (1, 1)


def test_an_internal_note_counts_only_the_errors_it_names(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    correct_through_form(client, article, slug="new-slug", internal_note="改地址。")
    assert not records(article, Stage.PUBLISHED).exists()
    article.refresh_from_db()
    correct_through_form(client, article, body="<p>改正文。</p>", internal_note="悄悄改了错字。", escaped_typo="1")
    record = records(article, Stage.PUBLISHED).get()
    assert record.typo == 1 and record.event.action == ReviewEvent.Action.REVISED


def test_a_correction_and_an_internal_note_together_count_the_errors_once(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    correct_through_form(client, article, correction_note="更正。", internal_note="内部说明。", escaped_names="1")
    (record,) = records(article, Stage.PUBLISHED)
    assert record.names == 1 and record.event.action == ReviewEvent.Action.CORRECTED


def test_the_change_form_of_a_live_story_asks_for_the_kinds_of_error_corrected(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "差错类型" in page
    for kind, label in [("typo", "错别字"), ("political", "政治性差错"), ("names", "人名地名")]:
        assert re.search(rf'<label[^>]*for="id_escaped_{kind}"[^>]*>{label}', page), kind


def test_a_correction_with_an_impossible_count_is_refused_and_nothing_changed(client, people):
    article = story_in("published", people)
    before = state_of(article)
    client.force_login(people["editor"])
    response = correct_through_form(client, article, body="<p>改。</p>", correction_note="更正。", escaped_typo="-3")
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert state_of(article) == before
    assert not records(article, Stage.PUBLISHED).exists()


# --- the report's numbers, on a known newsroom -------------------------------------------------


@pytest.fixture
def newsroom(people):
    """Two desks. 要闻: read 10,000 + 10,000, found 7, published 10,000, 2 escaped (2.00, passes).
    社会: read 5,000 + 5,000, found 3, published 5,000, 2 escaped (4.00, over the line)."""
    news = Section.objects.create(name="要闻", slug="news")
    society = Section.objects.create(name="社会", slug="society")
    one = story_in("first_review", people, section=news, headline="要闻一")
    workflow.pass_first_review(one, actor=people["reviewer"], proofread=Proofread({"typo": 4, "punctuation": 2}, 10_000))
    workflow.sign_off(one, actor=people["editor"], proofread=Proofread({"fact": 1}, 10_000))
    workflow.correct(one, actor=people["editor"], note="更正一。", escaped_errors={"typo": 1, "number": 1})
    two = story_in("first_review", people, section=society, headline="社会一")
    workflow.pass_first_review(two, actor=people["reviewer"], proofread=Proofread({"typo": 3}, 5_000))
    workflow.sign_off(two, actor=people["chief"], proofread=Proofread({}, 5_000))
    workflow.correct(two, actor=people["chief"], note="更正二。", escaped_errors={"typo": 1})
    workflow.correct(two, actor=people["chief"], note="更正三。", escaped_errors={"names": 1})
    return {"news": news, "society": society, "one": one, "two": two}


def row(rows, label):
    return next(r for r in rows if r.label == label)


def test_the_report_computes_each_desk_editor_and_month_per_10000_characters(newsroom):
    report = build(12)
    news, society = row(report.by_desk, "要闻"), row(report.by_desk, "社会")
    assert (news.read, news.found_total, str(news.found_rate)) == (20_000, 7, "3.50")
    assert (news.published, news.escaped_total, str(news.error_rate), news.passes) == (10_000, 2, "2.00", True)
    assert (society.read, society.found_total, str(society.found_rate)) == (10_000, 3, "3.00")
    assert (society.published, society.escaped_total, str(society.error_rate), society.passes) == (5_000, 2, "4.00", False)
    assert [r.label for r in report.by_desk] == ["社会", "要闻"]  # the worst first

    reviewer, editor, chief = (row(report.by_editor, name) for name in ["赵初审", "钱责编", "孙总编"])
    assert (reviewer.read, reviewer.found_total, str(reviewer.found_rate), reviewer.error_rate) == (15_000, 9, "6.00", None)
    assert (editor.read, editor.found_total, editor.published, editor.escaped_total, str(editor.error_rate)) == (10_000, 1, 10_000, 2, "2.00")
    assert (chief.published, chief.escaped_total, str(chief.error_rate)) == (5_000, 2, "4.00")

    this_month = report.by_month[-1]
    assert (this_month.read, this_month.found_total, this_month.published, this_month.escaped_total) == (30_000, 10, 15_000, 4)
    assert str(this_month.error_rate) == "2.67" and this_month.passes
    assert len(report.by_month) == 12 and all(r.published == 0 for r in report.by_month[:-1])
    assert report.by_stage[Stage.FIRST_REVIEW]["typo"] == 7
    assert report.by_stage[Stage.PUBLISHED] == {**dict.fromkeys(ProofreadingRecord.KINDS, 0), "typo": 2, "number": 1, "names": 1}


def test_a_story_published_last_month_counts_in_last_month_with_its_later_corrections(newsroom, people):
    last_month = timezone.localtime(timezone.now()).replace(day=1) - timedelta(days=3)
    Article.objects.filter(pk=newsroom["two"].pk).update(published_at=last_month)
    report = build(3)
    previous, this = report.by_month[-2], report.by_month[-1]
    assert (previous.published, previous.escaped_total, str(previous.error_rate)) == (5_000, 2, "4.00")
    assert (this.published, this.escaped_total) == (10_000, 2)
    assert this.read == 30_000  # reviews count in the month they were done


def test_a_story_signed_off_twice_counts_its_published_characters_once(people):
    article = story_in("first_review", people)
    workflow.pass_first_review(article, actor=people["reviewer"], proofread=Proofread({}, 1_000))
    workflow.sign_off(article, actor=people["editor"], publish_at=timezone.now() + timedelta(hours=1), proofread=Proofread({}, 1_000))
    workflow.send_back(article, actor=people["editor"], reason="再改改")
    workflow.submit(article, actor=people["writer"])
    workflow.pass_first_review(article, actor=people["reviewer"], proofread=Proofread({}, 1_200))
    workflow.sign_off(article, actor=people["editor"], proofread=Proofread({"typo": 1}, 1_200))
    report = build(3)
    assert report.total.published == 1_200
    assert report.total.read == 4_400 and report.total.found_total == 1


def test_unpublished_stories_add_no_published_characters(people):
    article = story_in("scheduled", people)
    report = build(3)
    assert report.total.read == 2 * character_count(article)
    assert report.total.published == 0 and report.total.error_rate is None


# --- the report page, its chart and its CSV ---------------------------------------------------


def test_the_report_page_draws_the_rates_against_the_benchmark_line(client, people, newsroom):
    client.force_login(people["chief"])
    response = client.get(reverse(REPORT))
    page = response.content.decode()
    assert response.status_code == 200
    assert "差错率" in page and "<script" not in page.split('id="content-main"')[1]
    start = page.index('<svg xmlns="http://www.w3.org/2000/svg" role="img"')
    svg = page[start : page.index("</svg>", start)]
    assert 'aria-labelledby="chart-month-title chart-month-desc"' in svg
    assert re.search(r'<title id="chart-month-title">[^<]*月[^<]*</title>', svg)
    assert re.search(r'<desc id="chart-month-desc">[^<]*2.67[^<]*</desc>', svg)
    assert 'class="benchmark"' in svg and "万分之3" in svg
    desk_svg = page[page.index('id="chart-desk-title"') :]
    desk_svg = desk_svg[: desk_svg.index("</svg>")]
    assert desk_svg.count('class="bar over"') == 1  # 社会, at 4.00
    assert re.search(r'<tr class="over">\s*<th scope="row">社会</th>', page)
    summary = re.sub(r"<[^>]+>", "", page[page.index('class="summary"') : page.index("</p>", page.index('class="summary"'))])
    assert "15000" in summary and "2.67" in summary and 'class="verdict-pass"' in page


def test_the_csv_opens_in_excel_with_chinese_headers_and_every_row(client, people, newsroom):
    client.force_login(people["editor"])
    response = client.get(reverse(CSV) + "?months=3")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="error-rate-') and response["Content-Disposition"].endswith('-3m.csv"')
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:9] == ["维度", "名称", "审读字数", "校出差错", "校出率（每万字）", "见报字数", "见报后差错", "差错率（每万字）", "是否合格（不超过万分之3）"]
    assert "校出：错别字" in header and "见报后：人名地名" in header
    society = next(r for r in rows if r[:2] == ["栏目", "社会"])
    assert society[2:9] == ["10000", "3", "3.00", "5000", "2", "4.00", "否"]
    assert society[header.index("见报后：人名地名")] == "1"
    total = next(r for r in rows if r[0] == "合计")
    assert total[5:9] == ["15000", "4", "2.67", "是"]
    assert len([r for r in rows if r[0] == "月份"]) == 3


def test_a_name_in_the_csv_is_never_read_as_a_formula(client, people):
    desk = Section.objects.create(name="=HYPERLINK(1)", slug="formula")
    article = story_in("final_review", people, section=desk)
    workflow.sign_off(article, actor=people["editor"])
    client.force_login(people["chief"])
    text = client.get(reverse(CSV)).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


@pytest.mark.parametrize("who, status", [("reviewer", 200), ("editor", 200), ("chief", 200), ("writer", 403), ("outsider", 403)])
def test_the_chief_and_the_editors_read_the_report_and_no_one_else(client, people, who, status):
    client.force_login(people[who])
    assert client.get(reverse(REPORT)).status_code == status
    assert client.get(reverse(CSV)).status_code == status
    dashboard = client.get(reverse("admin:index")).content.decode()
    assert (reverse(REPORT) in dashboard) == (status == 200)


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(client):
    for name in [REPORT, CSV]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_period_that_is_not_offered_shows_twelve_months(client, people):
    client.force_login(people["editor"])
    page = client.get(reverse(REPORT) + "?months=999").content.decode()
    assert '<option value="12" selected>' in page


# --- the demo site ------------------------------------------------------------------------------


def test_the_demo_site_has_proofreading_and_corrections_that_give_real_rates(client, people):
    call_command("generate_demo_stories", 120, stdout=StringIO())
    published = Article.objects.published().count()
    assert ProofreadingRecord.objects.filter(stage=Stage.FINAL_REVIEW).count() == published
    assert ProofreadingRecord.objects.filter(stage=Stage.FIRST_REVIEW).count() > published
    escaped = ProofreadingRecord.objects.filter(stage=Stage.PUBLISHED)
    assert escaped.exists()
    assert escaped.count() == Correction.objects.count() == ReviewEvent.objects.filter(action=ReviewEvent.Action.CORRECTED).count()
    report = build(12)
    assert report.total.error_rate is not None and 0 < report.total.error_rate < 10
    assert report.total.found_rate > report.total.error_rate
    assert len(report.by_desk) >= 5
    client.force_login(people["chief"])
    page = client.get(reverse(REPORT)).content.decode()
    assert str(report.total.error_rate) in page
