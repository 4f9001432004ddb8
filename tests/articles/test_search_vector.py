"""The search vector saved with a story is the one PostgreSQL itself would compute.

Until migration 0010 PostgreSQL generated the column from the terms; now articles.search
builds it. These tests hold the two to the same result: on sample stories (the seed,
Latin words and numbers, every kind of Chinese character, text long and repetitive enough
to reach PostgreSQL's limits), and across the migration in both directions.
"""

import json
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.db import connection

from articles.models import Article, SearchEntry
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="tsvectors exist on PostgreSQL only"),
]

POSTGRESQL_VECTOR = """
    setweight(to_tsvector('simple', headline_terms), 'A')
    || setweight(to_tsvector('simple', summary_terms), 'B')
    || setweight(to_tsvector('simple', body_terms), 'C')
"""

MIGRATION = import_module("articles.migrations.0010_searchentry_vector_written_by_application")


def stored_and_computed():
    """Per story: the vector stored, and PostgreSQL's own from the stored terms, as text."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT article_id, search_vector::text, ({POSTGRESQL_VECTOR})::text FROM articles_searchentry"
        )
        return {pk: (stored, computed) for pk, stored, computed in cursor.fetchall()}


def stored_vectors():
    with connection.cursor() as cursor:
        cursor.execute("SELECT article_id, search_vector::text FROM articles_searchentry")
        return dict(cursor.fetchall())


@pytest.fixture
def sample_stories(db):
    """The seed and stories written to reach the odd cases of PostgreSQL's parser and limits."""
    call_command("import_seed", "seeds/000_65fa244611cb5653.txt", stdout=StringIO())
    ideographs = "".join(chr(c) for c in range(0xF900, 0xFB00)) + "".join(chr(c) for c in range(0x4DB0, 0x4E10))
    bodies = {
        "科学计数法与拉丁文": "<p>峰值功率1e5w，版本v2.0，电话0531-12345678，3D打印、5G网络、COVID-19。</p>",
        "兼容汉字与扩展区": f"<p>{ideographs}</p>",
        "重复三百次的词": "<p>" + "泉城 " * 300 + "</p>",
        "超长的正文": "<p>" + "".join(f"第{n}段新闻报道内容，" for n in range(2500)) + "</p>",
        "过长的拉丁词": "<p>" + "x" * 3000 + " 正常结尾</p>",
    }
    for headline, body in bodies.items():
        factories.published_story(headline=headline, summary=f"{headline}的摘要", body=body)
    return Article.objects.all()


def test_saved_stories_hold_the_vector_postgresql_computes(sample_stories):
    vectors = stored_and_computed()
    assert len(vectors) == sample_stories.count() >= 10
    for pk, (stored, computed) in vectors.items():
        assert stored == computed, Article.objects.get(pk=pk).headline


def test_editing_a_story_rewrites_its_vector(sample_stories):
    story = factories.edit(sample_stories.get(headline="科学计数法与拉丁文"), headline="泉城夜景")
    stored, computed = stored_and_computed()[story.pk]
    assert stored == computed and "'泉城':1A" in stored and "'科学':1A" not in stored


def test_the_migration_keeps_every_vector_in_both_directions(sample_stories):
    """Back to the generated column (PostgreSQL recomputes every vector), then forward again."""
    saved = stored_vectors()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no ALTER TABLE with checks still pending
    with connection.schema_editor() as editor:
        MIGRATION.make_column_generated(apps, editor)
    assert stored_vectors() == saved
    with connection.schema_editor() as editor:
        MIGRATION.make_column_ordinary(apps, editor)
    assert stored_vectors() == saved
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attgenerated FROM pg_attribute "
            "WHERE attrelid = 'articles_searchentry'::regclass AND attname = 'search_vector'"
        )
        assert cursor.fetchone()[0] == ""
    # Still an ordinary column: saving writes it.
    story = factories.edit(sample_stories.first(), headline="迁移之后")
    assert "'迁移':" in stored_vectors()[story.pk]


def test_rebuilding_the_index_fills_stories_without_a_vector(client):
    """Rows written without one (a restored SQLite dump, bulk_create) are found once rebuilt."""
    story = factories.published_story(headline="泉城夜景")
    SearchEntry.objects.filter(article=story).update(search_vector=None)
    assert story.get_absolute_url() not in client.get("/search/", {"q": "泉城"}).content.decode()
    call_command("rebuild_search_index", "--missing", stdout=StringIO())
    assert story.get_absolute_url() in client.get("/search/", {"q": "泉城"}).content.decode()


def test_restored_rows_without_a_vector_get_the_vector_of_their_terms(client, tmp_path):
    """A backup made on SQLite, or before migration 0010, holds search rows without a vector."""
    story = factories.published_story(headline="泉城夜景")
    rows = json.loads(serializers.serialize("json", SearchEntry.objects.filter(article=story)))
    del rows[0]["fields"]["search_vector"]
    SearchEntry.objects.filter(article=story).delete()
    fixture = tmp_path / "search.json"
    fixture.write_text(json.dumps(rows, ensure_ascii=False))
    call_command("loaddata", str(fixture), verbosity=0)
    stored, computed = stored_and_computed()[story.pk]
    assert stored == computed
    assert story.get_absolute_url() in client.get("/search/", {"q": "泉城"}).content.decode()
