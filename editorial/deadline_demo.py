"""Review timings for the demo site (articles.demo): each demo story gets the review history
a real one would have, so that the time-to-publish report, the stage times under each story
and the dashboard's deadlines show real numbers.

Waits are drawn around what a desk does in a day: an ordinary story waits about 40 minutes
at first review and 25 at final review, with a long tail past the 4-hour deadline; a 急稿
a few minutes at each, now and then past its 10. Each desk works at its own pace
(DESK_PACE), one story in ten is sent back and submitted again, and one in ten is signed
off ahead of a set time. Of the stories left in review, one waits past its deadline.
"""

import math
from datetime import timedelta

from django.dispatch import receiver

from articles.demo import demo_stories_made
from articles.models import Article

from .models import ReviewEvent

S = Article.Status
A = ReviewEvent.Action

# How long each demo desk takes, against the newsroom's usual pace.
DESK_PACE = {"politics": 1.7, "economy": 1.2, "local": 1.0, "culture": 0.9, "society": 0.8, "sports": 0.6}
BREAKING_SHARE = 0.08


def _minutes(rng, median, spread, low, high):
    """A wait in minutes: log-normal around `median`, kept within [low, high]."""
    return min(high, max(low, math.exp(rng.gauss(math.log(median), spread))))


def _event(story, action, before, after, when, name, note=""):
    return ReviewEvent(
        article=story, action=action, actor_name=name, from_status=before, to_status=after,
        note=note, version=story.version, created_at=when,
    )


def _names(story):
    writer = story.bylines.order_by("position").values_list("person__name", flat=True).first() or "记者"
    first = story.first_review_editor.name if story.first_review_editor_id else "初审编辑"
    final = story.responsible_editor.name if story.responsible_editor_id else "责任编辑"
    return writer, first, final


def history(rng, story, signed_at, breaking):
    """The events of a story signed off at `signed_at`: submitted, perhaps sent back and
    submitted again, passed, signed off; the times counted back from the sign-off."""
    pace = DESK_PACE.get(story.section.slug if story.section_id else "", 1.0)
    if breaking:
        first_wait = _minutes(rng, 4 * pace, 0.6, 1, 25)
        final_wait = _minutes(rng, 3 * pace, 0.6, 1, 20)
    else:
        first_wait = _minutes(rng, 40 * pace, 0.9, 3, 9 * 60)
        final_wait = _minutes(rng, 25 * pace, 0.9, 2, 6 * 60)
    writer, first, final = _names(story)
    passed_at = signed_at - timedelta(minutes=final_wait)
    submitted_at = passed_at - timedelta(minutes=first_wait)
    events = []
    if not breaking and rng.random() < 0.1:
        rewrite = _minutes(rng, 60, 0.6, 15, 6 * 60)
        returned = _minutes(rng, 30 * pace, 0.8, 3, 4 * 60)
        resent_at = submitted_at
        sent_back_at = resent_at - timedelta(minutes=rewrite)
        first_at = sent_back_at - timedelta(minutes=returned)
        events += [
            _event(story, A.SUBMITTED, S.DRAFT, S.FIRST_REVIEW, first_at, writer),
            _event(story, A.SENT_BACK, S.FIRST_REVIEW, S.DRAFT, sent_back_at, first, "请补充采访对象的职务和数据来源。"),
        ]
    events += [
        _event(story, A.SUBMITTED, S.DRAFT, S.FIRST_REVIEW, submitted_at, writer),
        _event(story, A.PASSED, S.FIRST_REVIEW, S.FINAL_REVIEW, passed_at, first),
    ]
    return events, final


@receiver(demo_stories_made, dispatch_uid="editorial.deadline_demo")
def make_demo_review_timings(sender, stories, rng, now, **kwargs):
    events, breaking = [], []
    for story in stories:
        is_breaking = rng.random() < BREAKING_SHARE
        if story.status in {S.PUBLISHED, S.WITHDRAWN}:
            publish_at = story.published_at
            if rng.random() < 0.1:  # signed off ahead of a set time
                signed_at = publish_at - timedelta(minutes=rng.randint(30, 12 * 60))
                made, final = history(rng, story, signed_at, is_breaking)
                made += [
                    _event(story, A.SCHEDULED, S.FINAL_REVIEW, S.SCHEDULED, signed_at, final),
                    _event(story, A.PUBLISHED_DUE, S.SCHEDULED, S.PUBLISHED, publish_at, "定时发布"),
                ]
            else:
                made, final = history(rng, story, publish_at, is_breaking)
                made.append(_event(story, A.SIGNED_OFF, S.FINAL_REVIEW, S.PUBLISHED, publish_at, final))
            if story.status == S.WITHDRAWN:
                made.append(_event(story, A.WITHDRAWN, S.PUBLISHED, S.WITHDRAWN, min(now, publish_at + timedelta(days=1)), final, "演示:撤稿"))
        elif story.status == S.SCHEDULED:
            made, final = history(rng, story, now - timedelta(minutes=20), is_breaking)
            made.append(_event(story, A.SCHEDULED, S.FINAL_REVIEW, S.SCHEDULED, now - timedelta(minutes=20), final))
        elif story.status == S.FINAL_REVIEW:
            # A 急稿 passed 25 minutes ago: past its 10-minute deadline at final review.
            is_breaking = True
            writer, first, _final = _names(story)
            made = [
                _event(story, A.SUBMITTED, S.DRAFT, S.FIRST_REVIEW, now - timedelta(minutes=33), writer),
                _event(story, A.PASSED, S.FIRST_REVIEW, S.FINAL_REVIEW, now - timedelta(minutes=25), first),
            ]
        elif story.status == S.FIRST_REVIEW:
            # Submitted an hour ago: due at first review in three more.
            made = [_event(story, A.SUBMITTED, S.DRAFT, S.FIRST_REVIEW, now - timedelta(minutes=63), _names(story)[0])]
        else:
            continue
        events += made
        if is_breaking:
            breaking.append(story.pk)
    ReviewEvent.objects.bulk_create(events, batch_size=1000)
    Article.objects.filter(pk__in=breaking).update(is_breaking=True)
    for story in stories:
        story.is_breaking = story.pk in breaking
