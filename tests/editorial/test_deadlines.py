"""急稿 and review deadlines: each review stage has a time limit by priority (the chief's to
set), the queues put overdue stories first with their waits, an overdue stage mails the
duty editor once, the change page says who held each stage and for how long, the chief's
dashboard lists the day's overruns, and a monthly report gives time to publish per desk.

Times are set with time_machine: a story is submitted at one moment and the desk looks at
another. The newsroom's day is Beijing's (Asia/Shanghai).
"""

import re
from io import StringIO
from datetime import date, datetime, timedelta, timezone as dt_timezone

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from articles.models import Article, Section
from editorial import workflow
from editorial.models import DutyEditor, OverdueNotice, ReviewEvent, StageDeadline

from .conftest import change_form_data, make_user, story_in

# 02:00 UTC on 3 December 2026 is 10:00 in the newsroom, the same date.
T0 = datetime(2026, 12, 3, 2, 0, tzinfo=dt_timezone.utc)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


def at(clock, minutes):
    clock.move_to(T0 + timedelta(minutes=minutes), tick=False)


def in_first_review(people, clock, minutes, headline, **fields):
    """A story submitted `minutes` after T0."""
    at(clock, minutes)
    return story_in("first_review", people, headline=headline, **fields)


def listing(client, query):
    return client.get(reverse("admin:articles_article_changelist") + query).content.decode()


def rows_of(page, headlines):
    """The headlines in the order the page lists them."""
    return sorted((h for h in headlines if h in page), key=page.index)


def wait_cell(page, headline):
    row = next(row for row in page.split("<tr")[1:] if headline in row)
    return re.sub(r"<[^>]+>", "", re.search(r'<td class="field-stage_wait">(.*?)</td>', row).group(1))


# --- the deadlines and who sets them -----------------------------------------------------


def test_the_default_deadlines_are_ten_minutes_for_breaking_news_and_four_hours_otherwise(client, people):
    rows = {(row.stage, row.priority): row.minutes for row in StageDeadline.objects.all()}
    assert rows == {
        ("first_review", "breaking"): 10,
        ("first_review", "ordinary"): 240,
        ("final_review", "breaking"): 10,
        ("final_review", "ordinary"): 240,
    }
    client.force_login(people["chief"])
    page = client.get(reverse("admin:editorial_stagedeadline_changelist")).content.decode()
    assert "急稿" in page and "普通稿" in page and "240" in page


ROLE_MATRIX = [("writer", 403, False), ("reviewer", 200, False), ("editor", 200, False), ("chief", 200, True)]


@pytest.mark.parametrize("person, view_status, may_change", ROLE_MATRIX)
def test_only_the_chief_editor_changes_a_deadline(client, people, person, view_status, may_change):
    row = StageDeadline.objects.get(stage="first_review", priority="breaking")
    url = reverse("admin:editorial_stagedeadline_change", args=[row.pk])
    client.force_login(people[person])
    assert client.get(url).status_code == view_status

    response = client.post(url, {"minutes": "5", "_save": "Save"})
    row.refresh_from_db()
    if may_change:
        assert response.status_code == 302 and row.minutes == 5
    else:
        assert response.status_code == 403
        assert row.minutes == 10


def test_nobody_adds_or_deletes_a_deadline_row(client, people):
    client.force_login(people["chief"])
    row = StageDeadline.objects.first()
    assert client.get(reverse("admin:editorial_stagedeadline_add")).status_code == 403
    assert client.post(reverse("admin:editorial_stagedeadline_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert StageDeadline.objects.count() == 4


def test_a_deadline_of_no_minutes_is_refused_with_a_clear_message(client, people):
    row = StageDeadline.objects.get(stage="final_review", priority="ordinary")
    client.force_login(people["chief"])
    page = client.post(reverse("admin:editorial_stagedeadline_change", args=[row.pk]), {"minutes": "0", "_save": "Save"})
    assert page.status_code == 200 and "errorlist" in page.content.decode()
    row.refresh_from_db()
    assert row.minutes == 240


@pytest.mark.parametrize("person, may_add", [("reviewer", False), ("editor", False), ("chief", True)])
def test_only_the_chief_editor_puts_an_editor_on_duty(client, people, person, may_add):
    client.force_login(people[person])
    response = client.post(
        reverse("admin:editorial_dutyeditor_add"),
        {"day": "2026-12-03", "stage": "first_review", "editor": people["reviewer"].pk, "_save": "Save"},
    )
    if may_add:
        assert response.status_code == 302
        assert DutyEditor.objects.get().editor == people["reviewer"]
    else:
        assert response.status_code == 403
        assert not DutyEditor.objects.exists()


def test_a_writer_marks_a_draft_breaking_and_gives_it_a_due_time(client, people):
    draft = story_in("draft", people, headline="突发:暴雨")
    client.force_login(people["writer"])
    response = client.post(
        reverse("admin:articles_article_change", args=[draft.pk]),
        change_form_data(draft, is_breaking="on", due_at_0="2026-12-03", due_at_1="10:30:00"),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_breaking
    assert draft.due_at == datetime(2026, 12, 3, 2, 30, tzinfo=dt_timezone.utc)  # 10:30 in Beijing


# --- the queues: overdue first, with the wait ---------------------------------------------


@pytest.fixture
def waiting(people, clock):
    """Three stories at first review, looked at at T0 + 5 h."""
    in_first_review(people, clock, 0, "等了五小时的普通稿")  # due at 4 h: 1 h over
    in_first_review(people, clock, 275, "等了二十五分钟的急稿", is_breaking=True)  # due at 10 min: 15 min over
    in_first_review(people, clock, 240, "等了一小时的普通稿")  # due in 3 h
    at(clock, 300)


HEADLINES = ["等了五小时的普通稿", "等了二十五分钟的急稿", "等了一小时的普通稿"]


def test_the_first_review_queue_lists_overdue_stories_first_with_their_waits(client, people, waiting):
    client.force_login(people["reviewer"])
    page = listing(client, "?queue=first_review")
    assert rows_of(page, HEADLINES) == HEADLINES
    assert wait_cell(page, "等了五小时的普通稿") == "已等待 5小时 · 超时 1小时"
    assert wait_cell(page, "等了二十五分钟的急稿") == "急稿 已等待 25分 · 超时 15分"
    assert wait_cell(page, "等了一小时的普通稿") == "已等待 1小时"


def test_the_overdue_queue_holds_only_overdue_stories_and_the_dashboard_counts_them(client, people, waiting):
    client.force_login(people["editor"])
    page = listing(client, "?queue=overdue")
    assert rows_of(page, HEADLINES) == HEADLINES[:2]
    dashboard = client.get(reverse("admin:index")).content.decode()
    assert re.search(r'class="queue queue-overdue[^"]*"[^>]*><span class="count">2<', dashboard)


def test_the_dashboard_lists_stories_in_review_overdue_first(client, people, waiting):
    client.force_login(people["reviewer"])
    page = client.get(reverse("admin:index")).content.decode()
    panel = page.split('class="deadline-panel')[1].split("</table>")[0]
    assert rows_of(panel, HEADLINES) == HEADLINES
    assert "超时 1小时" in panel and "超时 15分" in panel and "还剩 3小时" in panel
    assert "2026年12月3日 14:00" in panel  # the ordinary story's deadline, Beijing time


def test_a_due_time_brings_the_stage_deadline_forward(client, people, clock):
    in_first_review(people, clock, 0, "赶时间的普通稿", due_at=T0 + timedelta(minutes=30))
    at(clock, 40)
    client.force_login(people["reviewer"])
    assert wait_cell(listing(client, "?queue=first_review"), "赶时间的普通稿") == "已等待 40分 · 超时 10分"


def test_the_chief_shortening_a_deadline_makes_waiting_stories_overdue(client, people, clock):
    in_first_review(people, clock, 0, "普通稿")
    at(clock, 90)
    client.force_login(people["reviewer"])
    assert wait_cell(listing(client, "?queue=first_review"), "普通稿") == "已等待 1小时30分"
    StageDeadline.objects.filter(stage="first_review", priority="ordinary").update(minutes=60)
    assert wait_cell(listing(client, "?queue=first_review"), "普通稿") == "已等待 1小时30分 · 超时 30分"


def test_stories_outside_review_show_no_wait(client, people, clock):
    story_in("published", people, headline="已发布的稿", is_breaking=True, due_at=T0 - timedelta(hours=1))
    story_in("draft", people, headline="过了截稿时间的草稿", due_at=T0 - timedelta(hours=1))
    client.force_login(people["editor"])
    page = listing(client, "")
    assert wait_cell(page, "已发布的稿") == "急稿 "
    assert wait_cell(page, "过了截稿时间的草稿") == "-"
    assert "已发布的稿" not in listing(client, "?queue=overdue")
    assert "过了截稿时间的草稿" not in listing(client, "?queue=overdue")


# --- mail to the duty editor, once --------------------------------------------------------


@pytest.fixture
def run_notify(django_capture_on_commit_callbacks):
    """`manage.py notify_overdue` as cron runs it: its mail goes once its transaction commits."""

    def run():
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("notify_overdue", stdout=out)
        return out.getvalue()

    return run


def test_an_overdue_stage_mails_the_duty_editor_once(people, clock, run_notify):
    on_duty = make_user("duty", "first_reviewer", "周值班")
    DutyEditor.objects.create(day=date(2026, 12, 3), stage="first_review", editor=on_duty)
    story = in_first_review(people, clock, 0, "急稿:大桥通车", is_breaking=True)
    at(clock, 9)
    assert "0 overdue stages" in run_notify()
    assert mail.outbox == []

    at(clock, 11)
    assert "1 overdue stages" in run_notify()
    at(clock, 30)
    assert "0 overdue stages" in run_notify()
    assert [message.to for message in mail.outbox] == [["duty@example.com"]]
    message = mail.outbox[0]
    assert "[超时]" in message.subject and "急稿:大桥通车" in message.subject
    assert "2026年12月3日 10:10" in message.body  # due at, Beijing time
    assert "已等待 11分，超时 1分" in message.body
    notice = OverdueNotice.objects.get()
    assert (notice.article, notice.stage, notice.recipients) == (story, "first_review", "周值班")


def test_without_a_duty_editor_everyone_able_to_act_on_the_stage_is_mailed(people, clock, run_notify):
    in_first_review(people, clock, 0, "无人值班的急稿", is_breaking=True)
    at(clock, 15)
    run_notify()
    assert sorted(message.to[0] for message in mail.outbox) == ["chief@example.com", "editor@example.com", "reviewer@example.com"]


def test_a_duty_editor_who_cannot_act_on_the_story_is_passed_over(people, clock, run_notify):
    # The writer is on duty, but never reviews their own story.
    writer_editor = make_user("writing_editor", "first_reviewer", "吴编辑")
    DutyEditor.objects.create(day=date(2026, 12, 3), stage="first_review", editor=writer_editor)
    at(clock, 0)
    story = Article.objects.create(headline="编辑自己写的稿", created_by=writer_editor, is_breaking=True)
    workflow.submit(story, actor=writer_editor)
    at(clock, 15)
    run_notify()
    assert "writing_editor@example.com" not in [message.to[0] for message in mail.outbox]
    assert "reviewer@example.com" in [message.to[0] for message in mail.outbox]


def test_the_final_review_duty_editor_hears_of_an_overdue_final_review(people, clock, run_notify):
    DutyEditor.objects.create(day=date(2026, 12, 3), stage="final_review", editor=people["editor"])
    DutyEditor.objects.create(day=date(2026, 12, 3), stage="first_review", editor=people["reviewer"])
    at(clock, 0)
    story_in("final_review", people, headline="待终审的普通稿")
    at(clock, 241)
    run_notify()
    assert [message.to for message in mail.outbox] == [["editor@example.com"]]


def test_a_story_sent_back_and_submitted_again_is_a_new_wait_mailed_about_again(people, clock, run_notify):
    story = in_first_review(people, clock, 0, "退回重交的急稿", is_breaking=True)
    DutyEditor.objects.create(day=date(2026, 12, 3), stage="first_review", editor=people["reviewer"])
    at(clock, 12)
    run_notify()
    workflow.send_back(story, actor=people["reviewer"], reason="补充信源")
    workflow.submit(story, actor=people["writer"])
    at(clock, 20)
    run_notify()
    assert len(mail.outbox) == 1
    at(clock, 25)
    run_notify()
    assert len(mail.outbox) == 2
    assert OverdueNotice.objects.count() == 2


def test_a_stage_within_its_deadline_or_a_trashed_story_mails_no_one(people, clock, run_notify):
    in_first_review(people, clock, 0, "普通稿")
    trashed = in_first_review(people, clock, 0, "进了回收站的急稿", is_breaking=True)
    workflow.trash(trashed, actor=people["chief"])
    at(clock, 200)
    assert "0 overdue stages" in run_notify()
    assert mail.outbox == [] and not OverdueNotice.objects.exists()


# --- the history: who held each stage and for how long ------------------------------------


def test_the_change_page_says_who_held_each_stage_and_for_how_long(client, people, clock):
    story = in_first_review(people, clock, 0, "走完两审的稿")
    at(clock, 30)
    workflow.pass_first_review(story, actor=people["reviewer"])
    at(clock, 275)
    workflow.sign_off(story, actor=people["editor"])
    client.force_login(people["chief"])
    page = client.get(reverse("admin:articles_article_change", args=[story.pk])).content.decode()
    table = page.split('class="stage-times')[1].split("</table>")[0]
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]]
    assert len(rows) == 2
    assert rows[0].startswith("初审 2026年12月3日 10:00 赵初审") and rows[0].endswith("30分 -")
    assert rows[1].startswith("终审 2026年12月3日 10:30 钱责编")
    assert rows[1].endswith("4小时5分 5分")  # over the 4 hours by 5 minutes


# --- the chief's dashboard: the day's overruns ---------------------------------------------


def test_the_chiefs_dashboard_lists_the_days_overruns(client, people, clock):
    late = in_first_review(people, clock, 0, "初审超时的急稿", is_breaking=True)
    in_first_review(people, clock, 0, "按时的普通稿")
    at(clock, 25)
    workflow.pass_first_review(late, actor=people["reviewer"])  # 15 minutes over
    at(clock, 26)
    client.force_login(people["chief"])
    page = client.get(reverse("admin:index")).content.decode()
    overruns = page.split('class="deadline-overruns"')[1].split("</table>")[0]
    assert "今日超时：1" in page
    assert "初审超时的急稿" in overruns and "按时的普通稿" not in overruns
    assert "赵初审" in overruns and "25分" in overruns and "15分" in overruns

    client.force_login(people["editor"])
    assert "deadline-overruns" not in client.get(reverse("admin:index")).content.decode()


def test_yesterdays_overruns_are_not_todays(client, people, clock):
    in_first_review(people, clock, 0, "昨天超时的急稿", is_breaking=True)
    at(clock, 24 * 60)
    client.force_login(people["chief"])
    page = client.get(reverse("admin:index")).content.decode()
    assert "今日超时：0" in page


# --- the monthly report: time to publish per desk ------------------------------------------


def publish_after(people, clock, start, minutes, section, headline):
    at(clock, start)
    story = story_in("final_review", people, headline=headline, section=section)
    at(clock, start + minutes)
    workflow.sign_off(story, actor=people["editor"])


def test_the_monthly_report_gives_median_and_p90_per_desk(client, people, clock):
    politics = Section.objects.create(name="时政", slug="politics")
    sports = Section.objects.create(name="体育", slug="sports")
    for n, minutes in enumerate([10, 20, 30, 40, 50, 60, 70, 80, 90, 600]):
        publish_after(people, clock, n, minutes, politics, f"时政稿{n}")
    for n, minutes in enumerate([5, 15]):
        publish_after(people, clock, n, minutes, sports, f"体育稿{n}")
    at(clock, 24 * 60)
    client.force_login(people["chief"])
    page = client.get(reverse("admin:articles_article_time_to_publish")).content.decode()
    month = page.split("2026年12月")[1]
    cells = lambda desk: [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", month.split(f">{desk}<")[1].split("</tr>")[0])]
    assert cells("时政") == ["10", "55分", "1小时30分"]
    assert cells("体育") == ["2", "10分", "15分"]
    assert cells("全部栏目") == ["12", "45分", "1小时30分"]


def test_a_reporter_cannot_open_the_time_to_publish_report(client, people):
    client.force_login(people["writer"])
    assert client.get(reverse("admin:articles_article_time_to_publish")).status_code == 403


def test_demo_stories_give_the_report_and_the_dashboard_real_numbers(client, people):
    call_command("generate_demo_stories", 40, "--photos", "3", stdout=StringIO())
    client.force_login(people["chief"])
    page = client.get(reverse("admin:articles_article_time_to_publish")).content.decode()
    assert "这几个月没有签发的稿件" not in page
    assert page.count('class="desk-row"') >= 4
    assert re.search(r"<td>\d+(小时)?\d*分?</td>", page)
    dashboard = client.get(reverse("admin:index")).content.decode()
    panel = dashboard.split('class="deadline-panel')[1]
    assert "超时 15分" in panel  # the demo's 急稿 waiting at final review
    assert ReviewEvent.objects.filter(action=ReviewEvent.Action.SIGNED_OFF).count() > 20
