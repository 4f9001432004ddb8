"""PostgreSQL: compress stories' bodies and the search table's words and vectors with lz4.

These values are a few kilobytes each, so PostgreSQL compresses every one it stores and
reads (TOAST). lz4 does that several times faster than the default pglz at about the same
size: storing the search row of a story took about half the time in measurements (see
bench/RESULTS.md, "Generating the archive"), and reading vectors to rank search results
gets faster too. Values already stored keep their compression until rewritten.

PostgreSQL 14 and later built with lz4 (Debian's, most distributions') have it; on a server
without it this migration changes nothing. SQLite has no such setting.
"""

from django.db import DatabaseError, migrations, transaction

COLUMNS = [
    ("articles_article", "body"),
    ("articles_searchentry", "headline_terms"),
    ("articles_searchentry", "summary_terms"),
    ("articles_searchentry", "body_terms"),
    ("articles_searchentry", "search_vector"),
]


def set_compression(method):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        sql = "; ".join(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET COMPRESSION {method}"
            for table, column in COLUMNS
        )
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(sql)
        except DatabaseError:
            if method == "lz4":
                return  # PostgreSQL before 14, or built without lz4: keep the default
            raise

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0010_searchentry_vector_written_by_application"),
    ]

    operations = [
        migrations.RunPython(set_compression("lz4"), set_compression("default"), elidable=False),
    ]
