"""A photo a reporter adds to the photo library is theirs: they land on it after saving,
it stays in their list and it is offered by the photo picker of their stories."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage

from articles.models import Image
from editorial.roles import CHIEF_EDITOR, REPORTER
from tests.factories import user

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:articles_image_add")


def jpeg(colour=(200, 30, 30)):
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def add_photo(client, name="IMG_2031.jpg", caption="泉城广场的早晨", **extra):
    data = {"file": SimpleUploadedFile(name, jpeg(), "image/jpeg"), "caption": caption, "credit": "", "alt_text": ""}
    return client.post(ADD_URL, {**data, **extra}, follow=True)


def levels_told(response):
    return [message.level_tag for message in response.context["messages"]]


def picker_ids(client, term=""):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "articles", "model_name": "articleimage", "field_name": "image", "term": term},
    )
    assert response.status_code == 200
    return {int(row["id"]) for row in response.json()["results"]}


@pytest.fixture
def reporter(client):
    client.force_login(user(roles=[REPORTER]))
    return client


def test_a_reporters_photo_is_recorded_as_theirs_with_its_file_name(reporter):
    response = add_photo(reporter)
    image = Image.objects.get()
    assert image.uploaded_by == response.wsgi_request.user
    assert image.original_filename == "IMG_2031.jpg"
    assert image.file.name != "IMG_2031.jpg", "the stored file still gets a random name"


def test_a_reporter_lands_on_their_new_photo_with_a_success_message(reporter):
    response = add_photo(reporter, _continue="Save and continue editing")
    image = Image.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:articles_image_change", args=[image.pk])
    assert response.status_code == 200
    assert levels_told(response) == ["success"], "told it was added, not that it does not exist"


def test_a_reporter_saving_a_new_photo_finds_it_in_their_list(reporter):
    response = add_photo(reporter, _save="Save")
    image = Image.objects.get()
    assert response.status_code == 200
    assert levels_told(response) == ["success"]
    assert reverse("admin:articles_image_change", args=[image.pk]) in response.content.decode()


def test_a_reporters_photo_is_offered_by_their_photo_picker_and_found_by_file_name(reporter):
    add_photo(reporter)
    image = Image.objects.get()
    assert image.pk in picker_ids(reporter)
    assert image.pk in picker_ids(reporter, "IMG_2031")


def test_another_reporter_does_not_see_a_photo_no_story_prints(reporter, client):
    add_photo(reporter)
    image = Image.objects.get()
    client.force_login(user(roles=[REPORTER]))
    assert image.pk not in picker_ids(client)


def test_an_editor_replacing_the_file_keeps_the_uploader_and_records_the_new_name(reporter, client):
    add_photo(reporter)
    image = Image.objects.get()
    uploader = image.uploaded_by
    client.force_login(user(roles=[CHIEF_EDITOR]))
    response = client.post(
        reverse("admin:articles_image_change", args=[image.pk]),
        {"file": SimpleUploadedFile("IMG_2032.jpg", jpeg((10, 120, 200)), "image/jpeg"), "caption": "换了一张", "credit": "", "alt_text": ""},
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    image.refresh_from_db()
    assert image.uploaded_by == uploader
    assert image.original_filename == "IMG_2032.jpg"
