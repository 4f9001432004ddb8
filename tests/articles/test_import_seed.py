"""manage.py import_seed rebuilds a saved story page as data."""

from datetime import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from articles.models import Article, Byline, Image, Outlet, Person, Recommendation, RelatedLink

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_65fa244611cb5653.txt"
SECOND = Path(__file__).resolve().parents[1] / "fixtures" / "second_story.txt"
SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def run_import(path, **options):
    out = StringIO()
    call_command("import_seed", str(path), stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seed_story():
    run_import(SEED)
    return Article.objects.get(headline="“历城书记论坛”精彩开讲")


def test_seed_story_headline_time_outlet_and_empty_author(seed_story):
    assert seed_story.published_at == datetime(2018, 5, 15, 16, 8, 0, tzinfo=SHANGHAI)
    assert seed_story.outlet.name == "大众网"
    assert seed_story.author_line == ""
    assert seed_story.status == Article.Status.PUBLISHED
    assert seed_story.is_live


def test_seed_dateline_is_data_not_body(seed_story):
    assert seed_story.dateline_outlet.name == "大众网"
    assert seed_story.dateline_place == "济南"
    assert (seed_story.dateline_date.month, seed_story.dateline_date.day) == (5, 15)
    assert seed_story.dateline == "大众网济南5月15日讯"
    assert "大众网济南5月15日讯" not in seed_story.body
    assert "记者 张帆" not in seed_story.body


def test_seed_byline_reporter_then_correspondent(seed_story):
    rows = [(b.printed_role, b.person.name) for b in seed_story.bylines.order_by("position")]
    assert rows == [("记者", "张帆"), ("通讯员", "张鹏")]
    assert seed_story.byline_text == "记者 张帆 通讯员 张鹏"


def test_seed_photos_keep_their_captions_on_marked_placeholders(seed_story):
    photos = seed_story.photo_list
    assert [p.caption for p in photos] == [
        "历城区委书记吴承丙在启动仪式上致辞",
        "5月15,围绕如何推进基层协商民主主题,历城区组织举办了书记论坛活动",
        "历城区策划并首创的“历城书记论坛”正式开讲",
    ]
    assert all(p.is_placeholder and p.width == 1200 and p.height == 800 for p in photos)


def test_seed_body_paragraphs_without_captions_or_page_chrome(seed_story):
    body = seed_story.body
    assert body.startswith("<p>“群众的事由群众商量着办”,5月15,围绕如何推进基层协商民主主题")
    assert body.count("<p>") == 6
    assert body.endswith("汇集真知灼见的思想盛宴和推动发展进步的活力源泉</p>")
    for chrome in ["历城区委书记吴承丙在启动仪式上致辞", "初审编辑", "责任编辑", "相关新闻", "推荐阅读", "[详细]", "微信图片"]:
        assert chrome not in body


def test_seed_editors_one_person_in_two_roles(seed_story):
    assert seed_story.first_review_editor.name == "尹玉涛"
    assert seed_story.responsible_editor.name == "张帆"
    reporter = seed_story.bylines.get(role=Byline.Role.REPORTER).person
    assert reporter == seed_story.responsible_editor
    assert Person.objects.filter(name="张帆").count() == 1


def test_seed_has_no_related_news(seed_story):
    assert not RelatedLink.objects.filter(article=seed_story).exists()


def test_seed_recommended_reading_are_published_stories(seed_story):
    picks = [rec.target for rec in Recommendation.objects.filter(article=seed_story).order_by("position")]
    expected = [
        ("动能转换瞰章丘丨宜居新区幸福梦照进现实", "大众网", (14, 55), "微信图片_20180515145322.jpg"),
        ("探班黄河隧道工程:建成后黄河或将成为济南城中河", "齐鲁网", (9, 6), "20180515065540424.jpg"),
        ("济西湿地开业倒计时", "济南日报", (21, 54), "20180515064054143.jpg"),
        ("5月18日来济南市博物馆鉴宝吧", "大众网", (10, 26), "timg.jpg"),
        ("首次接触网“冷滑”试验通关 为接电“热滑”试验探好路 R1线8月有望实现全线“电通”", "济南时报", (9, 44), None),
        ("房企“母子档”信用将“共享” 济南试行房企资质管理新规", "济南日报", (9, 44), None),
    ]
    assert len(picks) == 6
    for story, (headline, outlet, (hour, minute), filename) in zip(picks, expected):
        assert story.headline == headline
        assert story.outlet.name == outlet
        assert story.published_at == datetime(2018, 5, 15, hour, minute, tzinfo=SHANGHAI)
        assert story.status == Article.Status.PUBLISHED
        assert story.summary and "[详细]" not in story.summary
        if filename:
            assert story.thumbnail.is_placeholder
            assert story.thumbnail.original_filename == filename
        else:
            assert story.thumbnail is None
    assert picks[0].summary.startswith("今年将实现建绿透绿及全域绿化550万平方米")
    assert picks[5].summary.endswith("主体公司的...")


def test_import_twice_creates_nothing_twice():
    run_import(SEED)
    counts = (Article.objects.count(), Image.objects.count(), Person.objects.count(), Outlet.objects.count())
    output = run_import(SEED)
    assert "Already imported" in output
    assert (Article.objects.count(), Image.objects.count(), Person.objects.count(), Outlet.objects.count()) == counts
    assert counts[0] == 7


def test_another_story_of_the_same_site_imports():
    run_import(SECOND)
    story = Article.objects.get(headline="济南小清河复航工程完成首段试通航")
    assert story.published_at == datetime(2018, 6, 2, 9, 30, 15, tzinfo=SHANGHAI)
    assert story.outlet.name == "齐鲁网"
    assert story.author_line == "李明"
    assert story.dateline == "齐鲁网济南6月2日讯"
    assert story.byline_text == "记者 王强 李娜 摄影 刘洋"
    assert [p.caption for p in story.photo_list] == ["试通航船舶驶过小清河济南段"]
    assert story.body.startswith("<p>6月1日上午,小清河复航工程济南段迎来首段试通航")
    assert story.body.count("<p>") == 3
    assert (story.first_review_editor.name, story.responsible_editor.name) == ("周立", "陈静")
    related = story.related_links.get()
    assert related.target.headline == "小清河复航工程全面开工"
    assert related.target.published_at == datetime(2018, 5, 20, 10, 0, tzinfo=SHANGHAI)
    rec = story.recommendations.get(source="picked").target  # the rest are filled (editorial.recommendations)
    assert (rec.headline, rec.outlet.name, rec.thumbnail.original_filename) == ("济南新增三条公交线路", "济南日报", "bus_20180601.png")


def test_both_files_share_outlets_and_people():
    run_import(SEED)
    run_import(SECOND)
    assert Outlet.objects.filter(name="济南日报").count() == 1


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("", 1, "empty"),
        ("\n\n   \n", 1, "empty"),
        ("标题\n\n这不是时间行\n", 3, "来源"),
        ("标题\n", 2, "time and source"),
        ("标题\n\n2018-05-15 16:08:00 来源: 大众网 作者:\n", 4, "no body"),
        ("标题\n\n2018-02-30 16:08:00 来源: 大众网 作者:\n\n  正文。\n", 3, "not a valid date"),
        ("标题\n\n2018-05-15 16:08:00 来源: 大众网 作者:\n\n  正文。\n\n初审编辑:甲\n\n多余的一行\n", 9, "unexpected text"),
        (
            "标题\n\n2018-05-15 16:08:00 来源: 大众网 作者:\n\n  正文。\n推荐阅读\n  • 一条推荐\n\n    摘要[详细]\n",
            7,
            "no time and outlet line",
        ),
        ("标题\n\n2018-05-15 16:08:00 来源: 大众网 作者:\n\n  大众网济南5月15日讯(张帆)正文。\n", 5, "before any role"),
    ],
)
def test_malformed_file_names_the_line_and_writes_nothing(tmp_path, text, line, words):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run_import(path)
    assert f"line {line}:" in str(error.value)
    assert words in str(error.value)
    assert Article.objects.count() == 0
    assert Image.objects.count() == 0
    assert Outlet.objects.count() == 0


def test_missing_and_non_utf8_files_are_refused(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_import(tmp_path / "absent.txt")
    path = tmp_path / "gbk.txt"
    path.write_bytes("标题\n".encode("gbk"))
    with pytest.raises(CommandError, match="line 1: not UTF-8"):
        run_import(path)


def test_command_exits_non_zero_on_a_bad_file(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bad.txt"
    path.write_text("", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_seed", str(path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DEBUG": "1", "DATABASE_URL": "sqlite:///" + str(tmp_path / "x.db")},
    )
    assert result.returncode != 0
    assert "line 1: the file is empty" in result.stderr
