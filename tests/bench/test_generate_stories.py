"""bench/generate_stories.py: a deterministic archive in every workflow state, exactly removable."""

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models

from articles.models import Article, Recommendation, RelatedLink
from articles.sanitize import sanitize_html
from bench import generate_stories
from tests import factories

pytestmark = pytest.mark.django_db

NOW = "2026-01-01T00:00:00+00:00"


def generate(count, *extra):
    call_command(generate_stories.Command(), str(count), "--seed", "7", "--now", NOW, "--images", "2", *extra, stdout=open("/dev/null", "w"))


def snapshot():
    """Everything a reader or editor sees of the generated stories, keyed by story number."""
    stories = {}
    for article in Article.objects.filter(import_key__startswith="gen:").prefetch_related(
        "tags", "bylines__person", "photos__image", "related_links__target", "recommendations__target"
    ):
        stories[article.import_key] = (
            article.headline,
            article.body,
            article.status,
            article.published_at,
            article.section.slug,
            article.outlet.name,
            sorted(tag.name for tag in article.tags.all()),
            [(b.person.name, b.role) for b in article.bylines.all()],
            [photo.image.import_key for photo in article.photos.all()],
            [(link.target.import_key if link.target else link.url) for link in article.related_links.all()],
            [rec.target.import_key for rec in article.recommendations.all()],
        )
    return stories


def test_same_seed_gives_the_same_archive_whatever_the_batches_and_appends():
    """A rerun, in other batch sizes and in two appended halves, draws the very same stories."""
    generate(300, "--batch-size", "1000")
    first = snapshot()
    assert len(first) == 300
    generate(0, "--reset")
    assert Article.objects.count() == 0
    generate(120, "--batch-size", "50")
    generate(180, "--append", "--batch-size", "70")
    assert snapshot() == first


def test_another_seed_gives_other_stories():
    generate(50)
    first = snapshot()
    call_command(generate_stories.Command(), "50", "--seed", "8", "--now", NOW, "--images", "2", "--reset", stdout=open("/dev/null", "w"))
    assert snapshot() != first


def test_archive_holds_every_workflow_state_over_ten_years():
    """Mostly published, some in each review step, scheduled ahead, withdrawn; times span a decade."""
    generate(600)
    stories = Article.objects.filter(import_key__startswith="gen:")
    counts = {status: stories.filter(status=status).count() for status in Article.Status.values}
    assert all(counts.values()), counts
    assert counts["published"] > 0.75 * 600
    now = datetime.fromisoformat(NOW)
    assert not stories.filter(status__in=["draft", "first_review", "final_review"], published_at__isnull=False).exists()
    assert not stories.filter(status__in=["published", "scheduled", "withdrawn"], published_at__isnull=True).exists()
    assert stories.filter(status="scheduled", published_at__gt=now).exists()
    assert not stories.filter(status__in=["published", "withdrawn"], published_at__gt=now).exists()
    span = stories.exclude(published_at=None).order_by("published_at").values_list("published_at", flat=True)
    assert (now - span.first()).days > 9 * 365
    assert (now - span.last()).days < 30
    assert not stories.filter(status="published", responsible_editor=None).exists()


def test_live_generated_story_prints_its_byline_photos_and_links(settings):
    """A generated story renders like an edited one: byline, photo with rendition, 推荐阅读."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    generate(400)
    with_picks = (
        Article.objects.published()
        .filter(import_key__startswith="gen:", recommendations__isnull=False, photos__isnull=False)
        .distinct()
        .first()
    )
    assert with_picks is not None
    assert with_picks.bylines.exists() and with_picks.tags.exists()
    assert with_picks.photos.first().image.renditions.count() >= 1
    assert not Recommendation.objects.filter(article__import_key__startswith="gen:", target=None).exists()
    assert all(r.article_id != r.target_id for r in Recommendation.objects.all())
    assert RelatedLink.objects.exclude(url="").exists() and RelatedLink.objects.exclude(target=None).exists()

    from django.test import Client

    page = Client().get(with_picks.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert with_picks.headline in html
    assert with_picks.bylines.first().person.name in html



def test_generated_bodies_are_already_clean():
    """bulk inserts skip Article.save(), so the bodies must be what the sanitiser would keep."""
    generate(200)
    for body in Article.objects.filter(import_key__startswith="gen:").values_list("body", flat=True):
        assert body.startswith("<p>") and sanitize_html(body) == body


def test_reset_removes_only_generated_stories():
    kept = factories.published_story(headline="编辑部手写的稿件", published_at=datetime(2025, 5, 1, tzinfo=timezone.utc))
    generate(80)
    generate(0, "--reset")
    assert list(Article.objects.all()) == [kept]


def test_refuses_to_add_to_an_existing_archive_without_append():
    generate(20)
    with pytest.raises(CommandError, match="--append"):
        generate(20)


def search_rows():
    """Each generated story's search row: its terms, and on PostgreSQL its vector as text."""
    from django.db.models.functions import Cast

    from articles.models import SearchEntry

    rows = SearchEntry.objects.filter(article__import_key__startswith="gen:").annotate(
        vector=Cast("search_vector", models.TextField())
    )
    return {
        e.article_id: (e.headline_terms, e.summary_terms, e.body_terms, e.vector)
        for e in rows
    }


@pytest.mark.parametrize("method", ["auto", "bulk"])
def test_generated_stories_are_found_by_the_readers_search(method):
    """Search rows are written with the stories, with exactly the terms and vector a save writes."""
    from articles.search import index_article

    generate(150, "--method", method)
    live = Article.objects.published().filter(import_key__startswith="gen:")
    written = search_rows()
    assert len(written) == 150
    assert all(row[3] for row in written.values()) == (connection.vendor == "postgresql")
    assert stale_search_copies() == 0
    for article in Article.objects.filter(import_key__startswith="gen:").order_by("pk")[:25]:
        index_article(article)
    saved = search_rows()
    assert all(saved[pk] == written[pk] for pk in sorted(saved)[:25])

    from django.test import Client

    story = live.order_by("-published_at").first()
    page = Client().get("/search/", {"q": story.headline})
    assert page.status_code == 200
    assert story.get_absolute_url() in page.content.decode()


def test_worker_processes_draw_the_same_archive_with_the_same_search_rows(client):
    """Worker processes (and on PostgreSQL the second connection indexing for search) change
    nothing in what is written."""
    generate(300, "--batch-size", "1000", "--workers", "0")
    first, first_search = snapshot(), search_rows()
    generate(0, "--reset")
    generate(300, "--batch-size", "250", "--workers", "2")
    assert snapshot() == first
    assert sorted(search_rows().values()) == sorted(first_search.values())
    assert stale_search_copies() == 0
    story = Article.objects.published().filter(import_key__startswith="gen:").order_by("-published_at").first()
    page = client.get("/search/", {"q": story.headline})
    assert story.get_absolute_url() in page.content.decode()
    if connection.vendor == "postgresql":
        assert pending_search_index_entries() == 0


def stale_search_copies():
    """Search rows whose copies of their story's published_at, status and deleted_at (kept by
    PostgreSQL, migration 0021) differ from the story's own."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM articles_searchentry e JOIN articles_article a ON a.id = e.article_id
            WHERE (e.published_at, e.status, e.deleted_at) IS DISTINCT FROM (a.published_at, a.status, a.deleted_at)"""
        )
        return cursor.fetchone()[0]


def pending_search_index_entries():
    """Entries waiting in the GIN index's pending list (pgstattuple, shipped with PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        cursor.execute("SELECT pending_tuples FROM pgstatginindex('articles_searchentry_vector_gin')")
        return cursor.fetchone()[0]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bulk check stands in for PostgreSQL's own per-row checks"
)
def test_a_reference_to_nothing_leaves_the_batch_unwritten(monkeypatch):
    """With PostgreSQL's per-row foreign-key checks off, each batch is checked before it commits."""
    draw = generate_stories.Generator.draw

    def draw_with_an_unknown_outlet(self, rng, n):
        story = draw(self, rng, n)
        if n == 30:
            story["related"], story["external_outlet"] = [("url", 12345, 0)], 987654321
        return story

    monkeypatch.setattr(generate_stories.Generator, "draw", draw_with_an_unknown_outlet)
    with pytest.raises(CommandError, match="articles_relatedlink.outlet_id: 1"):
        generate(60, "--batch-size", "20")
    assert Article.objects.filter(import_key__startswith="gen:").count() == 20


def test_the_generator_runs_from_the_project_folder_as_a_module():
    """`python -m bench.generate_stories` sets Django up itself, like manage.py would."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.generate_stories", "--help"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "--append" in result.stdout and "--reset" in result.stdout
