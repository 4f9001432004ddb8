"""The newsroom as the workflow tests meet it: one account per role, stories in every status."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from articles.models import Article
from editorial import workflow
from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, GROUP_NAMES, REPORTER, RESPONSIBLE_EDITOR


def demo_desk(stories, *args):
    """The demo site with `stories` generated stories, for tests of the desk's own pages.

    Their delivery (read model, static files, CDN) is queued and never run: in a test that
    commits it would render every story's page and the lists they are on, and these tests read
    none of them (tests/delivery covers delivering the demo's changes)."""
    with open(os.devnull, "w") as quiet:
        call_command("setup_demo", stdout=quiet)
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
            call_command("generate_demo_stories", stories, *args, stdout=quiet)


STATES = ["draft", "first_review", "final_review", "scheduled", "published", "withdrawn"]
PEOPLE = ["writer", "other_reporter", "reviewer", "editor", "chief", "outsider"]


def make_user(username, role=None, name=None):
    user = get_user_model().objects.create_user(
        username=username,
        password=None,  # tests log in with force_login; hashing is slow
        is_staff=True,
        first_name=name or username,
        email=f"{username}@example.com",
    )
    if role:
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
    return user


@pytest.fixture
def people(db):
    """writer and other_reporter (记者), reviewer (初审编辑), editor (责任编辑), chief (总编辑),
    and outsider: staff with no newsroom role."""
    return {
        "writer": make_user("writer", REPORTER, "王记者"),
        "other_reporter": make_user("other_reporter", REPORTER, "李记者"),
        "reviewer": make_user("reviewer", FIRST_REVIEWER, "赵初审"),
        "editor": make_user("editor", RESPONSIBLE_EDITOR, "钱责编"),
        "chief": make_user("chief", CHIEF_EDITOR, "孙总编"),
        "outsider": make_user("outsider", None, "局外人"),
    }


def story_in(state, people, **fields):
    """A story written by `writer`, brought to `state` through the workflow's own steps."""
    article = Article.objects.create(
        headline=fields.pop("headline", f"稿件 {state}"), body="<p>正文。</p>", created_by=people["writer"], **fields
    )
    if state == "draft":
        return article
    workflow.submit(article, actor=people["writer"])
    if state == "first_review":
        return Article.objects.get(pk=article.pk)
    workflow.pass_first_review(article, actor=people["reviewer"])
    if state == "final_review":
        return Article.objects.get(pk=article.pk)
    if state == "scheduled":
        workflow.sign_off(article, actor=people["editor"], publish_at=timezone.now() + timedelta(hours=2))
        return Article.objects.get(pk=article.pk)
    workflow.sign_off(article, actor=people["editor"])
    if state == "withdrawn":
        workflow.withdraw(article, actor=people["editor"], reason="撤稿理由")
    return Article.objects.get(pk=article.pk)


def state_of(article):
    """Everything a refused step must leave untouched."""
    article = Article.objects.get(pk=article.pk)
    return {
        "status": article.status,
        "published_at": article.published_at,
        "first_review_editor": article.first_review_editor_id,
        "responsible_editor": article.responsible_editor_id,
        "version": article.version,
        "headline": article.headline,
        "body": article.body,
        "events": list(article.review_events.values_list("pk", flat=True)),
        "corrections": list(article.corrections.values_list("pk", flat=True)),
        "revisions": list(article.revisions.values_list("pk", flat=True)),
    }


# Who may take each step, by the story's status (the story was written by `writer`,
# passed at first review by `reviewer`, signed off by `editor`). Everything else is refused.
ALLOWED = {
    "submit": {"draft": {"writer", "chief"}},
    "pass_first_review": {"first_review": {"reviewer", "editor", "chief"}},
    "send_back": {
        "first_review": {"reviewer", "editor", "chief"},
        "final_review": {"editor", "chief"},
        "scheduled": {"editor", "chief"},
    },
    "sign_off": {"final_review": {"editor", "chief"}},
    "withdraw": {"published": {"editor", "chief"}, "scheduled": {"editor", "chief"}},
    "correct": {"published": {"editor", "chief"}},
}
TARGET = {
    "submit": "first_review",
    "pass_first_review": "final_review",
    "send_back": "draft",
    "sign_off": "published",
    "withdraw": "withdrawn",
}


def allowed(person, step, state):
    return person in ALLOWED[step].get(state, set())


def change_form_data(article, **overrides):
    """What the admin change form posts for `article`, with no inline rows."""
    data = {
        "kicker": article.kicker,
        "headline": article.headline,
        "subtitle": article.subtitle,
        "slug": article.slug,
        "section": article.section_id or "",
        "tags": "",
        "outlet": "",
        "author_line": article.author_line,
        "dateline_outlet": "",
        "dateline_place": "",
        "dateline_date": "",
        "summary": article.summary,
        "body": article.body,
        "thumbnail": "",
        "base_version": article.version,
        "correction_note": "",
        "_save": "Save",
    }
    for prefix in ["bylines", "photos", "related_links", "recommendations"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    data.update(overrides)
    return data

