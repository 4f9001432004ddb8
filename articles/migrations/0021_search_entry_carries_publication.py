"""On PostgreSQL each search row carries its story's publication time, status and trash time.

The readers' search wants the newest live matches. Until now every match was looked up in
articles_article for those three columns before the newest could be chosen: for a place
name found in 3% of a million stories (钢城区: 33,151 matches) that was 33,151 lookups,
about 180 ms, on top of reading 27,000 pages of the search table for its rows (150 ms),
whose headline and summary terms made each row about 600 bytes.

Now the search row holds copies of articles_article's published_at, status and deleted_at,
kept by the database itself, whatever writes the story (the editing door, admin actions,
bulk commands, raw SQL):

* a row inserted or updated in articles_searchentry copies them from its story;
* a story whose published_at, status or deleted_at changes copies them to its row.

The rule of what is live is not copied: the search statement applies it to these columns
as live_q() applies it to the story's (articles/search.py). The table also moves its long
term columns out of the row (toast_tuple_target), so the rows the index points at are about
100 bytes and the table stays in memory. Existing rows are rewritten once, here, to fill the
copies (a million rows take a few minutes; the search keeps answering meanwhile). SQLite
gets nothing: its search joins the stories.

The columns are the database's, not the model's: Django never writes them.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE articles_searchentry
    ADD COLUMN published_at timestamp with time zone,
    ADD COLUMN status varchar(20),
    ADD COLUMN deleted_at timestamp with time zone;
ALTER TABLE articles_searchentry SET (toast_tuple_target = 128);

UPDATE articles_searchentry e
SET published_at = a.published_at, status = a.status, deleted_at = a.deleted_at
FROM articles_article a
WHERE a.id = e.article_id;

CREATE FUNCTION articles_searchentry_copies_story() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.published_at, a.status, a.deleted_at INTO NEW.published_at, NEW.status, NEW.deleted_at
    FROM articles_article a WHERE a.id = NEW.article_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER articles_searchentry_copies_story BEFORE INSERT OR UPDATE ON articles_searchentry
    FOR EACH ROW EXECUTE FUNCTION articles_searchentry_copies_story();

CREATE FUNCTION articles_article_updates_search_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE articles_searchentry
    SET published_at = NEW.published_at, status = NEW.status, deleted_at = NEW.deleted_at
    WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_article_updates_search_entry AFTER UPDATE ON articles_article
    FOR EACH ROW
    WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION articles_article_updates_search_entry();

-- The newest live matches of a word found nearly everywhere, walked newest first (the
-- statuses are LIVE_STATUSES, as in article_live_pub_idx of migration 0006).
CREATE INDEX articles_searchentry_live_pub ON articles_searchentry (published_at DESC, article_id DESC)
    WHERE status IN ('published', 'scheduled') AND deleted_at IS NULL;
ANALYZE articles_searchentry;
"""

BACKWARD = """
DROP INDEX IF EXISTS articles_searchentry_live_pub;
DROP TRIGGER IF EXISTS articles_article_updates_search_entry ON articles_article;
DROP FUNCTION IF EXISTS articles_article_updates_search_entry();
DROP TRIGGER IF EXISTS articles_searchentry_copies_story ON articles_searchentry;
DROP FUNCTION IF EXISTS articles_searchentry_copies_story();
ALTER TABLE articles_searchentry RESET (toast_tuple_target);
ALTER TABLE articles_searchentry
    DROP COLUMN IF EXISTS published_at,
    DROP COLUMN IF EXISTS status,
    DROP COLUMN IF EXISTS deleted_at;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0020_daily_reads"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
