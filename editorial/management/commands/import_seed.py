"""manage.py import_seed FILE: rebuild a saved story page, and the stories it links to, as data.

Each story comes in through the desk's editing door (editorial.editing.save_story), like an
edit in the admin: saved whole with its bylines, photos and links, kept as its first version
and announced, so the search index, the page cache, static files and the CDN know it."""

import hashlib
import html
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError

from articles.events import together
from articles.models import (
    Article,
    ArticleImage,
    Byline,
    Image,
    Outlet,
    Person,
    Recommendation,
    RelatedLink,
    Section,
)
from articles.renditions import ensure_renditions, placeholder_png
from articles.seed_parser import SeedFormatError, parse_page
from editorial import editing


def _key(*parts):
    return hashlib.sha1("|".join(str(part) for part in parts).encode()).hexdigest()


class Command(BaseCommand):
    help = "Import a saved story page (headline, photos, dateline, body, editors, 相关新闻, 推荐阅读)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the saved page, UTF-8 text")
        parser.add_argument("--section", default="本地新闻", help="section name for the imported stories")
        parser.add_argument("--section-slug", default="local", help="section address, Latin letters")

    def handle(self, *args, **options):
        path = Path(options["path"])
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file")
        except UnicodeDecodeError as error:
            line = path.read_bytes()[: error.start].count(b"\n") + 1
            raise CommandError(f"{path}: line {line}: not UTF-8 text")
        try:
            page = parse_page(text, known_outlets=Outlet.objects.values_list("name", flat=True))
        except SeedFormatError as error:
            raise CommandError(f"{path}: {error}")

        with together():  # the story and those it links to: one transaction, one delivery
            created = self.build(page, options)
        verb = "Imported" if created else "Already imported, nothing changed:"
        self.stdout.write(self.style.SUCCESS(f"{verb} 「{page.headline}」 ({created.pk if created else '-'})"))

    def build(self, page, options):
        """The story and the stories it links to, each through the editing door."""
        key = _key(page.outlet, page.published_at.isoformat(), page.headline)
        if Article.objects.filter(import_key=key).exists():
            return None
        section, _ = Section.objects.get_or_create(
            slug=options["section_slug"], defaults={"name": options["section"]}
        )
        article = Article(
            import_key=key,
            headline=page.headline,
            section=section,
            outlet=self.outlet(page.outlet),
            author_line=page.author_line,
            dateline_outlet=self.outlet(page.dateline_outlet),
            dateline_place=page.dateline_place,
            dateline_date=page.dateline_date,
            body="".join(f"<p>{html.escape(paragraph, quote=False)}</p>" for paragraph in page.paragraphs),
            status=Article.Status.PUBLISHED,
            published_at=page.published_at,
            first_review_editor=self.person(page.first_review_editor),
            responsible_editor=self.person(page.responsible_editor),
        )

        def with_its_parts(story):
            story.save()  # first, so the model story keeps the first number, as it always had
            related = [self.linked_story(item, section) for item in page.related]
            recommended = [self.linked_story(item, section) for item in page.recommended]
            for position, byline in enumerate(page.bylines):
                Byline.objects.create(article=story, person=self.person(byline.name), role=byline.role, position=position)
            for position, photo in enumerate(page.photos):
                image = self.placeholder(_key(key, "photo", position), caption=photo.caption)
                ArticleImage.objects.create(article=story, image=image, position=position)
            for position, target in enumerate(related):
                RelatedLink.objects.create(article=story, target=target, position=position)
            for position, target in enumerate(recommended):
                Recommendation.objects.create(article=story, target=target, position=position)

        return editing.save_story(article, with_its_parts, actor=None, what="import")

    def outlet(self, name):
        if not name:
            return None
        return Outlet.objects.get_or_create(name=name)[0]

    def person(self, name):
        if not name:
            return None
        person = Person.objects.filter(name=name).order_by("pk").first()
        return person or Person.objects.create(name=name)

    def placeholder(self, key, caption="", original_filename=""):
        image = Image.objects.filter(import_key=key).first()
        if image is None:
            image = Image.objects.create(
                import_key=key,
                caption=caption,
                original_filename=original_filename,
                is_placeholder=True,
                file=ContentFile(placeholder_png(original_filename), name=f"placeholder-{key[:12]}.png"),
            )
            ensure_renditions(image)
        return image

    def linked_story(self, item, section):
        """A story named in 相关新闻 or 推荐阅读: found again, or created as published."""
        key = _key(item.outlet, item.published_at.isoformat(), item.headline)
        story = Article.objects.filter(import_key=key).first()
        if story is not None:
            return story
        thumbnail = None
        if item.image_filename:
            thumbnail = self.placeholder(_key(key, "thumbnail"), original_filename=item.image_filename)
        story = Article(
            import_key=key,
            headline=item.headline,
            summary=item.summary,
            section=section,
            outlet=self.outlet(item.outlet),
            thumbnail=thumbnail,
            status=Article.Status.PUBLISHED,
            published_at=item.published_at,
        )
        return editing.save_story(story, lambda new: new.save(), actor=None, what="import")
