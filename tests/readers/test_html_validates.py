"""Every kind of page a reader gets is valid HTML, as the W3C Nu Html Checker reads it.

The pages are rendered by the Django test client from a seeded database (the seed story) and
a story made for the purpose with everything a story page can print: kicker, subtitle,
summary, dateline, bylines, tags, a body with headings, lists, links and a quotation, photos
narrower and wider than the renditions (300, 700 and 1600 pixels), related links and 推荐阅读.
The pages (both stories, the home page, a section, a tag, a person, a search, and a missing
page) are written to a folder and checked in one run of the checker (one JVM start).

The checker is `vnu.jar` from the npm package vnu-jar (package.json; `npm ci --ignore-scripts`
puts it in node_modules) and needs Java; .ci/run installs both when they are missing. Where
either is missing the test is skipped and says which.
"""

import io
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image as PILImage

from articles.models import Article, ArticleImage, Byline, Image, Outlet, Person, Recommendation, RelatedLink
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_65fa244611cb5653.txt"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def checker():
    """The java command and the checker's jar, or a skip saying what is missing."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java here: the Nu Html Checker needs it (.ci/run installs default-jre-headless)")
    if not VNU_JAR.is_file():
        pytest.skip("no node_modules/vnu-jar: run `npm ci --ignore-scripts` at the repository root (.ci/run does)")
    return [java, "-jar", str(VNU_JAR)]


def png(width, height, colour):
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def story_with_everything(section):
    """A published story printing each element a story page can hold, with three photos of
    different widths, taken through the desk's workflow."""
    people = factories.desk()
    reporter = Person.objects.create(name="张帆")
    photographer = Person.objects.create(name="李摄影")
    seed_story = Article.objects.exclude(section=None).filter(status=Article.Status.PUBLISHED).first()
    story = Article.objects.create(
        kicker="引题:泉城新闻",
        headline="大明湖畔的夜市开张",
        subtitle="副题:夜市延长到十点",
        summary="大明湖畔的夜市今晚开张。\n摊位一百多个。",
        body=(
            "<p>大明湖畔的夜市今晚开张,<strong>摊位</strong>一百多个,<em>游客</em>众多。</p>"
            "<h2>摊位</h2><ul><li>小吃</li><li>手工艺品</li></ul>"
            "<h3>时间</h3><ol><li>傍晚六点开市</li><li>晚上十点收摊</li></ol>"
            '<blockquote><p>“夜市让老城热闹起来。”</p></blockquote>'
            '<p>详情见<a href="https://example.com/night-market">夜市官网</a>。</p><hr>'
        ),
        section=section,
        outlet=Outlet.objects.get_or_create(name="大众网")[0],
        author_line="记者 张帆 通讯员 王明",
        dateline_place="济南",
        created_by=people["writer"],
    )
    story.tags.add("夜市", "大明湖", "Jinan night market")
    Byline.objects.create(article=story, person=reporter, role=Byline.Role.REPORTER, position=0)
    Byline.objects.create(article=story, person=photographer, role=Byline.Role.PHOTOGRAPHER, position=1)
    for position, (name, width, height, colour) in enumerate(
        [("narrow", 300, 400, (200, 60, 60)), ("medium", 700, 467, (60, 160, 90)), ("wide", 1600, 900, (40, 80, 170))]
    ):
        photo = Image.objects.create(
            caption=f"{name} 图说:夜市一角", credit="李摄影", alt_text=f"夜市的摊位({width} 像素宽)",
            file=ContentFile(png(width, height, colour), name=f"{name}.png"),
        )
        ArticleImage.objects.create(article=story, image=photo, position=position)
    RelatedLink.objects.create(article=story, url="https://example.com/elsewhere", title="外站的相关报道", position=0)
    if seed_story is not None:
        RelatedLink.objects.create(article=story, target=seed_story, position=1)
        Recommendation.objects.create(article=story, target=seed_story, position=0)
    return factories.publish(story, people), reporter


@pytest.fixture
def pages(client, settings):
    """{file name: HTML} of one page of each kind."""
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    call_command("import_seed", str(SEED), stdout=io.StringIO())
    seed_story = Article.objects.get(headline="“历城书记论坛”精彩开讲")
    story, reporter = story_with_everything(seed_story.section or factories.section(name="本地", slug="local"))
    tag = story.tags.get(name="夜市")
    urls = {
        "seed-story": seed_story.get_absolute_url(),
        "generated-story": story.get_absolute_url(),
        "home": reverse("articles:home"),
        "section": reverse("articles:section", args=[story.section.slug]),
        "tag": reverse("articles:tag", args=[tag.slug]),
        "person": reverse("articles:person", args=[reporter.pk]),
        "search": reverse("articles:search") + "?q=%E5%A4%9C%E5%B8%82",  # 夜市
        "not-found": "/stories/987654321/",
    }
    rendered = {}
    for name, url in urls.items():
        response = client.get(urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else ""))
        assert response.status_code == (404 if name == "not-found" else 200), f"{name} ({url}) answered {response.status_code}"
        content = b"".join(response.streaming_content) if response.streaming else response.content
        rendered[f"{name}.html"] = content.decode("utf-8")
    return rendered


def checked(command, folder, files):
    """The checker's messages on `files`, as {file name: [message, ...]}."""
    run = subprocess.run(
        [*command, "--errors-only", "--format", "json", *[str(folder / name) for name in files]],
        capture_output=True, text=True, timeout=600,
    )
    try:
        report = json.loads(run.stderr or run.stdout)
    except ValueError:
        raise AssertionError(f"the checker printed no report (exit {run.returncode}):\n{run.stderr}\n{run.stdout}") from None
    found = {name: [] for name in files}
    for message in report.get("messages", []):
        name = Path(unquote(urlsplit(message.get("url", "")).path)).name
        found.setdefault(name or "(checker)", []).append(message)
    return found


def describe(message):
    where = f"line {message['lastLine']}" if "lastLine" in message else "whole file"
    extract = f" — …{message['extract'].strip()}…" if message.get("extract") else ""
    return f"[{message.get('type')}] {where}: {message.get('message')}{extract}"


def test_every_kind_of_reader_page_is_valid_html(pages, tmp_path):
    command = checker()
    for name, html in pages.items():
        (tmp_path / name).write_text(html, encoding="utf-8")
    found = checked(command, tmp_path, sorted(pages))
    errors = {name: messages for name, messages in found.items() if messages}
    report = "\n".join(
        f"{name}: {len(messages)} error(s)\n" + "\n".join(f"  {describe(m)}" for m in messages)
        for name, messages in sorted(errors.items())
    )
    assert not errors, f"the Nu Html Checker found errors:\n{report}"
