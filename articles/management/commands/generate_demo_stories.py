"""manage.py generate_demo_stories N: a browsable demo site of N Chinese stories.

Stories get sections, tags, bylines, editors, photos with captions, 推荐阅读 picks and
相关新闻 links, spread over the last months; one is pinned as 头条. A few are kept
unpublished (drafts, in review, scheduled, withdrawn) so the site shows that they stay
hidden. The apps above articles add their own demo records through articles.demo (the
desk: 三校 proofreading at both reviews and some 更正, so the 差错率 report has real
numbers). Deterministic for a given --seed. Made for demos and page-speed checks; the
million-row benchmark generator is a separate command.
"""

import io
import random
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw

from articles.demo import demo_stories_made
from articles.events import Placement, StoryChanged, announce, together
from articles.models import (
    Article,
    ArticleImage,
    Byline,
    Image,
    Outlet,
    Person,
    Recommendation,
    RelatedLink,
    Section,
)

SECTIONS = [
    ("本地新闻", "local", "济南及周边的新闻"),
    ("时政", "politics", "政务动态与政策解读"),
    ("经济", "economy", "产业、财经与民生经济"),
    ("社会", "society", "社会百态"),
    ("文化", "culture", "文化、教育与旅游"),
    ("体育", "sports", "赛事与全民健身"),
]
OUTLETS = ["大众网", "齐鲁网", "济南日报", "济南时报"]
PLACES = ["历城", "历下", "市中", "槐荫", "天桥", "长清", "章丘", "济阳", "莱芜", "钢城", "平阴", "商河"]
TOPICS = [
    ("基层协商民主", "协商民主"), ("乡村振兴", "乡村振兴"), ("营商环境", "营商环境"), ("泉水保护", "泉水"),
    ("老旧小区改造", "城市更新"), ("智慧交通", "交通"), ("科技创新", "科技"), ("全民健身", "健身"),
    ("非遗传承", "非遗"), ("垃圾分类", "环保"), ("就业服务", "就业"), ("文明城市创建", "文明城市"),
]
VERBS = ["启动", "推进", "召开", "发布", "开展", "举办", "落地", "见成效", "再升级", "迎来新进展"]
EVENTS = ["座谈会", "书记论坛", "现场观摩会", "专题培训", "志愿服务活动", "推介会", "成果展", "调研活动"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["帆", "鹏", "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超", "霞"]
SENTENCES = [
    "{place}区围绕{topic}主题,组织相关部门和群众代表深入交流。",
    "与会人员结合工作实际,就如何推动{topic}工作提出了意见和建议。",
    "据介绍,{place}区今年以来持续发力,{topic}工作取得阶段性成效。",
    "下一步,{place}区将进一步完善机制,让{topic}成果惠及更多群众。",
    "活动现场气氛热烈,不少市民表示对{topic}有了更直观的认识。",
    "相关负责人表示,将以此次{event}为契机,扎实做好各项工作。",
    "“群众的事由群众商量着办”,这是{place}区推进{topic}的一条经验。",
]
COLOURS = ["#8d2b2b", "#2b5d8d", "#2b8d5a", "#8d6d2b", "#5a2b8d", "#2b7f8d"]


class Command(BaseCommand):
    help = "Generate N demo stories (sections, tags, bylines, photos, 推荐阅读, 相关新闻) for browsing."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="how many published stories to make (e.g. 300)")
        parser.add_argument("--seed", type=int, default=2018, help="random seed, for repeatable demos")
        parser.add_argument("--photos", type=int, default=24, help="how many distinct demo photos to share")

    def handle(self, *args, count, seed, photos, **options):
        if not 1 <= count <= 100_000:
            raise CommandError("count must be between 1 and 100000")
        if photos < 0:
            raise CommandError("--photos must be 0 or more")
        rng = random.Random(seed)
        # One transaction, delivered together: the home page is rendered once, not once a story.
        with together():
            made = self.generate(rng, count, photos)
        self.stdout.write(self.style.SUCCESS(f"Made {made} stories ({count} published, plus a few unpublished)."))

    def generate(self, rng, count, photo_count):
        sections = []
        for position, (name, slug, description) in enumerate(SECTIONS):
            section, _ = Section.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description, "position": position}
            )
            sections.append(section)
        outlets = [Outlet.objects.get_or_create(name=name)[0] for name in OUTLETS]
        people = [Person.objects.create(name=rng.choice(SURNAMES) + rng.choice(GIVEN)) for _ in range(16)]
        editors = people[:4]
        images = [self.photo(rng, n) for n in range(photo_count)]

        now = timezone.now()
        stories = []
        for n in range(count):
            stories.append(self.story(rng, n, sections, outlets, people, editors, images,
                                      published_at=now - timedelta(minutes=rng.randint(5, 60 * 24 * 120)),
                                      status=Article.Status.PUBLISHED))
        stories.sort(key=lambda a: a.published_at)
        stories[-1].is_top = True
        stories[-1].save(update_fields=["is_top"])
        for article in rng.sample(stories, min(len(stories), max(1, count // 3))):
            for position, target in enumerate(rng.sample(stories, min(6, len(stories)))):
                if target.pk != article.pk:
                    Recommendation.objects.get_or_create(article=article, target=target, defaults={"position": position})
            target = rng.choice(stories)
            if target.pk != article.pk:
                RelatedLink.objects.create(article=article, target=target, position=0)

        hidden = [
            (Article.Status.DRAFT, None),
            (Article.Status.FIRST_REVIEW, None),
            (Article.Status.FINAL_REVIEW, None),
            (Article.Status.SCHEDULED, now + timedelta(hours=2)),
            (Article.Status.WITHDRAWN, now - timedelta(days=3)),
        ]
        for n, (status, when) in enumerate(hidden, start=count):
            stories.append(self.story(rng, n, sections, outlets, people, editors, images, published_at=when,
                                      status=status, prefix="【未公开】"))
        # The apps above articles add their demo records to the stories (articles.demo).
        demo_stories_made.send(sender=self.__class__, stories=stories, rng=rng, now=now)
        # Announced once each is whole (links and picks are added after all stories exist);
        # these are new stories, so the desk's editing door has nothing to check or keep.
        for article in stories:
            announce(StoryChanged(story_id=article.pk, what="import", after=Placement.of(article), content_changed=True))
        return count + len(hidden)

    def photo(self, rng, n):
        width, height = 1200, 800
        picture = PILImage.new("RGB", (width, height), rng.choice(COLOURS))
        draw = ImageDraw.Draw(picture)
        for _ in range(6):
            x, y = rng.randrange(width), rng.randrange(height)
            r = rng.randint(60, 260)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.choice(COLOURS), outline="#ffffff", width=6)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=70)
        place, (topic, _) = rng.choice(PLACES), rng.choice(TOPICS)
        caption = f"{place}区{topic}活动现场(示例图片)"
        return Image.objects.create(
            file=ContentFile(out.getvalue(), name=f"demo-{n}.jpg"),
            caption=caption,
            alt_text=f"示例图片:{caption}",
            credit="演示图片",
        )

    def story(self, rng, n, sections, outlets, people, editors, images, *, published_at, status, prefix=""):
        place = rng.choice(PLACES)
        topic, tag = rng.choice(TOPICS)
        event = rng.choice(EVENTS)
        headline = f"{prefix}{place}{rng.choice([topic, event])}{rng.choice(VERBS)}"
        paragraphs = [rng.choice(SENTENCES).format(place=place, topic=topic, event=event) for _ in range(rng.randint(3, 7))]
        outlet = rng.choice(outlets)
        article = Article.objects.create(
            headline=headline,
            slug=f"demo-{n}",
            section=rng.choice(sections),
            outlet=outlet,
            dateline_outlet=outlet,
            dateline_place="济南",
            dateline_date=(published_at or timezone.now()).date(),
            summary=paragraphs[0],
            body="".join(f"<p>{p}</p>" for p in paragraphs),
            status=status,
            published_at=published_at,
            first_review_editor=editors[0] if status in {Article.Status.PUBLISHED, Article.Status.WITHDRAWN} else None,
            responsible_editor=rng.choice(editors[1:]) if status == Article.Status.PUBLISHED else None,
        )
        article.tags.add(tag, place)
        for position, person in enumerate(rng.sample(people, rng.randint(1, 3))):
            Byline.objects.create(article=article, person=person, position=position,
                                  role=Byline.Role.REPORTER if position == 0 else Byline.Role.CORRESPONDENT)
        for position, image in enumerate(rng.sample(images, min(len(images), rng.choice([0, 1, 1, 2, 3])))):
            ArticleImage.objects.create(article=article, image=image, position=position)
        return article
