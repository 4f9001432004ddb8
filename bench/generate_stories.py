"""python -m bench.generate_stories N: a realistic archive of Chinese stories for benchmarks.

Run from the project folder, with the same environment as manage.py (DATABASE_URL ...);
`make bench` (bench/run.py) runs it for each archive size. Tests and bench/run.py call
`call_command(Command(), ...)`. It lives with the benchmarks, not in an app: no site needs it.

Every story gets a section, an outlet and dateline, bylines with roles, tags,
photos from a small shared pool of generated images, 相关新闻 and 推荐阅读
links, and one of every workflow state, published over ten years.

Story number n is a function of (--seed, n, --now) only: the same seed gives the
same archive whatever the batch size, and `--append` continues it exactly as
one longer run would have. Generated rows carry import_key "gen:<n>", so
`--reset` removes exactly them (and the generated images).

Rows are written in batches: with PostgreSQL through COPY, which is several
times faster than INSERT, elsewhere through bulk_create. Neither calls
Article.save(), so the HTML built here is already clean (plain <p> and
<strong>), as the sanitiser would leave it, and every story's search row
(terms and tsvector, exactly what saving it would write) is written with it.

How a million stories fit in minutes (PostgreSQL; figures in bench/RESULTS.md):

* worker processes (--workers, one per CPU by default for large runs) draw,
  segment and encode the stories while the main process only writes them;
* search rows go in COPY's binary format, the tsvector as PostgreSQL's own
  binary value built by articles.search, so PostgreSQL parses no text for them;
* a second connection merges the new search-index entries into the GIN index
  while the first stores the next batch (search_index_alongside);
* as a superuser, the per-row foreign-key triggers are off and each batch's
  references are checked with one query per key before it commits
  (row_checks_skipped).
"""

import io
import json
import math
import multiprocessing
import os
import random
import re
import signal
import struct
import sys
import threading
import time
from collections import deque
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import NamedTuple

import django
from django.apps import apps

if not apps.ready:  # run as `python -m bench.generate_stories`: Django first, then the models
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, connections, models, transaction
from django.db.models import Max, Q
from PIL import Image as PILImage
from PIL import ImageDraw
from taggit.models import Tag, TaggedItem

from articles.models import (
    Article,
    ArticleImage,
    Byline,
    Image,
    Outlet,
    Person,
    Recommendation,
    RelatedLink,
    SearchEntry,
    Section,
)
from delivery import cache as page_cache
from delivery.registry import FEEDS, HOME, SEARCH, SITE, SITEMAPS
from articles.renditions import ensure_renditions
from articles.search import _RUN as TERM_RUN  # the runs document_terms() cuts text into
from articles.search import document_terms, joined_terms, search_vector, search_vector_binary

KEY_PREFIX = "gen:"
IMAGE_KEY_PREFIX = "gen:img:"
# Stories are drawn in fixed chunks so content never depends on --batch-size.
CHUNK = 1000
# Cross links point back at most this many stories.
LINK_WINDOW = 5000
TEN_YEARS = 10 * 365 * 24 * 3600

SECTIONS = [
    ("news", "要闻"), ("china", "国内"), ("world", "国际"), ("finance", "财经"),
    ("tech", "科技"), ("sports", "体育"), ("culture", "文化"), ("education", "教育"),
    ("health", "健康"), ("society", "社会"), ("opinion", "评论"), ("city", "城市"),
]
OUTLETS = [
    ("大众网", "https://www.dzwww.com/"), ("齐鲁网", "https://www.iqilu.com/"),
    ("济南日报", ""), ("济南时报", ""), ("齐鲁晚报", ""), ("山东商报", ""),
    ("生活日报", ""), ("半岛都市报", ""), ("青岛日报", ""), ("烟台日报", ""),
    ("新华社", "https://www.news.cn/"), ("人民网", "https://www.people.com.cn/"),
]
PLACES = [
    "济南", "青岛", "烟台", "潍坊", "临沂", "淄博", "济宁", "泰安", "威海", "日照", "德州",
    "聊城", "滨州", "菏泽", "枣庄", "东营", "历城区", "历下区", "市中区", "槐荫区", "天桥区",
    "章丘区", "长清区", "莱芜区", "钢城区", "平阴县", "商河县", "济阳区", "崂山区", "黄岛区",
]
ORGS = [
    "市政府", "区委", "教育局", "卫健委", "商务局", "文旅局", "住建局", "交通运输局", "公安局",
    "生态环境局", "人社局", "民政局", "科技局", "工信局", "农业农村局", "应急管理局", "市场监管局",
    "发改委", "团市委", "妇联", "税务局", "自然资源局", "水务局", "城管局",
]
TOPICS = [
    "营商环境", "乡村振兴", "新旧动能转换", "生态保护", "黄河流域", "城市更新", "老旧小区改造",
    "数字经济", "文化旅游", "医疗保障", "义务教育", "就业创业", "科技创新", "安全生产", "交通出行",
    "垃圾分类", "养老服务", "食品安全", "人才引进", "招商引资", "文明城市", "防汛抗旱", "秋粮收购",
    "民营经济", "对外开放", "职业教育", "全民健身", "非遗保护", "夜间经济", "海洋经济", "先进制造业",
    "绿色低碳", "基层治理", "社区服务", "普惠金融", "住房保障", "托育服务", "体育赛事", "冬季供暖",
    "轨道交通", "港口物流", "现代农业", "电子商务", "智慧城市", "健康中国", "平安建设", "法治政府",
]
EVENTS = [
    "推进会", "工作会议", "动员大会", "专题培训", "新闻发布会", "签约仪式", "启动仪式", "座谈会",
    "现场观摩会", "论坛", "博览会", "交流会", "集中开工仪式", "调度会",
]
VERBS = ["召开", "举行", "举办", "部署", "启动", "推进", "开展", "组织"]
OFFICIALS = ["市委书记", "市长", "区委书记", "区长", "副市长", "局长", "主任", "党组书记", "县委书记"]
OUTCOMES = [
    "取得新进展", "迈出新步伐", "跑出加速度", "交出亮眼成绩单", "按下快进键", "再上新台阶",
    "见行见效", "开创新局面", "持续向好", "稳中有进",
]
PHRASES = [
    "坚持以人民为中心的发展思想", "着力解决群众急难愁盼问题", "推动高质量发展", "优化公共服务供给",
    "加快构建现代化产业体系", "扎实推进各项重点任务", "持续深化改革创新", "不断增强群众获得感",
    "守牢安全发展底线", "提升城市综合承载能力", "强化要素保障", "加强统筹协调",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉红建国文斌宇浩凯健俊帆琳晨雪峰博晓亮东海波宁欣颖悦"
# A word placed in very few stories, for benchmarking a search with few hits.
RARE_TERM = "量子通信"
RARE_RATE = 1 / 5000
# A word in (nearly) every story, for a search with many hits.
COMMON_TERM = "发展"

ROLE_WEIGHTS = [
    (Byline.Role.REPORTER, 60), (Byline.Role.CORRESPONDENT, 20), (Byline.Role.PHOTOGRAPHER, 10),
    (Byline.Role.INTERN, 6), (Byline.Role.EDITOR, 4),
]
# (status, share, when): "past" = published_at in the last ten years, "future" = within 30 days.
STATUS_MIX = [
    (Article.Status.PUBLISHED, 0.86, "past"),
    (Article.Status.WITHDRAWN, 0.02, "past"),
    (Article.Status.SCHEDULED, 0.01, "past"),  # live, not yet swept to published by publish_due
    (Article.Status.SCHEDULED, 0.02, "future"),
    (Article.Status.DRAFT, 0.04, None),
    (Article.Status.FIRST_REVIEW, 0.03, None),
    (Article.Status.FINAL_REVIEW, 0.02, None),
]

_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value):
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        # translate() is slow on long text: only call it when there is something to escape.
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPE)
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPE)
    return str(value)


class Table:
    """The rows of one model: its columns, and how a batch of rows (dicts keyed by attname)
    is stored, by COPY or bulk_create.

    Columns the generator does not know (added later by other features) get their model
    default, so the generator keeps working as the schema grows. Encoding (the Python work)
    and writing (PostgreSQL's) are separate steps, so that worker processes can encode while
    the main process writes.
    """

    def __init__(self, name, model, explicit_pk=False, story_column="article_id"):
        self.name = name
        self.model = model
        self.story_column = story_column  # the column holding the id of the story a row belongs to
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if not getattr(f, "generated", False) and (explicit_pk or not f.primary_key)
        ]
        self.names = [f.attname for f in self.fields]
        self.defaults = {}
        for f in self.fields:
            if f.primary_key:
                continue
            default = f.get_default()
            if isinstance(f, models.DateTimeField) and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
                default = datetime.now(dt_timezone.utc)
            self.defaults[f.attname] = default

    def encode(self, rows):
        """Rows in COPY's text format, as UTF-8."""
        names, defaults = self.names, self.defaults
        lines = [
            "\t".join([_copy_text(row[name] if name in row else defaults[name]) for name in names])
            for row in rows
        ]
        lines.append("")
        return "\n".join(lines).encode()

    def copy(self, cursor, payloads):
        """COPY the encoded rows of several chunks in one statement."""
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        table = connection.ops.quote_name(self.model._meta.db_table)
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.BytesIO(b"".join(payloads)))

    def bulk_create(self, rows):
        self.model.objects.bulk_create([self.model(**row) for row in rows], batch_size=2000)

    def broken_references(self, cursor, first_id, last_id):
        """(column, count) of each foreign key of the rows of stories first_id..last_id that
        points nowhere: one query per key, for when PostgreSQL's per-row checks are off."""
        quote = connection.ops.quote_name
        found = []
        for field in self.fields:
            if not field.is_relation or field.remote_field is None:
                continue
            column, parent = quote(field.column), field.related_model
            cursor.execute(
                f"SELECT count(*) FROM {quote(self.model._meta.db_table)} c "
                f"WHERE c.{quote(self.story_column)} BETWEEN %s AND %s AND c.{column} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {quote(parent._meta.db_table)} p "
                f"WHERE p.{quote(field.target_field.column)} = c.{column})",
                [first_id, last_id],
            )
            broken = cursor.fetchone()[0]
            if broken:
                found.append((f"{self.model._meta.db_table}.{field.column}", broken))
        return found


class SearchTable(Table):
    """SearchEntry rows, in COPY's binary format: the tsvector goes in as PostgreSQL's own
    binary form, which PostgreSQL reads several times faster than the same vector as text.

    A row is (article_id, headline_terms, summary_terms, body_terms, search_vector), the
    terms as their space-separated text and the vector from search_vector_binary(), then the
    story's published_at, status and deleted_at. Those three are the database's own copies
    (migration 0021), which its triggers write for any other insert; COPY here runs with
    triggers off (row_checks_skipped), so it writes them itself."""

    COLUMNS = ["article_id", "headline_terms", "summary_terms", "body_terms", "search_vector"]
    COPIED = ["published_at", "status", "deleted_at"]
    EPOCH = datetime(2000, 1, 1, tzinfo=dt_timezone.utc)  # PostgreSQL's binary timestamps count from here
    HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
    TRAILER = struct.pack(">h", -1)

    def __init__(self, name, model):
        super().__init__(name, model, explicit_pk=True)
        if self.names != self.COLUMNS:
            raise CommandError(
                f"generate_stories writes the search table's columns {self.COLUMNS}, but it now has "
                f"{self.names}: teach SearchTable the new ones."
            )

    def encode(self, rows):
        pack = struct.pack
        out = []
        timestamp = self.timestamp
        for article_id, headline, summary, body, vector, published_at, status, deleted_at in rows:
            headline, summary, body = headline.encode(), summary.encode(), body.encode()
            out.append(pack(">hiq", 8, 8, article_id))
            for value in (headline, summary, body, vector):
                out.append(pack(">i", len(value)))
                out.append(value)
            status = status.encode()
            out += [timestamp(published_at), pack(">i", len(status)), status, timestamp(deleted_at)]
        return b"".join(out)

    @classmethod
    def timestamp(cls, when):
        """A timestamptz field of binary COPY: microseconds since 2000-01-01 UTC, or NULL."""
        if when is None:
            return struct.pack(">i", -1)
        delta = when - cls.EPOCH
        return struct.pack(">iq", 8, (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)

    def copy(self, cursor, payloads):
        columns = ", ".join(connection.ops.quote_name(name) for name in self.COLUMNS + self.COPIED)
        table = connection.ops.quote_name(self.model._meta.db_table)
        cursor.copy_expert(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)",
            io.BytesIO(b"".join([self.HEADER, *payloads, self.TRAILER])),
        )

    def bulk_create(self, rows):
        self.model.objects.bulk_create(
            [self.model(**dict(zip(self.COLUMNS, row))) for row in rows], batch_size=2000
        )


_TAGS = re.compile(r"</?(?:p|strong)>")


class Segmenter:
    """The search module's document_terms(), remembered per run of characters.

    Generated text is assembled from short word lists, so the same runs (据了解, 今年以来,
    济南市政府, ...) recur in nearly every story; segmenting each distinct run once makes
    the search rows cost little next to the stories themselves. The terms are exactly
    those document_terms() gives the whole text: it cuts text into runs and segments
    each run on its own. The text is cut into runs before normalising (each new run is
    normalised by document_terms): generated text has no full-width letters or digits and
    no upper case, so that gives the same runs, and saves normalising every story whole.
    """

    LIMIT = 400_000  # distinct runs remembered before starting afresh

    def __init__(self, vector_format):
        self.known = {}
        self.vector = {"binary": search_vector_binary, "text": search_vector}.get(vector_format)

    def terms(self, *texts):
        out = []
        known = self.known
        for run in TERM_RUN.findall(" ".join(t for t in texts if t)):
            terms = known.get(run)
            if terms is None:
                if len(known) >= self.LIMIT:
                    known.clear()
                terms = known[run] = document_terms(run)
            out += terms
        return out

    def entry(self, row, names, captions):
        """The SearchEntry row of one generated story (its body holds only <p> and <strong>):
        (article_id, headline, summary and body terms, the tsvector or None, published_at,
        status, deleted_at)."""
        headline = self.terms(row["kicker"], row["headline"], row["subtitle"])
        summary = self.terms(row["summary"], row["author_line"], *names, *captions)
        body = self.terms(_TAGS.sub("", row["body"]))
        vector = self.vector(headline, summary, body) if self.vector else None
        return (row["id"], joined_terms(headline), joined_terms(summary), joined_terms(body), vector,
                row["published_at"], row["status"], row.get("deleted_at"))


def make_picture(number):
    """A deterministic 1200x800 JPEG: a coloured sky, hills and a sun, different for each number."""
    rng = random.Random(f"image:{number}")
    width, height = 1200, 800
    top = tuple(rng.randrange(60, 200) for _ in range(3))
    bottom = tuple(rng.randrange(120, 255) for _ in range(3))
    picture = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    sx, sy, r = rng.randrange(100, 1100), rng.randrange(60, 300), rng.randrange(40, 110)
    draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=(250, 220, 120))
    for layer in range(3):
        base = 450 + layer * 110
        shade = tuple(max(0, c - 40 * (layer + 1)) for c in bottom)
        points = [(0, height)] + [(x, base - rng.randrange(0, 160)) for x in range(0, width + 150, 150)] + [(width, height)]
        draw.polygon(points, fill=shade)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=80)
    return out.getvalue()


class Built(NamedTuple):
    """Stories first..stop-1, drawn: rows per table (encoded for COPY, or lists of dicts)."""

    first: int
    stop: int
    counts: dict
    rows: dict


class Generator:
    """Draws story number n from (seed, n) and writes batches of rows."""

    def __init__(self, *, seed, now, pools, use_copy, vector_format=None, stdout=None):
        self.seed = seed
        self.now = now
        self.pools = pools
        self.use_copy = use_copy
        self.vector_format = vector_format  # "binary" (COPY), "text" (bulk_create on PostgreSQL) or None
        self.stdout = stdout
        self._tables = self._segmenter = None
        self._resume = None  # (next story number, its chunk's generator) when stopped mid-chunk
        self.seconds = {}  # time spent writing, per table and in commits (the deferred checks)
        self.row_checks_off = False  # set while PostgreSQL skips the per-row foreign-key checks
        self.article_ct = pools["article_ct"]
        tags = pools["tags"]
        # Zipf-like popularity: a few tags on many stories, a long tail on few.
        weights = [1 / (rank + 1) ** 0.9 for rank in range(len(tags))]
        self.tag_cum = []
        total = 0.0
        for w in weights:
            total += w
            self.tag_cum.append(total)
        status_cum, acc = [], 0.0
        for status, share, when in STATUS_MIX:
            acc += share
            status_cum.append((acc, status, when))
        self.status_cum = status_cum
        self.role_names = [role.value for role, _ in ROLE_WEIGHTS]
        # The officials quoted in stories: a city's few hundred, the same in every story that
        # quotes them, as in a real archive (and their words are segmented once, not per story).
        rng = random.Random("officials")
        self.officials = [
            rng.choice(OFFICIALS) + rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(300)
        ]
        self.role_cum = []
        acc = 0
        for _, w in ROLE_WEIGHTS:
            acc += w
            self.role_cum.append(acc)

    # -- drawing one story ------------------------------------------------------------------

    def _sentence(self, rng, place):
        kind = rng.randrange(7)
        topic = rng.choice(TOPICS)
        if kind == 0:
            return f"据了解，今年以来，{place}累计实施{topic}项目{rng.randrange(3, 120)}个，总投资{rng.randrange(2, 900)}亿元。"
        if kind == 1:
            return f"{place}{rng.choice(ORGS)}有关负责人介绍，下一步将{rng.choice(PHRASES)}，{rng.choice(PHRASES)}。"
        if kind == 2:
            return f"“{rng.choice(PHRASES)}，是我们的重要任务。”{rng.choice(self.officials)}表示，要把{topic}工作抓实抓细。"
        if kind == 3:
            return f"截至目前，{place}已有{rng.randrange(2, 98)}个街道完成{topic}试点，惠及群众{rng.randrange(1, 60)}万人。"
        if kind == 4:
            return f"会议强调，要{rng.choice(PHRASES)}，以{topic}为抓手，推动经济社会发展取得更大成效。"
        if kind == 5:
            return f"市民{rng.choice(SURNAMES)}先生告诉记者，这几年身边的变化看得见、摸得着，{topic}让生活更方便了。"
        return f"{rng.randrange(1, 12)}月以来，{place}围绕{topic}出台{rng.randrange(2, 30)}项具体措施，{rng.choice(PHRASES)}。"

    def draw(self, rng, n):
        """Story n as a dict of plain values plus its relations (numbers, not ids, for links)."""
        pools = self.pools
        place = rng.choice(PLACES)
        topic = rng.choice(TOPICS)
        # What happened: the first sentence reports it, a headline may name it. Its few tens of
        # thousands of forms recur, so segmenting them for search is remembered, not redone.
        event = f"{place}{rng.choice(ORGS)}{rng.choice(VERBS)}{rng.choice(EVENTS)}"
        kind = rng.randrange(5)
        if kind == 0:
            headline = f"{event} 聚焦{topic}"
        elif kind == 1:
            headline = f"{place}{topic}{rng.choice(OUTCOMES)}"
        elif kind == 2:
            headline = f"{rng.choice(OFFICIALS)}调研{place}{topic}工作"
        elif kind == 3:
            headline = f"{rng.randrange(2, 40)}项{topic}举措出台 惠及{rng.randrange(1, 90)}万群众"
        else:
            headline = f"“{topic}”成{place}发展新引擎"
        kicker = f"{rng.choice(PHRASES)}" if rng.random() < 0.15 else ""
        subtitle = f"{place}{rng.choice(TOPICS)}{rng.choice(OUTCOMES)}" if rng.random() < 0.1 else ""

        paragraphs = []
        for p in range(rng.randrange(4, 9)):
            sentences = [self._sentence(rng, place) for _ in range(rng.randrange(2, 5))]
            if p == 0:
                sentences.insert(0, f"{event}，聚焦{topic}，推动{topic}高质量{COMMON_TERM}。")
            text = "".join(sentences)
            if rng.random() < 0.1:
                text = f"<strong>{rng.choice(PHRASES)}。</strong>" + text
            paragraphs.append(f"<p>{text}</p>")
        if rng.random() < RARE_RATE:
            paragraphs.append(f"<p>{place}还将布局{RARE_TERM}等未来产业。</p>")
        body = "".join(paragraphs)
        summary = f"{place}{topic}{rng.choice(OUTCOMES)}，{rng.choice(PHRASES)}。"

        draw_status = rng.random()
        for cum, status, when in self.status_cum:
            if draw_status < cum:
                break
        if when == "past":
            published_at = self.now - timedelta(seconds=rng.randrange(60, TEN_YEARS))
            created_at = published_at - timedelta(seconds=rng.randrange(600, 3 * 86400))
        elif when == "future":
            published_at = self.now + timedelta(seconds=rng.randrange(3600, 30 * 86400))
            created_at = self.now - timedelta(seconds=rng.randrange(3600, 5 * 86400))
        else:
            published_at = None
            created_at = self.now - timedelta(seconds=rng.randrange(600, 60 * 86400))

        outlet = rng.choice(pools["outlets"]) if rng.random() < 0.3 else pools["outlets"][0]
        editors = pools["editors"]
        first_review_editor = responsible_editor = None
        if status in (Article.Status.FINAL_REVIEW, Article.Status.SCHEDULED, Article.Status.PUBLISHED, Article.Status.WITHDRAWN):
            first_review_editor = rng.choice(editors)
        if status in (Article.Status.SCHEDULED, Article.Status.PUBLISHED, Article.Status.WITHDRAWN):
            responsible_editor = rng.choice(editors)
            while responsible_editor == first_review_editor and len(editors) > 1:
                responsible_editor = rng.choice(editors)
        dated = published_at or created_at
        local_date = (dated + timedelta(hours=8)).date()

        bylines, seen = [], set()
        for position in range(rng.choice((1, 1, 2, 2, 2, 3))):
            person = rng.choice(pools["people"])
            role = rng.choices(self.role_names, cum_weights=self.role_cum)[0]
            if (person, role) in seen or any(p == person for p, _ in seen):
                continue
            seen.add((person, role))
            bylines.append((person, role, position))

        images = pools["images"]
        photos = []
        if images and rng.random() < 0.7:
            photos = rng.sample(images, min(len(images), rng.choice((1, 1, 1, 2, 3))))

        tag_count = rng.randrange(1, 6)
        tag_indexes = set(rng.choices(range(len(pools["tags"])), cum_weights=self.tag_cum, k=tag_count))

        related = []
        if n > 0 and rng.random() < 0.3:
            for position in range(rng.randrange(1, 4)):
                if rng.random() < 0.75:
                    related.append(("story", n - 1 - rng.randrange(min(n, LINK_WINDOW)), position))
                else:
                    related.append(("url", rng.randrange(10**9), position))
        recommended = []
        if n > 6 and rng.random() < 0.4:
            picks = {n - 1 - rng.randrange(min(n, LINK_WINDOW)) for _ in range(rng.randrange(3, 7))}
            recommended = sorted(picks)
        external_outlet = rng.choice(pools["outlets"])
        external_when = self.now - timedelta(seconds=rng.randrange(60, TEN_YEARS))

        return {
            "row": {
                "kicker": kicker,
                "headline": headline,
                "subtitle": subtitle,
                "slug": "",
                "section_id": rng.choice(pools["sections"]),
                "outlet_id": outlet,
                "dateline_outlet_id": outlet,
                "dateline_place": place,
                "dateline_date": local_date,
                "summary": summary,
                "body": body,
                "author_line": "",
                "status": status.value,
                "published_at": published_at,
                "first_review_editor_id": first_review_editor,
                "responsible_editor_id": responsible_editor,
                "thumbnail_id": photos[0] if photos and rng.random() < 0.5 else None,
                "is_top": status == Article.Status.PUBLISHED and rng.random() < 0.01,
                "created_by_id": None,
                "created_at": created_at,
                "updated_at": published_at if published_at and published_at < self.now else created_at,
                "version": 1,
                "import_key": f"{KEY_PREFIX}{n:09d}",
            },
            "bylines": bylines,
            "photos": photos,
            "tags": sorted(tag_indexes),
            "related": related,
            "recommended": recommended,
            "external_outlet": external_outlet,
            "external_when": external_when,
            "rare": RARE_TERM in body,
        }

    def stories(self, start, count):
        """Yield (n, story) for n in [start, start + count).

        Each chunk of CHUNK stories is drawn from a generator seeded by (seed, chunk), from its
        first story on, so that content never depends on where a run or a batch begins. A call
        that carries on where the last one stopped in the middle of a chunk picks up its
        generator instead of drawing the chunk's first stories again."""
        end = start + count
        n = start
        while n < end:
            chunk_end = min((n // CHUNK + 1) * CHUNK, end)
            if self._resume is not None and self._resume[0] == n:
                rng = self._resume[1]
            else:
                rng = random.Random(self.seed * 1_000_003 + n // CHUNK)
                for skipped in range(n // CHUNK * CHUNK, n):
                    self.draw(rng, skipped)
            self._resume = None
            for n in range(n, chunk_end):
                yield n, self.draw(rng, n)
            n = chunk_end
            if n % CHUNK:
                self._resume = (n, rng)

    # -- rows -----------------------------------------------------------------------------------

    def link_ids(self, start):
        """Fix the ids of stories start.. (following the highest id there is) and look up the
        generated stories before them that new ones may link back to."""
        self.start = start
        self.base_id = (Article.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.earlier = {}
        if start:
            keys = [f"{KEY_PREFIX}{n:09d}" for n in range(max(0, start - LINK_WINDOW), start)]
            for key, pk in Article.objects.filter(import_key__in=keys).values_list("import_key", "pk"):
                self.earlier[int(key[len(KEY_PREFIX):])] = pk

    def story_id(self, number):
        return self.base_id + (number - self.start) if number >= self.start else self.earlier.get(number)

    def tables(self):
        """The tables written, stories first."""
        return {
            "article": Table("article", Article, explicit_pk=True, story_column="id"),
            "byline": Table("byline", Byline),
            "photo": Table("photo", ArticleImage),
            "related": Table("related", RelatedLink),
            "recommendation": Table("recommendation", Recommendation),
            "tagged": Table("tagged", TaggedItem, story_column="object_id"),
            "search": SearchTable("search", SearchEntry),
        }

    def build(self, first, stop):
        """Stories first..stop-1 as rows per table: encoded for COPY, or lists for bulk_create.

        Runs in the worker processes when there are any (see run()); touches no database."""
        if self._tables is None:
            self._tables = self.tables()
            self._segmenter = Segmenter(self.vector_format)
        segmenter, story_id = self._segmenter, self.story_id
        names, captions = self.pools["person_names"], self.pools["image_captions"]
        tag_ids, ct = self.pools["tag_ids"], self.article_ct
        rows = {name: [] for name in self._tables}
        articles, bylines, photos, related, recommended, tagged, search = rows.values()
        for n, story in self.stories(first, stop - first):
            pk = story_id(n)
            row = story["row"]
            row["id"] = pk
            articles.append(row)
            for person, role, position in story["bylines"]:
                bylines.append({"article_id": pk, "person_id": person, "role": role, "position": position})
            for position, image in enumerate(story["photos"]):
                photos.append({"article_id": pk, "image_id": image, "position": position})
            search.append(segmenter.entry(
                row,
                [names[person] for person, _, _ in story["bylines"]],
                [captions[image] for image in story["photos"]],
            ))
            for index in story["tags"]:
                tagged.append({"object_id": pk, "content_type_id": ct, "tag_id": tag_ids[index]})
            for kind, value, position in story["related"]:
                if kind == "story":
                    target = story_id(value)
                    if target is None:
                        continue
                    related.append({"article_id": pk, "target_id": target, "url": "", "title": "", "outlet_id": None, "published_at": None, "position": position})
                else:
                    related.append({
                        "article_id": pk, "target_id": None, "url": f"https://news.example.cn/{value}.html",
                        "title": f"{row['headline'][:8]}相关报道", "outlet_id": story["external_outlet"],
                        "published_at": story["external_when"], "position": position,
                    })
            position = 0
            for number in story["recommended"]:
                target = story_id(number)
                if target is None or target == pk:
                    continue
                recommended.append({"article_id": pk, "target_id": target, "position": position})
                position += 1
        counts = {name: len(table_rows) for name, table_rows in rows.items()}
        if self.use_copy:
            rows = {name: self._tables[name].encode(table_rows) for name, table_rows in rows.items()}
        return Built(first, stop, counts, rows)

    # -- writing ------------------------------------------------------------------------------

    def run(self, start, count, batch_size, workers=0, index_alongside=False):
        """Insert stories start..start+count-1 in transactions of `batch_size` stories; return
        the number of rows written per table.

        With `workers`, worker processes draw, segment and encode the stories a few batches
        ahead while this process writes them, in order: PostgreSQL stores one batch while
        Python prepares the next. With `index_alongside` (PostgreSQL), a second connection
        indexes the stored batches for search meanwhile (see search_index_alongside)."""
        self.link_ids(start)
        tables = self.tables()
        totals = {name: 0 for name in tables}
        end = start + count
        # Tasks end where a chunk ends and where a batch ends.
        tasks = []
        first = start
        while first < end:
            stop = min(end, (first // CHUNK + 1) * CHUNK, start + ((first - start) // batch_size + 1) * batch_size)
            tasks.append((first, stop))
            first = stop
        began = time.monotonic()
        done, batch = 0, []
        with ExitStack() as stack:
            # The workers are forked first, while this process has no other thread: a thread's
            # database connection must not be copied into them.
            pool = None
            if workers:
                pool = stack.enter_context(
                    multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker, initargs=(self,))
                )
            committed = stack.enter_context(search_index_alongside(index_alongside))
            batch_tasks = math.ceil(batch_size / CHUNK) + 1
            for built in self._built(tasks, pool, workers, batch_tasks):
                batch.append(built)
                done += built.stop - built.first
                if built.stop == end or (built.stop - start) % batch_size == 0:
                    self._write(tables, batch, totals)
                    batch = []
                    committed()
                    if self.stdout is not None:
                        elapsed = time.monotonic() - began
                        self.stdout.write(f"  {done:>9}/{count} stories  {elapsed:7.1f} s  {done / elapsed:8.0f} stories/s")
        return totals

    def _built(self, tasks, pool, workers, batch_tasks=1):
        """The built tasks, in order: drawn here, or by the pool's workers a few tasks ahead.
        fork gives the workers this process's state (pools, jieba's dictionary) at no cost."""
        if pool is None:
            for first, stop in tasks:
                yield self.build(first, stop)
            return
        # Keep the workers a whole batch ahead, so that they draw the next batch while this
        # process writes one (results are about 15 MB per 1,000 stories).
        window = max(2 * workers, batch_tasks + workers)
        ahead = deque()
        for first, stop in tasks:
            ahead.append(pool.apply_async(_build_in_worker, (first, stop)))
            if len(ahead) > window:
                yield ahead.popleft().get()
        while ahead:
            yield ahead.popleft().get()

    def _write(self, tables, batch, totals):
        seconds = self.seconds
        with transaction.atomic():
            for name, table in tables.items():
                began = time.monotonic()
                if self.use_copy:
                    with connection.cursor() as cursor:
                        table.copy(cursor, [built.rows[name] for built in batch])
                else:
                    table.bulk_create([row for built in batch for row in built.rows[name]])
                seconds[name] = seconds.get(name, 0) + time.monotonic() - began
            if self.row_checks_off:
                began = time.monotonic()
                self._check_references(tables, batch)
                seconds["references"] = seconds.get("references", 0) + time.monotonic() - began
            began = time.monotonic()
        seconds["commit"] = seconds.get("commit", 0) + time.monotonic() - began
        for built in batch:
            for name, n in built.counts.items():
                totals[name] += n

    def _check_references(self, tables, batch):
        """With PostgreSQL's per-row foreign-key checks off, check the batch's rows in bulk
        before it commits: a reference to nothing rolls the batch back."""
        first = self.story_id(batch[0].first)
        last = self.story_id(batch[-1].stop - 1)
        broken = []
        with connection.cursor() as cursor:
            for table in tables.values():
                broken += table.broken_references(cursor, first, last)
        if broken:
            raise CommandError(
                "Generated rows refer to rows that do not exist ("
                + ", ".join(f"{column}: {n}" for column, n in broken)
                + "); the batch was not written."
            )


_WORKER_GENERATOR = None
_INHERITED_CONNECTIONS = []


def _start_worker(generator):
    """A worker process forked from the command: it draws stories and never uses the database."""
    global _WORKER_GENERATOR
    _WORKER_GENERATOR = generator
    # Ctrl-C reaches the whole process group: the command stops the workers itself (the pool's
    # terminate), after the batches it has written are committed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's open database connections came along with the fork. They must not be used
    # here, nor closed (closing would end the parent's session): keep them untouched for the
    # life of this process, and let Django open its own should anything ask for one.
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _INHERITED_CONNECTIONS.append(wrapper.connection)
            wrapper.connection = None


def _build_in_worker(first, stop):
    return _WORKER_GENERATOR.build(first, stop)


@contextmanager
def row_checks_skipped(generator):
    """PostgreSQL, as a superuser: write with the foreign-key triggers off.

    PostgreSQL checks each inserted row's foreign keys with a query of its own when the
    transaction commits (Django's constraints are deferred), about a third of the time spent
    storing a generated story. `session_replication_role = replica` skips those triggers
    (and any other trigger, as when replicating), and the generator checks each batch's
    references with one query per key instead. Only a superuser may set it; anyone else
    writes with the usual checks."""
    if connection.vendor != "postgresql":
        yield False
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        superuser = cursor.fetchone()[0]
        if superuser:
            cursor.execute("SET session_replication_role = replica")
    if not superuser:
        yield False
        return
    generator.row_checks_off = True
    try:
        yield True
    finally:
        generator.row_checks_off = False
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def reset_article_sequence():
    """Point the story id sequence past the ids written with explicit values."""
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Article]):
            cursor.execute(sql)


def build_pools(*, images, stdout=None):
    """Sections, outlets, people, tags and a few photos with renditions: made once, then reused."""
    sections = []
    for position, (slug, name) in enumerate(SECTIONS):
        section = Section.objects.filter(slug=slug).first() or Section.objects.filter(name=name).first()
        if section is None:
            section = Section.objects.create(slug=slug, name=name, position=10 + position)
        sections.append(section.pk)
    outlets = [Outlet.objects.get_or_create(name=name, defaults={"url": url})[0].pk for name, url in OUTLETS]

    # The people pool is the same for every seed, so appends and reruns share it.
    rng = random.Random("people")
    names = []
    while len(names) < 240:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        if name not in names:
            names.append(name)
    existing = {}
    for pk, name in Person.objects.filter(name__in=names, user=None).order_by("pk").values_list("pk", "name"):
        existing.setdefault(name, pk)
    missing = [Person(name=name) for name in names if name not in existing]
    for person in Person.objects.bulk_create(missing):
        existing[person.name] = person.pk
    if missing and not all(p in existing for p in names):  # backends that return no ids
        for pk, name in Person.objects.filter(name__in=names, user=None).order_by("pk").values_list("pk", "name"):
            existing.setdefault(name, pk)
    people = [existing[name] for name in names]

    tag_names = list(dict.fromkeys(TOPICS + PLACES + [f"{place}{topic}" for place in PLACES[:16] for topic in TOPICS[:20]]))
    known = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "pk"))
    for name in tag_names:
        if name not in known:
            known[name] = Tag.objects.create(name=name).pk
    tag_ids = [known[name] for name in tag_names]

    image_ids, image_captions = [], {}
    for number in range(images):
        key = f"{IMAGE_KEY_PREFIX}{number}"
        image = Image.objects.filter(import_key=key).first()
        if image is None:
            image = Image.objects.create(
                file=ContentFile(make_picture(number), name=f"generated-{number}.jpg"),
                caption=f"{PLACES[number % len(PLACES)]}{TOPICS[number % len(TOPICS)]}现场（资料图）",
                credit="本报资料图",
                import_key=key,
            )
            if stdout is not None:
                stdout.write(f"  image {number + 1}/{images} with renditions")
        # Also fills the photo's rendition_index, so the first page views write nothing.
        ensure_renditions(image)
        image_ids.append(image.pk)
        image_captions[image.pk] = image.caption

    return {
        "sections": sections,
        "outlets": outlets,
        "people": people,
        "person_names": {existing[name]: name for name in names},
        "editors": people[:24],
        "tags": tag_names,
        "tag_ids": tag_ids,
        "images": image_ids,
        "image_captions": image_captions,
        "article_ct": ContentType.objects.get_for_model(Article).pk,
    }


def generated_count():
    """How many generated stories exist: the next story number to draw."""
    last = Article.objects.filter(import_key__startswith=KEY_PREFIX).aggregate(m=Max("import_key"))["m"]
    return int(last[len(KEY_PREFIX):]) + 1 if last else 0


def _delete_rows(model, condition, depth=0):
    """Delete `model` rows matching `condition` (a Q) and, first, every row that depends on them.

    Plain DELETEs, no model signals: the readers' signal handlers would re-index a story
    while its bylines go (recreating its search row) and cost a query per row. Dependants are
    found from the models, so tables added by other features (search rows, review history,
    versions) go too; SET_NULL references are cleared. The page cache is refreshed afterwards."""
    if depth > 5:
        raise CommandError(f"dependants of {model.__name__} nest too deep to delete")
    rows = model._base_manager.filter(condition)
    for relation in model._meta.related_objects:
        if relation.many_to_many or not relation.field.concrete:
            continue
        dependant = relation.related_model
        on_delete = relation.on_delete
        inner = Q(**{f"{relation.field.name}__in": rows.values(relation.field.target_field.attname)})
        if on_delete is models.CASCADE:
            _delete_rows(dependant, inner, depth + 1)
        elif on_delete is models.SET_NULL:
            dependant._base_manager.filter(inner).update(**{relation.field.name: None})
    rows._raw_delete(rows.db)


def reset_generated(batch_size, stdout=None):
    """Delete every generated story (with its bylines, photos, links, tags, search rows and any
    other dependants) and the generated images."""
    deleted = 0
    article_ct = ContentType.objects.get_for_model(Article)
    while True:
        ids = list(Article.objects.filter(import_key__startswith=KEY_PREFIX).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            TaggedItem.objects.filter(content_type=article_ct, object_id__in=ids)._raw_delete(TaggedItem.objects.db)
            _delete_rows(Article, Q(pk__in=ids))
        deleted += len(ids)
        if stdout is not None:
            stdout.write(f"  deleted {deleted} generated stories")
    for image in Image.objects.filter(import_key__startswith=IMAGE_KEY_PREFIX, placements=None, thumbnail_of=None):
        image.delete()  # its original and renditions leave the media storage with it (articles.photo_files)
    if deleted:
        refresh_pages()
    return deleted


# From this many stories: worker processes (one per CPU, up to MAX_WORKERS) draw the stories,
# and a second connection indexes them for search while the first stores the next batches.
LARGE_RUN = 20_000
MAX_WORKERS = 4


@contextmanager
def search_index_alongside(enabled):
    """PostgreSQL: keep the search table's GIN index current from a second connection.

    Indexing a story's words (about 400 per story) costs PostgreSQL about as much as storing
    the story. With fastupdate (the default) new entries first go to the index's pending list,
    and are merged into the index when the list outgrows gin_pending_list_limit, by whichever
    insert finds it full. Here this session's limit is raised so that its inserts only append,
    and a thread with its own connection merges the list (gin_clean_pending_list) after each
    batch: PostgreSQL indexes in one process while it stores in another. The index stays
    valid throughout, also if the run is interrupted: the last merge runs on the way out.

    Yields the function to call after each committed batch."""
    if not enabled or connection.vendor != "postgresql":
        yield lambda: None
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index JOIN pg_class c ON c.oid = indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE indrelid = %s::regclass AND am.amname = 'gin'",
            [SearchEntry._meta.db_table],
        )
        indexes = [name for (name,) in cursor.fetchall()]
        cursor.execute("SET gin_pending_list_limit = '1GB'")
    wake, stop, failed = threading.Event(), threading.Event(), []

    def merge():
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute("SET maintenance_work_mem = '512MB'")
                while True:
                    wake.wait()
                    wake.clear()
                    last = stop.is_set()  # asked to stop: one more merge, for the last batches
                    for index in indexes:
                        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                    if last:
                        break
        except Exception as error:  # reported by the main thread
            failed.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=merge, name="search-index", daemon=True)
    thread.start()
    try:
        yield wake.set
    finally:
        stop.set()
        wake.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET gin_pending_list_limit")
    if failed:
        raise CommandError(f"Merging the search index's new entries failed: {failed[0]}")


def refresh_pages():
    """Rows written or removed in bulk send no signals: mark every cached page stale."""
    page_cache.forget_next_scheduled()
    page_cache.invalidate({SITE, HOME, FEEDS, SITEMAPS, SEARCH})


class Command(BaseCommand):
    help = "Generate N realistic Chinese stories (every workflow state, ten years) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, nargs="?", default=0, help="how many stories to generate")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same stories (default 1)")
        parser.add_argument("--batch-size", type=int, default=5000, help="stories per transaction (default 5000)")
        parser.add_argument("--append", action="store_true", help="add N more to the generated stories already there")
        parser.add_argument("--reset", action="store_true", help="first delete every generated story and image")
        parser.add_argument("--images", type=int, default=20, help="size of the shared photo pool (default 20)")
        parser.add_argument(
            "--now",
            help="ISO date the archive ends at (default: today, 00:00 UTC); fixes publication times for reruns",
        )
        parser.add_argument(
            "--method", choices=["auto", "copy", "bulk"], default="auto",
            help="COPY (PostgreSQL only) or bulk_create; auto picks COPY on PostgreSQL",
        )
        parser.add_argument(
            "--workers", type=int,
            help=f"processes drawing stories while this one writes, and on PostgreSQL a second connection "
            f"indexing them for search (default: one per CPU, at most {MAX_WORKERS}, from {LARGE_RUN:,} stories; "
            f"0: draw here, between the writes)",
        )

    def handle(self, *args, count, seed, batch_size, append, reset, images, now, method, workers, **options):
        if count < 0 or batch_size < 1:
            raise CommandError("N must be >= 0 and --batch-size >= 1.")
        if workers is not None and workers < 0:
            raise CommandError("--workers must be >= 0.")
        if workers is None:
            workers = min(MAX_WORKERS, os.cpu_count() or 1) if count >= LARGE_RUN else 0
        if method == "copy" and connection.vendor != "postgresql":
            raise CommandError("--method copy needs PostgreSQL.")
        use_copy = method == "copy" or (method == "auto" and connection.vendor == "postgresql")
        if now:
            try:
                anchor = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now {now!r}: not an ISO date")
            if anchor.tzinfo is None:
                anchor = anchor.replace(tzinfo=dt_timezone.utc)
        else:
            today = datetime.now(dt_timezone.utc).date()
            anchor = datetime(today.year, today.month, today.day, tzinfo=dt_timezone.utc)

        if reset:
            began = time.monotonic()
            removed = reset_generated(batch_size, stdout=self.stdout)
            self.stdout.write(f"Removed {removed} generated stories in {time.monotonic() - began:.1f} s.")
        start = generated_count()
        if start and not append and count:
            raise CommandError(f"{start} generated stories exist already; use --append to add more or --reset.")
        if not count:
            return

        began = time.monotonic()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Losing the last batches in a crash is fine for generated data; waiting on disk is not.
                cursor.execute("SET synchronous_commit TO OFF")
        pools = build_pools(images=images, stdout=self.stdout)
        self.stdout.write(
            f"Generating stories {start}..{start + count - 1} (seed {seed}, {'COPY' if use_copy else 'bulk_create'}, "
            f"{workers or 'no'} worker process{'es' if workers != 1 else ''}):"
        )
        vector_format = "binary" if use_copy else "text" if connection.vendor == "postgresql" else None
        generator = Generator(
            seed=seed, now=anchor, pools=pools, use_copy=use_copy, vector_format=vector_format, stdout=self.stdout
        )
        try:
            with row_checks_skipped(generator) if use_copy else nullcontext():
                totals = generator.run(start, count, batch_size, workers=workers, index_alongside=use_copy and workers > 0)
        finally:
            # Also after an interruption: the batches committed so far stay usable (--append
            # continues them), with the id sequence and the search index in order.
            reset_article_sequence()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Article, Byline, ArticleImage, RelatedLink, Recommendation, TaggedItem, SearchEntry):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        refresh_pages()
        elapsed = time.monotonic() - began
        rows = ", ".join(f"{n} {name}" for name, n in totals.items())
        if options["verbosity"] > 1:
            spent = ", ".join(f"{name} {s:.1f} s" for name, s in generator.seconds.items())
            self.stdout.write(f"  writing: {spent}")
        self.stdout.write(self.style.SUCCESS(
            f"Generated {count} stories in {elapsed:.1f} s ({count / elapsed:.0f} stories/s): {rows}."
        ))


def main(argv=None):
    """`python -m bench.generate_stories N [options]`, the options of Command (--help lists them)."""
    argv = sys.argv[1:] if argv is None else argv
    Command().run_from_argv(["python -m bench.generate_stories", "generate_stories", *argv])


if __name__ == "__main__":
    main()
