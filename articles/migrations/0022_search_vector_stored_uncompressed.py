"""PostgreSQL: store the search vectors out of line but uncompressed.

A search ranks its newest hundred matches by reading their vectors: once to test a match and
twice to rank it, each read taking the vector out of the TOAST table and, until now,
decompressing it. The vectors barely compress (a story's averaged 6.9 KB with lz4 against 7.4
KB without: bigrams and their positions are nearly random bytes), so decompressing cost time
for almost no space. At 1M stories, the search statement of four rare words took 0.35-0.75 ms
less with the vectors they read stored uncompressed (bench/RESULTS.md).

Only the storage of values written from now on changes: each story's row is rewritten the new
way when the story is next saved, or all at once with `manage.py rebuild_search_index`.
SQLite has no such setting.
"""

from django.db import migrations


def set_storage(storage):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"ALTER TABLE articles_searchentry ALTER COLUMN search_vector SET STORAGE {storage}")

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0021_search_entry_carries_publication"),
    ]

    operations = [migrations.RunPython(set_storage("EXTERNAL"), set_storage("EXTENDED"), elidable=False)]
