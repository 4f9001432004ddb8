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
(headline / summary+bylines+captions / body, weighted A, B, C). On PostgreSQL a tsvector
column with a GIN index answers the query; SQLite falls back to LIKE over the same terms.
Results are ordered by relevance, then newest first. On PostgreSQL the ranking covers the
newest SEARCH_CANDIDATES matches, and older matches follow them newest first, so a word
found in every story costs no more than a rare one (see _search_postgresql).

The tsvector is built here, not by PostgreSQL
---------------------------------------------
The column holds exactly what PostgreSQL computes for

    setweight(to_tsvector('simple', headline_terms), 'A')
    || setweight(to_tsvector('simple', summary_terms), 'B')
    || setweight(to_tsvector('simple', body_terms), 'C')

(the expression the column was generated from until migration 0010), but search_vector()
builds it from the term lists. Every term is a single token to PostgreSQL's parser (a run
of letters and digits, or of Chinese characters, with an optional "w" mark), so a term's
position is simply its place in the list, and only PostgreSQL's limits on positions need
copying. Parsing the terms was PostgreSQL's costliest step in storing a story (about 1.5 ms
a story): saving one story does not notice, generating a million does. Saving a story and
generate_stories both write the vector from this module; tests compare it with the
expression above.
"""

import bisect
import html
import math
import os
import re
import struct
import threading
import unicodedata
from datetime import datetime, time, timedelta

from django.db import connection, connections, router
from django.db.models import F, FloatField, Q, Value
from django.db.models.functions import Cast, Length, Replace
from django.utils import timezone
from django.utils.safestring import mark_safe

from .sanitize import body_text

MAX_QUERY_CHARS = 100
MAX_QUERY_TERMS = 24
SNIPPET_CHARS = 120
# PostgreSQL: how many of the newest matches are ranked by relevance; older ones follow,
# newest first. Each ranked match costs reading its vector (about 7 KB, compressed, out of
# line) three times: to match, and twice to rank. At 1M stories, in the statement alone
# (bench/search_bench.py): 1,000 took 60-180 ms for a word in every story,
# 100 took 4-14 ms. A multiple of the search page's 10 results.
SEARCH_CANDIDATES = 100
# PostgreSQL: a query's bigram that stands in at least this share of stories (by the search
# table's statistics, read again every TERM_STATISTICS_SECONDS) does not go to the GIN index
# when the query has rarer ones (_index_terms). At 1M stories, in the statement alone:
# 0.5 left out 经济 and 服务 (1.3-1.5x faster), 0.25 their neighbours 夜间, 托育 too (2x).
FREQUENT_TERM_SHARE = 0.25
# PostgreSQL: the most stories the index may be expected to hand over for a part of a query's
# terms, each then tested for the whole query (_index_terms); about 13 us each at 1M.
SHORT_LIST_STORIES = 10 * SEARCH_CANDIDATES
TERM_STATISTICS_SECONDS = 600
# PostgreSQL: for a query expected in more than SHORT_LIST_STORIES stories, the index is asked
# for its matches among the newest stories in which about this many are expected
# (_recent_bound), and for the older ones only if those fall short of the window.
RECENT_MATCHES = 3 * SEARCH_CANDIDATES
# PostgreSQL: reading one story's vector while walking the stories newest first costs about as
# much as this many entries of the GIN index's lists (at 1M: 4.6 us against 34 ns), which
# decides whether the slice is worth it (_recent_bound).
DATE_WALK_ROW_COST = 135

# CJK ideographs (extension A, unified, compatibility), without the unassigned code points
# U+FA6E-FA6F and U+FADA-FAFF, which PostgreSQL's parser does not count as letters.
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9"
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


# The compatibility characters of everyday Chinese text: full-width punctuation, letters and
# digits (U+FF01-FF5E) and the ideographic space, each NFKC's own mapping of it.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_WIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


def normalize(text):
    """Full-width to half-width, lower case: how both documents and queries are compared.

    Exactly NFKC, then lower case. Chinese text puts a full-width comma every dozen
    characters, which sends unicodedata.normalize down its slow path over the whole text
    (about 100 us for a 1,000-character body; the results page normalises each result's
    headline, summary and body). Those characters are mapped here with str.replace, and only
    text that still is not NFKC after that is normalised in full: the same result, since
    each replacement is the character's own NFKC mapping (tests/articles/test_search.py)."""
    return _normalized(text or "")[0]


def _normalized(text):
    """normalize(text), and whether each of its characters stands in place of the character
    at the same position in `text` (full-width to half-width and lower case only)."""
    for char in set(_FULL_WIDTH.findall(text)):
        text = text.replace(char, _HALF_WIDTH[char])
    if not unicodedata.is_normalized("NFKC", text):
        return unicodedata.normalize("NFKC", text).lower(), False
    lowered = text.lower()  # character by character: the same length means one for one
    return lowered, len(lowered) == len(text)


def _bigrams(run):
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _words(run):
    return ["w" + word for word in jieba().cut_for_search(run, HMM=False) if len(word) >= 2]


# PostgreSQL's parser reads a number in scientific notation at the start of a word as a word
# of its own (1e5km is 1e5 and km); Latin runs are cut the same way, so that every term
# stays a single word to PostgreSQL, in the stored vectors and in queries alike.
_NUMBER_PREFIX = re.compile(r"\d+e\d+(?=[a-z])")


def _latin(run):
    number = _NUMBER_PREFIX.match(run)
    return [run] if number is None else [number.group(), run[number.end() :]]


def document_terms(text):
    """The terms of a piece of text, in order, repeated as often as they occur."""
    terms = []
    for run in _RUN.findall(normalize(text)):
        if _CJK_RUN.match(run):
            terms.extend(_bigrams(run))
            terms.extend(_words(run))
        else:
            terms.extend(_latin(run))
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
        # Each bigram's neighbours in its phrase: those sharing a character with it.
        self.neighbours = {}
        for run in runs:
            if _CJK_RUN.match(run):
                bigrams = _bigrams(run)
                required.extend(bigrams)
                for before, after in zip(bigrams, bigrams[1:]):
                    self.neighbours.setdefault(before, set()).add(after)
                    self.neighbours.setdefault(after, set()).add(before)
                ranking.extend("w" + word for word in jieba().cut(run, HMM=False) if len(word) >= 2)
            else:
                required.extend(_latin(run))
        self.required = list(dict.fromkeys(required))[:MAX_QUERY_TERMS]
        self.ranking = list(dict.fromkeys(ranking))[:MAX_QUERY_TERMS]

    def __bool__(self):
        return bool(self.required)


def _tsquery(terms, operator):
    # Terms hold only letters and digits; quoting makes each a single lexeme anyway.
    return f" {operator} ".join("'" + term.replace("'", "''") + "'" for term in terms)


class Hit:
    """One search result as the results page prints it: plain values, no model instance.

    PostgreSQL's results come straight from one statement's rows; SQLite's from its
    queryset's stories (Hit.of), so the page treats both alike."""

    __slots__ = ("pk", "headline", "slug", "published_at", "summary", "body", "section_name", "outlet_name",
                 "snippet", "headline_marked")

    def __init__(self, pk, headline, slug, published_at, summary, body, section_name, outlet_name):
        self.pk, self.headline, self.slug, self.published_at = pk, headline, slug, published_at
        self.summary, self.body, self.section_name, self.outlet_name = summary, body, section_name, outlet_name

    @classmethod
    def of(cls, article):
        section, outlet = article.section, article.outlet
        return cls(article.pk, article.headline, article.slug, article.published_at, article.summary,
                   article.body, section.name if section else "", outlet.name if outlet else "")

    def get_absolute_url(self):
        from .models import story_url

        return story_url(self.pk, self.slug)


def search(query, *, section=None, date_from=None, date_to=None):
    """Live stories matching `query`, best first, then newest: a sequence sliced into lists of Hit.

    `section` and the dates (the newsroom's calendar days, both included) narrow it down.
    It reads from the database the router gives readers' pages (a replica, when there is one)."""
    from .models import SearchEntry

    tz = timezone.get_current_timezone()
    since = datetime.combine(date_from, time.min, tz) if date_from else None
    until = datetime.combine(date_to + timedelta(days=1), time.min, tz) if date_to else None
    using = router.db_for_read(SearchEntry)
    if connections[using].vendor == "postgresql":
        return _search_postgresql(query, section, since, until, using)
    return _search_fallback(query, section, since, until)


# What the results page prints of a story: the columns Hit takes, in its order.
_HIT_COLUMNS = """a.id, a.headline, a.slug, a.published_at, a.summary, a.body, coalesce(s.name, ''),
    coalesce(o.name, '')"""
_HIT_JOINS = """LEFT JOIN articles_section s ON s.id = a.section_id
    LEFT JOIN articles_outlet o ON o.id = a.outlet_id"""


def _live_matches(required, section, since, until):
    """WHERE (with its parameters) over articles_searchentry e of the live stories matching
    the tsquery `required` (of all a query's terms, or of its selective ones).

    Each search row carries its story's published_at, status and deleted_at, copied by the
    database (migration 0021), so the matches are found and ordered without reading the
    stories. The live test is live_q()'s, written out over those copies (models.live_sql)."""
    from .models import live_sql

    live, live_params = live_sql("e")
    sql = ["WHERE e.search_vector @@ to_tsquery('simple', %s)", f"AND {live}"]
    params = [required, *live_params]
    for condition, value in (
        ("EXISTS (SELECT 1 FROM articles_article s WHERE s.id = e.article_id AND s.section_id = %s)",
         section.pk if section else None),
        ("e.published_at >= %s", since),
        ("e.published_at < %s", until),
    ):
        if value is not None:
            sql.append(f"AND {condition}")
            params.append(value)
    return "\n".join(sql), params


def _search_postgresql(query, section, since, until, using):
    """The GIN index finds the matches; the newest SEARCH_CANDIDATES of them are ranked by
    relevance (ts_rank, then newest first), and every older match follows, newest first.

    ts_rank reads every ranked row's vector, so ranking all matches of a very common word
    (发展 in every story) would cost time in proportion to the whole archive. Ranking only
    the newest matches keeps the first pages bounded whatever the word; later pages walk the
    matches newest first, as far as the page asked for. A word with fewer matches than the
    window has all of them ranked.

    Each slice is one hand-written statement returning the printed columns as plain values.
    The ORM's version of it (model instances, select_related, nested IN subqueries) cost more
    Python to build and read than the page's template, and 2.5-2.8 ms of PostgreSQL's
    planning against 0.6-0.9 ms now (bench/search_bench.py at 1M)."""
    required = _tsquery(query.required, "&")
    where, params = _live_matches(required, section, since, until)
    rank = "ts_rank(e.search_vector, to_tsquery('simple', %s))"
    rank_params = [required]
    if query.ranking:
        rank += " + 2 * ts_rank(e.search_vector, to_tsquery('simple', %s))"
        rank_params.append(_tsquery(query.ranking, "|"))
    # The newest matches, the ranked window. The vector travels with them as a pointer: only
    # the ranked ones read it. `published` narrows them to a slice of time ("" or a condition
    # with one parameter, `bound`).
    selective = _index_terms(query, using)
    if selective == query.required:

        def newest_matches(published="", bound=()):
            sql = f"""SELECT e.article_id AS id, e.published_at, e.search_vector FROM articles_searchentry e
                {where} {published}
                ORDER BY e.published_at DESC, e.article_id DESC LIMIT %s"""
            return sql, [*params, *bound, SEARCH_CANDIDATES]

    else:
        # The index finds the stories with the selective terms; newest first, each is then
        # read for the frequent ones until the window is full. OFFSET 0 keeps PostgreSQL from
        # taking the outer test into the index scan, where it would cost what it saves.
        selective_where, selective_params = _live_matches(_tsquery(selective, "&"), section, since, until)

        def newest_matches(published="", bound=()):
            sql = f"""SELECT id, published_at, search_vector FROM (
                    SELECT e.article_id AS id, e.published_at, e.search_vector FROM articles_searchentry e
                    {selective_where} {published}
                    ORDER BY e.published_at DESC, e.article_id DESC OFFSET 0
                ) candidate WHERE search_vector @@ to_tsquery('simple', %s)
                ORDER BY published_at DESC, id DESC LIMIT %s"""
            return sql, [*selective_params, *bound, required, SEARCH_CANDIDATES]

    recent = _recent_bound(selective, query, using) if section is None and until is None else None
    if recent is None or (since is not None and since >= recent):
        window, window_params = newest_matches()
    else:
        # A word in tens of thousands of stories (a place name) has a window's worth among the
        # newest few per cent of them: the GIN index and the publication index together find
        # those (a BitmapAnd), where otherwise every match is read to sort them. The older
        # matches are looked for only when the recent ones fall short of the window (the
        # count is a one-time filter: PostgreSQL does not run that part otherwise). Either
        # way the window is the newest SEARCH_CANDIDATES matches.
        recent_sql, recent_params = newest_matches("AND e.published_at >= %s", [recent])
        older_sql, older_params = newest_matches("AND e.published_at < %s", [recent])
        window = f"""WITH recent AS ({recent_sql})
            SELECT * FROM (
                SELECT * FROM recent
                UNION ALL
                SELECT * FROM ({older_sql}) older WHERE (SELECT count(*) FROM recent) < %s
            ) newest ORDER BY published_at DESC, id DESC LIMIT %s"""
        window_params = [*recent_params, *older_params, SEARCH_CANDIDATES, SEARCH_CANDIDATES]

    def ranked(start, stop):
        sql = f"""WITH newest AS (
            {window}
        ), ranked AS (
            SELECT id, published_at, {rank} AS rank FROM newest e
            ORDER BY rank DESC, published_at DESC, id DESC OFFSET %s LIMIT %s
        )
        SELECT {_HIT_COLUMNS} FROM ranked r JOIN articles_article a ON a.id = r.id {_HIT_JOINS}
        ORDER BY r.rank DESC, r.published_at DESC, r.id DESC"""
        return sql, [*window_params, *rank_params, start, stop - start]

    def newest(start, stop):
        sql = f"""WITH older AS (
            SELECT e.article_id AS id, e.published_at FROM articles_searchentry e {where}
            ORDER BY e.published_at DESC, e.article_id DESC OFFSET %s LIMIT %s
        )
        SELECT {_HIT_COLUMNS} FROM older m JOIN articles_article a ON a.id = m.id {_HIT_JOINS}
        ORDER BY m.published_at DESC, m.id DESC"""
        return sql, [*params, start, stop - start]

    return RankedMatches(ranked, newest, SEARCH_CANDIDATES, using)


def _index_terms(query, using):
    """The terms the GIN index is asked for, a part of the query's when that is cheaper; every
    story the index finds is then tested for the whole query, newest first, only until the
    ranked window is full (about 13 us a story at 1M; the ranking reads the same vectors
    anyway). What is found stays the same: every term of the query is in every match.

    The index's cost is in reading each asked term's list of stories, and a term with a long
    list narrows the matches little. So:

    * a term in at least FREQUENT_TERM_SHARE of the stories is left out, unless every term
      is that frequent (经济 in 97% of the generated archive, 夜间 in 30%: for 钢城区夜间经济
      the index took three times as long with 经济 as without it, for the same 806 stories);
    * of the others, the rarest first, each leaves out its neighbours in the phrase, the
      bigrams that share a character with it: a story with 槐荫 and 区文 nearly always has 荫区
      between them, so asking for it too narrows nothing and costs a list;
    * the choosing stops once the chosen terms, taken as independent, would leave about a
      ranked window's worth of stories. When even all of them would leave more than
      SHORT_LIST_STORIES, the index is asked for every term below the frequent share: with
      so many stories to test the walk would cost more than the index (槐荫区 asked for 槐荫
      alone had 87,000 stories to sort and test, 50 ms; with 荫区 too, PostgreSQL reads the
      newest stories by date instead, 7 ms).

    At 1M, asking for 槐荫区文旅局举办论坛's 办论, 区文, 槐荫 and 旅局 found 69 stories in 2.2 ms,
    its nine bigrams 57 stories in 6.6 ms; five of them spread over the phrase without the rare
    办论 took 9.6 ms (bench/RESULTS.md). A story that has the chosen terms and not the whole
    query is tested in vain: the price of the rule, paid in time, never in what is found."""
    shares, stories = _term_statistics_of(using)
    terms = query.required
    selective = [term for term in terms if shares.get(term, 0) < FREQUENT_TERM_SHARE]
    if not selective or not shares:
        # Every term frequent, or no statistics (never analysed): every term.
        return selective or list(terms)
    chosen, expected = [], float(stories)
    for term, expected in _spread(selective, query, shares, stories):
        chosen.append(term)
        if expected <= SEARCH_CANDIDATES:
            break
    if expected > SHORT_LIST_STORIES:
        return selective
    return [term for term in terms if term in chosen]  # in the query's order


def _spread(terms, query, shares, stories):
    """`terms` rarest first, each leaving out its neighbours in the phrase, with the number of
    stories expected to hold every term so far (the terms taken as independent, and a term the
    statistics do not list as half as frequent as the least listed one)."""
    unlisted = _unlisted_share(shares)
    left_out, expected = set(), float(stories)
    for term in sorted(terms, key=lambda term: shares.get(term, unlisted)):
        if term in left_out:
            continue
        left_out |= query.neighbours.get(term, set())
        expected *= shares.get(term, unlisted)
        yield term, expected


def _unlisted_share(shares):
    """The share of stories taken for a term the statistics do not list: rarer than any listed."""
    return min(shares.values()) / 2


def _recent_bound(terms, query, using):
    """The publication time from which the newest RECENT_MATCHES of the stories holding `terms`
    (the terms asked of the index) are expected, or None when a slice of time is not worth it.

    Without a slice PostgreSQL either reads every match the index finds to sort them (33,000
    stories for 钢城区 at 1M, 21-29 ms), or walks the stories newest first by the index on
    dates, reading each one's vector until the window is full (about 1,150 stories for a word
    in 8.7% of them, 5-7 ms). The slice costs reading the asked terms' lists in the GIN index
    in full, then only the slice's matches (7-9 ms for 钢城区). So it is taken when the lists
    cost less than the walk would: their shares of the stories, summed, times the expected
    matches, under DATE_WALK_ROW_COST windows. Not at all when fewer than SHORT_LIST_STORIES
    matches are expected (the index hands those over quickly), nor for a word in most stories
    (the walk finds its window in the first few hundred).

    From PostgreSQL's statistics of the search table: the stories expected to hold the terms
    (_spread) and the histogram of publication times, whose buckets hold equal shares of the
    stories. Only the speed depends on them: the statement looks further back when the slice
    holds fewer matches than the window."""
    shares, stories = _term_statistics_of(using)
    bounds = _publication_bounds_of(using)
    if not shares or len(bounds) < 3 or all(shares.get(term, 0) >= FREQUENT_TERM_SHARE for term in terms):
        return None  # never analysed; or a word in most stories
    expected = stories
    for _, expected in _spread(terms, query, shares, stories):
        pass
    unlisted = _unlisted_share(shares)
    lists = sum(shares.get(term, unlisted) for term in terms)
    if expected <= SHORT_LIST_STORIES or lists * expected >= DATE_WALK_ROW_COST * SEARCH_CANDIDATES:
        return None
    buckets = len(bounds) - 1
    published = bisect.bisect_right(bounds, timezone.now())  # bounds up to now: live stories
    back = math.ceil(RECENT_MATCHES / expected * buckets)
    if published - 1 - back < 0 or back * 2 > published:
        return None
    return bounds[published - 1 - back]


_statistics = {}  # database alias: (time read, {lexeme: share of stories}, stories, [publication bounds])
_statistics_lock = threading.Lock()


def _statistics_of(using):
    """What PostgreSQL's statistics of the search table say (ANALYZE keeps them; autovacuum runs
    it), read in one statement at most every TERM_STATISTICS_SECONDS in each process: the
    search vectors' most common lexemes with the share of stories each stands in, the number of
    stories, and the histogram of the rows' publication times (ascending bounds of buckets
    holding equal shares of the stories). ({}, 0, []) until the table is analysed."""
    now = timezone.now().timestamp()
    cached = _statistics.get(using)
    if cached is not None and now - cached[0] < TERM_STATISTICS_SECONDS:
        return cached[1:]
    with _statistics_lock:
        with connections[using].cursor() as cursor:
            # The element statistics end with three more numbers (lowest, highest, nulls).
            cursor.execute(
                """SELECT v.most_common_elems::text::text[], v.most_common_elem_freqs,
                    (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'articles_searchentry'::regclass),
                    (SELECT p.histogram_bounds::text::timestamptz[] FROM pg_stats p
                     WHERE p.schemaname = v.schemaname AND p.tablename = v.tablename AND p.attname = 'published_at')
                FROM pg_stats v WHERE v.schemaname = current_schema() AND v.tablename = 'articles_searchentry'
                AND v.attname = 'search_vector'"""
            )
            row = cursor.fetchone()
        if row and row[0]:
            found = (dict(zip(row[0], row[1])), row[2], sorted(row[3] or []))
        else:
            found = ({}, 0, [])
        _statistics[using] = (now, *found)
    return found


def _term_statistics_of(using):
    """({lexeme: share of stories}, stories) of _statistics_of."""
    shares, stories, _ = _statistics_of(using)
    return shares, stories


def _publication_bounds_of(using):
    """The histogram bounds of the search rows' publication times, of _statistics_of."""
    return _statistics_of(using)[2]


def forget_term_statistics():
    """Read the search table's statistics again at the next search (after an ANALYZE)."""
    _statistics.clear()


class RankedMatches:
    """What a PostgreSQL search found, sliced into lists: the first `window` places are the
    newest matches by relevance (statement `ranked(start, stop)`), the places after them the
    older matches, newest first (statement `newest(start, stop)`, places counted over every
    match newest first, so the window's own come first there). Each gives (sql, params).

    A slice within the window is one statement, one past it one statement, and the one page
    that crosses the boundary two (one when the window holds every match)."""

    def __init__(self, ranked, newest, window, using="default"):
        self.ranked, self.newest, self.window, self.using = ranked, newest, window, using

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step is not None or key.stop is None:
            raise TypeError("RankedMatches takes a slice with an end and no step.")
        start, stop = key.start or 0, key.stop
        if start < 0 or stop < 0:
            raise ValueError("Negative indexing is not supported.")
        if stop <= start:
            return []
        if stop <= self.window:
            return self._hits(*self.ranked(start, stop))
        if start >= self.window:
            return self._hits(*self.newest(start, stop))
        head = self._hits(*self.ranked(start, self.window))
        if start + len(head) < self.window:  # fewer matches than the window: none older
            return head
        return [*head, *self._hits(*self.newest(self.window, stop))]

    def statement(self, start, stop):
        """(sql, params) of the first statement a slice runs (bench/search_bench.py explains it)."""
        return self.ranked(start, min(stop, self.window)) if start < self.window else self.newest(start, stop)

    def _hits(self, sql, params):
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            return [Hit(*row) for row in cursor.fetchall()]


def _search_fallback(query, section, since, until):
    """SQLite and others: every required term somewhere, scored by where the terms stand."""
    from .models import Article

    queryset = Article.objects.published().select_related("section", "outlet")
    if section is not None:
        queryset = queryset.filter(section=section)
    if since:
        queryset = queryset.filter(published_at__gte=since)
    if until:
        queryset = queryset.filter(published_at__lt=until)
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
    return _Fallback(queryset.annotate(rank=score).order_by("-rank", "-published_at", "-pk"))


class _Fallback:
    """The fallback's ranked queryset, sliced into lists of Hit like RankedMatches."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __getitem__(self, key):
        return [Hit.of(article) for article in self.queryset[key]]


# PostgreSQL's limits on what a tsvector keeps (see the module docstring).
MAX_POSITION = 16383  # a later position is stored as 16383, once per word
PART_POSITIONS = 255  # to_tsvector keeps the first 255 positions of a word...
VECTOR_POSITIONS = 256  # ...and || (concatenation) up to 256
MAX_WORD_BYTES = 2047  # a longer word is left out of the vector and takes no position
WEIGHT_A, WEIGHT_B, WEIGHT_C = 3, 2, 1  # a position is stored as weight << 14 | position


def vector_lexemes(headline_terms, summary_terms, body_terms):
    """{lexeme: [weight << 14 | position, ...]} of the story's tsvector, positions ascending."""
    a, b, c = len(headline_terms), len(summary_terms), len(body_terms)
    terms = [*headline_terms, *summary_terms, *body_terms]
    if not terms:
        return {}
    if len(terms) < MAX_POSITION and max(map(len, terms)) * 4 <= MAX_WORD_BYTES:
        # The usual case, no limit reached: positions simply count the terms, part after part.
        lexemes = {}
        get = lexemes.get
        codes = [*range(0xC001, 0xC001 + a), *range(0x8001 + a, 0x8001 + a + b), *range(0x4001 + a + b, 0x4001 + a + b + c)]
        for term, code in zip(terms, codes):
            positions = get(term)
            if positions is None:
                lexemes[term] = [code]
            else:
                positions.append(code)
        if max(map(len, lexemes.values())) <= PART_POSITIONS:
            return lexemes
    return _vector_lexemes_at_limits(headline_terms, summary_terms, body_terms)


def _vector_lexemes_at_limits(headline_terms, summary_terms, body_terms):
    """vector_lexemes() for text that reaches PostgreSQL's limits: very long, very repetitive,
    or holding a word too long to index. Each part is cut as to_tsvector does, then the parts
    are concatenated as || does: shifted by the highest position stored so far, a word
    gaining positions until it holds 256 of them or position 16383."""
    lexemes = {}
    top = 0  # highest position stored so far: the next part's offset
    for weight, terms in ((WEIGHT_A, headline_terms), (WEIGHT_B, summary_terms), (WEIGHT_C, body_terms)):
        flag = weight << 14
        part = {}
        position = 0
        for term in terms:
            if len(term.encode()) > MAX_WORD_BYTES:
                continue
            position += 1
            at = min(position, MAX_POSITION)
            positions = part.get(term)
            if positions is None:
                part[term] = [at]
            elif len(positions) < PART_POSITIONS and positions[-1] != MAX_POSITION:
                positions.append(at)
        highest = top
        for term, positions in part.items():
            stored = lexemes.setdefault(term, [])
            for at in positions:
                if len(stored) >= VECTOR_POSITIONS or (stored and stored[-1] & MAX_POSITION == MAX_POSITION):
                    break
                stored.append(flag | min(at + top, MAX_POSITION))
            highest = max(highest, stored[-1] & MAX_POSITION)
        top = highest
    return lexemes


def _quote(lexeme):
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def search_vector(headline_terms, summary_terms, body_terms):
    """The story's tsvector in PostgreSQL's text form ('书记':1A,5A 'w书记':2A ...), for saving a story."""
    letters = "DCBA"
    lexemes = vector_lexemes(headline_terms, summary_terms, body_terms)
    return " ".join(
        _quote(term) + ":" + ",".join(f"{code & MAX_POSITION}{letters[code >> 14]}" for code in lexemes[term])
        for term in sorted(lexemes)
    )


_UINT16 = [struct.pack(">H", n) for n in range(1 << 16)]
_ONE_POSITION = [b"\0\1" + two for two in _UINT16]  # a count of 1, then the position


class _LexemeBytes(dict):
    """lexeme -> its UTF-8 bytes and a zero byte, remembered: the same words recur in every story."""

    def __missing__(self, lexeme):
        if len(self) > 500_000:
            self.clear()
        encoded = self[lexeme] = lexeme.encode() + b"\0"
        return encoded


_LEXEME_BYTES = _LexemeBytes()


def search_vector_binary(headline_terms, summary_terms, body_terms):
    """The same tsvector in PostgreSQL's binary form, for COPY ... (FORMAT binary).

    A count, then per lexeme: UTF-8 bytes, a zero byte, a uint16 count, one uint16 per
    position. The lexemes are left unsorted: PostgreSQL sorts them on reading, in C."""
    lexemes = vector_lexemes(headline_terms, summary_terms, body_terms)
    names, one, uint16 = _LEXEME_BYTES, _ONE_POSITION, _UINT16
    out = [struct.pack(">i", len(lexemes))]
    append = out.append
    for term, codes in lexemes.items():
        append(names[term])
        if len(codes) == 1:
            append(one[codes[0]])
        else:
            append(uint16[len(codes)])
            out += map(uint16.__getitem__, codes)
    return b"".join(out)


def story_terms(article, names, captions):
    """The story's three term lists: headline (with kicker, subtitle), summary (with author
    line, byline names, captions), body."""
    return (
        document_terms(" ".join(t for t in (article.kicker, article.headline, article.subtitle) if t)),
        document_terms(" ".join(t for t in (article.summary, article.author_line, *names, *captions) if t)),
        document_terms(body_text(article.body)),
    )


def joined_terms(terms):
    """Terms as stored in SearchEntry's text columns: space-separated, with a space at each end."""
    return f" {' '.join(terms)} " if terms else ""


def index_article(article):
    """Write the search terms of `article` (headline, summary, byline names, captions, body)."""
    from .models import ArticleImage, Byline, SearchEntry

    names = Byline.objects.filter(article=article).values_list("person__name", flat=True)
    captions = ArticleImage.objects.filter(article=article).values_list("image__caption", flat=True)
    headline, summary, body = story_terms(article, names, captions)
    SearchEntry.objects.update_or_create(
        article=article,
        defaults={
            "headline_terms": joined_terms(headline),
            "summary_terms": joined_terms(summary),
            "body_terms": joined_terms(body),
            # SQLite searches the terms and has no use for a vector.
            "search_vector": search_vector(headline, summary, body) if connection.vendor == "postgresql" else None,
        },
    )


def story_changed(event):
    """Subscriber (settings.NEWSROOM_SUBSCRIBERS): keep the index in step with what was announced.

    Called inside the transaction that made the change, so the index row commits or rolls
    back with the story. A story whose content changed (a save through the editing door, a
    restore, an import) is indexed again; a deleted one loses its row (the database's cascade
    has usually removed it already). A shared photo re-captioned is indexed again on every
    story printing it, since captions are searched. Status steps change no indexed text:
    search reads only published stories, so they need nothing here.
    """
    from .events import SharedChanged, StoryChanged
    from .models import Article, SearchEntry

    if isinstance(event, SharedChanged):
        story_ids = event.story_ids if event.kind == "image" else ()
    elif isinstance(event, StoryChanged) and event.after is None:
        SearchEntry.objects.filter(article_id=event.story_id).delete()
        return
    elif isinstance(event, StoryChanged) and (event.content_changed or event.what in {"restore", "import"}):
        story_ids = (event.story_id,)
    else:
        return
    for article in Article.objects.filter(pk__in=story_ids):
        index_article(article)


def vector_follows_terms(sender, instance, raw=False, using=None, **kwargs):
    """pre_save of SearchEntry: on PostgreSQL, a row saved without a vector gets its terms'.

    loaddata restoring a backup made on SQLite, or before the vector was the application's
    to write (migration 0010), saves rows that carry none: they are searchable all the same.
    Writes that send no signal (bulk_create, COPY) bring their own, as generate_stories does.
    Elsewhere (SQLite) the column stays empty, also when restoring a PostgreSQL backup."""
    if connections[using or "default"].vendor != "postgresql":
        instance.search_vector = None
    elif instance.search_vector is None:
        instance.search_vector = search_vector(
            instance.headline_terms.split(), instance.summary_terms.split(), instance.body_terms.split()
        )


def _normalized_with_sources(text):
    """normalize(text), and for each of its characters the position in `text` it came from
    (None when it is the same position: full-width to half-width and lower case).

    NFKC can change the length (㍿ is 株式会社, ℃ is °c, a letter and its combining accent are
    one), so that matches found in the normalised text, where the query's words are, can be
    marked in the text as written. The characters NFKC lengthens are set aside and put back
    with their own normalised form; the rest keeps its length and place. Where it still
    does not (combining accents), each character is normalised on its own, which leaves a
    letter apart from its accent. A Python call per character of a 2,000-character body with
    32℃ in it cost 2.6 ms, for each result whose summary has no match; this costs about 0.2."""
    lowered, in_place = _normalized(text)
    if in_place:
        return lowered, None
    one_by_one = {char: unicodedata.normalize("NFKC", char).lower() for char in set(text)}
    longer = {char: form for char, form in one_by_one.items() if len(form) != 1}
    if longer:
        pattern = re.compile("[" + "".join(map(re.escape, longer)) + "]")
        # U+E000 (private use) keeps its own place: NFKC leaves it alone.
        rest = normalize(pattern.sub("\ue000", text))
        if len(rest) == len(text):
            parts, sources, last = [], [], 0
            for match in pattern.finditer(text):
                at = match.start()
                form = longer[text[at]]
                parts += [rest[last:at], form]
                sources.extend(range(last, at))
                sources.extend([at] * len(form))
                last = at + 1
            parts.append(rest[last:])
            sources.extend(range(last, len(text)))
            return "".join(parts), sources
    parts = [one_by_one[char] for char in text]
    return "".join(parts), [i for i, part in enumerate(parts) for _ in part]


def _marked_spans(text, needles):
    """Where each needle (normalised) stands in `text` (as written), first to last, longest
    needle first where two start together."""
    lowered, sources = _normalized_with_sources(text)
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
    for match in pattern.finditer(lowered):
        start, end = match.span()
        yield (start, end) if sources is None else (sources[start], sources[end - 1] + 1)


def highlight(text, needles):
    """`text` HTML-escaped with every needle wrapped in <mark>.

    Needles are normalised (normalize()); they are found in the text's normalised form and
    marked on the text as written, so a query for ai marks ＡＩ, and 株式会社 marks ㍿."""
    text = text or ""
    if not needles:
        return html.escape(text)
    out, last = [], 0
    for start, end in _marked_spans(text, needles):
        if start < last:  # two normalised characters from one written one, already marked
            continue
        out.append(html.escape(text[last:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return mark_safe("".join(out))


def _needles_in(lowered, query):
    """The query's words found in `lowered` (normalised text), else the bigrams found."""
    found = [n for n in query.needles if n in lowered]
    if found:
        return found
    return [b for b in query.required if b in lowered]


def snippet(article, query):
    """A short passage of summary or body around the first match, matches marked."""
    # The body's text only when the summary has no match.
    for part in ("summary", "body"):
        source = article.summary if part == "summary" else body_text(article.body)
        source = " ".join((source or "").split())
        lowered, sources = _normalized_with_sources(source)
        needles = _needles_in(lowered, query)
        if not needles:
            continue
        first = min(lowered.find(n) for n in needles)
        if sources is not None:
            first = sources[first]
        start = max(0, first - SNIPPET_CHARS // 3)
        passage = source[start : start + SNIPPET_CHARS]
        prefix = "…" if start else ""
        suffix = "…" if start + SNIPPET_CHARS < len(source) else ""
        return mark_safe(prefix + highlight(passage, needles) + suffix)
    return html.escape((article.summary or body_text(article.body))[:SNIPPET_CHARS])


def highlighted_headline(article, query):
    return highlight(article.headline, _needles_in(normalize(article.headline), query))
