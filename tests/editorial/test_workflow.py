"""The workflow's steps, called directly: who may take which step from which status,
and that a refused step changes nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article, Correction
from editorial import workflow
from editorial.models import ReviewEvent

from .conftest import PEOPLE, STATES, allowed, state_of, story_in

STEPS = ["submit", "pass_first_review", "send_back", "sign_off", "withdraw", "correct"]
REFUSALS = (PermissionDenied, workflow.TransitionNotAllowed, ValidationError)


def _take(step, article, actor):
    if step in {"send_back", "withdraw"}:
        return getattr(workflow, step)(article, actor=actor, reason="理由")
    if step == "correct":
        return workflow.correct(article, actor=actor, note="更正说明")
    return getattr(workflow, step)(article, actor=actor)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("person", PEOPLE)
def test_every_role_every_step_every_status(people, person, step, state):
    """A step succeeds exactly where the newsroom allows it; elsewhere it is refused and nothing changes."""
    article = story_in(state, people)
    before = state_of(article)
    if allowed(person, step, state):
        _take(step, article, people[person])
        after = state_of(article)
        assert len(after["events"]) == len(before["events"]) + 1
        event = ReviewEvent.objects.filter(article=article).latest("pk")
        assert event.actor == people[person]
        assert event.from_status == state
    else:
        with pytest.raises(REFUSALS):
            _take(step, article, people[person])
        assert state_of(article) == before


def test_wrong_person_is_permission_denied_and_wrong_status_is_transition_not_allowed(people):
    draft = story_in("draft", people)
    with pytest.raises(PermissionDenied):
        workflow.sign_off(draft, actor=people["writer"])
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.sign_off(draft, actor=people["editor"])


@pytest.mark.parametrize("step,state", [("send_back", "first_review"), ("withdraw", "published"), ("correct", "published")])
def test_steps_that_need_a_reason_refuse_without_one(people, step, state):
    article = story_in(state, people)
    before = state_of(article)
    with pytest.raises(ValidationError):
        if step == "correct":
            workflow.correct(article, actor=people["editor"], note="  ")
        else:
            getattr(workflow, step)(article, actor=people["editor"], reason="")
    assert state_of(article) == before


class TestSeparationOfDuties:
    def test_the_editor_who_passed_first_review_cannot_sign_off_the_same_version(self, people):
        article = story_in("first_review", people)
        workflow.pass_first_review(article, actor=people["editor"])
        before = state_of(article)
        with pytest.raises(PermissionDenied):
            workflow.sign_off(article, actor=people["editor"])
        assert state_of(article) == before
        workflow.sign_off(article, actor=people["chief"])
        assert Article.objects.get(pk=article.pk).status == Article.Status.PUBLISHED

    def test_a_writer_cannot_review_their_own_story(self, people):
        article = Article.objects.create(headline="总编自己写的", created_by=people["chief"])
        workflow.submit(article, actor=people["chief"])
        with pytest.raises(PermissionDenied):
            workflow.pass_first_review(article, actor=people["chief"])
        workflow.pass_first_review(article, actor=people["reviewer"])
        with pytest.raises(PermissionDenied):
            workflow.sign_off(article, actor=people["chief"])
        with pytest.raises(PermissionDenied):
            workflow.send_back(article, actor=people["chief"], reason="自己退自己")
        assert Article.objects.get(pk=article.pk).status == Article.Status.FINAL_REVIEW

    def test_a_small_newsroom_can_relax_it(self, people, settings):
        settings.NEWSROOM_SEPARATION_OF_DUTIES = False
        article = Article.objects.create(headline="小编辑部", created_by=people["editor"])
        workflow.submit(article, actor=people["editor"])
        workflow.pass_first_review(article, actor=people["editor"])
        workflow.sign_off(article, actor=people["editor"])
        article.refresh_from_db()
        assert article.status == Article.Status.PUBLISHED
        assert article.first_review_editor.user == article.responsible_editor.user == people["editor"]


def test_the_whole_way_leaves_history_rows_with_actor_time_from_to_and_reason(people):
    article = story_in("draft", people)
    workflow.submit(article, actor=people["writer"])
    workflow.send_back(article, actor=people["reviewer"], reason="导语太长")
    workflow.submit(article, actor=people["writer"])
    workflow.pass_first_review(article, actor=people["reviewer"])
    workflow.sign_off(article, actor=people["editor"])
    workflow.withdraw(article, actor=people["chief"], reason="事实有误")
    rows = list(ReviewEvent.objects.filter(article=article).values_list("action", "actor_name", "from_status", "to_status", "note"))
    assert rows == [
        ("submitted", "王记者", "draft", "first_review", ""),
        ("sent_back", "赵初审", "first_review", "draft", "导语太长"),
        ("submitted", "王记者", "draft", "first_review", ""),
        ("passed", "赵初审", "first_review", "final_review", ""),
        ("signed_off", "钱责编", "final_review", "published", ""),
        ("withdrawn", "孙总编", "published", "withdrawn", "事实有误"),
    ]
    assert all(e.created_at for e in ReviewEvent.objects.filter(article=article))


def test_history_keeps_the_name_when_the_account_is_deleted(people):
    article = story_in("published", people)
    people["reviewer"].delete()
    event = ReviewEvent.objects.get(article=article, action="passed")
    assert event.actor is None
    assert event.actor_name == "赵初审"
    assert Article.objects.get(pk=article.pk).first_review_editor.name == "赵初审"


def test_sign_off_records_both_reviewers_on_the_story(people):
    article = story_in("published", people)
    assert article.first_review_editor.user == people["reviewer"]
    assert article.responsible_editor.user == people["editor"]


def test_correction_keeps_the_story_live_and_adds_a_dated_note(people):
    article = story_in("published", people)
    workflow.correct(article, actor=people["editor"], note="第二段人名有误,已更正。")
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    correction = Correction.objects.get(article=article)
    assert correction.note == "第二段人名有误,已更正。"
    assert correction.created_by_name == "钱责编"


def test_publish_due_moves_only_stories_whose_time_has_come(people, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    due = story_in("scheduled", people, headline="到点")
    later = story_in("final_review", people, headline="还没到")
    workflow.sign_off(later, actor=people["editor"], publish_at=timezone.now() + timedelta(hours=5))
    time_machine.shift(timedelta(hours=3))
    call_command("publish_due", stdout=open("/dev/null", "w"))
    assert Article.objects.get(pk=due.pk).status == Article.Status.PUBLISHED
    assert Article.objects.get(pk=later.pk).status == Article.Status.SCHEDULED
    event = ReviewEvent.objects.filter(article=due).latest("pk")
    assert (event.action, event.actor, event.from_status, event.to_status) == ("published_due", None, "scheduled", "published")
