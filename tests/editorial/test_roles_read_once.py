"""A user's roles are read from the database once per request, and a change of groups is seen."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from editorial import roles
from tests import factories

pytestmark = pytest.mark.django_db


def _group_reads(queries):
    return [q["sql"] for q in queries if "auth_user_groups" in q["sql"]]


def test_the_story_list_reads_an_editors_groups_once(client):
    editor = factories.user("responsible-list", roles=[roles.RESPONSIBLE_EDITOR])
    for n in range(5):
        factories.draft(headline=f"待签发稿件{n}")
    client.force_login(editor)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/articles/article/")
    assert page.status_code == 200
    assert "待签发稿件4" in page.content.decode()
    # Django's own permission check reads the groups' permissions once; the roles once more.
    assert len(_group_reads(queries)) <= 2, _group_reads(queries)


def test_joining_or_leaving_a_role_through_the_same_user_object_is_seen_at_once():
    person = factories.user("changing-roles")
    assert roles.user_roles(person) == set()
    person.groups.add(Group.objects.get(name=roles.GROUP_NAMES[roles.FIRST_REVIEWER]))
    assert roles.user_roles(person) == {roles.FIRST_REVIEWER}
    person.groups.clear()
    assert roles.user_roles(person) == set()


def test_the_roles_returned_can_be_changed_by_the_caller_without_changing_the_next_answer():
    person = factories.user("reporter-once", roles=[roles.REPORTER])
    first = roles.user_roles(person)
    first.add(roles.CHIEF_EDITOR)
    assert roles.user_roles(person) == {roles.REPORTER}
