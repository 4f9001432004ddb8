"""Saved versions of stories: snapshot, record, compare, and the stale-edit check.

Every save of a story's content appends a Revision holding everything the story
page prints (text fields, photos with captions, byline, tags, 相关新闻,
推荐阅读). Article.version is the number of the revision the story now shows;
an edit carries the version it started from, and a stale one raises
EditConflict instead of overwriting someone else's work. Restoring a version is a save
like any other, through editorial.editing.
"""

import difflib
import re
from html import unescape

from django.db.models import Max
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from articles.models import Article, ArticleImage, Byline, Image, Person, Recommendation, RelatedLink

from newsroom.local_time import local_time

from .models import Revision
from .shared import announce_shared_change

TEXT_FIELDS = [
    "kicker", "headline", "subtitle", "slug", "summary", "body", "author_line",
    "dateline_place", "is_top",
    "origin", "original_headline", "original_author", "original_url",
]
FK_FIELDS = ["section", "outlet", "dateline_outlet", "thumbnail", "reprinted_by"]


class EditConflict(Exception):
    """Someone saved the story after this edit started from it."""

    def __init__(self, article, base_version, latest):
        self.article = article
        self.base_version = base_version
        self.latest = latest  # the Revision saved in between, or None
        who = latest.author_name if latest else "?"
        super().__init__(f"Story {article.pk} was saved by {who} after version {base_version}.")


def display_name(user):
    """How the desk names a person: the name printed for them (their Person), else the
    account's full name, else, only when it has none, the username."""
    if user is None:
        return ""
    person = getattr(user, "person", None)  # None when no Person stands for the account
    return (person.name.strip() if person else "") or user.get_full_name().strip() or user.get_username()


def snapshot(article):
    """Everything printed on the story, as plain JSON."""
    data = {name: getattr(article, name) for name in TEXT_FIELDS}
    for name in FK_FIELDS:
        data[f"{name}_id"] = getattr(article, f"{name}_id")
        related = getattr(article, name) if data[f"{name}_id"] else None
        data[f"{name}_label"] = str(related) if related else ""
    data["dateline_date"] = article.dateline_date.isoformat() if article.dateline_date else None
    when = article.original_published_at
    data["original_published_at"] = when.isoformat() if when else None
    data["photos"] = [
        {
            "image_id": p.image_id,
            "position": p.position,
            "caption": p.image.caption,
            "credit": p.image.credit,
            "alt_text": p.image.alt_text,
        }
        for p in article.photos.select_related("image").order_by("position", "pk")
    ]
    data["bylines"] = [
        {"person_id": b.person_id, "name": b.person.name, "role": b.role, "position": b.position}
        for b in article.bylines.select_related("person").order_by("position", "pk")
    ]
    data["tags"] = sorted(article.tags.names())
    data["related"] = [
        {
            "target_id": r.target_id,
            "target_label": r.target.headline if r.target_id else "",
            "url": r.url,
            "title": r.title,
            "outlet_id": r.outlet_id,
            "published_at": r.published_at.isoformat() if r.published_at else None,
            "position": r.position,
        }
        for r in article.related_links.select_related("target").order_by("position", "pk")
    ]
    # The editors' picks: filled slots are worked out again whenever the story changes.
    data["recommendations"] = [
        {"target_id": r.target_id, "target_label": r.target.headline, "position": r.position, "reason": r.reason}
        for r in article.recommendations.filter(source=Recommendation.Source.PICKED)
        .select_related("target")
        .order_by("position", "pk")
    ]
    return data


# The story's own fields a change form carries, as snapshot() writes them.
FORM_FIELDS = {*TEXT_FIELDS, *FK_FIELDS, "dateline_date", "tags"}


def with_form_fields(data, cleaned):
    """A copy of the snapshot `data` with the story's own fields taken from a change form's
    `cleaned_data` (those it has: a field the form refused keeps the snapshot's value)."""
    data = dict(data)
    for name in TEXT_FIELDS:
        if name in cleaned:
            data[name] = cleaned[name]
    for name in FK_FIELDS:
        if name in cleaned:
            value = cleaned[name]
            data[f"{name}_id"] = value.pk if value else None
            data[f"{name}_label"] = str(value) if value else ""
    if "dateline_date" in cleaned:
        data["dateline_date"] = cleaned["dateline_date"].isoformat() if cleaned["dateline_date"] else None
    if "tags" in cleaned:
        data["tags"] = sorted(str(tag) for tag in cleaned["tags"])
    return data


def next_number(article):
    latest = Revision.objects.filter(article=article).aggregate(n=Max("number"))["n"] or 0
    return max(latest, article.version) + 1


def record(article, *, author, note="", applied=True, data=None):
    """Append a revision of `article` (its current state unless `data` is given)."""
    number = article.version if applied else next_number(article)
    return Revision.objects.create(
        article=article,
        number=number,
        data=snapshot(article) if data is None else data,
        author=author,
        author_name=display_name(author),
        note=note,
        applied=applied,
    )


def check_version(article, base_version):
    """Lock the story row; raise EditConflict if it moved on since `base_version`."""
    current = Article.objects.select_for_update().only("version").get(pk=article.pk).version
    if base_version is not None and int(base_version) != current:
        latest = Revision.objects.filter(article=article, applied=True, number__gt=int(base_version)).order_by("-number").first()
        raise EditConflict(article, int(base_version), latest)
    return current


def keep_baseline(article):
    """Before the first saved edit of a story made elsewhere (seed import, API), keep it as it was."""
    if not Revision.objects.filter(article_id=article.pk).exists():
        stored = Article.objects.get(pk=article.pk)
        record(stored, author=None, note=str(_("As it was before the first edit here")))


def bump_version(article):
    """Give the story the next version number (the caller then saves and records)."""
    article.version = next_number(article)


def apply_snapshot(article, data, *, announce=True):
    """Put a snapshot's content back on the story and its inlines (rows that vanished are skipped).

    Photos are shared: a caption, credit or alt text put back changes every story printing
    the photo, which is announced (SharedChanged) unless `announce` is False, as for a
    preview, whose transaction is rolled back.
    """
    for name in TEXT_FIELDS:
        if name in data:
            setattr(article, name, data[name])
    for name in FK_FIELDS:
        setattr(article, f"{name}_id", data.get(f"{name}_id"))
    if article.thumbnail_id and not Image.objects.filter(pk=article.thumbnail_id).exists():
        article.thumbnail_id = None
    article.dateline_date = parse_date(data["dateline_date"]) if data.get("dateline_date") else None
    if "original_published_at" in data:
        when = data["original_published_at"]
        article.original_published_at = parse_datetime(when) if when else None
    article.save()

    article.photos.all().delete()
    images = Image.objects.in_bulk([p["image_id"] for p in data.get("photos", [])])
    for p in data.get("photos", []):
        image = images.get(p["image_id"])
        if image is None:
            continue
        ArticleImage.objects.create(article=article, image=image, position=p["position"])
        changed = {k: p[k] for k in ("caption", "credit", "alt_text") if getattr(image, k) != p[k]}
        if changed:
            Image.objects.filter(pk=image.pk).update(**changed)
            if announce:
                announce_shared_change("image", image.pk)

    article.bylines.all().delete()
    people = Person.objects.in_bulk([b["person_id"] for b in data.get("bylines", [])])
    for b in data.get("bylines", []):
        if b["person_id"] in people:
            Byline.objects.get_or_create(
                article=article, person_id=b["person_id"], role=b["role"], defaults={"position": b["position"]}
            )

    article.tags.set(data.get("tags", []))

    article.related_links.all().delete()
    targets = set(Article.objects.filter(pk__in=[r["target_id"] for r in data.get("related", []) if r["target_id"]]).values_list("pk", flat=True))
    for r in data.get("related", []):
        if r["target_id"] and r["target_id"] not in targets:
            continue
        RelatedLink.objects.create(
            article=article,
            target_id=r["target_id"],
            url=r["url"],
            title=r["title"],
            outlet_id=r["outlet_id"],
            published_at=parse_datetime(r["published_at"]) if r["published_at"] else None,
            position=r["position"],
        )

    # Filled rows go too: the change announced after a restore fills the empty slots again.
    article.recommendations.all().delete()
    picks = set(Article.objects.filter(pk__in=[r["target_id"] for r in data.get("recommendations", [])]).values_list("pk", flat=True))
    for r in data.get("recommendations", []):
        if r["target_id"] in picks and r["target_id"] != article.pk:
            Recommendation.objects.create(
                article=article, target_id=r["target_id"], position=r["position"], reason=r.get("reason", "")
            )


# --- comparing two versions -------------------------------------------------

FIELD_LABELS = [
    ("kicker", _("kicker (引题)")),
    ("headline", _("headline")),
    ("subtitle", _("subtitle (副题)")),
    ("slug", _("slug")),
    ("section_label", _("section")),
    ("outlet_label", _("source outlet (来源)")),
    ("author_line", _("author line (作者)")),
    ("dateline", _("dateline")),
    ("origin", _("original or reprint")),
    ("original_headline", _("original headline (原标题)")),
    ("original_author", _("original author (原作者)")),
    ("original_url", _("original address")),
    ("original_published_at", _("original publication time")),
    ("reprinted_by_label", _("reprinted by (转载编辑)")),
    ("summary", _("summary (摘要)")),
    ("body", _("body")),
    ("thumbnail_label", _("list thumbnail")),
    ("is_top", _("top story (头条)")),
    ("photos", _("photos")),
    ("bylines", _("byline")),
    ("tags", _("tags")),
    ("related", _("related news (相关新闻)")),
    ("recommendations", _("recommended reading (推荐阅读)")),
]

_BLOCK_END = re.compile(r"</(p|h[1-6]|li|blockquote|figcaption|figure|tr)>|<br\s*/?>|<hr\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")


def _lines(data, key):
    """A field of a snapshot as the lines a reader would see."""
    if key == "body":
        html = data.get("body") or ""
        html = re.sub(r'<img[^>]*\balt="([^"]*)"[^>]*>', r"[图片 \1]", html)
        text = unescape(_TAG.sub("", _BLOCK_END.sub("\n", html)))
        return [line.strip() for line in text.splitlines() if line.strip()]
    if key == "dateline":
        date = data.get("dateline_date") or ""
        return [f"{data.get('dateline_outlet_label', '')} {data.get('dateline_place', '')} {date}".strip()]
    if key == "origin":
        # Versions kept before stories had an origin were all originals: no line for either.
        origin = data.get("origin") or Article.Origin.ORIGINAL
        return [] if origin == Article.Origin.ORIGINAL else [str(Article.Origin(origin).label)]
    if key == "original_published_at" and data.get(key):
        return [local_time(parse_datetime(data[key]))]
    if key == "photos":
        return [
            f"#{p['position']} [{p['image_id']}] {p['caption']} / {p['credit']} / alt: {p['alt_text']}"
            for p in data.get("photos", [])
        ]
    if key == "bylines":
        roles = dict(Byline.Role.choices)
        return [f"#{b['position']} {roles.get(b['role'], b['role'])} {b['name']}" for b in data.get("bylines", [])]
    if key == "tags":
        return list(data.get("tags", []))
    if key == "related":
        return [f"#{r['position']} {r['title'] or r['target_label']} {r['url']}".strip() for r in data.get("related", [])]
    if key == "recommendations":
        return [f"#{r['position']} {r['target_label']}" for r in data.get("recommendations", [])]
    value = data.get(key)
    if value in (None, ""):
        return []
    return [str(value)]


def _inline_diff(old, new):
    """One changed line shown with deletions and insertions marked, character by character."""
    parts = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(format_html("{}", old[a1:a2]))
        if op in ("delete", "replace"):
            parts.append(format_html("<del>{}</del>", old[a1:a2]))
        if op in ("insert", "replace"):
            parts.append(format_html("<ins>{}</ins>", new[b1:b2]))
    return mark_safe("".join(parts))


def compare(old, new):
    """[(label, [(kind, html), ...]), ...] for the fields that differ; kind is same/del/ins/change."""
    changes = []
    for key, label in FIELD_LABELS:
        a, b = _lines(old, key), _lines(new, key)
        if a == b:
            continue
        rows = []
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                rows += [("same", format_html("{}", line)) for line in a[a1:a2]]
            elif op == "replace" and a2 - a1 == b2 - b1:
                rows += [("change", _inline_diff(x, y)) for x, y in zip(a[a1:a2], b[b1:b2])]
            else:
                rows += [("del", format_html("{}", line)) for line in a[a1:a2]]
                rows += [("ins", format_html("{}", line)) for line in b[b1:b2]]
        changes.append((label, rows))
    return changes


def render_compare(old, new):
    """The comparison as HTML, for places without a template (e.g. the conflict message)."""
    return format_html_join(
        "", "<h3>{}</h3>{}", ((label, format_html_join("", '<p class="diff-{}">{}</p>', rows)) for label, rows in compare(old, new))
    )
