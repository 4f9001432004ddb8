"""Static publishing (静态发布): published pages written as files for the web server to send.

On when settings.NEWSROOM_STATIC_PUBLISH_ROOT names a folder. Each public page is rendered
by its own view, as an anonymous reader would get it, and written under the folder:
``/stories/12/slug/`` becomes ``stories/12/slug/index.html``, ``/feeds/rss.xml`` stays
``feeds/rss.xml``. Every file is written atomically (a temporary file in the same folder,
then ``os.replace``), with a gzip twin for nginx's ``gzip_static``. nginx sends a file when
there is one and asks Django otherwise (deploy/nginx/newsroom.conf).

Which files a change touches is not decided here: the registry of public pages
(delivery.registry) names the addresses that show a change (the same knowledge that
refreshes the page cache), delivery.subscribers hands them to `refresh`, and this module
renders exactly those. The pages of the whole site are the registry's too (`every_url`). A page that no longer
answers 200 (a withdrawn story's 410, a 404, a redirect) loses its file, so Django answers.

A file on disk is always current. A page that will change by itself at a known time (it
will list a scheduled story once its time comes) is taken off the disk shortly before
that time (NEWSROOM_STATIC_HOLD_SECONDS, longer than the cron interval) and written again
once it has passed: meanwhile Django serves it from its page cache, which already expires
at that very time. ``static_publish --due`` (cron, every minute) or the ``static_publisher``
loop does both; without one of them scheduled stories would reach files only with the next
change, so the operator's guide makes it part of turning static publishing on.
"""

import gzip
import logging
import os
import tempfile
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from . import internal, read_model, registry
from .registry import SITE

logger = logging.getLogger("newsroom.static")

INDEX = "index.html"
GZIP_SUFFIX = ".gz"
# Files of the publisher's own inside the tree: nginx never serves dot-files.
SITE_STALE_MARKER = ".site-stale"
DUE_MARKER = ".due-through"


def root():
    """The live folder of static pages, or None when static publishing is off."""
    value = getattr(settings, "NEWSROOM_STATIC_PUBLISH_ROOT", None)
    return Path(value) if value else None


def enabled():
    return root() is not None


def relative_file(url):
    """The file (relative to the root) holding the page at `url`, or None if it cannot have one."""
    path = unquote(urlsplit(url).path)
    if not path.startswith("/"):
        return None
    parts = path.strip("/").split("/") if path.strip("/") else []
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    if path.endswith("/"):
        parts.append(INDEX)
    return Path(*parts)


def url_for_file(relative):
    """The inverse of `relative_file`, as a decoded path (e.g. /tags/泉城/)."""
    parts = list(Path(relative).parts)
    if parts and parts[-1] == INDEX:
        return "/" + "".join(part + "/" for part in parts[:-1])
    return "/" + "/".join(parts)


# --- rendering -------------------------------------------------------------------------------

def render(url, *, fresh=False):
    """(status, body bytes) of `url` for an anonymous reader of the publishing origin.

    From the read model when it holds the page (kept current by every change), else rendered
    through the same middleware and view as a real request (not the test client), and then
    kept there. `fresh` always renders, straight from the database, and keeps nothing (what
    `static_verify` compares the files with)."""
    origin = settings.NEWSROOM_STATIC_PUBLISH_ORIGIN
    if not fresh and read_model.enabled():
        found = read_model.get_many(read_model.origin_of(origin), [url]).get(url)
        if found is not None:
            render.last_keys = found[2]
            return found[0], found[1]
        response = internal.get(url, origin, refresh_read_model=True)
    else:
        response = internal.get(url, origin, skip_page_cache=True)
    if response.streaming:
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    render.last_keys = set(getattr(response, "dependency_keys", ()))
    return response.status_code, body


render.last_keys = set()


# --- files -----------------------------------------------------------------------------------


def _atomic_write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; the web server must read it
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _remove(path):
    removed = False
    for candidate in (path, path.with_name(path.name + GZIP_SUFFIX)):
        try:
            candidate.unlink()
            removed = True
        except FileNotFoundError:
            pass
    return removed


def write_page(tree, relative, body):
    path = tree / relative
    # The gzip twin first: nginx prefers it, and it must never be older than the page.
    _atomic_write(path.with_name(path.name + GZIP_SUFFIX), gzip.compress(body, compresslevel=6, mtime=0))
    _atomic_write(path, body)


def read_page(tree, relative):
    try:
        return (tree / relative).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


# --- which pages show which story ------------------------------------------------------------
#
# The registry knows the pages that show a story by design (lists, feeds, editors' picks,
# 相关新闻 and 推荐阅读 rows, neighbours). What a page showed when it was written is known
# for certain only to the page itself. Each written page therefore notes
# the stories it shows (its `story:<pk>` dependency keys, the page cache's own knowledge) in
# `.shows/<pk>`, and a change to a story rewrites those pages too. The notes live in the
# generation they describe; a stale note costs one needless rewrite, never a stale page.

SHOWS = ".shows"


def note_shown_stories(tree, url, keys):
    own = {key for key in keys if key.startswith("story:")}
    if len(own) < 2:  # lists name no stories; a story page names at least itself
        return
    folder = tree / SHOWS
    folder.mkdir(exist_ok=True)
    line = (url + "\n").encode()
    for key in own:
        # One short O_APPEND write: safe with several processes publishing at once.
        fd = os.open(folder / key.split(":", 1)[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def pages_showing(pk, tree=None):
    """Addresses of the written pages that showed story `pk` when they were written."""
    tree = Path(tree) if tree is not None else root()
    if tree is None or not pk:
        return set()
    try:
        return set((tree / SHOWS / str(pk)).read_text().split())
    except FileNotFoundError:
        return set()


# --- what is held back until a scheduled time ------------------------------------------------


def hold_seconds():
    """How long before a scheduled story's time the pages it joins leave the disk."""
    return getattr(settings, "NEWSROOM_STATIC_HOLD_SECONDS", 120)


def held_back_urls():
    """Pages that will change by themselves within the hold window, when a scheduled
    story's time comes (pages of stories due later are written as usual, and taken off
    by `publish_due` once the window opens)."""
    from articles.models import Article

    urls = set()
    now = timezone.now()
    pending = Article.objects.filter(
        status=Article.Status.SCHEDULED, published_at__gt=now, published_at__lte=now + timedelta(seconds=hold_seconds())
    )
    for article in pending.order_by("published_at")[:200]:
        urls.update(registry.urls_for(registry.shown(article)))
    return urls


# --- publishing ------------------------------------------------------------------------------


class Result:
    def __init__(self):
        self.written, self.removed, self.failed = [], [], []

    def __repr__(self):
        return f"<Result written={len(self.written)} removed={len(self.removed)} failed={len(self.failed)}>"


def publish(urls, *, tree=None, held_back=None, result=None, known=None):
    """Bring the files of `urls` up to date in `tree` (the live root by default). `known` may
    hold pages read already from the read model ({url: (status, body, keys)})."""
    tree = Path(tree) if tree is not None else root()
    result = result or Result()
    if tree is None:
        return result
    if held_back is None:
        held_back = held_back_urls()
    for url in urls:
        relative = relative_file(url)
        if relative is None:
            continue
        if url in held_back or unquote(url) in held_back:
            if _remove(tree / relative):
                result.removed.append(url)
            continue
        try:
            if known and url in known:
                status, body, render.last_keys = known[url]
            else:
                status, body = render(url)
        except Exception:
            # Never leave a file that may be out of date: Django answers until the next write.
            logger.exception("static publishing: could not render %s", url)
            _remove(tree / relative)
            result.failed.append(url)
            continue
        if status == 200:
            write_page(tree, relative, body)
            note_shown_stories(tree, url, render.last_keys)
            result.written.append(url)
        elif _remove(tree / relative):
            result.removed.append(url)
    if result.written or result.removed:
        logger.info("static publishing: wrote %s, removed %s", result.written, result.removed)
    return result


def site_marked_stale(tree=None):
    """Whether a section or outlet changed since the files were last all written."""
    tree = Path(tree) if tree is not None else root()
    return tree is not None and (tree / SITE_STALE_MARKER).exists()


def mark_site_stale(tree=None):
    """Every page prints the site's sections: after such a change all files need rewriting.

    Until then they stay (their own content is right); `static_verify` reports the marker and
    the `static_publisher` loop rebuilds the whole site when it sees it."""
    tree = Path(tree) if tree is not None else root()
    if tree is not None and tree.exists():
        _atomic_write(tree / SITE_STALE_MARKER, str(time.time()).encode())


def _urgency(url, story_ids):
    """Readers look first at the story itself and the home page: write those first."""
    if any(url.startswith(reverse("articles:detail", kwargs={"pk": pk})) for pk in story_ids):
        return 0
    if url == reverse("articles:home"):
        return 1
    if url.startswith(reverse("articles:detail", kwargs={"pk": 1}).split("1")[0]):
        return 4  # other stories' 相关新闻 / 推荐阅读 / neighbours
    return 2 if url.endswith("/") else 3  # lists, then feeds and sitemaps


def refresh(urls, keys=(), *, story_ids=()):
    """Rewrite the files of the pages a committed change touched (no-op when off): `urls`,
    and the written pages that showed any of `story_ids`. A change of `keys` naming the
    whole site marks every file stale."""
    if not enabled():
        return
    try:
        urls = set(urls).union(*(pages_showing(pk) for pk in story_ids))
        story_ids = [pk for pk in story_ids if pk]
        publish(sorted(urls, key=lambda url: (_urgency(url, story_ids), url)))
        if SITE in set(keys or ()):
            mark_site_stale()
    except Exception:
        # The change is committed; a file system problem must not turn the editor's save
        # into an error page. static_verify reports what was left behind.
        logger.exception("static publishing: could not refresh %s", urls)


# --- scheduled stories -----------------------------------------------------------------------


def publish_due(tree=None):
    """Take off the disk the pages scheduled stories will join within the hold window, and
    write the pages of scheduled stories whose time has come since the last run."""
    from articles.models import Article

    tree = Path(tree) if tree is not None else root()
    if tree is None:
        return Result()
    marker = tree / DUE_MARKER
    now = timezone.now()
    due = Article.objects.filter(status=Article.Status.SCHEDULED, published_at__lte=now)
    try:
        since = float(marker.read_text())
    except (FileNotFoundError, ValueError):
        since = None
    if since is not None:
        due = due.filter(published_at__gt=datetime.fromtimestamp(since, tz=dt_timezone.utc))
    held = held_back_urls()
    urls = set(held)
    for article in due.order_by("published_at")[:1000]:
        urls.update(registry.urls_for(registry.shown(article)))
    result = publish(sorted(urls), tree=tree, held_back=held)
    tree.mkdir(parents=True, exist_ok=True)
    _atomic_write(marker, str(now.timestamp()).encode())
    return result


def next_scheduled_time():
    """When the next scheduled story goes live (an aware datetime), or None."""
    from articles.models import Article

    return (
        Article.objects.filter(status=Article.Status.SCHEDULED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )


# --- the whole site --------------------------------------------------------------------------


def every_url():
    """Every page static publishing keeps a file of (see delivery.registry.every_url)."""
    return registry.every_url()


def count_urls():
    """Roughly how many pages `every_url` yields (for progress reports)."""
    return registry.count_urls()


def generations(live):
    """Sibling folders a rebuild made for `live` (name.<stamp>), oldest first."""
    prefix = live.name + "."
    return sorted(p for p in live.parent.glob(prefix + "*") if p.is_dir() and not p.is_symlink())


def swap_in(live, fresh):
    """Make `live` point at the folder `fresh` in one step (an atomic symlink replace)."""
    previous = live.resolve() if live.is_symlink() else None
    if live.exists() and not live.is_symlink():
        # First rebuild over a plain folder: move it aside (a moment of misses, not of errors).
        previous = live.with_name(f"{live.name}.replaced-{int(time.time())}")
        os.rename(live, previous)
    temporary = live.with_name(f".{live.name}.link-{os.getpid()}")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(fresh.name, temporary)
    os.replace(temporary, live)
    return previous


class Progress:
    """Counts pages and tells `report(done, total, rate)` about every `every` seconds."""

    def __init__(self, total, report=None, every=2.0):
        self.total, self.report, self.every = total, report, every
        self.done, self.started = 0, time.monotonic()
        self._last = self.started

    @property
    def rate(self):
        return self.done / max(time.monotonic() - self.started, 1e-9)

    def step(self, count=1):
        self.done += count
        now = time.monotonic()
        if self.report and now - self._last >= self.every:
            self._last = now
            self.report(self.done, self.total, self.rate)


REBUILDING_MARKER = ".rebuilding"
CHUNK = 500  # pages read from the read model at a time


def unfinished_generations(live=None):
    """Folders of rebuilds that were interrupted (they still carry their marker), oldest first."""
    live = live or root()
    return [folder for folder in generations(live) if (folder / REBUILDING_MARKER).exists()]


def rebuild(*, report=None, every=2.0, resume=False):
    """Write every page from scratch into a new folder, then swap it in as the live root.

    Readers never see a half-built site: nginx keeps sending the previous generation until
    the symlink flips. Pages come from the read model (delivery.read_model) where it holds
    them, current by construction, read a chunk at a time; the rest are rendered (and stored
    there). An interrupted rebuild leaves its folder behind: `resume` carries on in it,
    skipping the files already written; a new rebuild removes such folders first. Changes
    committed since the (first) start went to the previous generation; they are written
    again into the new one right after the swap."""
    import shutil

    from articles.models import Article, Correction

    live = root()
    live.parent.mkdir(parents=True, exist_ok=True)
    unfinished = unfinished_generations(live)
    resumed = bool(resume and unfinished)
    if resumed:
        fresh = unfinished.pop()
        started = datetime.fromtimestamp(float((fresh / REBUILDING_MARKER).read_text()), tz=dt_timezone.utc)
    else:
        started = timezone.now()
        fresh = Path(tempfile.mkdtemp(prefix=f"{live.name}.{started:%Y%m%d%H%M%S}-", dir=live.parent))
        os.chmod(fresh, 0o755)  # mkdtemp makes 0700; the web server must enter it
        _atomic_write(fresh / REBUILDING_MARKER, str(started.timestamp()).encode())
    for folder in unfinished:
        shutil.rmtree(folder, ignore_errors=True)
    held = held_back_urls()
    result = Result()
    result.resumed = resumed
    progress = Progress(count_urls(), report, every)
    origin = read_model.origin_of(settings.NEWSROOM_STATIC_PUBLISH_ORIGIN)
    skipped = 0
    for chunk in read_model.chunks(every_url(), CHUNK):
        if resumed:
            todo = [url for url in chunk if not _written(fresh, url)]
            skipped += len(chunk) - len(todo)
        else:
            todo = chunk
        known = read_model.get_many(origin, todo) if read_model.enabled() else {}
        publish(todo, tree=fresh, held_back=held, result=result, known=known)
        progress.step(len(chunk))
    _atomic_write(fresh / DUE_MARKER, str(started.timestamp()).encode())
    (fresh / REBUILDING_MARKER).unlink()
    previous = swap_in(live, fresh)
    # Catch up with what changed during the rebuild.
    changed = set(Article.objects.filter(updated_at__gte=started).values_list("pk", flat=True))
    changed |= set(Correction.objects.filter(created_at__gte=started).values_list("article_id", flat=True))
    urls = set()
    for article in Article.objects.filter(pk__in=changed):
        urls.update(registry.urls_for(registry.shown(article)))
    publish(sorted(urls), result=result)
    publish_due()
    if previous is not None and previous != fresh and previous.parent == live.parent:
        shutil.rmtree(previous, ignore_errors=True)
    result.pages = progress.done
    result.skipped = skipped
    result.rate = progress.rate
    return result


def _written(tree, url):
    relative = relative_file(url)
    return relative is None or (tree / relative).is_file()


class Report:
    """What `verify` found: pages missing, files out of date, files that should not exist."""

    def __init__(self):
        self.missing, self.stale, self.extra, self.failed = [], [], [], []
        self.site_stale = False
        self.checked = 0

    @property
    def ok(self):
        return not (self.missing or self.stale or self.extra or self.failed or self.site_stale)


def verify(*, tree=None, report=None, every=2.0, fix=False):
    """Compare every file with what the database says the page is now.

    With `fix`, write the missing and stale pages and delete the extra files (a whole-site
    staleness after a section change needs `static_rebuild`)."""
    tree = Path(tree) if tree is not None else root()
    found = Report()
    found.site_stale = (tree / SITE_STALE_MARKER).exists()
    held = held_back_urls()
    expected = set()
    progress = Progress(count_urls(), report, every)
    for url in every_url():
        progress.step()
        relative = relative_file(url)
        if relative is None:
            continue
        on_disk = read_page(tree, relative)
        if url in held:
            if on_disk is not None:
                found.extra.append(url)
            continue
        try:
            status, body = render(url, fresh=True)
        except Exception:
            logger.exception("static verify: could not render %s", url)
            found.failed.append(url)
            continue
        if status != 200:
            if on_disk is not None:
                found.extra.append(url)
            continue
        expected.add(relative)
        if on_disk is None:
            found.missing.append(url)
        elif on_disk != body or read_page(tree, relative.with_name(relative.name + GZIP_SUFFIX)) != gzip.compress(
            body, compresslevel=6, mtime=0
        ):
            found.stale.append(url)
    for directory, folders, files in os.walk(tree):
        folders[:] = [f for f in folders if not f.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            relative = (Path(directory) / name).relative_to(tree)
            page = relative.with_name(name[: -len(GZIP_SUFFIX)]) if name.endswith(GZIP_SUFFIX) else relative
            if page not in expected and str(page) == str(relative):
                found.extra.append(url_for_file(relative))
            elif page not in expected and not (tree / page).exists():
                found.extra.append(url_for_file(relative))
    found.extra = sorted(set(found.extra))
    found.checked = progress.done
    if fix:
        publish(found.missing + found.stale, tree=tree, held_back=held)
        for url in found.extra:
            relative = relative_file(url)
            if relative is not None:
                _remove(tree / relative)
    return found
