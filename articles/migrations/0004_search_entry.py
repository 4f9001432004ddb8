"""The readers' search index: segmented terms per story, plus on PostgreSQL a generated
tsvector column (headline A, summary/bylines/captions B, body C) with a GIN index.
SQLite gets the terms table only and searches it with LIKE."""

import django.db.models.deletion
from django.db import migrations, models

VECTOR_SQL = """
ALTER TABLE articles_searchentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', headline_terms), 'A')
    || setweight(to_tsvector('simple', summary_terms), 'B')
    || setweight(to_tsvector('simple', body_terms), 'C')
) STORED;
CREATE INDEX articles_searchentry_vector_gin ON articles_searchentry USING GIN (search_vector);
"""
DROP_VECTOR_SQL = """
DROP INDEX IF EXISTS articles_searchentry_vector_gin;
ALTER TABLE articles_searchentry DROP COLUMN IF EXISTS search_vector;
"""


def add_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(VECTOR_SQL)


def drop_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_VECTOR_SQL)


def index_existing_stories(apps, schema_editor):
    # The live code computes terms; a migration may use it since it only reads plain fields.
    from articles.search import document_terms
    from django.utils.html import strip_tags

    Article = apps.get_model("articles", "Article")
    SearchEntry = apps.get_model("articles", "SearchEntry")
    Byline = apps.get_model("articles", "Byline")
    ArticleImage = apps.get_model("articles", "ArticleImage")

    def joined(*texts):
        terms = document_terms(" ".join(t for t in texts if t))
        return f" {' '.join(terms)} " if terms else ""

    for article in Article.objects.iterator():
        names = Byline.objects.filter(article=article).values_list("person__name", flat=True)
        captions = ArticleImage.objects.filter(article=article).values_list("image__caption", flat=True)
        SearchEntry.objects.update_or_create(
            article=article,
            defaults={
                "headline_terms": joined(article.kicker, article.headline, article.subtitle),
                "summary_terms": joined(article.summary, article.author_line, *names, *captions),
                "body_terms": joined(strip_tags(article.body or "")),
            },
        )


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0003_image_file_validated_photo"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "article",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_entry",
                        serialize=False,
                        to="articles.article",
                    ),
                ),
                ("headline_terms", models.TextField(blank=True)),
                ("summary_terms", models.TextField(blank=True)),
                ("body_terms", models.TextField(blank=True)),
            ],
            options={
                "verbose_name": "search entry",
                "verbose_name_plural": "search entries",
            },
        ),
        migrations.RunPython(add_vector, drop_vector, elidable=False),
        migrations.RunPython(index_existing_stories, migrations.RunPython.noop),
    ]
