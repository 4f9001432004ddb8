"""Builders for test data. Stories reach a status the way the newsroom does,
or, for reader-side tests that need a live story, through `published_story`."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

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


def draft(headline=None, **fields):
    return Article.objects.create(headline=headline or f"稿件{next(_counter)}", body="<p>正文。</p>", **fields)


def published_story(headline=None, published_at=None, **fields):
    """A live story for reader-side tests (workflow tests move stories by steps instead)."""
    return Article.objects.create(
        headline=headline or f"新闻{next(_counter)}",
        body="<p>正文。</p>",
        status=Article.Status.PUBLISHED,
        published_at=published_at or timezone.now() - timedelta(minutes=next(_counter)),
        **fields,
    )
