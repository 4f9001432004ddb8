"""What changed: the words the desk uses to tell delivery about a committed change.

Every write that readers could see (a workflow step, a content save through
editorial.editing, a restore, an import, a photo, person, section, outlet or tag edited in
the admin) announces one event, inside the transaction that makes the change:

* ``StoryChanged``: one story, with where it stood on public pages before the change and
  after it (``Placement``), so the pages it has just left are refreshed as well as the
  pages it now joins;
* ``SharedChanged``: a thing many pages print (a photo, a person, a section, an outlet, a
  tag), with the stories that print it.

Who listens is written down in one place, ``settings.NEWSROOM_SUBSCRIBERS``, in the order
they are called. A subscriber is called inside the transaction: it may write to the same
database (the search index, a task row in the queue), so that a crash after the commit loses
nothing and a rollback leaves nothing behind; anything outside the database (a cache, files,
a CDN) it defers until the commit (``transaction.on_commit``, or a task).

Events are plain values that survive a trip through JSON (``as_dict`` / ``from_dict``), so a
task can carry them to a worker.

Many changes at once (an import, the demo generator, a bulk action in the admin, several
scheduled stories whose time came together) are announced inside ``together()``: one
transaction, in which every subscriber still hears of each event as it happens, except those
whose work is per commit rather than per story (delivery: a subscriber with a ``together``
attribute). Those hear of all the block's events once, at its end, still inside the
transaction, and refresh the home page once instead of once per story.
"""

import contextvars
import functools
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import transaction
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .models import Article, ArticleImage, Byline


@dataclass(frozen=True)
class Placement:
    """Where a story stands on the public site at one moment: what decides which pages show it."""

    story_id: int
    status: str
    slug: str = ""
    section_id: int | None = None
    published_at: str | None = None  # ISO 8601, UTC
    trashed: bool = False
    tag_ids: tuple[int, ...] = ()
    person_ids: tuple[int, ...] = ()
    image_ids: tuple[int, ...] = ()  # its photos and list thumbnail: readers may fetch them while it is live

    @classmethod
    def of(cls, article):
        """The placement of `article` as stored now (three short reads: its tags, bylines and photos)."""
        if article is None or article.pk is None:
            return None
        tag_ids = tuple(sorted(article.tags.values_list("pk", flat=True)))
        person_ids = tuple(sorted(set(Byline.objects.filter(article_id=article.pk).values_list("person_id", flat=True))))
        image_ids = set(ArticleImage.objects.filter(article_id=article.pk).values_list("image_id", flat=True))
        if article.thumbnail_id:
            image_ids.add(article.thumbnail_id)
        return cls(
            story_id=article.pk,
            status=article.status,
            slug=article.slug or "",
            section_id=article.section_id,
            published_at=article.published_at.isoformat() if article.published_at else None,
            trashed=article.deleted_at is not None,
            tag_ids=tag_ids,
            person_ids=person_ids,
            image_ids=tuple(sorted(image_ids)),
        )

    @property
    def on_public_pages(self):
        """Whether any public page shows (or will show, or shows the 撤稿 notice of) the story."""
        return not self.trashed and self.status in Article.PUBLIC_STATUSES

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        if data is None:
            return None
        tuples = {name: tuple(data.get(name, ())) for name in ("tag_ids", "person_ids", "image_ids")}
        return cls(**{**data, **tuples})


@dataclass(frozen=True)
class StoryChanged:
    """One story changed. `before` is None for a new story, `after` None for a deleted one."""

    story_id: int
    what: str  # the step or the kind of save: "sign_off", "edit", "restore", "import", "delete"...
    before: Placement | None = None
    after: Placement | None = None
    content_changed: bool = False  # its text, photos, bylines, links: what the search index reads

    @property
    def on_public_pages(self):
        """Whether any public page showed the story before or shows it now."""
        return any(p is not None and p.on_public_pages for p in (self.before, self.after))

    def as_dict(self):
        return {
            "type": "story",
            "story_id": self.story_id,
            "what": self.what,
            "before": self.before.as_dict() if self.before else None,
            "after": self.after.as_dict() if self.after else None,
            "content_changed": self.content_changed,
        }


@dataclass(frozen=True)
class SharedChanged:
    """A thing many pages print changed: kind is "image", "person", "section", "outlet" or "tag"."""

    kind: str
    pk: int
    what: str = "edit"
    story_ids: tuple[int, ...] = field(default=())  # stories printing it (all of them for section/outlet: see site_wide)
    slugs: tuple[str, ...] = ()  # its public address parts, before and after (a section's or tag's slug)
    image_ids: tuple[int, ...] = ()  # photos it shows, before and after, whose visibility may change (a topic's lead image)

    @property
    def site_wide(self):
        """Sections and outlets are printed in every page's navigation and cards."""
        return self.kind in {"section", "outlet"}

    def as_dict(self):
        return {"type": "shared", **asdict(self)}


def from_dict(data):
    """The event a task carried as JSON."""
    data = dict(data)
    kind = data.pop("type")
    if kind == "story":
        return StoryChanged(
            story_id=data["story_id"],
            what=data["what"],
            before=Placement.from_dict(data.get("before")),
            after=Placement.from_dict(data.get("after")),
            content_changed=data.get("content_changed", False),
        )
    return SharedChanged(
        kind=data["kind"],
        pk=data["pk"],
        what=data.get("what", "edit"),
        story_ids=tuple(data.get("story_ids", ())),
        slugs=tuple(data.get("slugs", ())),
        image_ids=tuple(data.get("image_ids", ())),
    )


@functools.cache
def subscribers():
    """The callables of settings.NEWSROOM_SUBSCRIBERS, in order."""
    return tuple(import_string(path) for path in getattr(settings, "NEWSROOM_SUBSCRIBERS", ()))


@receiver(setting_changed)
def _forget_subscribers(setting, **kwargs):
    if setting == "NEWSROOM_SUBSCRIBERS":
        subscribers.cache_clear()


# The events of the innermost open `together()` block, in order; None outside any.
_gathered = contextvars.ContextVar("newsroom_events_together", default=None)


def _hears_together(subscriber):
    return callable(getattr(subscriber, "together", None))


def announce(event):
    """Tell every subscriber about `event`, inside the transaction that made the change (inside
    ``together()``, those that hear together are told at the end of the block)."""
    gathered = _gathered.get()
    for subscriber in subscribers():
        if gathered is None or not _hears_together(subscriber):
            subscriber(event)
    if gathered is not None:
        gathered.append(event)
    return event


@contextmanager
def together():
    """Make the changes announced inside one transaction, heard as one by the subscribers whose
    work is per commit: they get every event of the block in one call (``subscriber.together``,
    in the order announced), at its end and inside the transaction, so that what they write
    (delivery's task row) still commits or rolls back with the changes.

    A block inside another joins it: the outermost block's end tells. An exception leaving the
    block rolls the transaction back and tells nobody. An event announced in a savepoint that
    was rolled back inside the block is still told: refreshing the pages of a change that did
    not happen rewrites them as they are, which costs time but shows nothing wrong."""
    if _gathered.get() is not None:
        with transaction.atomic():
            yield
        return
    gathered = []
    token = _gathered.set(gathered)
    try:
        with transaction.atomic():
            yield
            _gathered.reset(token)  # what the subscribers announce themselves is told at once
            token = None
            if gathered:
                for subscriber in subscribers():
                    if _hears_together(subscriber):
                        subscriber.together(tuple(gathered))
    finally:
        if token is not None:
            _gathered.reset(token)
