"""Delivery hears of changes: the page cache, static files and the CDN follow each event.

`story_changed` is a subscriber of articles.events (settings.NEWSROOM_SUBSCRIBERS): called
inside the desk's transaction, it works out which dependency keys the change touches
(delivery.registry) and defers everything outside the database until the commit: the
page-cache bump first (cheap, and what readers of this server see), then the task that
runs `deliver`.

`deliver` takes the event as a plain dict, so it runs later in a worker (delivery.tasks): it
names the public addresses showing the change, renders them into the read model
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


def story_changed(event):
    """Refresh what a `StoryChanged` or `SharedChanged` touches, once the transaction commits."""
    is_story = isinstance(event, events.StoryChanged)
    if is_story and not event.on_public_pages:
        return
    keys = registry.keys_for(event)
    payload = event.as_dict()

    def bump():
        if keys:
            # Stored pages (delivery.read_model): of each kind, those its own keys name, and the
            # pages the registry says show the change (a neighbour gaining a 下一篇 link).
            scope = read_model.Scope(registry.keys_by_kind(event), registry.urls_for(event) if is_story else ())
            page_cache.invalidate(keys, scope)
        if is_story:
            # Its time (or status) may have changed: the next scheduled story is worked out again.
            page_cache.forget_next_scheduled()

    transaction.on_commit(bump)
    if is_story:
        follow_photos(event)
    elif event.image_ids:
        photos.sync_after_commit(event.image_ids, reason=f"{event.kind} {event.pk}: photos no longer public")
    # Static files and the CDN: a task written with the change, run by the worker (delivery/tasks.py).
    tasks.enqueue_after_commit(tasks.deliver_change, payload)


def follow_photos(event):
    """Bring the story's photos (now and before) to its visibility once the change commits,
    and again at its scheduled time if it has one still to come."""
    image_ids = photos.images_of(event)
    photos.sync_after_commit(image_ids, reason=f"story {event.story_id}: photos no longer public")
    after = event.after
    if after is not None and after.image_ids and after.status == "scheduled" and after.published_at:
        when = datetime.fromisoformat(after.published_at)
        if when > timezone.now():
            tasks.sync_photos_at(when, after.image_ids)


def deliver(event_dict):
    """Rewrite the static files and purge the CDN copies of the pages showing a change; queue
    the wide groups of pages it may also show (delivery.registry.groups_for) and, after a
    change every page prints, the rebuild of every file, behind the deliveries of other changes."""
    event = events.from_dict(event_dict)
    if isinstance(event, events.StoryChanged):
        story_ids, reason = [event.story_id], f"story {event.story_id}"
    else:
        story_ids = list(event.story_ids) if event.kind in registry.PRINTED_AS_STORIES else []
        reason = f"{event.kind} {event.pk}"
    keys = registry.keys_for(event)
    urls = registry.urls_for(event)
    # The read model first: static publishing then copies the pages it has just stored.
    read_model.refresh(urls)
    push(urls, keys, story_ids=story_ids, reason=reason)
    if isinstance(event, events.StoryChanged):
        # Done already when the change committed, unless that failed: then it happens here.
        hidden = photos.site_paths(photos.sync(photos.images_of(event)))
        if hidden:
            purge.request(hidden, set(), reason=f"{reason}: photos no longer public")
    if static_publish.enabled():
        for url_name, group in registry.groups_for(event):
            tasks.refresh_group_later(url_name, group)
        if registry.SITE in keys:
            tasks.enqueue_later(tasks.rebuild_static_site)


def push(urls, keys, *, story_ids=(), reason=""):
    """Hand committed changes' addresses and keys to static publishing and the CDN."""
    static_publish.refresh(urls, keys, story_ids=story_ids)
    purge.request(urls, keys, reason=reason)
