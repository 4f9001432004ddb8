"""Chinese full-text search for readers: segmentation, the index, queries and snippets.

How Chinese text becomes searchable words
-----------------------------------------
Chinese is written without spaces, so text is cut into terms twice:

* overlapping character bigrams of every run of Chinese characters (书记论坛 -> 书记 记论 论坛).
  A query matches a story when all of its bigrams occur, so any substring of two or more
  characters is found whatever the context it sits in. This is recall: jieba alone cuts
  历城区 as one word in one sentence and 历城/区 in another, and a word-only index would
  then miss 历城.
* jieba's words (search mode), stored with a "w" mark so they never mix with bigrams.
  They only add to the rank: a story where 历城 stands as a word outranks one where the
  two characters merely meet (经历城市). This is precision.

Latin words and numbers are kept whole, lower-cased. Terms are stored in SearchEntry
(headline / summary+bylines+captions / body, weighted A, B, C). On PostgreSQL a generated
tsvector column with a GIN index answers the query; SQLite falls back to LIKE over the
same terms. Results are ordered by relevance, then newest first; on PostgreSQL the ranking
covers the newest SEARCH_CANDIDATES matches, so a word found in every story stays fast.
"""

import html
import os
import re
import threading
import unicodedata
from datetime import datetime, time, timedelta

from django.db import connection
from django.db.models import F, FloatField, Q, Value
from django.db.models.functions import Cast, Length, Replace
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

MAX_QUERY_CHARS = 100
MAX_QUERY_TERMS = 24
SNIPPET_CHARS = 120
# PostgreSQL: how many of the newest matches are ranked. Each costs reading its vector twice
# (match, rank): 5,000 took about a second for a word in every story, 1,000 about 0.1 s.
SEARCH_CANDIDATES = 1000

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_RUN = re.compile(rf"^[{_CJK}]+$")

_jieba = None
_jieba_lock = threading.Lock()


def jieba():
    """The jieba module with its dictionary loaded: once per process, on first use (~1 s)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import logging

                import jieba as module

                module.setLogLevel(logging.WARNING)
                # jieba caches its parsed dictionary in one file under /tmp; one per system
                # user, or the service cannot replace the copy root made (sticky /tmp).
                module.dt.cache_file = f"jieba.u{os.getuid()}.cache"
                module.initialize()
                _jieba = module
    return _jieba


def normalize(text):
    """Full-width to half-width, lower case: how both documents and queries are compared."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _bigrams(run):
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _words(run):
    return ["w" + word for word in jieba().cut_for_search(run, HMM=False) if len(word) >= 2]


def document_terms(text):
    """The terms of a piece of text, in order, repeated as often as they occur."""
    terms = []
    for run in _RUN.findall(normalize(text)):
        if _CJK_RUN.match(run):
            terms.extend(_bigrams(run))
            terms.extend(_words(run))
        else:
            terms.append(run)
    return terms


class Query:
    """A reader's query made safe: trimmed, cut into terms, never raising."""

    def __init__(self, raw):
        self.raw = (raw or "").strip()
        self.too_long = len(self.raw) > MAX_QUERY_CHARS
        text = normalize(self.raw[:MAX_QUERY_CHARS])
        runs = _RUN.findall(text)
        self.needles = list(dict.fromkeys(runs))  # what gets highlighted
        required, ranking = [], []
        for run in runs:
            if _CJK_RUN.match(run):
                required.extend(_bigrams(run))
                ranking.extend("w" + word for word in jieba().cut(run, HMM=False) if len(word) >= 2)
            else:
                required.append(run)
        self.required = list(dict.fromkeys(required))[:MAX_QUERY_TERMS]
        self.ranking = list(dict.fromkeys(ranking))[:MAX_QUERY_TERMS]

    def __bool__(self):
        return bool(self.required)


def _tsquery(terms, operator):
    # Terms hold only letters and digits; quoting makes each a single lexeme anyway.
    return f" {operator} ".join("'" + term.replace("'", "''") + "'" for term in terms)


VECTOR = '"articles_searchentry"."search_vector"'


def search(queryset, query, *, section=None, date_from=None, date_to=None):
    """Stories of `queryset` (already published()) matching `query`, best first, then newest."""
    if section is not None:
        queryset = queryset.filter(section=section)
    tz = timezone.get_current_timezone()
    if date_from:
        queryset = queryset.filter(published_at__gte=datetime.combine(date_from, time.min, tz))
    if date_to:
        queryset = queryset.filter(published_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tz))
    if connection.vendor == "postgresql":
        return _search_postgresql(queryset, query)
    return _search_fallback(queryset, query)


def _search_postgresql(queryset, query):
    """The GIN index finds the matches; only the newest SEARCH_CANDIDATES of them are ranked.

    ts_rank reads every ranked row's vector, so ranking all matches of a very common word
    (新闻 in every story) would cost time in proportion to the whole archive. Capping the
    ranked set at the newest matches keeps a query bounded; rarer queries rank them all."""
    from .models import SearchEntry

    required = _tsquery(query.required, "&")
    hits = SearchEntry.objects.extra(
        where=["search_vector @@ to_tsquery('simple', %s)"], params=[required]
    ).values("article_id")
    newest = queryset.filter(pk__in=hits).order_by("-published_at", "-pk").values("pk")[:SEARCH_CANDIDATES]
    rank_sql = f"ts_rank({VECTOR}, to_tsquery('simple', %s))"
    params = [required]
    if query.ranking:
        rank_sql += f" + 2 * ts_rank({VECTOR}, to_tsquery('simple', %s))"
        params.append(_tsquery(query.ranking, "|"))
    return (
        queryset.filter(pk__in=newest, search_entry__isnull=False)
        .annotate(rank=RawSQL(rank_sql, params, output_field=FloatField()))
        .order_by("-rank", "-published_at", "-pk")
    )


def _search_fallback(queryset, query):
    """SQLite and others: every required term somewhere, scored by where the terms stand."""
    fields = {"search_entry__headline_terms": 4, "search_entry__summary_terms": 2, "search_entry__body_terms": 1}
    for term in query.required:
        needle = f" {term} "
        queryset = queryset.filter(
            Q(search_entry__headline_terms__contains=needle)
            | Q(search_entry__summary_terms__contains=needle)
            | Q(search_entry__body_terms__contains=needle)
        )
    # Occurrences, counted as (length - length without the term) / term length, times weight.
    score = Value(0.0)
    for term in query.required + query.ranking:
        needle = f" {term} "
        for field, weight in fields.items():
            removed = Length(F(field)) - Length(Replace(F(field), Value(needle), Value("")))
            score = score + Cast(removed, FloatField()) * (weight / len(needle))
    return queryset.annotate(rank=score).order_by("-rank", "-published_at", "-pk")


def index_article(article):
    """Write the search terms of `article` (headline, summary, byline names, captions, body)."""
    from .models import ArticleImage, Byline, SearchEntry

    names = Byline.objects.filter(article=article).values_list("person__name", flat=True)
    captions = ArticleImage.objects.filter(article=article).values_list("image__caption", flat=True)

    def joined(*texts):
        terms = document_terms(" ".join(t for t in texts if t))
        return f" {' '.join(terms)} " if terms else ""

    SearchEntry.objects.update_or_create(
        article=article,
        defaults={
            "headline_terms": joined(article.kicker, article.headline, article.subtitle),
            "summary_terms": joined(article.summary, article.author_line, *names, *captions),
            "body_terms": joined(strip_tags(article.body or "")),
        },
    )


def highlight(text, needles):
    """`text` HTML-escaped with every needle wrapped in <mark>."""
    text = text or ""
    if not needles:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<mark>{html.escape(text[match.start() : match.end()])}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return mark_safe("".join(out))


def _needles_in(text, query):
    lowered = normalize(text)
    found = [n for n in query.needles if n in lowered]
    if found:
        return found
    return [b for b in query.required if b in lowered]


def snippet(article, query):
    """A short passage of summary or body around the first match, matches marked."""
    for source in (article.summary, strip_tags(article.body or "")):
        source = " ".join((source or "").split())
        needles = _needles_in(source, query)
        if not needles:
            continue
        lowered = normalize(source)
        first = min(lowered.find(n) for n in needles)
        start = max(0, first - SNIPPET_CHARS // 3)
        passage = source[start : start + SNIPPET_CHARS]
        prefix = "…" if start else ""
        suffix = "…" if start + SNIPPET_CHARS < len(source) else ""
        return mark_safe(prefix + highlight(passage, needles) + suffix)
    return html.escape((article.summary or strip_tags(article.body or ""))[:SNIPPET_CHARS])


def highlighted_headline(article, query):
    return highlight(article.headline, _needles_in(article.headline, query))
