"""Delivery hears of changes: the page cache, static files and the CDN follow each event.

`story_changed` is a subscriber of articles.events (settings.NEWSROOM_SUBSCRIBERS): called
inside the desk's transaction, it works out which dependency keys the change touches
(delivery.registry) and defers everything outside the database until the commit: the
page-cache bump first (cheap, and what readers of this server see), then the task that
runs `deliver`. Inside ``articles.events.together()`` it hears a whole block of changes at
once (`changed_together`): one bump, and one task per CHANGES_PER_TASK changes.

`deliver` takes the events as plain dicts, so it runs later in a worker (delivery.tasks): it
names the public addresses showing the changes, renders them into the read model
(delivery.read_model), rewrites their static files and asks the CDN to purge them (and the keys).

Photos follow the story (delivery.photos): their files move to readers' place or away from
it as soon as the change commits, and at a scheduled story's time.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from articles import events
from cdn import purge

from . import cache as page_cache
from . import photos, read_model, registry, static_publish, tasks


# A bulk change (articles.events.together) is delivered in tasks of this many changes: one
# task renders the home page, a section's lists and feeds once for all of them, and a worker
# still runs an editor's single change between two tasks of a 10,000-story import.
CHANGES_PER_TASK = 100


def story_changed(event):
    """Refresh what a `StoryChanged` or `SharedChanged` touches, once the transaction commits."""
    changed_together((event,))


def changed_together(changes):
    """Refresh what `changes` (announced in one transaction, in order) touch, once it commits:
    the page-cache bump of them all first, then their photos, then the tasks that deliver them
    (`deliver`), CHANGES_PER_TASK at a time."""
    changes = [event for event in changes if not _unseen(event)]
    if not changes:
        return
    # The keys are worked out now, from the change as the transaction sees it.
    bump = _Bump([(event, registry.keys_for(event)) for event in changes])
    transaction.on_commit(bump)
    stories = []
    for event in changes:
        if isinstance(event, events.StoryChanged):
            stories.append(event)
        elif event.image_ids:
            photos.sync_after_commit(event.image_ids, reason=f"{_reason(event)}: photos no longer public")
    follow_photos(stories)
    # Static files and the CDN: a task written with the change, run by the worker (delivery/tasks.py).
    for chunk in read_model.chunks(changes, CHANGES_PER_TASK):
        tasks.enqueue_after_commit(tasks.deliver_changes, [event.as_dict() for event in chunk])


story_changed.together = changed_together  # articles.events.together() hands it a whole block


def _unseen(event):
    """A story that no public page showed before the change nor shows after it."""
    return isinstance(event, events.StoryChanged) and not event.on_public_pages


class _Bump:
    """The page-cache bump of changes committed together: one invalidation for the stories
    (of each kind of stored page, the keys that kind declares, and the pages named as showing
    them), one for the shared things (every page recording their keys)."""

    def __init__(self, changes_and_keys):
        self.changes = changes_and_keys

    def __call__(self):
        stories = [(event, keys) for event, keys in self.changes if isinstance(event, events.StoryChanged)]
        shared_keys = set().union(*(keys for event, keys in self.changes if not isinstance(event, events.StoryChanged)))
        story_keys, by_kind, paths = set(), {}, set()
        for event, keys in stories:
            if not keys:
                continue
            story_keys |= keys
            for kind, kind_keys in registry.keys_by_kind(event).items():
                by_kind.setdefault(kind, set()).update(kind_keys)
            # A neighbour gaining a 下一篇 link records no key of this story: it is named.
            paths.update(registry.urls_for(event))
        if story_keys:
            page_cache.invalidate(story_keys, read_model.Scope(by_kind, paths))
        if shared_keys:
            page_cache.invalidate(shared_keys, read_model.Scope())
        if stories:
            # Their times (or statuses) may have changed: the next scheduled story is worked out again.
            page_cache.forget_next_scheduled()


def follow_photos(changes):
    """Bring the photos of the stories of `changes` (now and before) to their visibility once the
    changes commit, and again at a story's scheduled time if it has one still to come."""
    image_ids = photos.images_of(changes)
    for event in changes:
        after = event.after
        if after is not None and after.image_ids and after.status == "scheduled" and after.published_at:
            when = datetime.fromisoformat(after.published_at)
            if when > timezone.now():
                tasks.sync_photos_at(when, after.image_ids)
    if image_ids:
        photos.sync_after_commit(image_ids, reason=f"{_described(changes)}: photos no longer public")


def _reason(event):
    if isinstance(event, events.StoryChanged):
        return f"story {event.story_id}"
    return f"{event.kind} {event.pk}"


def _described(changes):
    return purge.summary([_reason(event) for event in changes])


def deliver(event_dicts):
    """Rewrite the static files and purge the CDN copies of the pages showing changes committed
    together (a page showing several of them is rendered once); queue the wide groups of pages
    they may also show (delivery.registry.groups_for) and, after a change every page prints,
    the rebuild of every file, behind the deliveries of other changes."""
    changes = [events.from_dict(data) for data in event_dicts]
    urls, keys, story_ids, groups = {}, set(), [], set()
    for event in changes:
        if isinstance(event, events.StoryChanged):
            story_ids.append(event.story_id)
        elif event.kind in registry.PRINTED_AS_STORIES:
            story_ids.extend(event.story_ids)
        keys |= registry.keys_for(event)
        urls.update(dict.fromkeys(registry.urls_for(event)))
        groups.update(registry.groups_for(event))
    urls = list(urls)
    reason = _described(changes)
    # The read model first: static publishing then copies the pages it has just stored.
    read_model.refresh(urls)
    push(urls, keys, story_ids=list(dict.fromkeys(story_ids)), reason=reason)
    stories = [event for event in changes if isinstance(event, events.StoryChanged)]
    if stories:
        # Done already when the changes committed, unless that failed: then it happens here.
        hidden = photos.site_paths(photos.sync(photos.images_of(stories)))
        if hidden:
            purge.request(hidden, set(), reason=f"{reason}: photos no longer public")
    if static_publish.enabled():
        for url_name, group in sorted(groups):
            tasks.refresh_group_later(url_name, group)
        if registry.SITE in keys:
            tasks.enqueue_later(tasks.rebuild_static_site)


def push(urls, keys, *, story_ids=(), reason=""):
    """Hand committed changes' addresses and keys to static publishing and the CDN."""
    static_publish.refresh(urls, keys, story_ids=story_ids)
    purge.request(urls, keys, reason=reason)
