"""Purges: the CDN hears about every committed change, once, and never loses one.

Delivery calls `request` after a change commits, with the public paths and dependency keys
it touched (the same knowledge that refreshes the local page cache). Here those become
purges sent to the configured backend (cdn.backends).

* One change, one purge: an editor's save fires the signal several times (the story, its
  tags, its bylines...). Everything committed during one request is gathered and sent once,
  when the request has finished (`request_finished`, after the response has gone out, so
  the editor does not wait for the CDN). Commands gather theirs with `batch()`.
* Outside a request or batch (a shell, a script) a purge is sent at once.
* A target that does not confirm after NEWSROOM_CDN_ATTEMPTS quick tries gets a
  PendingPurge row; `manage.py retry_purges` (cron) delivers it later, backing off between
  rounds. A purge that cannot even be saved is logged in full at ERROR.
* Every purge logs one line on the `newsroom.cdn` logger: what changed, where it went,
  how many addresses and keys, and the result.
"""

import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from asgiref.local import Local
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, transaction
from django.dispatch import receiver
from django.utils import timezone

from . import conf
from .backends import PurgeFailed, get_backend
from .headers import surrogate_key
from .models import PendingPurge

logger = logging.getLogger("newsroom.cdn")

# Rounds of `retry_purges` wait 1, 2, 4, 8 minutes... between attempts, never more than this.
MAX_BACKOFF = timedelta(minutes=10)
# A purge still failing after this many rounds is logged as an error, not a warning.
LOUD_AFTER = 5
# Rows `retry_purges` takes per round (they are merged into one purge per target).
ROUND_SIZE = 200

_local = Local()


class _Batch:
    def __init__(self):
        self.urls, self.keys, self.reasons = set(), set(), []

    def add(self, urls, keys, reason):
        self.urls.update(urls)
        self.keys.update(keys)
        if reason and reason not in self.reasons:
            self.reasons.append(reason)

    def __bool__(self):
        return bool(self.urls or self.keys)


def summary(reasons):
    """What a purge of several changes says it is for: the first three, and how many more."""
    if len(reasons) <= 3:
        return ", ".join(reasons)
    return ", ".join(reasons[:3]) + f" and {len(reasons) - 3} more"


# --- gathering -------------------------------------------------------------------------------


@contextmanager
def batch():
    """Gather the purges of everything committed inside, and send them once on the way out."""
    depth = getattr(_local, "depth", 0)
    if depth == 0:
        _local.batch, _local.by_request = _Batch(), False
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth
        if depth == 0:
            _flush()


def request(urls, keys, *, reason=""):
    """Purge `urls` (public paths) and `keys` (dependency keys): now, or with the open batch."""
    if not conf.enabled() or not (urls or keys):
        return
    if getattr(_local, "depth", 0):
        _local.batch.add(urls, keys, reason)
    else:
        send(urls, keys, reason=reason)


def _flush():
    gathered = getattr(_local, "batch", None)
    _local.batch, _local.depth, _local.by_request = None, 0, False
    if gathered:
        try:
            send(gathered.urls, gathered.keys, reason=summary(gathered.reasons))
        except Exception:
            # The change is committed and the response may be out: say what could not be handled.
            logger.exception(
                "purge LOST unless repeated by hand: %s; urls=%s keys=%s",
                summary(gathered.reasons), sorted(gathered.urls), sorted(gathered.keys),
            )


@receiver(request_started, dispatch_uid="cdn-request-started")
def _open_request_batch(sender, **kwargs):
    if getattr(_local, "depth", 0) and not getattr(_local, "by_request", False):
        return  # a request served inside an explicit batch() (a test, a script): that batch sends
    if getattr(_local, "by_request", False):
        _flush()  # what a broken previous request left behind goes first
    _local.batch, _local.depth, _local.by_request = _Batch(), 1, True


@receiver(request_finished, dispatch_uid="cdn-request-finished")
def _close_request_batch(sender=None, **kwargs):
    if getattr(_local, "by_request", False):
        _flush()


# --- sending ---------------------------------------------------------------------------------


def _deliver(backend, target, urls, keys, cfg):
    """Send one purge to one target; (requests made, seconds) or PurgeFailed."""
    paths = sorted(urls) if "urls" in cfg.purge_by else []
    names = sorted({surrogate_key(key, cfg.key_prefix) for key in keys}) if "keys" in cfg.purge_by else []
    started = time.monotonic()
    requests = backend.purge(target, paths, names) if (paths or names) else 0
    return requests, time.monotonic() - started


def _summary(urls, keys):
    return f"{len(urls)} urls, {len(keys)} keys"


def _backoff(failures):
    return min(timedelta(minutes=2 ** max(0, failures - 1)), MAX_BACKOFF)


def send(urls, keys, *, reason=""):
    """Purge `urls` and `keys` at every target now; keep what a target does not confirm."""
    urls, keys = sorted(set(urls)), sorted(set(keys))
    try:
        cfg = conf.config()
        backend = get_backend(cfg)
        targets = backend.targets()
    except ImproperlyConfigured as error:
        _keep("(unconfigured)", urls, keys, reason, f"configuration: {error}")
        return
    if not cfg.enabled:
        return
    for target in targets:
        try:
            requests, seconds = _deliver(backend, target, urls, keys, cfg)
        except PurgeFailed as error:
            _keep(target, urls, keys, reason, f"{error} (after {cfg.attempts} attempts)")
            continue
        except Exception as error:  # a bug or an unexpected library error: keep the purge all the same
            logger.exception("purge %s -> %s raised", reason, target)
            _keep(target, urls, keys, reason, f"{type(error).__name__}: {error}")
            continue
        logger.info(
            "purge ok: %s -> %s (%s): %s in %d requests, %.2fs",
            reason, target, backend.name, _summary(urls, keys), requests, seconds,
        )
        # The target answers again: purges kept for it need not wait out their backoff.
        try:
            PendingPurge.objects.filter(target=target, next_attempt_at__gt=timezone.now()).update(
                next_attempt_at=timezone.now()
            )
        except DatabaseError:
            logger.warning("could not bring forward the pending purges for %s (database unavailable)", target)


def _keep(target, urls, keys, reason, error):
    try:
        pending = PendingPurge.objects.create(
            target=target,
            reason=reason[:200],
            urls=urls,
            keys=keys,
            next_attempt_at=timezone.now() + _backoff(1),
            last_error=error,
        )
    except Exception:
        # Nowhere to keep it (the database is down too): the log must carry all of it.
        logger.exception(
            "purge LOST unless repeated by hand: %s -> %s: %s; urls=%s keys=%s", reason, target, error, urls, keys
        )
        return None
    logger.warning(
        "purge failed: %s -> %s: %s: %s; kept as pending purge #%d, next try after %s",
        reason, target, _summary(urls, keys), error, pending.pk, f"{pending.next_attempt_at:%Y-%m-%d %H:%M:%S%z}",
    )
    return pending


# --- retrying --------------------------------------------------------------------------------


def retry_pending(*, everything=False, deadline=None):
    """Deliver kept purges whose next attempt is due (all of them with `everything`).

    Safe on several servers at once: each round locks the rows it takes and skips rows
    another server holds (PostgreSQL), so every kept purge is sent by one of them. Rows for
    one target are merged into one purge. Returns (delivered rows, still failing rows)."""
    delivered = failing = 0
    tried = set()
    while deadline is None or time.monotonic() < deadline:
        with transaction.atomic():
            rows = PendingPurge.objects.select_for_update(skip_locked=True).exclude(pk__in=tried).order_by("pk")
            if not everything:
                rows = rows.filter(next_attempt_at__lte=timezone.now())
            rows = list(rows[:ROUND_SIZE])
            if not rows:
                break
            tried.update(row.pk for row in rows)
            ok, bad = _retry_round(rows)
            delivered += ok
            failing += bad
    return delivered, failing


def _retry_round(rows):
    try:
        cfg = conf.config()
        backend = get_backend(cfg)
        targets = backend.targets()
    except ImproperlyConfigured as error:
        for row in rows:
            _failed_again(row, row.target, f"configuration: {error}")
        return 0, len(rows)
    if not cfg.enabled:
        for row in rows:
            _failed_again(row, row.target, "no CDN is configured (NEWSROOM_CDN_BACKEND is unset)")
        return 0, len(rows)
    by_target = {}
    for row in rows:
        # A target no longer configured (a server replaced, another CDN): tell every current one.
        for target in [row.target] if row.target in targets else targets:
            by_target.setdefault(target, []).append(row)
    failed = {}  # row pk -> [(target, error)]
    for target, group in by_target.items():
        urls = sorted({url for row in group for url in row.urls})
        keys = sorted({key for row in group for key in row.keys})
        reason = summary([f"#{row.pk} {row.reason}" for row in group])
        try:
            requests, seconds = _deliver(backend, target, urls, keys, cfg)
        except PurgeFailed as error:
            message = f"{error} (after {cfg.attempts} attempts)"
        except Exception as error:
            logger.exception("retried purge -> %s raised", target)
            message = f"{type(error).__name__}: {error}"
        else:
            logger.info(
                "purge ok (retried): %s -> %s (%s): %s in %d requests, %.2fs",
                reason, target, backend.name, _summary(urls, keys), requests, seconds,
            )
            continue
        for row in group:
            failed.setdefault(row.pk, []).append((target, message))
    PendingPurge.objects.filter(pk__in=[row.pk for row in rows if row.pk not in failed]).delete()
    for row in rows:
        failures = row.failures
        for number, (target, message) in enumerate(failed.get(row.pk, ())):
            kept = row
            if number:
                # Sent to several targets and refused by more than one: one row for each.
                kept = PendingPurge(
                    target=target, reason=row.reason, urls=row.urls, keys=row.keys,
                    failures=failures, next_attempt_at=row.next_attempt_at,
                )
            _failed_again(kept, target, message)
    return len(rows) - len(failed), len(failed)


def _failed_again(row, target, error):
    row.target = target
    row.failures += 1
    row.next_attempt_at = timezone.now() + _backoff(row.failures)
    row.last_error = error
    row.save()
    level = logging.ERROR if row.failures >= LOUD_AFTER else logging.WARNING
    logger.log(
        level,
        "purge failed again: #%d %s -> %s: %s: %s; %d failed rounds, next try after %s",
        row.pk, row.reason, target, _summary(row.urls, row.keys), error, row.failures,
        f"{row.next_attempt_at:%Y-%m-%d %H:%M:%S%z}",
    )
