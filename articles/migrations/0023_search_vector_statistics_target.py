"""On PostgreSQL, ANALYZE keeps ten times as many of the search vectors' most common lexemes.

At the default statistics target (100) PostgreSQL lists the 1,000 most common bigrams; in a
regional archive of a million stories the least of them stands in about 6% of the stories, so
a place name in 3% (钢城, 平阴) is not listed. The planner then takes it for a rare word (25
matches where there are 33,000) and reads every match to sort them, 19-29 ms, and the search
cannot tell it from a rare word when it chooses the index's terms and the slice of time to
look in (articles/search.py). At 1000, about 4,500 bigrams are listed, down to 0.3% of the
stories, and ANALYZE of the table took 13.5 s at 1M. SQLite has no statistics to keep.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE articles_searchentry ALTER COLUMN search_vector SET STATISTICS 1000;
ANALYZE articles_searchentry;
"""
BACKWARD = "ALTER TABLE articles_searchentry ALTER COLUMN search_vector SET STATISTICS -1;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0022_search_vector_stored_uncompressed"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
