"""Builders for test data. Stories reach a status the way the newsroom does,
or, for reader-side tests that need a live story, through `published_story`.

Stories made here arrive as imported stories do: announced (articles.events), so the search
index and delivery know them. A test that then adds parts to one directly (a byline, a photo,
tags) calls `announced(story)` again, as an importer would once the story is whole; changes
that the desk makes go through editorial.workflow and editorial.editing instead."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import TestCase
from django.utils import timezone

from articles.events import Placement, StoryChanged, announce
from articles.models import Article, Image, Outlet, Person, Section
from articles.renditions import placeholder_png
from editorial.roles import GROUP_NAMES, sync_roles

_counter = itertools.count(1)


def user(username=None, roles=(), password="pw-for-tests-1", **extra):
    """A staff user holding `roles` (keys of editorial.roles.GROUP_NAMES)."""
    sync_roles()
    username = username or f"user{next(_counter)}"
    account = get_user_model().objects.create_user(username=username, password=password, is_staff=True, **extra)
    for role in roles:
        account.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
    return account


def section(name=None, slug=None):
    n = next(_counter)
    return Section.objects.create(name=name or f"栏目{n}", slug=slug or f"section-{n}")


def outlet(name="大众网"):
    return Outlet.objects.get_or_create(name=name)[0]


def person(name="张帆"):
    return Person.objects.create(name=name)


def image(caption="图说", **extra):
    return Image.objects.create(
        caption=caption,
        file=ContentFile(placeholder_png(), name="test.png"),
        **extra,
    )


def announced(article, what="import"):
    """Tell the subscribers about `article` as it stands now (a story arriving whole)."""
    announce(StoryChanged(article.pk, what, after=Placement.of(article), content_changed=True))
    return article


def delivered(article, what="import"):
    """`announced`, with the work subscribers defer until the commit (the page cache, the
    story's photos, static files, the CDN) done now, as a real commit would: for tests that
    run inside one transaction and then fetch what readers fetch."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        announced(article, what)
    return article


def edit(article, change=None, *, actor=None, note="内容有误,已更正。", **fields):
    """Change a story through the desk's editing door (editorial.editing), as the admin does:
    set `fields` and save, or run `change(story)`; a live story's change carries `note` as its 更正.
    Returns the story as saved."""
    from editorial import editing
    from editorial.roles import CHIEF_EDITOR

    def apply(story):
        for name, value in fields.items():
            setattr(story, name, value)
        story.save()
        if change is not None:
            change(story)

    story = Article.objects.get(pk=article.pk)
    return editing.save_story(story, apply, actor=actor or user(roles=[CHIEF_EDITOR]), correction_note=note)


def desk():
    """One account per step of the way: reporter, first-review editor, responsible editor, chief."""
    from editorial.roles import CHIEF_EDITOR, FIRST_REVIEWER, REPORTER, RESPONSIBLE_EDITOR

    return {
        "writer": user(roles=[REPORTER]),
        "reviewer": user(roles=[FIRST_REVIEWER]),
        "editor": user(roles=[RESPONSIBLE_EDITOR]),
        "chief": user(roles=[CHIEF_EDITOR]),
    }


def publish(article, people=None, publish_at=None):
    """Take a draft through submit, first review and sign-off, as the newsroom does."""
    from editorial import workflow

    people = people or desk()
    # The chief may hand in anyone's draft; the writer only their own.
    writer = people["writer"] if article.created_by_id == people["writer"].pk else people["chief"]
    workflow.submit(article, actor=writer)
    workflow.pass_first_review(article, actor=people["reviewer"])
    workflow.sign_off(article, actor=people["editor"], publish_at=publish_at)
    return Article.objects.get(pk=article.pk)


def draft(headline=None, **fields):
    fields.setdefault("body", "<p>正文。</p>")
    return announced(Article.objects.create(headline=headline or f"稿件{next(_counter)}", **fields))


def published_story(headline=None, published_at=None, **fields):
    """A live story for reader-side tests (workflow tests move stories by steps instead)."""
    fields.setdefault("body", "<p>正文。</p>")
    return announced(
        Article.objects.create(
            headline=headline or f"新闻{next(_counter)}",
            status=Article.Status.PUBLISHED,
            published_at=published_at or timezone.now() - timedelta(minutes=next(_counter)),
            **fields,
        )
    )
