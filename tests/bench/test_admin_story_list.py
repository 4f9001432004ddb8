"""The admin story list stays cheap on a large archive: a bounded count, newest work first."""

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection

from editorial.admin import BoundedCountPaginator
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("chief-bench", "chief@example.com", "pw-for-tests-1")
    client.force_login(user)
    return client


def test_story_list_counts_no_further_than_its_limit(editor_client, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "COUNT_LIMIT", 4)
    for n in range(6):
        factories.draft(headline=f"待审稿件{n}")
    with CaptureQueriesContext(connection) as queries:
        page = editor_client.get("/admin/articles/article/")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 4
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "articles_article" in q["sql"]]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


def test_small_lists_keep_their_exact_count_and_show_newest_work_first(editor_client):
    older = factories.draft(headline="上周的稿件")
    newer = factories.draft(headline="刚写好的稿件")
    page = editor_client.get("/admin/articles/article/")
    assert page.context["cl"].result_count == 2
    html = page.content.decode()
    assert html.index(newer.headline) < html.index(older.headline)
