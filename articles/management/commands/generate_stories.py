"""manage.py generate_stories N: a realistic archive of Chinese stories for benchmarks.

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
<strong>), as the sanitiser would leave it.
"""

import io
import json
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction
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
from articles import cache as page_cache
from articles.dependencies import FEEDS, HOME, SEARCH, SITE, SITEMAPS
from articles.renditions import ensure_renditions
from articles.search import _RUN as TERM_RUN  # the runs document_terms() cuts text into
from articles.search import document_terms

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


class TableWriter:
    """Writes rows (dicts keyed by attname) of one model, filling columns the generator does not know.

    Columns added later by other features get their model default, so the
    generator keeps working as the schema grows.
    """

    def __init__(self, model, use_copy, explicit_pk=False):
        self.model = model
        self.use_copy = use_copy
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if not getattr(f, "generated", False) and (explicit_pk or not f.primary_key)
        ]
        self.defaults = {}
        for f in self.fields:
            if f.primary_key:
                continue
            default = f.get_default()
            if isinstance(f, models.DateTimeField) and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
                default = datetime.now(dt_timezone.utc)
            self.defaults[f.attname] = default
        self.rows = []

    def add(self, row):
        self.rows.append(row)

    def take(self):
        """The rows added since the last take, handed over for writing."""
        rows, self.rows = self.rows, []
        return rows

    def write(self, rows):
        if not rows:
            return 0
        if self.use_copy:
            self._copy(rows)
        else:
            self.model.objects.bulk_create([self.model(**row) for row in rows], batch_size=2000)
        return len(rows)

    def flush(self):
        return self.write(self.take())

    def _copy(self, rows):
        names = [f.attname for f in self.fields]
        defaults = self.defaults
        buffer = io.StringIO()
        write = buffer.write
        for row in rows:
            write("\t".join(_copy_text(row[name] if name in row else defaults[name]) for name in names))
            write("\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


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

    def __init__(self):
        self.known = {}

    def terms(self, *texts):
        out = []
        known = self.known
        for run in TERM_RUN.findall(" ".join(t for t in texts if t)):
            terms = known.get(run)
            if terms is None:
                if len(known) >= self.LIMIT:
                    known.clear()
                terms = known[run] = document_terms(run)
            out.extend(terms)
        return f" {' '.join(out)} " if out else ""

    def entry(self, row, names, captions):
        """The SearchEntry columns of one generated story (its body holds only <p> and <strong>)."""
        return {
            "article_id": row["id"],
            "headline_terms": self.terms(row["kicker"], row["headline"], row["subtitle"]),
            "summary_terms": self.terms(row["summary"], row["author_line"], *names, *captions),
            "body_terms": self.terms(_TAGS.sub("", row["body"])),
        }


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


class Generator:
    """Draws story number n from (seed, n) and writes batches of rows."""

    def __init__(self, *, seed, now, pools, use_copy, stdout=None):
        self.seed = seed
        self.now = now
        self.pools = pools
        self.use_copy = use_copy
        self.stdout = stdout
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
        self.role_names = [role for role, _ in ROLE_WEIGHTS]
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
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            return f"“{rng.choice(PHRASES)}，是我们的重要任务。”{rng.choice(OFFICIALS)}{name}表示，要把{topic}工作抓实抓细。"
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
        kind = rng.randrange(5)
        if kind == 0:
            headline = f"{place}{rng.choice(ORGS)}{rng.choice(VERBS)}{topic}{rng.choice(EVENTS)}"
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
                sentences.insert(0, f"{place}{rng.choice(ORGS)}{rng.choice(VERBS)}{topic}{rng.choice(EVENTS)}，推动{topic}高质量{COMMON_TERM}。")
            text = "".join(sentences)
            if rng.random() < 0.1:
                text = f"<strong>{rng.choice(PHRASES)}</strong>" + text
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
        """Yield (n, story) for n in [start, start + count), drawing whole chunks for determinism."""
        end = start + count
        chunk = start // CHUNK
        while chunk * CHUNK < end:
            rng = random.Random(self.seed * 1_000_003 + chunk)
            for n in range(chunk * CHUNK, min((chunk + 1) * CHUNK, end)):
                story = self.draw(rng, n)
                if n >= start:
                    yield n, story
            chunk += 1

    # -- writing ------------------------------------------------------------------------------

    def run(self, start, count, batch_size, pipeline=False):
        """Insert stories start..start+count-1; return the number of rows written per table.

        With `pipeline`, each batch is written by a second thread on its own connection
        while this one draws the next: PostgreSQL builds the search vectors of one batch
        while Python draws the next. Batches still commit in order (links point back).
        Only for committed data: the writer cannot see this connection's open transaction."""
        use_copy = self.use_copy
        articles = TableWriter(Article, use_copy, explicit_pk=True)
        writers = {
            "byline": TableWriter(Byline, use_copy),
            "photo": TableWriter(ArticleImage, use_copy),
            "related": TableWriter(RelatedLink, use_copy),
            "recommendation": TableWriter(Recommendation, use_copy),
            "tagged": TableWriter(TaggedItem, use_copy),
            "search": TableWriter(SearchEntry, use_copy, explicit_pk=True),
        }
        segmenter = Segmenter()
        names, captions = self.pools["person_names"], self.pools["image_captions"]
        totals = {"article": 0, **{name: 0 for name in writers}}
        base_id = (Article.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        # Stories generated by an earlier run that the new ones may link back to.
        earlier = {}
        if start:
            keys = [f"{KEY_PREFIX}{n:09d}" for n in range(max(0, start - LINK_WINDOW), start)]
            for key, pk in Article.objects.filter(import_key__in=keys).values_list("import_key", "pk"):
                earlier[int(key[len(KEY_PREFIX):])] = pk

        def story_id(number):
            return base_id + (number - start) if number >= start else earlier.get(number)

        names_in_totals = {id(articles): "article", **{id(w): name for name, w in writers.items()}}

        def write_batch(batch, threaded):
            written = {}
            try:
                if threaded and connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET synchronous_commit TO OFF")
                with transaction.atomic():
                    for writer, rows in batch:
                        written[names_in_totals[id(writer)]] = writer.write(rows)
            finally:
                if threaded:
                    connection.close()
            return written

        def add(written):
            for name, n in written.items():
                totals[name] += n

        pool = ThreadPoolExecutor(max_workers=1) if pipeline else None
        pending = None
        tag_ids = self.pools["tag_ids"]
        ct = self.article_ct
        began = time.monotonic()
        done = 0
        for n, story in self.stories(start, count):
            pk = story_id(n)
            row = story["row"]
            row["id"] = pk
            articles.add(row)
            for person, role, position in story["bylines"]:
                writers["byline"].add({"article_id": pk, "person_id": person, "role": role.value if hasattr(role, "value") else role, "position": position})
            for position, image in enumerate(story["photos"]):
                writers["photo"].add({"article_id": pk, "image_id": image, "position": position})
            writers["search"].add(segmenter.entry(
                row,
                [names[person] for person, _, _ in story["bylines"]],
                [captions[image] for image in story["photos"]],
            ))
            for index in story["tags"]:
                writers["tagged"].add({"object_id": pk, "content_type_id": ct, "tag_id": tag_ids[index]})
            for kind, value, position in story["related"]:
                if kind == "story":
                    target = story_id(value)
                    if target is None:
                        continue
                    writers["related"].add({"article_id": pk, "target_id": target, "url": "", "title": "", "outlet_id": None, "published_at": None, "position": position})
                else:
                    writers["related"].add({
                        "article_id": pk, "target_id": None, "url": f"https://news.example.cn/{value}.html",
                        "title": f"{row['headline'][:8]}相关报道", "outlet_id": story["external_outlet"],
                        "published_at": story["external_when"], "position": position,
                    })
            position = 0
            for number in story["recommended"]:
                target = story_id(number)
                if target is None or target == pk:
                    continue
                writers["recommendation"].add({"article_id": pk, "target_id": target, "position": position})
                position += 1
            done += 1
            if done % batch_size == 0 or done == count:
                batch = [(articles, articles.take())] + [(writer, writer.take()) for writer in writers.values()]
                if pending is not None:
                    add(pending.result())
                if pool is not None:
                    pending = pool.submit(write_batch, batch, True)
                else:
                    add(write_batch(batch, False))
                if self.stdout is not None:
                    elapsed = time.monotonic() - began
                    self.stdout.write(f"  {done:>9}/{count} stories  {elapsed:7.1f} s  {done / elapsed:8.0f} stories/s")
        if pending is not None:
            add(pending.result())
        if pool is not None:
            pool.shutdown()
        reset_article_sequence()
        return totals


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


DEFER_INDEX_AT = 50_000


def drop_search_indexes():
    """Drop the GIN indexes of the search table (PostgreSQL); return their definitions."""
    table = SearchEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE %s",
            [table, "% USING gin %"],
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [definition for _, definition in found]


def restore_indexes(definitions):
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem TO '512MB'")
        for definition in definitions:
            cursor.execute(definition)


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

    def handle(self, *args, count, seed, batch_size, append, reset, images, now, method, **options):
        if count < 0 or batch_size < 1:
            raise CommandError("N must be >= 0 and --batch-size >= 1.")
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
        # A large run fills the search table faster without its GIN index, which is rebuilt after.
        deferred = drop_search_indexes() if use_copy and count >= DEFER_INDEX_AT else []
        self.stdout.write(f"Generating stories {start}..{start + count - 1} (seed {seed}, {'COPY' if use_copy else 'bulk_create'}):")
        generator = Generator(seed=seed, now=anchor, pools=pools, use_copy=use_copy, stdout=self.stdout)
        try:
            totals = generator.run(start, count, batch_size, pipeline=use_copy and count >= DEFER_INDEX_AT)
        finally:
            # Also after an interruption: the batches committed so far stay usable (--append
            # continues them), with the id sequence and the search index in order.
            reset_article_sequence()
            if deferred:
                rebuilt = time.monotonic()
                restore_indexes(deferred)
                self.stdout.write(f"  search index rebuilt in {time.monotonic() - rebuilt:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Article, Byline, ArticleImage, RelatedLink, Recommendation, TaggedItem, SearchEntry):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        refresh_pages()
        elapsed = time.monotonic() - began
        rows = ", ".join(f"{n} {name}" for name, n in totals.items())
        self.stdout.write(self.style.SUCCESS(
            f"Generated {count} stories in {elapsed:.1f} s ({count / elapsed:.0f} stories/s): {rows}."
        ))
