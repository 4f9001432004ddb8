"""The search vector becomes an ordinary column that the application writes.

Until now PostgreSQL computed search_vector from the three term columns (a GENERATED
column, migration 0004). Parsing the terms is PostgreSQL's costliest step in storing a
story, so articles.search now builds the same tsvector in Python and writes it with the
terms (saving a story, and generate_stories in bulk).

On PostgreSQL the column stops being generated and keeps every value it holds (DROP
EXPRESSION rewrites nothing, so this is instant on any archive): the stored vectors are
those the application writes, as tests check. SQLite gets the column too, left empty:
its search reads the terms. The GIN index of 0004 stays as it is.
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import migrations

# What 0004 made the column, to go back to it.
GENERATED_SQL = """
DROP INDEX IF EXISTS articles_searchentry_vector_gin;
ALTER TABLE articles_searchentry DROP COLUMN IF EXISTS search_vector;
ALTER TABLE articles_searchentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', headline_terms), 'A')
    || setweight(to_tsvector('simple', summary_terms), 'B')
    || setweight(to_tsvector('simple', body_terms), 'C')
) STORED;
CREATE INDEX articles_searchentry_vector_gin ON articles_searchentry USING GIN (search_vector);
"""


def vector_field():
    field = SearchVectorField(editable=False, null=True)
    field.set_attributes_from_name("search_vector")
    return field


def make_column_ordinary(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE articles_searchentry ALTER COLUMN search_vector DROP EXPRESSION IF EXISTS"
        )
    else:
        # The state given to RunPython is the one before this migration: no such field yet.
        schema_editor.add_field(apps.get_model("articles", "SearchEntry"), vector_field())


def make_column_generated(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GENERATED_SQL)
    else:
        schema_editor.remove_field(apps.get_model("articles", "SearchEntry"), vector_field())


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0009_article_admin_list_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="searchentry",
                    name="search_vector",
                    field=vector_field(),
                ),
            ],
            database_operations=[
                migrations.RunPython(make_column_ordinary, make_column_generated, elidable=False),
            ],
        ),
    ]
