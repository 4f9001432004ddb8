"""点击排行 most read: reads counted in the cache, added to the database in batches, and the
lists of today's and this week's most-read stories worked out at each batch.

Counting. A story page (Django's, a page-cache hit, a static file, a CDN copy) carries a
small script (static/readers/reads.js) that posts to the read beacon once the page is shown,
so every way a page reaches a reader counts the same. The beacon writes nothing to the
database: it increments a counter in the cache (`counter_cache`: Redis in production, shared
by every process; local memory on a laptop), one per story per minute ("bucket"). Requests
from robots (by user agent, `is_robot`) are not counted.

Flushing. `flush` adds the counters of every minute that has ended to DailyReads (one row per
story and day, the day in the newsroom's time zone), in a few statements for all of them,
then works out the lists and keeps them in the cache. It runs from ``manage.py flush_reads``
(cron, every few minutes) and also from the beacon itself once NEWSROOM_MOST_READ_SECONDS
have passed since the last run, so a laptop without cron (or a server whose processes keep
their own local-memory counters) flushes too. One flush at a time (a lock in the cache).

Lists on pages. The home page prints the site's lists and each section page its section's.
Pages read the lists from the cache (never computing them per request) and record the
dependency keys ``most-read`` (home) or ``most-read:section:<pk>``. When a flush finds a
list changed, it bumps those keys (the page cache rebuilds the page at its next request)
and queues the rewrite of the static files and the CDN purge of the pages concerned. Only
ranks are printed, not counts, so pages change only when the order does. A withdrawn story
leaves the lists at once: every page printing one shows only stories live at its rendering,
and a withdrawal refreshes the home page and its section's page anyway.
"""

import logging
import re
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tasks import task

from articles.models import Article, DailyReads, Section
from delivery import cache as page_cache
from newsroom import cache_settings

logger = logging.getLogger("newsroom.most_read")

BUCKET_SECONDS = 60
GRACE_SECONDS = 5  # a bucket is flushed once this long past its end: requests in flight land first
KEEP_SECONDS = 2 * 24 * 3600  # counters not flushed by then are dropped
LIST_LENGTH = 10
WEEK_DAYS = 7

PREFIX = "newsroom:reads:"
LISTS_KEY = PREFIX + "lists"
FLUSHED_KEY = PREFIX + "flushed-through"
LOCK_KEY = PREFIX + "flushing"
DUE_KEY = PREFIX + "next-flush"

MOST_READ = "most-read"  # dependency key of the pages printing the site's lists


def section_most_read_key(pk):
    return f"{MOST_READ}:section:{pk}"


# Crawlers, link previewers, monitors and scripted clients. Anything calling itself a bot,
# spider or crawler is one whatever else it says.
ROBOT = re.compile(
    r"bot|spider|crawl|slurp|mediapartners|facebookexternalhit|bingpreview|feedfetcher|ia_archiver|"
    r"headless|phantomjs|lighthouse|pingdom|uptime|monitor|python-requests|python-urllib|aiohttp|httpx|"
    r"curl|wget|go-http-client|okhttp|java/|libwww|scrapy|httpclient|node-fetch|axios|postman",
    re.IGNORECASE,
)


def is_robot(user_agent):
    """Whether a request with this User-Agent is a robot's (no user agent at all counts as one)."""
    return not (user_agent or "").strip() or bool(ROBOT.search(user_agent))


def flush_interval():
    return getattr(settings, "NEWSROOM_MOST_READ_SECONDS", 300)


def counter_cache():
    """Where counters and lists are kept: the cache shared by every process and kept across
    deploys (Redis's `dependencies` alias), else the local one (newsroom/cache_settings.py)."""
    return cache_settings.versions_cache()


def _count_key(bucket, story_id):
    return f"{PREFIX}{bucket}:{story_id}"


def _size_key(bucket):
    return f"{PREFIX}{bucket}:n"


def _entry_key(bucket, number):
    return f"{PREFIX}{bucket}:id:{number}"


# --- counting --------------------------------------------------------------------------------


def count_read(story_id, now=None):
    """One read of story `story_id`: a cache increment, no database.

    The bucket's first read of a story also writes the story's id under the bucket's next
    number, so that the flush finds every story read in a minute without listing keys."""
    counters = counter_cache()
    bucket = int((now or time.time()) // BUCKET_SECONDS)
    key = _count_key(bucket, story_id)
    if counters.add(key, 1, timeout=KEEP_SECONDS):
        counters.add(_size_key(bucket), 0, timeout=KEEP_SECONDS)
        number = counters.incr(_size_key(bucket))
        counters.set(_entry_key(bucket, number), story_id, timeout=KEEP_SECONDS)
        return
    try:
        counters.incr(key)
    except ValueError:
        pass  # flushed and removed a moment ago: one read lost, never a failed page


@csrf_exempt
@require_POST
def read_beacon(request, pk):
    """The beacon story pages post to when shown (static/readers/reads.js): 204, never cached."""
    if not is_robot(request.META.get("HTTP_USER_AGENT", "")):
        count_read(pk)
        flush_if_due()
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    response.dependency_keys = set()
    return response


# --- flushing --------------------------------------------------------------------------------


def flush_if_due():
    """Flush when NEWSROOM_MOST_READ_SECONDS have passed since the last flush this cache saw."""
    if counter_cache().add(DUE_KEY, 1, timeout=flush_interval()):
        try:
            flush()
        except Exception:  # a reader's beacon must not fail: the next flush picks the counts up
            logger.exception("most read: flush failed")


def _local_day(bucket):
    moment = datetime.fromtimestamp(bucket * BUCKET_SECONDS, tz=dt_timezone.utc)
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def flush(now=None):
    """Add the counters of every ended minute to DailyReads and work the lists out again.

    Returns the number of reads added, or None when another flush holds the lock."""
    counters = counter_cache()
    if not counters.add(LOCK_KEY, 1, timeout=300):
        return None
    try:
        now = now or time.time()
        last_closed = int((now - GRACE_SECONDS) // BUCKET_SECONDS) - 1
        oldest = last_closed - KEEP_SECONDS // BUCKET_SECONDS
        done = counters.get(FLUSHED_KEY)
        buckets = range(oldest if done is None else max(done + 1, oldest), last_closed + 1)
        sizes = counters.get_many([_size_key(bucket) for bucket in buckets])
        totals, spent = {}, []
        for bucket in buckets:
            size = sizes.get(_size_key(bucket)) or 0
            if not size:
                continue
            entry_keys = [_entry_key(bucket, number) for number in range(1, size + 1)]
            story_ids = set(counters.get_many(entry_keys).values())
            count_keys = {_count_key(bucket, pk): pk for pk in story_ids}
            day = _local_day(bucket)
            for key, reads in counters.get_many(list(count_keys)).items():
                totals[(day, count_keys[key])] = totals.get((day, count_keys[key]), 0) + reads
            spent += [_size_key(bucket), *entry_keys, *count_keys]
        added = _add_to_database(totals)
        counters.set(FLUSHED_KEY, last_closed, timeout=None)
        if spent:
            counters.delete_many(spent)
        refresh_lists()
        return added
    finally:
        counters.delete(LOCK_KEY)


def _add_to_database(totals):
    """Add `totals` {(day, story id): reads} to DailyReads: per day, one insert of the rows
    missing and one update adding to all of them (UPDATE reads = reads + n, so two processes
    flushing their own counters at once both count). Ids of no story are dropped."""
    by_day = {}
    for (day, pk), reads in totals.items():
        by_day.setdefault(day, {})[pk] = reads
    added = 0
    with transaction.atomic():
        for day, counts in sorted(by_day.items()):
            known = set(Article.objects.filter(pk__in=counts).values_list("pk", flat=True))
            counts = {pk: reads for pk, reads in counts.items() if pk in known}
            DailyReads.objects.bulk_create(
                [DailyReads(day=day, article_id=pk, reads=0) for pk in counts], ignore_conflicts=True
            )
            rows = list(DailyReads.objects.filter(day=day, article_id__in=counts).only("pk", "article_id"))
            for row in rows:
                row.reads = F("reads") + counts[row.article_id]
            DailyReads.objects.bulk_update(rows, ["reads"], batch_size=500)
            added += sum(counts.values())
    return added


# --- the lists -------------------------------------------------------------------------------


def _ranked(since, section_id=None):
    rows = DailyReads.objects.filter(day__gte=since, article__in=Article.objects.published())
    if section_id is not None:
        rows = rows.filter(article__section_id=section_id)
    ranked = rows.values("article_id").annotate(total=Sum("reads")).order_by("-total", "-article_id")
    return [row["article_id"] for row in ranked[:LIST_LENGTH]]


def compute_lists(today=None):
    """{"day", "today": {scope: [ids]}, "week": {scope: [ids]}}: scope "site" or a section's id."""
    today = today or timezone.localdate()
    week_start = today - timedelta(days=WEEK_DAYS - 1)
    lists = {"day": today.isoformat(), "today": {}, "week": {}}
    scopes = [("site", None)] + [(str(pk), pk) for pk in Section.objects.values_list("pk", flat=True)]
    for scope, section_id in scopes:
        lists["today"][scope] = _ranked(today, section_id)
        lists["week"][scope] = _ranked(week_start, section_id)
    return lists


def refresh_lists():
    """Work the lists out, keep them, and refresh the pages whose lists changed."""
    counters = counter_cache()
    before = counters.get(LISTS_KEY)
    lists = compute_lists()
    counters.set(LISTS_KEY, lists, timeout=None)
    if before is None:
        # Lost (a restart, an eviction): pages may print any lists, refresh those there are.
        before = {"today": {}, "week": {}}
    changed = {
        scope
        for period in ("today", "week")
        for scope in set(lists[period]) | set(before.get(period, {}))
        if lists[period].get(scope, []) != before.get(period, {}).get(scope, [])
    }
    if changed:
        _refresh_pages(changed)
    return lists


def current_lists():
    """The lists as the last flush left them; worked out and kept if the cache lost them (a
    restart), so a page never goes without them for long."""
    counters = counter_cache()
    lists = counters.get(LISTS_KEY)
    if lists is None:
        lists = compute_lists()
        counters.add(LISTS_KEY, lists, timeout=None)
    return lists


def list_ids(section_id=None):
    """(today's ids, this week's ids) for the site, or for the section `section_id`."""
    lists = current_lists()
    scope = "site" if section_id is None else str(section_id)
    return lists["today"].get(scope, []), lists["week"].get(scope, [])


def _refresh_pages(scopes):
    keys, urls = set(), []
    section_ids = [int(scope) for scope in scopes if scope != "site"]
    if "site" in scopes:
        keys.add(MOST_READ)
        urls.append(reverse("articles:home"))
    for pk, slug in Section.objects.filter(pk__in=section_ids).values_list("pk", "slug"):
        keys.add(section_most_read_key(pk))
        urls.append(reverse("articles:section", kwargs={"slug": slug}))
    page_cache.invalidate(keys)
    try:
        deliver_most_read.enqueue(sorted(urls), sorted(keys))
    except Exception:
        logger.exception("most read: could not queue the refresh of %s", urls)


@task
def deliver_most_read(urls, keys):
    """Rewrite the static files and purge the CDN copies of the pages whose lists changed."""
    from delivery.subscribers import push

    push(urls, keys, reason="most read lists")
