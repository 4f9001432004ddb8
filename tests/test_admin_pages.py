"""Every model's admin list, add and change page opens for a superuser."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_65fa244611cb5653.txt"

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, django_user_model):
    call_command("import_seed", str(SEED), stdout=open("/dev/null", "w"))
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-1")
    client.force_login(user)
    return client


MODELS = sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m._meta.model_name))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label_lower)
def test_admin_list_add_and_change_pages_load(superuser_client, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert superuser_client.get(changelist).status_code == 200
    add = superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    # Logs such as the sign-in attempts are read-only by design; everything else can be added.
    assert add.status_code == (200 if admin.site._registry[model].has_add_permission(add.wsgi_request) else 403)
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert superuser_client.get(change).status_code == 200


def test_admin_index_speaks_chinese_by_default(superuser_client):
    html = superuser_client.get("/admin/").content.decode()
    assert "<title>编辑台 | 新闻编辑部后台</title>" in html
    assert "稿件" in html and "图片" in html


def test_admin_stays_chinese_for_an_english_browser(superuser_client):
    html = superuser_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "编辑台" in html


def test_an_editor_can_switch_the_admin_to_english_and_back(superuser_client):
    response = superuser_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    html = superuser_client.get("/admin/").content.decode()
    assert "Newsroom desk" in html and "Stories" in html
    superuser_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    assert "编辑台" in superuser_client.get("/admin/").content.decode()


def test_public_pages_stay_chinese_whatever_the_language_choice(superuser_client):
    superuser_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = superuser_client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-Hans">' in response.content.decode()
