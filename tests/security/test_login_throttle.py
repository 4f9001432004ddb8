"""Guessing passwords at the sign-in page stops after five tries, for a while."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

LOGIN_URL = reverse("admin:login")
PASSWORD = "right-horse-battery-staple"


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user("zhangfan", password=PASSWORD, is_staff=True)


def sign_in(client, password, username="zhangfan", address="203.0.113.7", **headers):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **headers,
    )


def fail(client, times, **kwargs):
    """`times` wrong passwords; all but a fifth one show the form again."""
    for attempt in range(1, times + 1):
        response = sign_in(client, "wrong-password", **kwargs)
        assert response.status_code == (429 if attempt >= 5 else 200)


@pytest.mark.django_db
class TestLoginThrottle:
    def test_right_password_signs_in(self, client, editor):
        response = sign_in(client, PASSWORD)
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200

    def test_fifth_wrong_password_locks_the_name_from_that_address(self, client, editor):
        fail(client, 4)
        response = sign_in(client, "wrong-password")
        assert response.status_code == 429
        page = response.content.decode()
        assert "登录已暂停" in page and "Sign-in paused" in page
        assert "15 分钟" in page and "15 minutes" in page

    def test_locked_out_editor_cannot_sign_in_even_with_the_right_password(self, client, editor):
        fail(client, 5)
        response = sign_in(client, PASSWORD)
        assert response.status_code == 429
        assert client.get("/admin/").status_code == 302, "still signed out"

    def test_forged_forwarded_for_header_does_not_lift_the_lock(self, client, editor):
        fail(client, 5)
        response = sign_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
        assert response.status_code == 429

    def test_lock_is_for_that_address_only(self, client, editor):
        fail(client, 5)
        assert sign_in(client, PASSWORD, address="198.51.100.20").status_code == 302

    def test_lock_is_for_that_name_only(self, client, editor, django_user_model):
        django_user_model.objects.create_user("zhangpeng", password=PASSWORD, is_staff=True)
        fail(client, 5)
        assert sign_in(client, PASSWORD, username="zhangpeng").status_code == 302

    def test_lock_lifts_after_the_cool_off(self, client, editor):
        fail(client, 5)
        with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
            assert sign_in(client, PASSWORD).status_code == 302

    def test_right_password_clears_earlier_mistakes(self, client, editor):
        fail(client, 4)
        assert sign_in(client, PASSWORD).status_code == 302
        client.logout()
        fail(client, 4)
        assert sign_in(client, PASSWORD).status_code == 302

    def test_behind_a_proxy_the_client_is_the_address_the_proxy_saw(self, client, editor, settings):
        settings.NEWSROOM_PROXY_COUNT = 1
        proxy = "127.0.0.1"
        fail(client, 5, address=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
        # Another reader behind the same proxy is not locked out ...
        assert sign_in(client, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 302
        client.logout()
        # ... and the guesser cannot escape by writing another address in front.
        response = sign_in(client, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7")
        assert response.status_code == 429

    def test_code_that_signs_in_without_a_request_still_works(self, client, editor):
        """Management commands and the test client authenticate without a request."""
        assert client.login(username="zhangfan", password=PASSWORD)
        assert client.get("/admin/").status_code == 200
