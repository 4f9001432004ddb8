"""The story page's main statement is compiled once per database and run again with each
story's number and the moment: it must find what the queryset finds, for any story and any
moment, and refuse a query that would silently keep a stand-in value."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, Topic, TopicStory
from newsroom.compiled_query import CompiledQuery
from readers import views
from tests import factories
from tests.articles.readers import scheduled, story_with_everything

pytestmark = pytest.mark.django_db


def printed(article):
    """What the story page reads of the row: its fields, joined objects and annotations."""
    return (
        article.pk,
        article.headline,
        article.published_at,
        article.section.name if article.section_id else None,
        article.outlet.name if article.outlet_id else None,
        article.thumbnail_id and article.thumbnail.caption,
        article.first_review_editor_id and article.first_review_editor.name,
        article.prev_row,
        article.next_row,
        sorted(article.tag_rows or []),
        article.correction_rows,
        article.has_related,
        article.topic_rows,
    )


def queryset_row(pk, now):
    return next(iter(views._story_queryset(pk, now)), None)


def test_every_story_reads_the_same_as_through_the_queryset_at_several_moments():
    section, outlet = factories.section(), factories.outlet()
    rich = story_with_everything(2, section, outlet)
    Article.objects.filter(pk=rich.pk).update(thumbnail=factories.image(), first_review_editor=factories.person("尹玉涛"))
    topic = Topic.objects.create(headline="泉城专题")
    TopicStory.objects.create(topic=topic, article=rich)
    due = scheduled("定时稿", minutes=30, section=section)
    plain = factories.published_story(section=None)
    now = timezone.now()
    for moment in (now, now + timedelta(hours=1)):  # before and after the scheduled story's time
        for pk in (rich.pk, due.pk, plain.pk, *Article.objects.values_list("pk", flat=True)):
            compiled = views._STORY.first(pk=pk, now=moment)
            assert printed(compiled) == printed(queryset_row(pk, moment))
    assert views._STORY.first(pk=rich.pk, now=now).tag_rows  # the blocks are really there
    assert views._STORY.first(pk=rich.pk, now=now).topic_rows == [["泉城专题", topic.slug]]


def test_a_story_in_the_trash_or_never_written_is_not_found():
    story = factories.published_story()
    Article.objects.filter(pk=story.pk).update(deleted_at=timezone.now())
    assert views._STORY.first(pk=story.pk, now=timezone.now()) is None
    assert views._STORY.first(pk=story.pk + 1000, now=timezone.now()) is None


def test_the_next_story_follows_the_moment_of_the_request(client, settings, time_machine):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    settings.NEWSROOM_READ_MODEL = False
    section = factories.section()
    story = factories.published_story(section=section)
    due = scheduled("定时的下一篇", minutes=30, section=section)
    assert "下一篇" not in client.get(story.get_absolute_url()).content.decode()
    time_machine.move_to(due.published_at + timedelta(seconds=1))
    html = client.get(story.get_absolute_url()).content.decode()
    assert f'下一篇(较新):<a href="/stories/{due.pk}/">定时的下一篇</a>' in html


def test_a_value_the_statement_never_uses_is_refused_by_name():
    query = CompiledQuery(Article, lambda pk, now: Article.objects.filter(pk=pk), pk="integer", now="datetime")
    with pytest.raises(ImproperlyConfigured, match="'now' does not reach"):
        query.list(pk=1, now=timezone.now())


def test_a_run_must_give_exactly_the_named_values():
    query = CompiledQuery(Article, lambda pk: Article.objects.filter(pk=pk), pk="integer")
    with pytest.raises(TypeError, match=r"takes \['pk'\]"):
        query.list(id=1)
    with pytest.raises(ImproperlyConfigured, match="'integer' or a 'datetime'"):
        CompiledQuery(Article, lambda when: Article.objects.all(), when="date")


def statements_of(client, path):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [" ".join(query["sql"].split()[:2]) for query in captured]


@pytest.fixture
def built_every_time(settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    settings.NEWSROOM_READ_MODEL = False


@pytest.mark.django_db(transaction=True)  # it closes the connection
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_on_postgresql_the_story_statement_is_prepared_once_per_connection(client, built_every_time):
    section = factories.section()
    first, second = (story_with_everything(1, section, factories.outlet()) for _ in range(2))
    connection.close()  # a new connection has nothing prepared
    assert "PREPARE newsroom_story" in statements_of(client, first.get_absolute_url())
    again = statements_of(client, second.get_absolute_url())
    assert "EXECUTE newsroom_story" in again and "PREPARE newsroom_story" not in again
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'newsroom_story%%'")
        assert {row[0] for row in cursor.fetchall()} >= {"newsroom_story", "newsroom_story_bylines"}
    connection.close()
    html = client.get(second.get_absolute_url()).content.decode()  # prepared again, silently
    assert second.headline in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_behind_a_pooler_in_transaction_mode_nothing_is_prepared(client, built_every_time, settings):
    settings.NEWSROOM_READ_MODEL_PREPARED = False
    story = factories.published_story()
    connection.close()
    statements = statements_of(client, story.get_absolute_url())
    assert not any(sql.startswith(("PREPARE", "EXECUTE")) for sql in statements)
