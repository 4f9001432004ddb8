"""The public pages, declared once: what there is, and what a change touches.

Each kind of public page (the home page, a story, a section, a feed, a sitemap...) is one
``PublicPage``, registered by the app that serves it (readers/pages.py). A declaration says

* which URL patterns answer it (``url_names``);
* ``every``: the URL kwargs of every instance that should exist (streamed: a story archive
  of a million is read in primary-key batches);
* ``showing``: the URL kwargs of the instances showing a story at a given ``Placement``;
* ``shared``: the URL kwargs of the instances printing a shared thing (``SharedChanged``);
* ``keys``: the dependency keys its pages record that a story at a ``Placement`` touches;
* ``groups`` and ``members``: wide groups of its instances that may show a story (say, every
  page of a section showing the section's newest stories): too many to rewrite inside one
  delivery, so static publishing rewrites them a chunk at a time in low-priority tasks
  (delivery.tasks), while the page cache and the CDN refresh them at once by key. (Story
  pages declare none since their filled 推荐阅读 is stored: editorial.recommendations.)
* whether static publishing keeps a file of it (``static``) and which sitemap lists it.

Everything else is derived here, so no list of pages is written twice: the dependency keys
and the public paths a change touches (``keys_for``, ``urls_for``), the pages static
publishing writes (``every_url``), what the sitemaps list (``sitemap_entries``), and the
check that no public URL pattern goes undeclared (``undeclared_patterns``).

This module knows nothing about the readers' views: only about stories (articles.events)
and URL patterns.

Dependency keys ("story:12", "section:3", "tag:5", "person:7", "image:4", "home", "feeds",
"sitemaps", "search", "site") are what cached pages record (delivery.cache) and what a CDN
knows as surrogate keys (cdn.headers): a change bumps the keys it touches.
"""

import functools
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable
from urllib.parse import quote

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, get_script_prefix, get_urlconf, reverse

# --- dependency keys -------------------------------------------------------------------------

SITE = "site"  # every page: masthead, section navigation, outlets
HOME = "home"
FEEDS = "feeds"
SITEMAPS = "sitemaps"
SEARCH = "search"


def story_key(pk):
    return f"story:{pk}"


def section_key(pk):
    return f"section:{pk}"


def tag_key(pk):
    return f"tag:{pk}"


def person_key(pk):
    return f"person:{pk}"


def image_key(pk):
    return f"image:{pk}"


def shared_key(kind, pk):
    """The key of a shared thing: "image:4", "person:7", "section:3", "tag:5"."""
    return f"{kind}:{pk}"


# Shared things printed inside story cards and story pages under the stories' own keys (a
# page records "story:12", not the photo it prints): a change to one touches every page
# showing those stories.
PRINTED_AS_STORIES = {"image"}
# Shared things printed on the pages of the stories they name (a topic's headline under each
# of its stories): a change touches those stories' keys, for a story just added to a topic
# had not printed it yet, and so records no key of it.
PRINTED_ON_STORY_PAGES = {"topic"}
# Shared things with pages of their own in the sitemaps (a topic): added, renamed or deleted,
# they change what the sitemaps list.
LISTED_IN_SITEMAPS = {"topic"}


# --- declarations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """One instance of a page kind: its URL kwargs, and when it last changed if known."""

    kwargs: dict
    lastmod: datetime | None = None


def _single(**within):
    """A page kind with one instance and no URL kwargs (the home page, the site feed)."""
    yield {}


@dataclass(frozen=True)
class PublicPage:
    """One kind of public page. Callables may be left out: a page that shows no story has no
    `showing`, one that prints no shared thing no `shared`, one whose instances are not worth
    counting no `count` (it counts as one)."""

    url_names: tuple[str, ...]
    every: Callable = _single  # (**within) -> iterable of kwargs dicts or Instances
    count: Callable | None = None  # () -> roughly how many instances `every` yields
    showing: Callable | None = None  # (Placement) -> iterable of kwargs
    shared: Callable | None = None  # (SharedChanged) -> iterable of kwargs
    keys: Callable | None = None  # (Placement) -> iterable of dependency keys
    groups: Callable | None = None  # (Placement) -> names of wide groups of instances that may show it
    members: Callable | None = None  # (group, after, limit) -> [(cursor, kwargs), ...] in cursor order
    static: bool = True  # static publishing keeps a file of each instance
    # What it shows changes with the clock alone (the news sitemap's last 48 hours): the read
    # model (delivery.read_model) does not keep it; the page cache's lifetime bounds it.
    changes_by_itself: bool = False
    # Query strings that name another page of the same instance, kept by the read model like the
    # bare address (a list's older pages, "before=<cursor>"); matched whole. Anything else in a
    # query string is built for the reader who asked and not kept.
    queries: re.Pattern | None = None
    sitemap: str | None = None  # the sitemap listing its instances: "index", "sections" or "stories"
    changefreq: str | None = None  # what the sitemap says of it

    def __post_init__(self):
        if isinstance(self.url_names, str):
            object.__setattr__(self, "url_names", (self.url_names,))

    @property
    def url_name(self):
        return self.url_names[0]

    def keeps_query(self, query):
        return self.queries is not None and self.queries.fullmatch(query) is not None

    def instances(self, **within):
        """Every instance, as `Instance`s; `within` narrows a sitemap's share (ids=(low, high))."""
        for item in self.every(**within):
            yield item if isinstance(item, Instance) else Instance(item)

    def path(self, kwargs):
        """The public path of the instance with `kwargs` (same as reverse(), reversed once)."""
        return path(self.url_names, kwargs)


_registry = {}


def register(*pages):
    """Declare page kinds; a kind declared again under the same first URL name replaces it."""
    for page in pages:
        _registry[page.url_name] = page
    return pages


def pages():
    """Every declared page kind, in the order declared."""
    return tuple(_registry.values())


def page(url_name):
    """The page kind answering at `url_name` (e.g. "articles:detail")."""
    for declared in _registry.values():
        if url_name in declared.url_names:
            return declared
    raise LookupError(f"no public page is declared for {url_name!r}")


def declared_names():
    return {name for declared in _registry.values() for name in declared.url_names}


def some_page_keeps_query(query):
    """Whether any kind of page may have a stored page for this query string (`PublicPage.queries`)."""
    return any(declared.keeps_query(query) for declared in _registry.values())


# --- addresses -------------------------------------------------------------------------------

# Values a path template can take without reverse(): numbers and slugs. Anything else (a
# tag named with a slash, say) goes through reverse(), which checks it against the pattern.
_PLAIN = re.compile(r"[-\w]+\Z")
# What reverse() leaves unquoted (django.urls.resolvers).
_SAFE = "!$&'()*+,;=" + "/~:@"


def path(url_names, kwargs):
    """The path of the first of `url_names` taking exactly `kwargs`.

    Equal to reverse() for number and slug values, at a fraction of its cost: each pattern is
    reversed once with stand-in values, and later paths are the template filled in. A
    sitemap prints 20,000 story addresses; static publishing walks a million."""
    if isinstance(url_names, str):
        url_names = (url_names,)
    values = {key: str(value) for key, value in kwargs.items()}
    if not all(_PLAIN.match(value) for value in values.values()):
        return _reverse_first(url_names, kwargs)
    name, parts = _template(url_names, tuple(sorted(values)), get_script_prefix(), get_urlconf())
    if parts is None:
        return reverse(name, kwargs=kwargs)
    return "".join(quote(values[part[1:]], safe=_SAFE) if part.startswith("\0") else part for part in parts)


def _reverse_first(url_names, kwargs):
    for name in url_names[:-1]:
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return reverse(url_names[-1], kwargs=kwargs)


@functools.lru_cache(maxsize=512)
def _template(url_names, keys, script_prefix, urlconf):
    """(url name, template parts) for `keys`; parts None when no template could be made."""
    stand_ins = {key: str(7301950000 + number) for number, key in enumerate(keys)}
    for name in url_names:
        try:
            reversed_path = reverse(name, kwargs=stand_ins)
        except NoReverseMatch:
            continue
        by_value = {value: key for key, value in stand_ins.items()}
        pieces = re.split("(" + "|".join(stand_ins.values()) + ")", reversed_path) if keys else [reversed_path]
        if sum(piece in by_value for piece in pieces) != len(keys):
            return name, None  # a stand-in vanished or doubled: let reverse() decide
        return name, tuple("\0" + by_value[piece] if piece in by_value else piece for piece in pieces)
    raise NoReverseMatch(f"none of {url_names} takes {sorted(keys)}")


@receiver(setting_changed)
def _forget_templates(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _template.cache_clear()


def public_patterns(urlconf=None):
    """(route, name) of every URL pattern readers can reach: all but the desk's, the language
    switch and uploaded media."""
    private = ("admin/", "review/", "i18n/", settings.MEDIA_URL.lstrip("/"))
    found = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, route, inner)
            elif isinstance(entry, URLPattern):
                if not route.lstrip("^/").startswith(private):
                    found.append((route, f"{namespace}{entry.name}" if entry.name else None))

    walk(get_resolver(urlconf).url_patterns, "", "")
    return found


def undeclared_patterns(urlconf=None):
    """Public URL patterns no `PublicPage` declares: each needs a declaration (readers/pages.py)."""
    declared = declared_names()
    return [(route, name) for route, name in public_patterns(urlconf) if name is None or name not in declared]


# --- the whole site --------------------------------------------------------------------------


def every_url():
    """Every page static publishing keeps a file of, streamed (lists only their first page:
    later pages carry a query string and always come from Django)."""
    for declared in pages():
        if declared.static:
            for instance in declared.instances():
                yield declared.path(instance.kwargs)


def count_urls():
    """Roughly how many paths `every_url` yields (for progress reports)."""
    return sum(declared.count() if declared.count else 1 for declared in pages() if declared.static)


def sitemap_entries(sitemap, **within):
    """(page, path, instance) of what `sitemap` ("index", "sections", "stories") lists."""
    for declared in pages():
        if declared.sitemap == sitemap:
            for instance in declared.instances(**within):
                yield declared, declared.path(instance.kwargs), instance


# --- what a change touches -------------------------------------------------------------------


def _public_placements(event):
    return [p for p in (event.before, event.after) if p is not None and p.on_public_pages]


def _placements_of(story_ids):
    """Where the stories `story_ids` stand now (a shared thing they print changed)."""
    from articles.events import Placement
    from articles.models import Article

    found = [Placement.of(article) for article in Article.objects.filter(pk__in=story_ids).order_by("pk")]
    return [placement for placement in found if placement.on_public_pages]


def keys_for(event):
    """The dependency keys a `StoryChanged` or `SharedChanged` touches.

    A story: the keys every page kind records of it, where it stood before the change and
    where it stands after (the pages it left show it until refreshed). A shared thing: its
    own key ("site" for what every page prints), and for a photo the keys of the stories
    printing it."""
    keys = set()
    if hasattr(event, "story_id"):
        placements = _public_placements(event)
    else:
        # Every page records "site": a thing every page prints needs no other key.
        keys.add(SITE if event.site_wide else shared_key(event.kind, event.pk))
        if event.kind in PRINTED_ON_STORY_PAGES:
            keys.update(story_key(pk) for pk in event.story_ids)
        if event.kind in LISTED_IN_SITEMAPS:
            keys.add(SITEMAPS)
        placements = _placements_of(event.story_ids) if event.kind in PRINTED_AS_STORIES else []
    for placement in placements:
        for declared in pages():
            if declared.keys:
                keys.update(declared.keys(placement))
    return keys


def keys_by_kind(event):
    """For a `StoryChanged`: {kind: the keys of it that kind of page declares}, so a stored page
    is touched only through what its own kind lists (a story page records its section's key
    because it prints the section's name, but a new story in the section changes only the
    lists, and the neighbours `urls_for` names). None for a `SharedChanged`: every page
    recording its key prints it."""
    if not hasattr(event, "story_id"):
        return None
    found = {}
    for placement in _public_placements(event):
        for declared in pages():
            if declared.keys:
                found.setdefault(declared.url_name, set()).update(declared.keys(placement))
    return found


def urls_for(event):
    """The public paths showing what `event` changed, sorted.

    A story: every instance each page kind says shows it, before and after the change (its
    page under the old and the new slug, the lists and feeds it left and joined, the stories
    linking to it...). A shared thing: the instances printing it, and for a photo every page
    showing the stories printing it."""
    paths = set()
    if hasattr(event, "story_id"):
        placements = _public_placements(event)
    else:
        placements = _placements_of(event.story_ids) if event.kind in PRINTED_AS_STORIES else []
        for declared in pages():
            if declared.shared:
                paths.update(declared.path(kwargs) for kwargs in declared.shared(event))
    for placement in placements:
        for declared in pages():
            if declared.showing:
                paths.update(declared.path(kwargs) for kwargs in declared.showing(placement))
    return sorted(paths)


def groups_for(event):
    """(url name, group) of the wide groups of pages that may show what a `StoryChanged` changed,
    before or after it (none for a shared thing: those name their pages or the whole site)."""
    found = set()
    if hasattr(event, "story_id"):
        for placement in _public_placements(event):
            for declared in pages():
                if declared.groups and declared.static:
                    found.update((declared.url_name, group) for group in declared.groups(placement))
    return sorted(found)


def group_paths(url_name, group, after=None, limit=200):
    """(paths, cursor) of the next `limit` members of a wide group after `after`; the cursor
    is None once the group is done."""
    declared = page(url_name)
    members = list(declared.members(group, after, limit))
    paths = [declared.path(kwargs) for _cursor, kwargs in members]
    return paths, (members[-1][0] if len(members) == limit else None)


def shown(article):
    """The `StoryChanged` naming every page that shows `article` as it stands (trashed or not):
    for those who refresh a story's pages without a change in hand (static publishing's
    scheduled stories, a rebuild catching up)."""
    from articles.events import Placement, StoryChanged

    placement = Placement.of(article)
    return StoryChanged(story_id=article.pk, what="refresh", after=replace(placement, trashed=False))
