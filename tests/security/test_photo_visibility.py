"""Photos follow their story: a reader gets a photo's renditions while a public story prints
it, never before and not after its withdrawal, and never an original. The newsroom sees
photos that are not public through signed, expiring addresses (preview, share link, the
photo library).

A reader here is Django's test client without a login fetching the address the page
prints, as `make run` serves media (readers.media); nginx and buckets refuse the private
folder by configuration (tests/media_storage covers the bucket)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, ArticleImage, Image, Rendition
from articles.photo_storage import photo_storage
from articles.renditions import ensure_renditions
from editorial import workflow
from editorial.roles import CHIEF_EDITOR
from editorial.views import share_token
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Run what a change defers until its commit (the photo moves, caches, the CDN) at once."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def purged(monkeypatch):
    """The addresses the CDN is asked to forget."""
    from cdn import purge

    asked = []
    monkeypatch.setattr(purge, "request", lambda urls, keys, reason="": asked.extend(urls))
    return asked


def story_with_photo(commits, caption="历城区委书记在启动仪式上致辞"):
    """A draft with one photo (renditions made at upload), built as the desk builds it."""
    photo = factories.image(caption=caption)
    ensure_renditions(photo)
    with commits():
        story = factories.draft(headline="“历城书记论坛”精彩开讲", section=factories.section())
        ArticleImage.objects.create(article=story, image=photo)
        factories.announced(story)
    return story, Image.objects.get(pk=photo.pk)


def rendition_urls(photo):
    return [photo_storage.url(r.file.name) for r in Rendition.objects.filter(image=photo)]


def reader_gets(url):
    """The status an anonymous reader gets for `url` (a path under MEDIA_URL)."""
    return Client().get(url).status_code


def statuses(photo):
    """{status: count} over the photo's renditions and its original, as a reader fetches them."""
    found = {}
    for url in [*rendition_urls(photo), photo_storage.url(photo.file.name)]:
        status = reader_gets(url)
        found[status] = found.get(status, 0) + 1
    return found


def printed_photo_addresses(html):
    found = []
    for tag in re.findall(r"<img [^>]+>", html):
        found += [unescape(src) for src in re.findall(r'\ssrc="([^"]+)"', tag)]
        for srcset in re.findall(r'\ssrcset="([^"]+)"', tag):
            found += [unescape(part.split()[0]) for part in srcset.split(",")]
    return found


# --- stories not public ---------------------------------------------------------------------


def test_a_drafts_photo_is_not_served_to_readers_at_any_size(commits):
    story, photo = story_with_photo(commits)
    assert len(rendition_urls(photo)) == len(settings.NEWSROOM_RENDITIONS)
    assert statuses(photo) == {404: len(settings.NEWSROOM_RENDITIONS) + 1}
    assert not photo.is_public


def test_a_photo_in_review_is_not_served_to_readers(commits):
    story, photo = story_with_photo(commits)
    people = factories.desk()
    with commits():
        workflow.submit(story, actor=people["chief"])
        workflow.pass_first_review(story, actor=people["reviewer"])
    assert Article.objects.get(pk=story.pk).status == "final_review"
    assert set(statuses(photo)) == {404}


def test_a_readers_address_reaches_neither_the_private_folder_nor_an_original_nor_climbs_out(commits):
    story, photo = story_with_photo(commits)
    with commits():
        factories.publish(story)
    rendition = Rendition.objects.filter(image=photo).first().file.name
    assert reader_gets(photo_storage.url(rendition)) == 200
    assert reader_gets(photo_storage.url(photo.file.name)) == 404, "readers never get an original"
    assert reader_gets(f"{settings.MEDIA_URL}private/{rendition}") == 404
    assert reader_gets(f"{settings.MEDIA_URL}private/{photo.file.name}") == 404
    assert reader_gets(f"{settings.MEDIA_URL}renditions/../private/{photo.file.name}") == 404


# --- publication and withdrawal through the desk ------------------------------------------


def test_signing_off_makes_the_photos_public_before_the_editor_sees_the_page(commits, client):
    story, photo = story_with_photo(commits)
    people = factories.desk()
    with commits():
        workflow.submit(story, actor=people["chief"])
        workflow.pass_first_review(story, actor=people["reviewer"])
    client.force_login(people["editor"])
    with commits():
        response = client.post(reverse("admin:articles_article_step", args=[story.pk, "sign_off"]), {"publish_at": ""})
    assert response.status_code == 302
    assert Article.objects.get(pk=story.pk).status == "published"

    page = Client().get(story.get_absolute_url()).content.decode()
    printed = printed_photo_addresses(page)
    assert printed and all(url.startswith(settings.MEDIA_URL + "renditions/") for url in printed)
    assert all(reader_gets(url) == 200 for url in printed)
    assert Image.objects.get(pk=photo.pk).is_public
    assert reader_gets(photo_storage.url(photo.file.name)) == 404


def test_withdrawing_a_story_takes_its_photos_away_and_asks_the_cdn_to_forget_them(commits, purged):
    story, photo = story_with_photo(commits)
    people = factories.desk()
    with commits():
        story = factories.publish(story, people)
    urls = rendition_urls(photo)
    assert all(reader_gets(url) == 200 for url in urls)

    with commits():
        workflow.withdraw(story, actor=people["editor"], reason="稿件失实")
    assert Client().get(story.get_absolute_url()).status_code == 410
    assert set(statuses(photo)) == {404}
    assert set(urls) <= set(purged), "the CDN forgets every size"
    assert not Image.objects.get(pk=photo.pk).is_public
    # The newsroom keeps the photo: its files are in the private folder.
    assert all(photo_storage.exists(r.file.name) and not photo_storage.is_public(r.file.name) for r in photo.renditions.all())


def test_a_photo_another_live_story_prints_stays_public_when_one_is_withdrawn(commits):
    story, photo = story_with_photo(commits)
    people = factories.desk()
    with commits():
        story = factories.publish(story, people)
        other = factories.published_story(headline="另一篇用同一张图", thumbnail=photo)
    with commits():
        workflow.withdraw(story, actor=people["editor"], reason="稿件失实")
    assert Client().get(other.get_absolute_url()).status_code == 200
    assert all(reader_gets(url) == 200 for url in rendition_urls(photo))


def test_a_photo_taken_off_a_live_story_stops_being_public(commits):
    story, photo = story_with_photo(commits)
    with commits():
        story = factories.publish(story)
    with commits():
        factories.edit(story, lambda s: ArticleImage.objects.filter(article=s).delete(), note="删去一张图片。")
    assert set(statuses(photo)) == {404}


def test_a_photo_added_to_a_live_story_becomes_public_with_the_edit(commits):
    story, _ = story_with_photo(commits)
    with commits():
        story = factories.publish(story)
    added = factories.image(caption="新增图片")
    ensure_renditions(added)
    assert set(statuses(added)) == {404}
    with commits():
        factories.edit(story, lambda s: ArticleImage.objects.create(article=s, image=added, position=9), note="补充一张图片。")
    assert all(reader_gets(url) == 200 for url in rendition_urls(added))


# --- scheduled stories ----------------------------------------------------------------------


def test_a_scheduled_storys_photo_is_private_until_its_time_then_public_without_any_worker(commits):
    story, photo = story_with_photo(commits)
    with commits():
        story = factories.publish(story, publish_at=timezone.now() + timedelta(hours=2))
    assert story.status == "scheduled"
    urls = rendition_urls(photo)
    assert set(statuses(photo)) == {404}, "before its time"

    # Its time comes (no publish_due, no task): the page is live and so are its photos.
    Article.objects.filter(pk=story.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(story.get_absolute_url()).status_code == 200
    assert all(reader_gets(url) == 200 for url in urls)
    assert reader_gets(photo_storage.url(photo.file.name)) == 404
    assert all(photo_storage.is_public(r.file.name) for r in photo.renditions.all()), "now in readers' place"


def test_publish_due_makes_a_scheduled_storys_photos_public_at_its_time(commits):
    story, photo = story_with_photo(commits)
    with commits():
        story = factories.publish(story, publish_at=timezone.now() + timedelta(hours=2))
    Article.objects.filter(pk=story.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    with commits():
        call_command("publish_due", stdout=open("/dev/null", "w"))
    assert all(photo_storage.is_public(r.file.name) for r in photo.renditions.all())
    assert Image.objects.get(pk=photo.pk).is_public


def test_a_scheduled_storys_photos_are_queued_to_go_public_at_its_time(commits, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    story, photo = story_with_photo(commits)
    when = timezone.now() + timedelta(hours=2)
    with commits():
        factories.publish(story, publish_at=when)
    queued = [r for r in default_task_backend.results if r.task.func.__name__ == "sync_photos"]
    assert len(queued) == 1 and queued[0].task.run_after == when and queued[0].args == [[photo.pk]]


# --- the newsroom's own view ----------------------------------------------------------------


def test_the_preview_shows_a_drafts_photos_through_signed_addresses_that_expire(commits, client, settings):
    story, photo = story_with_photo(commits)
    client.force_login(factories.user(roles=[CHIEF_EDITOR]))
    page = client.get(reverse("admin:articles_article_preview", args=[story.pk])).content.decode()
    printed = printed_photo_addresses(page)
    assert printed and all(url.startswith("/review/photo/") for url in printed)
    assert all(reader_gets(url) == 200 for url in printed), "the address alone lets its holder see it"
    response = Client().get(printed[0])
    assert response["Cache-Control"].startswith("private") and "noindex" in response["X-Robots-Tag"]

    tampered = printed[0].replace("/review/photo/", "/review/photo/x")
    assert reader_gets(tampered) == 404
    settings.NEWSROOM_PRIVATE_PHOTO_SECONDS = 0
    assert reader_gets(printed[0]) == 404, "expired"


def test_an_outside_reviewers_share_link_shows_the_photos_and_is_never_cached(commits):
    story, photo = story_with_photo(commits)
    link = reverse("editorial:shared", args=[share_token(story)])
    outsider = Client()
    page = outsider.get(link).content.decode()
    printed = printed_photo_addresses(page)
    assert printed and all(url.startswith("/review/photo/") for url in printed)
    assert all(outsider.get(url).status_code == 200 for url in printed)
    assert outsider.get(link)["Cache-Control"] == "private, no-store"


def test_the_photo_library_shows_a_private_photo_to_the_newsroom(commits, client):
    story, photo = story_with_photo(commits)
    client.force_login(factories.user(roles=[CHIEF_EDITOR]))
    page = client.get(reverse("admin:articles_image_change", args=[photo.pk])).content.decode()
    thumbnail = re.search(r'<img src="([^"]+)"', page).group(1)
    assert thumbnail.startswith("/review/photo/") and client.get(unescape(thumbnail)).status_code == 200
    # The file field's "currently" link opens the original, signed as well.
    current = re.search(r'<a href="([^"]+)">' + re.escape(photo.file.name) + "</a>", page).group(1)
    assert current.startswith("/review/photo/") and client.get(unescape(current)).status_code == 200


def test_published_pages_never_print_a_signed_address(commits):
    story, photo = story_with_photo(commits)
    with commits():
        story = factories.publish(story)
    page = Client().get(story.get_absolute_url()).content.decode()
    assert "/review/photo/" not in page


# --- files from before the split, and the command that puts them in place -------------------


def test_sync_photo_visibility_moves_files_left_public_by_an_older_version(commits, capsys):
    story, photo = story_with_photo(commits)
    # An older version kept every file at its name: put this draft's files there.
    for name in [photo.file.name, *Rendition.objects.filter(image=photo).values_list("file", flat=True)]:
        photo_storage.publish(name)
    assert set(statuses(photo)) == {200, 404}, "renditions leak, the original never did"
    with pytest.raises(CommandError, match="1 of 1 photos have files out of place"):
        call_command("sync_photo_visibility", "--check")

    call_command("sync_photo_visibility")
    assert set(statuses(photo)) == {404}
    call_command("sync_photo_visibility", "--check")
    assert "All 1 photos have their files in place" in capsys.readouterr().out
