"""Readers search in Chinese: the seed story is found by its words, best match first."""

import html as html_module
import unicodedata
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from articles import search as search_engine
from articles.models import Article, ArticleImage, Byline
from editorial import editing
from editorial.roles import RESPONSIBLE_EDITOR
from tests import factories

pytestmark = pytest.mark.django_db

SEED = "seeds/000_65fa244611cb5653.txt"
SEED_HEADLINE = "历城书记论坛"


@pytest.fixture
def seeded(db):
    call_command("import_seed", SEED, stdout=StringIO())
    return Article.objects.get(headline__contains=SEED_HEADLINE)


def story(headline, body):
    return factories.published_story(headline=headline, body=body)


def result_ids(client, **params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    html = response.content.decode()
    ids = []
    for chunk in html.split('<li class="result">')[1:]:
        href = chunk.split('href="/stories/', 1)[1]
        ids.append(int(href.split("/", 1)[0]))
    return ids, html


@pytest.mark.parametrize("words", ["协商民主", "书记论坛", "历城"])
def test_seed_story_is_found_by_its_words(client, seeded, words):
    ids, _ = result_ids(client, q=words)
    assert seeded.pk in ids


def test_shuji_luntan_ranks_the_seed_story_first(client, seeded):
    story("区委书记调研", "<p>书记来到论坛现场,论坛很热闹。</p>")
    story("其他新闻", "<p>书记论坛的消息也提到了。</p>")
    ids, _ = result_ids(client, q="书记论坛")
    assert ids[0] == seeded.pk
    assert len(ids) >= 2


def test_matches_are_highlighted_in_headline_and_snippet(client, seeded):
    _, html = result_ids(client, q="协商民主")
    assert "<mark>协商民主</mark>" in html
    _, html = result_ids(client, q="书记论坛")
    assert "<mark>书记论坛</mark>" in html


def test_equal_relevance_is_ordered_newest_first(client):
    tz = ZoneInfo("Asia/Shanghai")
    old = factories.published_story(headline="济南新闻", published_at=datetime(2020, 1, 1, tzinfo=tz))
    new = factories.published_story(headline="济南新闻", published_at=datetime(2021, 1, 1, tzinfo=tz))
    ids, _ = result_ids(client, q="济南")
    assert ids == [new.pk, old.pk]


def test_byline_names_and_captions_are_searchable(client):
    story = factories.published_story(headline="普通标题")
    Byline.objects.create(article=story, person=factories.person("欧阳明"))
    factories.announced(story)
    other = factories.published_story(headline="另一条")
    ArticleImage.objects.create(article=other, image=factories.image(caption="大明湖畔荷花盛开"))
    factories.announced(other)
    assert result_ids(client, q="欧阳明")[0] == [story.pk]
    assert result_ids(client, q="荷花")[0] == [other.pk]


def test_editing_a_story_updates_the_index(client):
    story = factories.published_story(headline="旧标题")
    editor = factories.user(roles=[RESPONSIBLE_EDITOR])

    def retitle(article):
        article.headline = "泉城夜景"
        article.save()

    editing.save_story(story, retitle, actor=editor, correction_note="标题改为泉城夜景。")
    assert result_ids(client, q="泉城")[0] == [story.pk]
    assert result_ids(client, q="旧标题")[0] == []


def test_filters_by_section_and_date(client):
    tz = ZoneInfo("Asia/Shanghai")
    local, sports = factories.section(slug="local"), factories.section(slug="sports")
    a = factories.published_story(headline="足球比赛", section=local, published_at=datetime(2024, 3, 1, 9, tzinfo=tz))
    b = factories.published_story(headline="足球联赛", section=sports, published_at=datetime(2024, 5, 1, 9, tzinfo=tz))
    assert result_ids(client, q="足球", section="sports")[0] == [b.pk]
    assert result_ids(client, q="足球", to="2024-03-01")[0] == [a.pk]
    assert result_ids(client, q="足球", **{"from": "2024-04-01"})[0] == [b.pk]


def test_latin_words_and_numbers_are_searchable(client):
    story = factories.published_story(headline="5G网络覆盖全市")
    assert result_ids(client, q="5g")[0] == [story.pk]


def test_a_number_in_scientific_notation_before_a_word_is_found(client):
    """PostgreSQL reads 1e5w as 1e5 and w: stories and queries are cut the same way."""
    story = factories.published_story(headline="峰值功率达到1e5w")
    factories.published_story(headline="功率达到1e6w")
    assert result_ids(client, q="1e5w")[0] == [story.pk]


@pytest.mark.parametrize(
    "query, note",
    [
        ("", "请输入要查找的词语"),
        ("   ", "请输入要查找的词语"),
        ("!!!。。。,,,", "没有可以搜索的文字"),
        ("长" * 1000, "搜索词过长"),
        ("'; DROP TABLE articles_article; --", "没有找到"),
        ("书记 OR 1=1 & | ! :* <script>", "没有找到"),
        ("%_\\", "没有可以搜索的文字"),
    ],
)
def test_odd_queries_get_a_clear_page(client, query, note):
    factories.published_story(headline="正常新闻")
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert note in html
    assert "<script>" not in html.split("<main", 1)[1]


def test_search_box_is_labelled_on_every_page(client):
    html = client.get("/").content.decode()
    assert '<label for="site-search-q"' in html
    assert 'role="search"' in html


def test_seed_still_ranks_first_among_demo_stories_that_share_its_words(client, seeded):
    call_command("generate_demo_stories", 40, stdout=StringIO())
    ids, _ = result_ids(client, q="书记论坛")
    assert ids[0] == seeded.pk


def test_stories_written_in_bulk_become_searchable_after_rebuilding_the_index(client):
    Article.objects.bulk_create([
        Article(headline="批量导入的泉城新闻", status=Article.Status.PUBLISHED, published_at=factories.timezone.now())
    ])
    assert result_ids(client, q="泉城")[0] == []
    call_command("rebuild_search_index", "--missing", stdout=StringIO())
    assert len(result_ids(client, q="泉城")[0]) == 1


def test_search_vectors_are_stored_uncompressed_and_rebuilding_the_index_rewrites_older_ones(client):
    """Migration 0022: a vector is read three times for each ranked match, and it barely
    compresses, so PostgreSQL keeps it out of line without compressing it. Rows written
    before keep their compression until rewritten; rebuild_search_index rewrites them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's storage of values (TOAST)")
    # 500 product codes: a vector of 8-9 KB that compresses well, unlike most stories'.
    body = "<p>座谈会清单：" + " ".join(f"quanchengproduct{n:04d}" for n in range(500)) + "</p>"

    def compression(story):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_column_compression(search_vector), pg_column_size(search_vector)"
                " FROM articles_searchentry WHERE article_id = %s",
                [story.pk],
            )
            return cursor.fetchone()

    with connection.cursor() as cursor:  # as before the migration (rolled back with the test)
        cursor.execute("ALTER TABLE articles_searchentry ALTER COLUMN search_vector SET STORAGE EXTENDED")
    older = factories.published_story(headline="泉城座谈会", body=body)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no checks pending for the table
        cursor.execute("ALTER TABLE articles_searchentry ALTER COLUMN search_vector SET STORAGE EXTERNAL")
    newer = factories.published_story(headline="泉城座谈会召开", body=body)

    method, size = compression(newer)
    assert method is None and size > 2000  # out of line (past TOAST's 2 KB), as it is
    assert compression(older)[0] is not None  # compressed when it was written
    call_command("rebuild_search_index", stdout=StringIO())
    assert compression(older)[0] is None
    assert sorted(result_ids(client, q="座谈会")[0]) == sorted([older.pk, newer.pk])


def test_a_result_prints_its_time_in_the_newsrooms_zone_its_section_and_its_outlet(client):
    tz = ZoneInfo("Asia/Shanghai")
    local = factories.section(name="本地新闻", slug="local")
    found = factories.published_story(
        headline="泉城夜市开张", section=local, outlet=factories.outlet("济南日报"), slug="quancheng-night-market",
        published_at=datetime(2024, 3, 1, 23, 30, tzinfo=tz),  # 15:30 UTC: the newsroom's evening
    )
    bare = factories.published_story(headline="夜市简讯", published_at=datetime(2024, 2, 1, 9, tzinfo=tz))
    ids, html = result_ids(client, q="夜市")
    assert ids == [found.pk, bare.pk]
    first, second = html.split('<li class="result">')[1:]
    assert f'href="/stories/{found.pk}/quancheng-night-market/"' in first
    assert '<time datetime="2024-03-01T23:30:00+08:00">2024-03-01 23:30</time>' in first
    assert '<span class="outlet">本地新闻</span> <span class="outlet">济南日报</span>' in first
    assert '<span class="outlet">' not in second  # neither section nor outlet: nothing printed for them


def test_the_date_filters_are_the_newsrooms_calendar_days(client):
    tz = ZoneInfo("Asia/Shanghai")
    late = factories.published_story(headline="灯会闭幕", published_at=datetime(2024, 3, 1, 23, 50, tzinfo=tz))
    next_day = factories.published_story(headline="灯会撤展", published_at=datetime(2024, 3, 2, 0, 10, tzinfo=tz))
    assert result_ids(client, q="灯会", to="2024-03-01")[0] == [late.pk]
    assert result_ids(client, q="灯会", **{"from": "2024-03-02"})[0] == [next_day.pk]
    assert result_ids(client, q="灯会", **{"from": "2024-03-01", "to": "2024-03-02"})[0] == [next_day.pk, late.pk]


def test_a_story_in_the_trash_is_not_found_and_a_scheduled_one_is_found_from_its_time(client, settings):
    """Search applies the same live test as every public page (articles.models.live_q): no
    worker has to run for a scheduled story to be found, and the trash hides at once."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.articles.readers import scheduled

    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0  # every request searches
    live = factories.published_story(headline="泉水节开幕")
    trashed = factories.published_story(headline="泉水节筹备")
    later = factories.announced(scheduled("泉水节闭幕"))
    Article.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    assert result_ids(client, q="泉水节")[0] == [live.pk]
    Article.objects.filter(pk=later.pk).update(published_at=timezone.now() - timedelta(minutes=1))
    assert result_ids(client, q="泉水节")[0] == [later.pk, live.pk]


def test_search_follows_every_step_of_a_story_on_and_off_the_site(client, settings):
    """Signing off for a later time, that time coming, 撤稿 and a new publication time each
    show in the results at once, whether the desk's steps or a bulk update wrote them (the
    trash: the test above)."""
    from datetime import timedelta

    from django.utils import timezone

    from editorial import workflow

    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0  # every request searches
    people = factories.desk()
    older = factories.published_story(headline="趵突泉灯会", published_at=timezone.now() - timedelta(days=2))
    story = factories.draft(headline="趵突泉灯会开幕", created_by=people["writer"])
    assert result_ids(client, q="趵突泉")[0] == [older.pk]

    factories.publish(story, people, publish_at=timezone.now() + timedelta(hours=1))
    assert result_ids(client, q="趵突泉")[0] == [older.pk]  # signed off for later: not yet
    Article.objects.filter(pk=story.pk).update(published_at=timezone.now() - timedelta(minutes=1))
    assert result_ids(client, q="趵突泉")[0] == [story.pk, older.pk]  # its time has come

    workflow.withdraw(Article.objects.get(pk=story.pk), actor=people["chief"], reason="核实有误")
    assert result_ids(client, q="趵突泉")[0] == [older.pk]


    # An older publication time moves a story down among matches of equal relevance.
    newer = factories.published_story(headline="趵突泉灯会")
    assert result_ids(client, q="趵突泉灯会")[0] == [newer.pk, older.pk]
    Article.objects.filter(pk=newer.pk).update(published_at=timezone.now() - timedelta(days=3))
    assert result_ids(client, q="趵突泉灯会")[0] == [older.pk, newer.pk]

def test_full_width_letters_and_digits_match_their_half_width_forms_both_ways(client):
    wide = story("５Ｇ基站开通", "<p>全市新建ＡＩ算力中心，投资２０亿元。</p>")
    narrow = story("5G网络覆盖乡村", "<p>AI应用落地，20个村接入。</p>")
    for query in ("5g", "５Ｇ"):
        ids, html = result_ids(client, q=query)
        assert set(ids) == {wide.pk, narrow.pk}, query
    ids, html = result_ids(client, q="ai算力")
    assert ids == [wide.pk]
    # Marked as written, Latin and Chinese each its own mark; the punctuation unchanged.
    assert "全市新建<mark>ＡＩ</mark><mark>算力</mark>中心，投资２０亿元" in html
    ids, html = result_ids(client, q="５ｇ")
    assert "<mark>５Ｇ</mark>基站开通" in html and "<mark>5G</mark>网络覆盖乡村" in html


def test_a_match_is_marked_where_nfkc_changes_the_length_of_the_text(client):
    """㍿ is 株式会社 to the search, ﬁ is fi: the written character is marked, and the text
    around it keeps its place."""
    found = story("㍿丰田来济南设厂", "<p>新厂采用ﬁber光纤网络，年产汽车二十万辆。</p>")
    ids, html = result_ids(client, q="株式会社")
    assert ids == [found.pk]
    assert "<mark>㍿</mark>丰田来济南设厂" in html
    ids, html = result_ids(client, q="fiber光纤")
    assert ids == [found.pk]
    assert "新厂采用<mark>ﬁber</mark><mark>光纤</mark>网络，年产汽车二十万辆" in html


@given(text=st.text(alphabet=st.sampled_from("ＡａＢb５5ﬁ㍿℃株式会社书记论坛，。<&　\u0301"), max_size=40), needle=st.sampled_from(["a", "b5", "fi", "株式", "书记", "<&", "a\u0301"]))
@hypothesis_settings(max_examples=300, deadline=None, database=None)
def test_highlighting_keeps_the_text_as_written_and_marks_what_the_search_matched(text, needle):
    needle = search_engine.normalize(needle)  # as the query gives it
    marked = str(search_engine.highlight(text, [needle]))
    assert marked.replace("<mark>", "").replace("</mark>", "") == html_module.escape(text)
    if needle in search_engine.normalize(text) and "\u0301" not in text:
        assert "<mark>" in marked  # a letter and its accent are one to NFKC, apart when marking
    for part in marked.split("<mark>")[1:]:
        written = html_module.unescape(part.split("</mark>", 1)[0])
        # What is marked holds the needle, or is one written character the needle comes from.
        assert needle in search_engine.normalize(written) or (
            len(written) == 1 and set(needle) & set(search_engine.normalize(written))
        )


# Text as the results page meets it: Chinese with full-width punctuation, letters and digits,
# and the characters NFKC treats specially (combining marks after a full-width letter,
# compatibility ideographs, circled numbers, ligatures, the ideographic space).
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("，。：；！？（）“”、《》　ＡＢｚ０９＆＜％\u0301\u0308\u3099ﬁ①㎏\uf900\u2f00Åé书记论坛历城 a1<"),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
)


@given(text=_TEXT)
@hypothesis_settings(max_examples=400, deadline=None, database=None)
def test_search_normalises_text_exactly_as_nfkc_then_lower_case(text):
    """The results page's fast path for full-width characters gives NFKC's own result."""
    assert search_engine.normalize(text) == unicodedata.normalize("NFKC", text).lower()


def test_a_snippet_from_the_body_prints_its_characters_not_their_references(client):
    """The editor wrote AT&T, 5 < 6 and a no-break space; the stored body holds AT&amp;T,
    5 &lt; 6 and &nbsp;. The snippet shows what the reader reads on the story page."""
    found = story("无关标题", "<p>量子通信由AT&amp;T提供,5 &lt; 6,&nbsp;<strong>研发</strong>中心</p>")
    ids, html = result_ids(client, q="量子通信")
    assert ids == [found.pk]
    snippet = html.split('<p class="snippet">', 1)[1].split("</p>", 1)[0]
    assert snippet == "<mark>量子通信</mark>由AT&amp;T提供,5 &lt; 6, 研发中心"
    # Nor are the references words: only the stories that hold the words find them.
    assert result_ids(client, q="nbsp")[0] == []
    assert result_ids(client, q="amp")[0] == []


_MARKUP = st.lists(
    st.sampled_from(list('<>/="\'& ;#apbimgsrcaltx量子\u00a0\n'))
    | st.sampled_from(["<p>", "</p>", "<img alt='", '<a href="http://a.cn/?a=1&b=2" title="', "&amp;", "&lt;",
                       "&nbsp;", "&#x4e2d;", "<!--", "-->", "<script>", "</script>", "<table><td>", "<br>"]),
    max_size=40,
).map("".join)


@given(markup=_MARKUP)
@hypothesis_settings(max_examples=400, deadline=None, database=None)
def test_a_stored_bodys_text_is_what_a_full_html_parser_reads_in_it(markup):
    """body_text reads stored bodies with one expression; on anything sanitize_html can
    write it agrees with nh3's parser, which plain_text uses on text from elsewhere."""
    from articles.sanitize import body_text, plain_text, sanitize_html

    stored = sanitize_html(markup)
    assert body_text(stored) == plain_text(stored)
