"""Blocks many pages print alike, kept rendered and keyed by the versions of what they show.

The section navigation is the same on every public page but for the item marked current:
built inline it cost each page build a statement and a template loop (about 1.2 ms, a tenth
of a story page built with its compiled statement). `shared_block` keeps such a block's HTML
in the page cache's store under its name, its variant (here, the current item) and the
versions of its dependency keys (delivery.cache): a change that touches the block bumps one
of them, and the next build renders it again. No change needs to know the block exists.

The rules are the pages' own:
  * the versions are read before the block's data, and a change bumps its keys only after it
    commits, so a block kept under a version never shows a state older than that version;
  * a block is kept only when its data came from the primary: a replica may lag behind a
    version already bumped (newsroom.db_router). Built on a replica, it is rendered and used;
  * a key with no version yet (never bumped, or evicted) gets one only from a page's build,
    dated before that page began (delivery.cache.current_versions); until then the block is
    rendered and not kept, for a version given here would postdate the page being built and
    keep it out of the cache;
  * with the page cache off (NEWSROOM_PAGE_CACHE_SECONDS = 0) nothing is kept, and a kept
    block lives at most as long as a cached page may.

The read model and static publishing store whole pages; blocks only make building them
cheaper, so a page's bytes are the same whether its block was kept or rendered.
"""

from django.core.cache import cache
from django.utils.safestring import mark_safe

from newsroom import db_router

from .cache import known_versions, page_seconds

PREFIX = "newsroom:block:"


def shared_block(name, keys, variant, render):
    """The HTML of block `name` in `variant`, which shows what `keys` name: kept, else `render()`."""
    seconds = page_seconds()
    versions = known_versions(keys) if seconds else None
    if versions is None:
        return render()
    stamp = ".".join(str(versions[key]) for key in sorted(versions))
    key = f"{PREFIX}{name}:{variant}:{stamp}"
    html = cache.get(key)
    if html is None:
        html = render()
        if db_router.reads_primary():
            cache.set(key, str(html), timeout=seconds)
    return mark_safe(html)
