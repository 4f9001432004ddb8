"""The content of a news page: stories and everything printed around them.

Every element of a story page is data here, never text glued into the body:
the section (栏目), source outlet (来源), the people on the byline with their
roles, the 电头 dateline, photos with their 图说 captions, 相关新闻 links,
推荐阅读 picks, and the two editors who answer for the story.
"""

import functools
import re
import secrets
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import JSONArray
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from taggit.managers import TaggableManager

from .photo_storage import get_photo_storage
from .sanitize import sanitize_html
from .validators import validate_photo_upload


@functools.lru_cache(maxsize=10_000)
def _reverse(viewname, kwargs, script_prefix, urlconf):
    return reverse(viewname, kwargs=dict(kwargs))


def public_url(viewname, **kwargs):
    """reverse(), remembered per process for the addresses readers' pages print.

    A list page prints dozens of story addresses, mostly the same ones request after
    request, and reverse() was a tenth of its time. The answer depends only on the URLconf
    and the script prefix, which are part of the key; tests that swap ROOT_URLCONF empty it
    (see _forget_urls)."""
    return _reverse(viewname, tuple(sorted(kwargs.items())), get_script_prefix(), get_urlconf())


@receiver(setting_changed)
def _forget_urls(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _reverse.cache_clear()


class SectionManager(models.Manager):
    def in_order(self):
        """Every section, in the order of Meta.ordering, as a list.

        Readers' pages print the navigation from it, so every page built pays for it: written
        out, the statement costs the process half the time the ORM's version did (0.12-0.18
        against 0.24-0.35 ms at 1M stories)."""
        return list(self.raw(f"SELECT * FROM {self.model._meta.db_table} ORDER BY position, name"))


class Section(models.Model):
    """A 栏目: where a story lives on the site."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, allow_unicode=False)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    fill_recommendations = models.BooleanField(
        _("fill recommended reading automatically (自动补足推荐阅读)"),
        default=True,
        help_text=_(
            "Stories of this section fill the 推荐阅读 slots their editors left empty with stories sharing "
            "a tag, the section or similar text, worked out when the story is published or edited."
        ),
    )

    objects = SectionManager()

    class Meta:
        ordering = ["position", "name"]  # in_order() writes it out: change both
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return public_url("articles:section", slug=self.slug)


class Outlet(models.Model):
    """A news outlet (来源): the one that first published a story.

    `may_reprint` is the approved source list (转载白名单): the newsroom reprints (转载) only
    from outlets on it, and only the chief editor changes it (editorial.admin, editorial.reprints).
    """

    class Kind(models.TextChoices):
        # The kinds of unit the rules on reprinting news name, from the central press down.
        CENTRAL = "central", _("Central news organisation (中央新闻单位)")
        PROVINCIAL = "provincial", _("Provincial news organisation (省级新闻单位)")
        LOCAL = "local", _("Local news organisation (地方新闻单位)")
        INDUSTRY = "industry", _("Industry news organisation (行业新闻单位)")
        GOVERNMENT = "government", _("Government body (政府机构)")
        COMMERCIAL = "commercial", _("Commercial website (商业网站)")
        OTHER = "other", _("Other (其他)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("home page"), blank=True)
    kind = models.CharField(_("kind of unit"), max_length=20, choices=Kind, default=Kind.OTHER)
    may_reprint = models.BooleanField(
        _("on the approved source list (可转载)"),
        default=False,
        help_text=_("The newsroom may reprint (转载) this outlet's stories. Only the chief editor changes this."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")

    def __str__(self):
        return self.name


class Person(models.Model):
    """A name that can appear on a byline or as an accountable editor.

    A person may be linked to a user account (staff who log in) or not
    (correspondents often have none). Deleting the account keeps the person.
    """

    name = models.CharField(_("name"), max_length=50)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    bio = models.TextField(_("biography"), blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return public_url("articles:person", pk=self.pk)

    @classmethod
    def for_user(cls, user):
        """The person standing for a user account, created on first need."""
        person = cls.objects.filter(user=user).first()
        if person is None:
            name = user.get_full_name().strip() or user.get_username()
            person = cls.objects.create(name=name, user=user)
        return person


def photo_upload_to(instance, filename):
    """photos/YYYY/MM/<128 random bits>.<ext>: no one finds a photo by guessing its address.

    Random names are the second lock, not the first: the bytes of a photo no public story
    prints are kept where no public address reaches (articles.photo_storage), and readers
    never get an original at all. The uploader's file name is kept in
    Image.original_filename, never in the address.
    """
    suffix = PurePosixPath(filename).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""
    return f"{timezone.now():photos/%Y/%m}/{secrets.token_hex(16)}{suffix}"


class Image(models.Model):
    """A photo, kept once and used by any number of stories."""

    file = models.ImageField(
        _("file"),
        upload_to=photo_upload_to,
        storage=get_photo_storage,
        width_field="width",
        height_field="height",
        validators=[validate_photo_upload],
    )
    width = models.PositiveIntegerField(_("width"), editable=False, default=0)
    height = models.PositiveIntegerField(_("height"), editable=False, default=0)
    caption = models.TextField(_("caption (图说)"), blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True)
    alt_text = models.CharField(
        _("alt text"),
        max_length=300,
        blank=True,
        help_text=_("What the photo shows, for readers who cannot see it. Defaults to the caption."),
    )
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    is_placeholder = models.BooleanField(
        _("placeholder"),
        default=False,
        help_text=_("The original image bytes are missing; a marked placeholder stands in."),
    )
    import_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # {spec: {"name": storage name, "width": w, "height": h}} of the renditions already made, so
    # pages print srcset and sizes without one more query per list or story page.
    rendition_index = models.JSONField(default=dict, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Whether readers may fetch its renditions now: a public story prints it. Kept by
    # delivery.photos, which moves the files to match (articles.photo_storage).
    is_public = models.BooleanField(_("public"), default=False, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self):
        return self.caption[:40] or self.original_filename or f"#{self.pk}"

    @property
    def alt(self):
        return self.alt_text or self.caption

    def rendition(self, spec):
        """The rendition named `spec`, made on first use and then reused."""
        from .renditions import get_rendition

        return get_rendition(self, spec)


class Rendition(models.Model):
    """A resized copy of an image, generated once per (image, spec)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="renditions")
    spec = models.CharField(max_length=20)
    file = models.ImageField(
        upload_to="renditions/%Y/%m/", storage=get_photo_storage, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "spec"], name="rendition_unique_image_spec")
        ]
        verbose_name = _("rendition")
        verbose_name_plural = _("renditions")

    def __str__(self):
        return f"{self.image_id}:{self.spec}"

    @property
    def url(self):
        return self.file.url


class JSONList(models.Aggregate):
    """The JSON array of one expression's values over a group (JSONB_AGG / JSON_GROUP_ARRAY):
    a story's few tags or corrections come back inside the story's own row."""

    function = "JSON_GROUP_ARRAY"
    output_field = models.JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """What a reader may see. Pages, search, feeds, sitemaps and tag pages start here.

        A scheduled story is live from its time: the query decides, no worker needed.
        """
        return self.filter(live_q())

    def with_shown_status(self):
        """Annotate `shown_status`: the status as the desk reads it (Article.shown_status).

        A scheduled story whose time has come is live for readers (published()) before
        `publish_due` records it: it reads as published, by the same rule."""
        return self.annotate(
            shown_status=models.Case(
                models.When(live_q(), then=models.Value(Article.Status.PUBLISHED)),
                default=models.F("status"),
                output_field=models.CharField(),
            )
        )

    def not_trashed(self):
        """Stories outside the trash: what the desk works with."""
        return self.filter(deleted_at__isnull=True)

    def trashed(self):
        """Stories in the trash (deleted softly), which a chief editor may restore or empty."""
        return self.filter(deleted_at__isnull=False)

    def for_listing(self):
        """What a list of story cards shows, fetched in a fixed number of queries."""
        # Renditions come from Image.rendition_index, so cards need no further query.
        return self.select_related("section", "outlet", "thumbnail")

    def before(self, key):
        """Stories older than `key` = (published_at, pk), for keyset pagination (no OFFSET)."""
        when, pk = key
        # The redundant published_at__lte bounds the index scan; the OR alone would not.
        return self.filter(
            models.Q(published_at__lte=when), models.Q(published_at__lt=when) | models.Q(pk__lt=pk)
        )

    def after(self, key):
        """Stories newer than `key` = (published_at, pk)."""
        when, pk = key
        return self.filter(
            models.Q(published_at__gte=when), models.Q(published_at__gt=when) | models.Q(pk__gt=pk)
        )

    def with_neighbours(self, now=None):
        """Annotate the previous (older) and next (newer) story of the same section live at
        `now` (default: this moment): prev_row and next_row, [pk, headline, slug] or None, in
        the same query (read through previous_story and next_story).

        One subquery per side, returning the three columns as a JSON array: PostgreSQL plans
        two index-ordered subqueries in a fraction of the time six took."""
        same_section = Article.objects.filter(live_q(now), section_id=models.OuterRef("section_id"))
        when, pk = models.OuterRef("published_at"), models.OuterRef("pk")
        older = same_section.filter(
            models.Q(published_at__lte=when), models.Q(published_at__lt=when) | models.Q(pk__lt=pk)
        ).order_by("-published_at", "-pk")
        newer = same_section.filter(
            models.Q(published_at__gte=when), models.Q(published_at__gt=when) | models.Q(pk__gt=pk)
        ).order_by("published_at", "pk")
        return self.annotate(
            **{
                f"{name}_row": models.Subquery(
                    qs.values(story=JSONArray("pk", "headline", "slug"))[:1], output_field=models.JSONField()
                )
                for name, qs in (("prev", older), ("next", newer))
            }
        )

    def with_story_blocks(self):
        """Annotate what the story page prints under the story, without a query per block:
        tag_rows [[tagged item pk, tag pk, name, slug], ...], correction_rows
        [[pk, note, created_at], ...] (None when there are none), and has_related."""
        from taggit.models import TaggedItem

        # The content type by its natural key, not its id: the statement may be compiled once
        # and kept (readers.views), and ids are not fixed while a test suite flushes tables.
        meta = Article._meta
        tagged = (
            TaggedItem.objects.filter(
                object_id=models.OuterRef("pk"),
                content_type__app_label=meta.app_label,
                content_type__model=meta.model_name,
            )
            .values("object_id")
            .annotate(rows=JSONList(JSONArray("pk", "tag_id", "tag__name", "tag__slug")))
            .values("rows")
        )
        corrections = (
            Correction.objects.filter(article_id=models.OuterRef("pk"))
            .values("article_id")
            .annotate(rows=JSONList(JSONArray("pk", "note", "created_at")))
            .values("rows")
        )
        return self.annotate(
            tag_rows=models.Subquery(tagged, output_field=models.JSONField()),
            correction_rows=models.Subquery(corrections, output_field=models.JSONField()),
            has_related=models.Exists(RelatedLink.objects.filter(article_id=models.OuterRef("pk"))),
        )

    def for_detail(self):
        """Everything the story page prints, in a fixed number of queries."""
        return self.select_related(
            "section",
            "outlet",
            "dateline_outlet",
            "first_review_editor",
            "responsible_editor",
        ).prefetch_related(
            models.Prefetch(
                "bylines", queryset=Byline.objects.select_related("person").order_by("position", "pk")
            ),
            models.Prefetch(
                "photos",
                queryset=ArticleImage.objects.select_related("image")
                .prefetch_related("image__renditions")
                .order_by("position", "pk"),
            ),
            "tags",
        )


# What "live" means, said once: readers see a story in these statuses from its published_at
# on (ArticleQuerySet.published(), Article.is_live, the partial indexes, the readers' views).
# Written out here, not taken from Article.Status, because Article.Meta's indexes need them.
LIVE_STATUSES = ["published", "scheduled"]
# Statuses in which a story is, was, or is about to be on public pages (a withdrawn story's
# address answers with the 撤稿 notice): a change to such a story touches those pages.
PUBLIC_STATUSES = [*LIVE_STATUSES, "withdrawn"]


def story_url(pk, slug):
    """A story's public address: with its slug when it has one (Article.get_absolute_url, and
    search results, which carry the two values without a model instance)."""
    if slug:
        return public_url("articles:detail_slug", pk=pk, slug=slug)
    return public_url("articles:detail", pk=pk)


def live_q(now=None):
    """The condition for a story readers see at `now` (default: this moment), said once.

    ArticleQuerySet.published() filters by it, with_shown_status() annotates by it, and
    Article.is_live is the same test on one story in memory."""
    return models.Q(
        status__in=LIVE_STATUSES, published_at__lte=now or timezone.now(), deleted_at__isnull=True
    )


def live_sql(alias, now=None):
    """live_q() for hand-written statements: (SQL, params) over the rows aliased `alias`, which
    carry a story's status, published_at and deleted_at (articles_article, or the search rows'
    copies of them). tests/test_reader_visibility.py and tests/articles/test_search.py hold it
    to live_q()."""
    from django.db import connection

    marks = ", ".join(["%s"] * len(LIVE_STATUSES))
    sql = f"{alias}.status IN ({marks}) AND {alias}.published_at <= %s AND {alias}.deleted_at IS NULL"
    return sql, [*LIVE_STATUSES, connection.ops.adapt_datetimefield_value(now or timezone.now())]


class Article(models.Model):
    """A story, from a reporter's draft to a published page."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FIRST_REVIEW = "first_review", _("First review")
        FINAL_REVIEW = "final_review", _("Final review")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Origin(models.TextChoices):
        ORIGINAL = "original", _("Original (原创)")
        REPRINT = "reprint", _("Reprint (转载)")

    LIVE_STATUSES = LIVE_STATUSES
    PUBLIC_STATUSES = PUBLIC_STATUSES

    kicker = models.CharField(_("kicker (引题)"), max_length=200, blank=True)
    headline = models.CharField(_("headline"), max_length=200)
    subtitle = models.CharField(_("subtitle (副题)"), max_length=200, blank=True)
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        blank=True,
        help_text=_("Optional Latin-letter words for the address; the story number keeps it stable."),
    )
    section = models.ForeignKey(
        Section,
        verbose_name=_("section"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
    )
    outlet = models.ForeignKey(
        Outlet,
        verbose_name=_("source outlet (来源)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
    )
    dateline_outlet = models.ForeignKey(
        Outlet,
        verbose_name=_("dateline outlet"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datelined_articles",
    )
    dateline_place = models.CharField(_("dateline place"), max_length=50, blank=True)
    dateline_date = models.DateField(_("dateline date"), null=True, blank=True)
    summary = models.TextField(_("summary (摘要)"), blank=True)
    body = models.TextField(_("body"), blank=True)
    author_line = models.CharField(_("author line (作者)"), max_length=200, blank=True)
    # 转载: a reprint names where it was first published (its outlet is `outlet`, which must be on
    # the approved source list to be signed off) and who reprinted it; editorial.reprints has the rules.
    origin = models.CharField(_("original or reprint"), max_length=10, choices=Origin, default=Origin.ORIGINAL)
    original_headline = models.CharField(_("original headline (原标题)"), max_length=200, blank=True)
    original_author = models.CharField(_("original author (原作者)"), max_length=200, blank=True)
    original_url = models.URLField(_("original address"), max_length=500, blank=True)
    original_published_at = models.DateTimeField(_("original publication time"), null=True, blank=True)
    reprinted_by = models.ForeignKey(
        Person,
        verbose_name=_("reprinted by (转载编辑)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reprinted_articles",
        help_text=_("The editor who reprinted it, under their real name; empty: you."),
    )
    # The chief editor's approval of a reprint's headline that differs from the original's:
    # the pair of headlines approved (editorial.reprints.approve_headline). save() forgets it as
    # soon as either headline changes, so an approval covers exactly what the chief read.
    approved_headline = models.CharField(max_length=200, blank=True, editable=False)
    approved_original_headline = models.CharField(max_length=200, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.DRAFT, editable=False, db_index=True
    )
    published_at = models.DateTimeField(_("publication time"), null=True, blank=True, editable=False)
    first_review_editor = models.ForeignKey(
        Person,
        verbose_name=_("first-review editor (初审编辑)"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="first_reviewed_articles",
    )
    responsible_editor = models.ForeignKey(
        Person,
        verbose_name=_("responsible editor (责任编辑)"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="signed_off_articles",
    )
    thumbnail = models.ForeignKey(
        Image,
        verbose_name=_("list thumbnail"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="thumbnail_of",
        help_text=_("Shown in lists and 推荐阅读; defaults to the first photo."),
    )
    is_top = models.BooleanField(_("top story (头条)"), default=False)
    # 急稿 and the due time set how long each review stage may take (editorial.deadlines).
    is_breaking = models.BooleanField(
        _("breaking news (急稿)"), default=False, help_text=_("Each review stage then has the breaking-news deadline.")
    )
    due_at = models.DateTimeField(
        _("due time"),
        null=True,
        blank=True,
        help_text=_("When the story must be out: every review stage is due by then at the latest."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # Deleting a story moves it to the trash (editorial.workflow.trash); only emptying the
    # trash removes the row. A trashed story is on no public page and in no desk list.
    deleted_at = models.DateTimeField(_("moved to trash at"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved to trash by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    import_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    tags = TaggableManager(verbose_name=_("tags"), blank=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("story")
        verbose_name_plural = _("stories")
        indexes = [
            models.Index(fields=["status", "-published_at", "-id"], name="article_status_pub_idx"),
            models.Index(
                fields=["section", "status", "-published_at", "-id"], name="article_section_pub_idx"
            ),
            # Readers' lists walk these newest-first and stop after one page (keyset pagination).
            # published() filters status IN (published, scheduled): an index led by status
            # cannot give one ordered walk over two statuses, these partial ones can.
            models.Index(
                fields=["-published_at", "-id"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="article_live_pub_idx",
            ),
            models.Index(
                fields=["section", "-published_at", "-id"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="article_live_section_pub_idx",
            ),
            # The 头条 on the home page: few rows are pinned, so a partial index stays tiny.
            models.Index(
                fields=["-published_at", "-id"], condition=models.Q(is_top=True), name="article_top_pub_idx"
            ),
            # The admin story list, newest work first: one page read off the index, no sort.
            models.Index(fields=["-updated_at", "-id"], name="article_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=PUBLIC_STATUSES)
                | models.Q(published_at__isnull=False),
                name="article_live_has_published_at",
            )
        ]
        permissions = [
            ("submit_article", _("Can submit a story for review")),
            ("review_article", _("Can pass or send back a story at first review")),
            ("sign_off_article", _("Can sign off and publish a story")),
            ("withdraw_article", _("Can withdraw or correct a published story")),
        ]

    def __str__(self):
        return self.headline

    def clean(self):
        super().clean()
        errors = self.reprint_errors()
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.body = sanitize_html(self.body)
        if self.approved_headline and not self.headline_change_approved:
            self.approved_headline = self.approved_original_headline = ""
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return story_url(self.pk, self.slug)

    @property
    def is_trashed(self):
        return self.deleted_at is not None

    @property
    def is_live(self):
        return (
            self.deleted_at is None
            and self.status in self.LIVE_STATUSES
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def shown_status(self):
        """The status as the desk reads it: a scheduled story is published from its time on,
        whether or not `publish_due` has recorded it yet (as ArticleQuerySet.with_shown_status)."""
        return self.Status.PUBLISHED if self.is_live else self.status

    @shown_status.setter
    def shown_status(self, value):
        # with_shown_status() annotates rows with the same value, worked out by the database for
        # filtering and sorting; the property works it out again, so a story moved since it
        # was read still reads right.
        pass

    def get_shown_status_display(self):
        return self.Status(self.shown_status).label

    # --- 转载 reprints ---------------------------------------------------------------

    @property
    def is_reprint(self):
        return self.origin == self.Origin.REPRINT

    def reprint_errors(self):
        """{field: ValidationError} of what a reprint lacks: its outlet, original headline and
        original address; a future original publication time is an error too."""
        if not self.is_reprint:
            return {}
        errors = {}
        if not self.outlet_id:
            errors["outlet"] = ValidationError(_("A reprint names the outlet it comes from."), code="reprint_outlet")
        if not (self.original_headline or "").strip():
            errors["original_headline"] = ValidationError(
                _("A reprint gives the headline it had where it was first published."), code="reprint_headline"
            )
        if not (self.original_url or "").strip():
            errors["original_url"] = ValidationError(
                _("A reprint gives the address where it was first published."), code="reprint_url"
            )
        if self.original_published_at and self.original_published_at > timezone.now():
            errors["original_published_at"] = ValidationError(
                _("The original cannot have been published later than now."), code="reprint_future"
            )
        return errors

    @property
    def headline_differs_from_original(self):
        """A reprint printed under a headline of its own: the chief editor approves it first."""
        return self.is_reprint and bool(self.original_headline.strip()) and self.headline.strip() != self.original_headline.strip()

    @property
    def headline_change_approved(self):
        """The chief approved exactly these two headlines (editorial.reprints.approve_headline)."""
        return bool(self.approved_headline) and (self.approved_headline, self.approved_original_headline) == (
            self.headline,
            self.original_headline,
        )

    @property
    def printed_original_headline(self):
        """原标题, printed on a reprint whose headline is not the original's; else empty."""
        return self.original_headline.strip() if self.headline_differs_from_original else ""

    @property
    def printed_original_author(self):
        """原作者, printed on a reprint whose author line is not the original author; else empty."""
        author = (self.original_author or "").strip()
        return author if self.is_reprint and author and author != (self.author_line or "").strip() else ""

    @property
    def dateline(self):
        """The 电头 in its Chinese form, e.g. 大众网济南5月15日讯; empty without a date."""
        if not self.dateline_date:
            return ""
        outlet = self.dateline_outlet.name if self.dateline_outlet_id else ""
        date = self.dateline_date
        return f"{outlet}{self.dateline_place}{date.month}月{date.day}日讯"

    def byline_groups(self):
        """[(role label, [person, ...]), ...] in byline order, roles grouped as printed."""
        groups = []
        for byline in self.bylines.all():
            label = byline.printed_role
            if groups and groups[-1][0] == label:
                groups[-1][1].append(byline.person)
            else:
                groups.append((label, [byline.person]))
        return groups

    @property
    def byline_text(self):
        """记者 张帆 通讯员 张鹏: roles and names as printed after the dateline."""
        return " ".join(
            f"{label} {' '.join(person.name for person in people)}"
            for label, people in self.byline_groups()
        )

    def body_with_dateline(self):
        """The body with the dateline and byline leading its first paragraph, as printed."""
        lead = ""
        if self.dateline:
            lead = format_html('<span class="dateline">{}</span>', self.dateline)
            if self.byline_text:
                lead += format_html('<span class="byline">({})</span>', self.byline_text)
        elif self.byline_text:
            lead = format_html('<span class="byline">({})</span>', self.byline_text)
        body = self.body or ""
        if lead and body.startswith("<p>"):
            return mark_safe(f"<p>{lead}{body[3:]}")
        if lead:
            return mark_safe(f'<p class="lede">{lead}</p>{body}')
        return mark_safe(body)

    def _neighbour(self, side):
        story = getattr(self, f"{side}_row", None)
        if not story:
            return None
        pk, headline, slug = story
        return {"pk": pk, "headline": headline, "url": Article(pk=pk, slug=slug).get_absolute_url()}

    @property
    def previous_story(self):
        """The older live story of its section (with_neighbours()): pk, headline, url; or None."""
        return self._neighbour("prev")

    @property
    def next_story(self):
        """The newer live story of its section (with_neighbours()): pk, headline, url; or None."""
        return self._neighbour("next")

    @property
    def photo_list(self):
        return [link.image for link in self.photos.all()]



class Byline(models.Model):
    """A person credited on a story, in a role, in order."""

    class Role(models.TextChoices):
        # The newsroom's byline roles, in the order the desk picks them. The labels have
        # their own context: the account role "Reporter" is 记者/通讯员, a byline is one or the other.
        REPORTER = "reporter", pgettext_lazy("byline role", "Reporter")
        TRAINEE_REPORTER = "trainee_reporter", pgettext_lazy("byline role", "Trainee reporter")
        CORRESPONDENT = "correspondent", pgettext_lazy("byline role", "Correspondent")
        SPECIAL_REPORTER = "special_reporter", pgettext_lazy("byline role", "Special correspondent")
        INTERN = "intern", pgettext_lazy("byline role", "Intern")
        PHOTOGRAPHER = "photographer", pgettext_lazy("byline role", "Photographer")
        EDITOR = "editor", pgettext_lazy("byline role", "Editor")

    # How each role is printed on the page, whatever the interface language.
    PRINTED_ROLE = {
        Role.REPORTER: "记者",
        Role.TRAINEE_REPORTER: "见习记者",
        Role.CORRESPONDENT: "通讯员",
        Role.SPECIAL_REPORTER: "特约记者",
        Role.INTERN: "实习生",
        Role.PHOTOGRAPHER: "摄影",
        Role.EDITOR: "编辑",
    }

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bylines")
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="bylines"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.REPORTER)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("byline")
        verbose_name_plural = _("bylines")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "person", "role"], name="byline_unique_person_role"
            )
        ]

    def __str__(self):
        return f"{self.printed_role} {self.person}"

    @property
    def printed_role(self):
        return self.PRINTED_ROLE.get(self.role, self.role)


class ArticleImage(models.Model):
    """A photo placed on a story, in order."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="photos")
    image = models.ForeignKey(
        Image, verbose_name=_("image"), on_delete=models.PROTECT, related_name="placements"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return str(self.image)


class RelatedLink(models.Model):
    """相关新闻: a link to a story on this site, or to one elsewhere with its outlet and time."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="related_links")
    target = models.ForeignKey(
        Article,
        verbose_name=_("story on this site"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    url = models.URLField(_("external address"), blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    outlet = models.ForeignKey(
        Outlet, verbose_name=_("outlet"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("publication time"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("related link")
        verbose_name_plural = _("related news (相关新闻)")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(target__isnull=False) & models.Q(url=""))
                | (models.Q(target__isnull=True) & ~models.Q(url="") & ~models.Q(title="")),
                name="related_link_story_or_url",
            )
        ]

    def __str__(self):
        return self.title or str(self.target)

    def clean(self):
        if self.target_id and self.url:
            raise ValidationError(_("Link either to a story on this site or to an external address, not both."))
        if not self.target_id and not self.url:
            raise ValidationError(_("Choose a story on this site or give an external address."))
        if not self.target_id and not self.title:
            raise ValidationError({"title": _("An external link needs a title.")})


class Recommendation(models.Model):
    """推荐阅读: a story shown under another, in order: picked by an editor, or filled in by
    the system into a slot the editors left empty (editorial.recommendations), with the
    reason it was chosen."""

    class Source(models.TextChoices):
        PICKED = "picked", _("picked by an editor")
        FILLED = "filled", _("filled in automatically")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="recommendations")
    target = models.ForeignKey(
        Article, verbose_name=_("recommended story"), on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    source = models.CharField(_("source"), max_length=10, choices=Source, default=Source.PICKED, editable=False)
    reason = models.CharField(
        _("why"), max_length=200, blank=True, help_text=_("Why it is recommended, for the desk (not printed).")
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommended reading (推荐阅读)")
        constraints = [
            models.UniqueConstraint(fields=["article", "target"], name="recommendation_unique_target"),
            models.CheckConstraint(
                condition=~models.Q(article=models.F("target")), name="recommendation_not_self"
            ),
        ]

    def __str__(self):
        return str(self.target)


class Correction(models.Model):
    """更正: a dated note printed on a published story after it was corrected."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="corrections")
    note = models.TextField(_("correction note"))
    created_at = models.DateTimeField(_("corrected at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("corrected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_name = models.CharField(_("corrected by (name)"), max_length=150, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections (更正)")

    def __str__(self):
        local = timezone.localtime(self.created_at, timezone.get_default_timezone())
        return f"{local:%Y-%m-%d} {self.note[:40]}"


class SearchEntry(models.Model):
    """The segmented words of one story, kept current on save, for the readers' search.

    Three weighted parts: the headline (with kicker and subtitle), then summary, byline names
    and captions, then the body. On PostgreSQL `search_vector` holds the same words as a
    weighted tsvector, written with them by articles.search (see search_vector() there), and
    carries a GIN index (migration 0004); SQLite searches the words with LIKE and leaves the
    vector empty.
    """

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="search_entry"
    )
    headline_terms = models.TextField(blank=True)
    summary_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")

    def __str__(self):
        return f"search:{self.article_id}"


# 专题 topics and 点击排行 read counts live in their own modules; imported here so that
# Django finds their models with the rest of the app's.
from .topics import Topic, TopicStory  # noqa: E402,F401
from .reads import DailyReads  # noqa: E402,F401
