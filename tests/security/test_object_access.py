"""Access, object by object: changing an id in an address never reaches a story, version,
history, comparison, preview, share page or photo the person may not see; share links
cannot be forged and expire; photos of unpublished stories have unguessable addresses."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from articles.models import ArticleImage, Image
from editorial import revisions
from editorial.views import SHARE_SALT, share_token
from tests.editorial.conftest import change_form_data, people, state_of, story_in  # noqa: F401

pytestmark = pytest.mark.django_db

SECRET = "别人的独家线索"


def png(colour="#884422"):
    out = io.BytesIO()
    PILImage.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def others_story(people):
    """A story of `writer`, with a second version and a photo, in the state a test asks for."""

    def make(state):
        article = story_in(state, people, headline=f"{SECRET}{state}", summary=SECRET)
        revisions.record(article, author=people["writer"])
        photo = Image.objects.create(caption=SECRET, file=SimpleUploadedFile("lead.png", png()), uploaded_by=people["writer"])
        ArticleImage.objects.create(article=article, image=photo)
        return article, photo

    return make


def admin_urls(article, photo):
    pk = article.pk
    return {
        "change": reverse("admin:articles_article_change", args=[pk]),
        "versions": reverse("admin:articles_article_history", args=[pk]),
        "django history": reverse("admin:articles_article_history", args=[pk]).replace("versions", "history"),
        "compare": reverse("admin:articles_article_compare", args=[pk]) + f"?a=1&b={article.version}",
        "preview": reverse("admin:articles_article_preview", args=[pk]),
        "preview of a version": reverse("admin:articles_article_preview", args=[pk]) + "?version=1",
        "share": reverse("admin:articles_article_share", args=[pk]),
        "delete": reverse("admin:articles_article_delete", args=[pk]),
        "photo": reverse("admin:articles_image_change", args=[photo.pk]),
        "photo delete": reverse("admin:articles_image_delete", args=[photo.pk]),
    }


def refused(response):
    """Refused without showing anything: 403, 404, or the admin's redirect for a missing object."""
    if response.status_code == 302:
        return not response["Location"].startswith(reverse("admin:articles_article_changelist") + "?")
    return response.status_code in {403, 404}


@pytest.mark.parametrize("state", ["draft", "first_review", "final_review", "scheduled", "withdrawn"])
def test_another_reporter_reaches_nothing_of_a_story_by_changing_ids(client, people, others_story, state):
    article, photo = others_story(state)
    before = state_of(article)
    client.force_login(people["other_reporter"])

    for name, url in admin_urls(article, photo).items():
        response = client.get(url)
        assert refused(response), f"GET {name}: {response.status_code}"
        assert SECRET not in response.content.decode(), name

    posts = {
        "change": (reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, headline="篡改")),
        "restore": (reverse("admin:articles_article_restore", args=[article.pk]), {"number": "1", "note": "篡改"}),
        "delete": (reverse("admin:articles_article_delete", args=[article.pk]), {"post": "yes"}),
        "photo": (reverse("admin:articles_image_change", args=[photo.pk]), {"caption": "篡改", "credit": "", "alt_text": ""}),
        "photo delete": (reverse("admin:articles_image_delete", args=[photo.pk]), {"post": "yes"}),
    }
    for step in ["submit", "pass_first_review", "send_back", "sign_off", "withdraw"]:
        posts[step] = (reverse("admin:articles_article_step", args=[article.pk, step]), {"reason": "篡改"})
    for name, (url, data) in posts.items():
        response = client.post(url, data)
        assert refused(response), f"POST {name}: {response.status_code}"

    assert state_of(article) == before
    photo.refresh_from_db()
    assert photo.caption == SECRET


def test_the_photo_library_and_pickers_hold_only_what_a_reporter_may_see(client, people, others_story):
    _hidden_story, hidden_photo = others_story("draft")
    live, live_photo = others_story("published")
    own = Image.objects.create(caption="我自己的照片", file=SimpleUploadedFile("mine.png", png("#123456")), uploaded_by=people["other_reporter"])
    client.force_login(people["other_reporter"])

    listing = client.get(reverse("admin:articles_image_changelist")).content.decode()
    assert f"/{hidden_photo.pk}/change/" not in listing
    assert f"/{live_photo.pk}/change/" in listing and f"/{own.pk}/change/" in listing
    picker = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "articles", "model_name": "articleimage", "field_name": "image", "term": ""},
    ).json()
    ids = {int(item["id"]) for item in picker["results"]}
    assert hidden_photo.pk not in ids and own.pk in ids
    stories = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "articles", "model_name": "relatedlink", "field_name": "target", "term": SECRET},
    ).json()
    assert [int(item["id"]) for item in stories["results"]] == [live.pk]


def test_a_share_link_shows_its_story_until_it_expires(client, people):
    article = story_in("final_review", people, headline="外审稿件")
    token = share_token(article)
    url = reverse("editorial:shared", args=[token])
    assert "外审稿件" in client.get(url).content.decode()

    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        expired = client.get(url)
    assert expired.status_code == 410
    assert "外审稿件" not in expired.content.decode()


def test_a_share_link_cannot_be_forged_or_pointed_at_another_story(client, people):
    shared = story_in("final_review", people, headline="可以外审的稿件")
    secret = story_in("draft", people, headline=SECRET)
    token = share_token(shared)
    payload, _dot, signature = token.rpartition(":")
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        signing.dumps({"a": secret.pk, "v": secret.version}, salt=SHARE_SALT, key="guessed-key", compress=True),
        signing.dumps({"a": secret.pk, "v": secret.version}, salt="another-salt", compress=True),
        payload.replace(payload.split(":")[0], signing.b64_encode(f'{{"a":{secret.pk},"v":1}}'.encode()).decode()) + ":" + signature,
        "",
    ]
    for token in filter(None, forged):
        response = client.get(reverse("editorial:shared", args=[token]))
        assert response.status_code == 404, token
        assert SECRET not in response.content.decode()


def test_a_share_link_of_a_story_moved_to_the_trash_stops_working(client, people):
    from editorial import workflow

    article = story_in("draft", people, headline="回收站里的稿件")
    url = reverse("editorial:shared", args=[share_token(article)])
    workflow.trash(article, actor=people["writer"])
    assert client.get(url).status_code == 404


def test_uploaded_photos_get_addresses_no_one_can_guess(client, people):
    """Two uploads of the same file name get unrelated, random names (128 bits each); the
    uploader's file name is kept in the record, not in the address."""
    article = story_in("draft", people)
    client.force_login(people["writer"])
    for _ in range(2):
        data = change_form_data(
            type(article).objects.get(pk=article.pk),
            **{
                "photos-TOTAL_FORMS": "1",
                "photos-0-upload": SimpleUploadedFile("IMG_0001.png", png(), "image/png"),
                "photos-0-caption": "图说",
                "photos-0-position": "0",
            },
        )
        assert client.post(reverse("admin:articles_article_change", args=[article.pk]), data).status_code == 302
    names = [image.file.name for image in Image.objects.order_by("pk")]
    assert len(names) == 2
    for name in names:
        assert re.fullmatch(r"photos/\d{4}/\d{2}/[0-9a-f]{32}\.png", name), name
        assert "IMG_0001" not in name
    assert names[0] != names[1]
    assert set(Image.objects.values_list("original_filename", flat=True)) == {"IMG_0001.png"}
