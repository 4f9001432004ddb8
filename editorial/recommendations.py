"""推荐阅读 that say why: what the system suggests, and the slots it fills.

Editors pick stories by hand (the Recommendation inline on the change page). The system
suggests more, each with its reason:

* 同标签「历城」: a live story sharing one of the story's tags;
* 同栏目: a live story of the same section;
* 内容相近: a live story whose indexed text holds two of the key words of this story's
  headline (articles.search keeps the words; PostgreSQL answers from the GIN index, SQLite
  from the stored terms).

Suggestions come newest first within each kind, tags before section before text, in one
bounded query (`suggestions`): each kind is a LIMITed walk down the stories' newest-first
index, and the three are read together.

Filled slots. When the story's section allows it (Section.fill_recommendations,
"自动补足推荐阅读"; a story without a section always may), the slots its editors left empty
(SLOTS less its live picks) are filled with the best suggestions and
stored as Recommendation rows with source "filled" and the reason in the newsroom's
language. This happens when a change is heard (`story_changed`, a subscriber of
articles.events listed in settings.NEWSROOM_SUBSCRIBERS after the search index): when the
story is published, edited, restored or scheduled. Readers' pages only read the stored rows,
so no reader's request runs the suggestion query, and newer stories do not join the block of
an older one until it is edited again.

Withdrawn items. A story leaving the public pages (撤稿, trash) drops out of every block at
once: readers' pages show only live targets, and each page records the keys of what it shows,
so the page cache and the CDN refresh them at the commit, while static publishing finds them
through their Recommendation rows (readers.pages.stories_showing). The rows pointing to it are
kept for that reason (they are hidden), and the stories recommending it get their empty slot
filled again at once (up to REFILL_AT_ONCE of them, newest first; the rest at their next edit
or with `manage.py fill_recommendations`).
"""

import functools
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BooleanField, Case, OuterRef, Q, Subquery, Value, When
from django.forms.models import BaseInlineFormSet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from taggit.models import TaggedItem

from articles.events import SharedChanged, StoryChanged
from articles.models import Article, Recommendation, SearchEntry, Section

SLOTS = 6  # the 推荐阅读 block's size (readers.views.RECOMMENDED)
PER_KIND = 6  # suggestions read of each kind (tag, section, text)
KEY_WORDS = 5  # headline words compared for 内容相近 (any two of them)
FILLED_POSITION = 1000  # filled rows come after every pick
REFILL_AT_ONCE = 100  # stories refilled inside the change that withdrew one of their items
SWITCHED_ON_AT_ONCE = 50  # stories filled inside the change that allowed their section to


@dataclass
class Suggestion:
    """A live story the system suggests, with why."""

    pk: int
    headline: str
    published_at: datetime
    section_id: int | None
    shared_tag: str | None = None
    same_section: bool = False
    similar: bool = False
    kind_order: int = 3
    reasons: list = field(default_factory=list)

    @property
    def reason(self):
        return "、".join(self.reasons)

    @property
    def local_time(self):
        return timezone.localtime(self.published_at, timezone.get_default_timezone())


def key_words(article):
    """The words of the story's headline (then summary) as indexed, longest first: jieba's
    words, stored with their "w" mark in SearchEntry."""
    entry = SearchEntry.objects.filter(article_id=article.pk).values_list("headline_terms", "summary_terms").first()
    if entry is None:
        return []
    words = []
    for terms in entry:
        words += [term for term in terms.split() if term.startswith("w") and len(term) >= 3]
        if len(set(words)) >= 2:
            break
    unique = list(dict.fromkeys(words))
    return sorted(unique, key=len, reverse=True)[:KEY_WORDS]


def _quoted(term):
    return "'" + term.replace("'", "''") + "'"


def _similar_entries(words):
    """Index rows holding any two of `words`, as a subquery of story ids (None: too few words)."""
    if len(words) < 2:
        return None
    pairs = list(combinations(words, 2))
    if connection.vendor == "postgresql":
        tsquery = " | ".join(f"({_quoted(a)} & {_quoted(b)})" for a, b in pairs)
        return SearchEntry.objects.extra(
            where=["search_vector @@ to_tsquery('simple', %s)"], params=[tsquery]
        ).values("article_id")

    def holds(word):
        needle = f" {word} "
        return (
            Q(headline_terms__contains=needle) | Q(summary_terms__contains=needle) | Q(body_terms__contains=needle)
        )

    condition = Q()
    for a, b in pairs:
        condition |= holds(a) & holds(b)
    return SearchEntry.objects.filter(condition).values("article_id")


def suggestions(article, *, exclude_picked=True, per_kind=PER_KIND):
    """Live stories to recommend under `article`, best first, each with its reasons (one query,
    after reading the story's key words).

    Stories already picked by hand are left out (`exclude_picked`)."""
    if article.pk is None:
        return []
    content_type = ContentType.objects.get_for_model(Article)
    own_tags = TaggedItem.objects.filter(content_type=content_type, object_id=article.pk).values("tag_id")
    live = Article.objects.published().exclude(pk=article.pk)
    if exclude_picked:
        picked = Recommendation.objects.filter(article_id=article.pk, source=Recommendation.Source.PICKED)
        live = live.exclude(pk__in=picked.values("target_id"))
    newest = ("-published_at", "-pk")
    tagged = TaggedItem.objects.filter(content_type=content_type, tag_id__in=own_tags).values("object_id")
    kinds = {"tag": live.filter(pk__in=tagged).order_by(*newest).values("pk")[:per_kind]}
    if article.section_id:
        kinds["section"] = live.filter(section_id=article.section_id).order_by(*newest).values("pk")[:per_kind]
    similar = _similar_entries(key_words(article))
    if similar is not None:
        kinds["text"] = live.filter(pk__in=similar).order_by(*newest).values("pk")[:per_kind]
    any_kind = Q()
    for ids in kinds.values():
        any_kind |= Q(pk__in=ids)
    shared_tag = (
        TaggedItem.objects.filter(content_type=content_type, object_id=OuterRef("pk"), tag_id__in=own_tags)
        .order_by("tag__name")
        .values("tag__name")[:1]
    )
    is_similar = (
        Case(When(pk__in=kinds["text"], then=Value(True)), default=Value(False), output_field=BooleanField())
        if "text" in kinds
        else Value(False, output_field=BooleanField())
    )
    rows = (
        Article.objects.filter(any_kind)
        .annotate(shared_tag=Subquery(shared_tag), similar=is_similar)
        .values_list("pk", "headline", "published_at", "section_id", "shared_tag", "similar")
    )
    found = []
    for pk, headline, published_at, section_id, tag, text in rows:
        suggestion = Suggestion(pk, headline, published_at, section_id, shared_tag=tag, similar=bool(text))
        suggestion.same_section = bool(article.section_id) and section_id == article.section_id
        if tag:
            suggestion.reasons.append(_("same tag 「%(tag)s」") % {"tag": tag})
        if suggestion.same_section:
            suggestion.reasons.append(_("same section"))
        if suggestion.similar:
            suggestion.reasons.append(_("similar text"))
        suggestion.kind_order = 0 if tag else 1 if suggestion.same_section else 2
        found.append(suggestion)
    # Tags, then section, then text; newest first within each.
    found.sort(key=lambda s: (s.kind_order, -s.published_at.timestamp(), -s.pk))
    return found


def may_fill(article):
    """Whether the desk lets the system fill `article`'s empty slots (its section's switch)."""
    if not article.section_id:
        return True
    return Section.objects.filter(pk=article.section_id).values_list("fill_recommendations", flat=True).first() is not False


def _live_target():
    return {
        "target__status__in": Article.LIVE_STATUSES,
        "target__published_at__lte": timezone.now(),
        "target__deleted_at__isnull": True,
    }


def fill(article, *, keep_hidden=False, force_live=False):
    """Store the filled rows of `article`'s 推荐阅读: its empty slots (SLOTS less its live picks)
    with the best suggestions and their reasons, or none when it is not live or its section
    does not allow filling. Rows pointing to stories no longer live are kept with
    `keep_hidden` (see the module docstring). Returns True when the rows changed."""
    rows = list(
        Recommendation.objects.filter(article_id=article.pk).values_list(
            "pk", "target_id", "source", "reason", "position"
        )
    )
    live_targets = set(
        Recommendation.objects.filter(article_id=article.pk, **_live_target()).values_list("target_id", flat=True)
    )
    picks = [row for row in rows if row[2] == Recommendation.Source.PICKED]
    filled = [row for row in rows if row[2] == Recommendation.Source.FILLED]
    kept = [row for row in filled if keep_hidden and row[1] not in live_targets]
    replaceable = [row for row in filled if row not in kept]
    wanted = []
    is_live = force_live or (article.status in Article.LIVE_STATUSES and article.deleted_at is None)
    needed = SLOTS - sum(1 for row in picks if row[1] in live_targets)
    if is_live and needed > 0 and may_fill(article):
        taken = {row[1] for row in picks} | {row[1] for row in kept}
        with translation.override(settings.LANGUAGE_CODE):
            chosen = [s for s in suggestions(article) if s.pk not in taken][:needed]
        wanted = [(s.pk, s.reason) for s in chosen]
    if [(row[1], row[3]) for row in replaceable] == wanted:
        return False
    Recommendation.objects.filter(pk__in=[row[0] for row in replaceable]).delete()
    start = max([FILLED_POSITION - 1, *(row[4] for row in kept)]) + 1
    Recommendation.objects.bulk_create(
        Recommendation(
            article_id=article.pk,
            target_id=target_id,
            position=min(start + n, 32767),
            source=Recommendation.Source.FILLED,
            reason=reason[:200],
        )
        for n, (target_id, reason) in enumerate(wanted)
    )
    return True


def refill_recommending(story_id, limit=REFILL_AT_ONCE):
    """Fill again the empty slot that `story_id` leaves in the blocks of live stories showing it."""
    showing = Recommendation.objects.filter(target_id=story_id).values("article_id")
    stories = Article.objects.published().filter(pk__in=showing).order_by("-published_at", "-pk")[:limit]
    return sum(fill(story, keep_hidden=True) for story in stories)


def story_changed(event):
    """Subscriber (settings.NEWSROOM_SUBSCRIBERS): fill the story's empty slots when it is
    published or changed, and refill the blocks a withdrawn story leaves; clear the filled rows
    of a section whose desk switched filling off."""
    if isinstance(event, SharedChanged):
        if event.kind == "section":
            section_switched(event.pk)
        return
    if not isinstance(event, StoryChanged):
        return
    after = event.after
    if after is not None and after.status in Article.LIVE_STATUSES and not after.trashed:
        article = Article.objects.filter(pk=event.story_id).first()
        if article is not None:
            fill(article)
        return
    was_live = event.before is not None and event.before.status in Article.LIVE_STATUSES and not event.before.trashed
    if was_live:
        refill_recommending(event.story_id)


def section_switched(section_id):
    """A section saved: with filling off, its stories lose their filled rows (one statement);
    with it on, its newest live stories without filled rows are filled now, the rest at their
    next change or by `manage.py fill_recommendations`."""
    allowed = Section.objects.filter(pk=section_id).values_list("fill_recommendations", flat=True).first()
    filled = Recommendation.objects.filter(source=Recommendation.Source.FILLED, article__section_id=section_id)
    if allowed is False:
        filled.delete()
    elif allowed:
        waiting = (
            Article.objects.published()
            .filter(section_id=section_id)
            .exclude(pk__in=filled.values("article_id"))
            .order_by("-published_at", "-pk")[:SWITCHED_ON_AT_ONCE]
        )
        for article in waiting:
            fill(article)


# --- the change page -----------------------------------------------------------------------


class Panel:
    """What the change page shows beside the picks: the rows the system filled (with their
    reasons) and its suggestions. Read only when the page is rendered: the filled rows in one
    query, the suggestions in one more after the story's key words."""

    slots = SLOTS

    def __init__(self, article):
        self.article = article

    @functools.cached_property
    def may_fill(self):
        return may_fill(self.article)

    @functools.cached_property
    def filled(self):
        rows = list(
            Recommendation.objects.filter(article_id=self.article.pk, source=Recommendation.Source.FILLED)
            .select_related("target")
            .only("pk", "reason", "position", "target__headline", "target__published_at", "target__status",
                  "target__deleted_at")
            .order_by("position", "pk")
        )
        for row in rows:
            row.shown = row.target.is_live
        return rows

    @functools.cached_property
    def suggestions(self):
        return suggestions(self.article)


class PicksFormSet(BaseInlineFormSet):
    """The 推荐阅读 inline: the editors' picks only. A story the system had filled in and an
    editor now picks stops being a filled row before the pick is saved (one row per story)."""

    def get_queryset(self):
        return super().get_queryset().filter(source=Recommendation.Source.PICKED)

    def clean(self):
        # Before Django's own check of unique rows, whose message names no story.
        seen = set()
        for form in self.forms:
            target = getattr(form, "cleaned_data", {}).get("target")
            if target is None or self._should_delete_form(form):
                continue
            if self.instance.pk and target.pk == self.instance.pk:
                raise ValidationError(_("A story cannot recommend itself: choose another story."), code="self")
            if target.pk in seen:
                raise ValidationError(
                    _("“%(headline)s” is picked twice: keep one row.") % {"headline": target.headline}, code="twice"
                )
            seen.add(target.pk)
        super().clean()

    def save(self, commit=True):
        targets = [
            form.cleaned_data["target"].pk
            for form in self.forms
            if form.has_changed() and form.cleaned_data.get("target") and not self._should_delete_form(form)
        ]
        if targets and self.instance.pk:
            Recommendation.objects.filter(
                article_id=self.instance.pk, target_id__in=targets, source=Recommendation.Source.FILLED
            ).delete()
        return super().save(commit)
