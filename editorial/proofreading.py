"""三校 proofreading: what each review stage found in a story, and what escaped into print.

Each review step records its proofreading with it, in the same transaction
(editorial.workflow): 初审 when the first-review editor passes the story on, 终审 when the
责任编辑 signs it off. A record counts the errors found by kind and the characters read;
left empty, the characters read are the story's character count (`character_count`) and
the errors found are none.

A correction after publication (更正) admits errors that escaped: its record, at the stage
"after publication", counts them by kind as the correction form gives them. A public
correction always corrects at least one error, so one that names no kind counts as one
「其他」: leaving the kinds empty never makes a desk's 差错率 look better. An edit of a live
story with an internal note only counts the errors it names, if any.

The 差错率 report (editorial.error_rate) adds the records up.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.demo import demo_stories_made
from articles.models import Article, Correction, Person
from articles.sanitize import body_text

from .models import ProofreadingRecord, ReviewEvent

KINDS = ProofreadingRecord.KINDS
Stage = ProofreadingRecord.Stage
MAX_COUNT = 9_999
MAX_CHARACTERS = 10_000_000
_SPACE = re.compile(r"\s+")


def kind_label(kind):
    return ProofreadingRecord._meta.get_field(kind).verbose_name


def character_count(article):
    """The characters of the story's body text, as a proofreader counts them: every
    character and punctuation mark, without markup and without white space."""
    text = body_text(article.body)
    return len(_SPACE.sub("", text))


@dataclass(frozen=True)
class Proofread:
    """What one proofreading found: {kind: count} and the characters read (None: the
    story's character count). Checked when made, so a step never starts with a bad one."""

    errors: dict = field(default_factory=dict)
    characters: int | None = None

    def __post_init__(self):
        unknown = set(self.errors) - set(KINDS)
        if unknown:
            raise ValueError(f"Unknown kinds of error: {sorted(unknown)}")
        for count in self.errors.values():
            if not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
                raise ValidationError(_("Give each count of errors as a whole number from 0 to 9999."), code="bad_count")
        if self.characters is not None and (not isinstance(self.characters, int) or not 1 <= self.characters <= MAX_CHARACTERS):
            raise ValidationError(_("Give the characters read as a whole number of at least 1."), code="bad_characters")
        if self.characters is not None and self.total > self.characters:
            raise ValidationError(_("More errors than characters read: please check the counts."), code="more_errors_than_characters")

    @property
    def total(self):
        return sum(self.errors.values())


def _count_field(kind):
    return forms.IntegerField(
        label=kind_label(kind),
        min_value=0,
        max_value=MAX_COUNT,
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_COUNT, "step": 1, "class": "error-count", "placeholder": "0"}),
    )


class ProofreadingForm(forms.Form):
    """The proofreading of one review stage, posted with its step (prefix "proof")."""

    prefix = "proof"

    def __init__(self, *args, article, **kwargs):
        super().__init__(*args, **kwargs)
        self.article = article
        self.default_characters = character_count(article)
        for kind in KINDS:
            self.fields[kind] = _count_field(kind)
        self.fields["characters"] = forms.IntegerField(
            label=_("Characters read"),
            min_value=1,
            max_value=MAX_CHARACTERS,
            required=False,
            widget=forms.NumberInput(attrs={"min": 1, "step": 1, "placeholder": self.default_characters}),
            help_text=_("Empty: the story's %(n)s characters.") % {"n": self.default_characters},
        )

    def count_fields(self):
        return [self[kind] for kind in KINDS]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.result = Proofread(
            errors={kind: cleaned.get(kind) or 0 for kind in KINDS},
            characters=cleaned.get("characters") or self.default_characters or None,
        )
        return cleaned


def from_post(data, article):
    """The Proofread posted with a review step; ValidationError (saying what is wrong) if the
    counts are not counts. Nothing posted: no errors found, the story's characters read."""
    form = ProofreadingForm(data, article=article)
    if not form.is_valid():
        problems = []
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else None
            problems += [_("%(field)s: %(error)s") % {"field": label, "error": error} if label else str(error) for error in errors]
        raise ValidationError(" ".join(problems), code="bad_proofreading")
    return form.result


class EscapedErrorsForm(forms.Form):
    """The kinds of error a correction of a published story corrects (fields "escaped_<kind>").

    A base of the story's change form (editorial.forms.ArticleAdminForm)."""

    escaped_typo = _count_field("typo")
    escaped_punctuation = _count_field("punctuation")
    escaped_grammar = _count_field("grammar")
    escaped_fact = _count_field("fact")
    escaped_number = _count_field("number")
    escaped_names = _count_field("names")
    escaped_political = _count_field("political")
    escaped_other = _count_field("other")

    ESCAPED_FIELDS = tuple(f"escaped_{kind}" for kind in KINDS)

    def escaped_errors(self):
        """{kind: count} of the errors this correction corrects, the kinds left empty out."""
        cleaned = getattr(self, "cleaned_data", {})
        return {kind: cleaned[f"escaped_{kind}"] for kind in KINDS if cleaned.get(f"escaped_{kind}")}


# --- recording, inside the step's transaction ----------------------------------------------


def record_review(article, event, proofread=None):
    """The proofreading of the review step `event` recorded on `article` (pass_first_review
    or sign_off); called by the workflow inside the step's transaction."""
    proofread = proofread or Proofread()
    if event.action == ReviewEvent.Action.PASSED:
        stage, editor = Stage.FIRST_REVIEW, article.first_review_editor
    else:
        stage, editor = Stage.FINAL_REVIEW, article.responsible_editor
    return ProofreadingRecord.objects.create(
        article=article,
        stage=stage,
        event=event,
        editor=editor,
        editor_name=event.actor_name,
        characters=proofread.characters or character_count(article),
        created_at=event.created_at,
        **{kind: proofread.errors.get(kind, 0) for kind in KINDS},
    )


def record_escaped(article, event, errors, *, public):
    """The errors a change to a published story corrected, counted as escaped: for a public
    correction (`public`), one 「其他」 when it names no kind; for an internal note, only
    those it names. Returns the record, or None when there is nothing to count."""
    errors = {kind: count for kind, count in (errors or {}).items() if count}
    Proofread(errors=errors)  # checks the counts
    if not errors:
        if not public:
            return None
        errors = {"other": 1}
    actor = event.actor
    return ProofreadingRecord.objects.create(
        article=article,
        stage=Stage.PUBLISHED,
        event=event,
        editor=Person.for_user(actor) if actor else None,
        editor_name=event.actor_name,
        characters=0,
        created_at=event.created_at,
        **{kind: errors.get(kind, 0) for kind in KINDS},
    )


# --- the demo site: realistic records for generate_demo_stories ----------------------------

# Errors per 10,000 characters of a raw manuscript caught at 初审 (终审 catches about a fifth of that).
_FOUND_RATES = {"typo": 14, "punctuation": 10, "grammar": 5, "fact": 1.5, "number": 2.5, "names": 2, "political": 0.3, "other": 2}
# The escaped rate each demo desk runs at, per 10,000 published characters (3 passes).
_DESK_RATES = {"local": 2.2, "politics": 0.9, "economy": 3.6, "society": 4.6, "culture": 1.8, "sports": 3.2}
_ESCAPED_KINDS = ["typo"] * 8 + ["punctuation"] * 3 + ["number"] * 3 + ["names"] * 3 + ["fact"] * 2 + ["grammar", "other"]
_DEMO_NOTES = {
    "typo": "文中有错别字，现已更正。",
    "punctuation": "文中标点使用有误，现已更正。",
    "grammar": "文中有一处语病，现已更正。",
    "fact": "文中所述时间有误，现已更正。",
    "number": "文中数字有误，现已更正。",
    "names": "文中人名有误，现已更正。",
    "political": "文中表述不当，现已更正。",
    "other": "文中有误，现已更正。",
}


def _poisson(rng, mean):
    """A count of rare errors, Knuth's way (the means here are small)."""
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@receiver(demo_stories_made, dispatch_uid="editorial.proofreading.demo")
def make_demo_proofreading(sender, stories, rng, now=None, **kwargs):
    """Proofreading at both stages for the demo stories that passed them, and 更正 on some
    published ones, so that the 差错率 report renders with real numbers: each desk's escaped
    rate lands near its own figure in _DESK_RATES, some above the 万分之三 line."""
    now = now or timezone.now()
    records, published = [], {}
    for story in stories:
        characters = character_count(story)
        if not characters:
            continue
        published_at = story.published_at or now
        if story.first_review_editor_id:
            records.append(_demo_record(rng, story, Stage.FIRST_REVIEW, story.first_review_editor, characters, 1.0,
                                        published_at - timedelta(minutes=rng.randint(40, 300))))
        if story.responsible_editor_id:
            records.append(_demo_record(rng, story, Stage.FINAL_REVIEW, story.responsible_editor, characters, 0.2,
                                        published_at - timedelta(minutes=rng.randint(5, 35))))
            if story.status == Article.Status.PUBLISHED and story.published_at <= now:
                published.setdefault(story.section.slug if story.section_id else "", []).append((story, characters))
    ProofreadingRecord.objects.bulk_create(records)
    for slug, desk in sorted(published.items()):
        rate = _DESK_RATES.get(slug, 2.5) * rng.uniform(0.8, 1.2)
        escaped = round(rate * sum(characters for _, characters in desk) / 10_000)
        for story, _characters in rng.sample(desk, min(len(desk), escaped)):
            _demo_correction(rng, story, now)


def _demo_record(rng, story, stage, editor, characters, share, when):
    counts = {kind: _poisson(rng, rate * share * characters / 10_000) for kind, rate in _FOUND_RATES.items()}
    return ProofreadingRecord(article=story, stage=stage, editor=editor, editor_name=editor.name,
                              characters=characters, created_at=when, **counts)


def _demo_correction(rng, story, now):
    kind = rng.choice(_ESCAPED_KINDS)
    when = min(now, story.published_at + timedelta(minutes=rng.randint(30, 60 * 48)))
    editor = story.responsible_editor
    note = _DEMO_NOTES[kind]
    Correction.objects.create(article=story, note=note, created_at=when, created_by_name=editor.name)
    event = ReviewEvent.objects.create(
        article=story, action=ReviewEvent.Action.CORRECTED, actor_name=editor.name, from_status=story.status,
        to_status=story.status, note=note, version=story.version, created_at=when,
    )
    ProofreadingRecord.objects.create(article=story, stage=Stage.PUBLISHED, event=event, editor=editor,
                                      editor_name=editor.name, characters=0, created_at=when, **{kind: 1})

