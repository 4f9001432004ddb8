"""Keyset pagination over (published_at, pk): as fast on page 50,000 as on page 1.

Links carry the key of the last (or first) story shown, `?before=<µs>-<pk>` for older
stories and `?after=<µs>-<pk>` for newer, so a link always names the same place in the
list and the database seeks the index instead of counting past rows with OFFSET.
"""

import re
from datetime import datetime, timezone

from django.conf import settings
from django.http import Http404
from django.utils.http import urlencode

_CURSOR_TEXT = r"(\d{1,17})-(\d{1,19})"  # microseconds since the epoch, then the story's id
_CURSOR = re.compile(rf"^{_CURSOR_TEXT}$")
# The query string of a page the list's own links name: one cursor, nothing else (delivery's
# read model keeps such pages like the first one; readers/pages.py declares it).
CURSOR_QUERY = re.compile(rf"(?:before|after)={_CURSOR_TEXT}")


def page_size():
    return getattr(settings, "NEWSROOM_PAGE_SIZE", 20)


def encode(article):
    when = article.published_at
    micros = int(when.timestamp()) * 1_000_000 + when.microsecond
    return f"{micros}-{article.pk}"


def decode(value):
    match = _CURSOR.match(value or "")
    if not match:
        raise Http404("bad page cursor")
    micros, pk = int(match.group(1)), int(match.group(2))
    try:
        when = datetime.fromtimestamp(micros // 1_000_000, tz=timezone.utc).replace(microsecond=micros % 1_000_000)
    except (OverflowError, OSError, ValueError):
        raise Http404("bad page cursor")
    return when, pk


class KeysetPage:
    """One page of `queryset` (newest first) at the place named by the request's cursor."""

    def __init__(self, queryset, request, per_page=None, extra_params=None):
        per_page = per_page or page_size()
        self.extra = extra_params or {}
        before, after = request.GET.get("before"), request.GET.get("after")
        if after is not None:
            rows = list(queryset.after(decode(after)).order_by("published_at", "pk")[: per_page + 1])
            self.has_newer = len(rows) > per_page
            rows = rows[:per_page][::-1]
            self.has_older = True
        elif before is not None:
            rows = list(queryset.before(decode(before)).order_by("-published_at", "-pk")[: per_page + 1])
            self.has_older = len(rows) > per_page
            rows = rows[:per_page]
            self.has_newer = True
        else:
            rows = list(queryset.order_by("-published_at", "-pk")[: per_page + 1])
            self.has_older = len(rows) > per_page
            rows = rows[:per_page]
            self.has_newer = False
        self.object_list = rows
        self.is_first = before is None and after is None
        self.path = request.path
        self._queryset = queryset
        self._cursor = after if after is not None else before

    def at_a_story(self):
        """Whether the cursor names a story of this list, as every link the site prints does.
        Any other cursor is a valid place nobody linked to: served, but not worth keeping."""
        if self._cursor is None:
            return True
        when, pk = decode(self._cursor)
        return self._queryset.filter(pk=pk, published_at=when).exists()

    def _url(self, **params):
        return "?" + urlencode({**self.extra, **params})

    @property
    def older_url(self):
        if self.has_older and self.object_list:
            return self._url(before=encode(self.object_list[-1]))
        return ""

    @property
    def newer_url(self):
        if self.has_newer and self.object_list:
            return self._url(after=encode(self.object_list[0]))
        return ""

    @property
    def first_url(self):
        if self.is_first:
            return ""
        return self.path + (self._url() if self.extra else "")

    def __iter__(self):
        return iter(self.object_list)
