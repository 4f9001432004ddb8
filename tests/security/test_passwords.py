"""Accounts the chief editor creates get passwords worth the name."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

ADD_USER = reverse("admin:auth_user_add")


@pytest.fixture
def chief(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("chief", "chief@example.cn", "not-used"))
    return client


def add_account(client, username, password):
    return client.post(
        ADD_USER,
        {"username": username, "password1": password, "password2": password, "usable_password": "true"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password, reason",
    [
        ("12345678", "password_entirely_numeric"),
        ("password1", "password_too_common"),
        ("zhangfan2018", "password_too_similar"),
        ("a1b2c3", "password_too_short"),
    ],
)
def test_weak_password_is_refused_with_the_reason(chief, password, reason):
    response = add_account(chief, "zhangfan2018", password)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    codes = [error.code for field_errors in errors.values() for error in field_errors]
    assert reason in codes
    assert not get_user_model().objects.filter(username="zhangfan2018").exists()


@pytest.mark.django_db
def test_strong_password_is_accepted(chief):
    response = add_account(chief, "zhangfan", "历城-论坛-开讲-2018-05")
    assert response.status_code == 302
    assert get_user_model().objects.get(username="zhangfan").check_password("历城-论坛-开讲-2018-05")
