"""Apply the text rule (articles/text.py) once to the text already stored.

Every form now cleans what people type: control characters and bidirectional controls are
removed, line breaks become "\\n" in a multi-line field and a space in a single-line one.
Text saved before that rule can still carry them, and pages print it as it is, where a
U+202E turns the letters around it on screen. This cleans every typed text column of the
stories, photos, people, sections, outlets, corrections, related links and tags.

Only rows whose text changes are written, with bulk_update of those fields alone, so
`Article.updated_at` (auto_now) and every other column keep their values. The tables are
read in batches by primary key, and the database itself picks the rows that need a look,
so memory stays flat at a million stories.

A name that must be unique (section, outlet, tag) whose cleaned form another row already
holds gets " (2)", " (3)"... so the two stay apart and an editor can see and merge them;
a tag keeps its slug, so its address does not change.

Backwards it changes nothing: the removed characters meant nothing.
"""

import re

from django.db import migrations
from django.db.models import Q

# The rule of articles.text.clean_text as it stood when this migration was written. Copied
# on purpose: a migration must do the same thing tomorrow whatever becomes of that module.
LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
REMOVED = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
# What the rule would change, written with escapes so that PostgreSQL's regular expressions
# (~) and Python's (Django's REGEXP on SQLite) read the same pattern.
UNCLEAN_MULTI_LINE = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
UNCLEAN_SINGLE_LINE = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]"

BATCH = 1000

# (app, model, single-line fields, multi-line fields, unique fields among them)
COLUMNS = [
    (
        "articles",
        "Article",
        ["kicker", "headline", "subtitle", "slug", "dateline_place", "author_line"],
        ["summary", "body"],
        [],
    ),
    ("articles", "Image", ["credit", "alt_text", "original_filename"], ["caption"], []),
    ("articles", "Person", ["name"], ["bio"], []),
    ("articles", "Section", ["name"], ["description"], ["name"]),
    ("articles", "Outlet", ["name"], [], ["name"]),
    ("articles", "Correction", ["created_by_name"], ["note"], []),
    ("articles", "RelatedLink", ["title"], [], []),
    ("taggit", "Tag", ["name"], [], ["name"]),
]


def clean(value, multiline):
    if not isinstance(value, str):
        return value
    value = REMOVED.sub("", LINE_BREAKS.sub("\n", value))
    if not multiline:
        value = value.replace("\n", " ").replace("\t", " ")
    return value


def needs_a_look(single, multi):
    """A condition matching the rows where some field may change."""
    condition = Q()
    for name in single:
        condition |= Q(**{f"{name}__regex": UNCLEAN_SINGLE_LINE})
    for name in multi:
        condition |= Q(**{f"{name}__regex": UNCLEAN_MULTI_LINE})
    return condition


def free_value(model, name, value, pk, max_length):
    """`value`, or `value (2)`, `(3)`... if another row holds it (unique columns)."""
    others = model._default_manager.exclude(pk=pk)
    candidate, n = value, 1
    while others.filter(**{name: candidate}).exists():
        n += 1
        suffix = f" ({n})"
        candidate = value[: max_length - len(suffix)] + suffix
    return candidate


def clean_model(model, single, multi, unique):
    fields = single + multi
    rows = model._default_manager.filter(needs_a_look(single, multi)).only("pk", *fields).order_by("pk")
    last = None
    while True:
        batch = list((rows if last is None else rows.filter(pk__gt=last))[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        changed, changed_fields = {}, set()
        for row in batch:
            for name in fields:
                before = getattr(row, name)
                after = clean(before, multiline=name in multi)
                if after == before:
                    continue
                if name in unique:
                    # Written at once, so that two rows cleaning to the same name stay apart.
                    after = free_value(model, name, after, row.pk, model._meta.get_field(name).max_length)
                    model._default_manager.filter(pk=row.pk).update(**{name: after})
                    continue
                setattr(row, name, after)
                changed[row.pk] = row
                changed_fields.add(name)
        if changed:
            # Only the fields that changed in this batch; auto_now fields are not touched.
            model._default_manager.bulk_update(changed.values(), sorted(changed_fields))


def clean_stored_text(apps, schema_editor):
    for app_label, model_name, single, multi, unique in COLUMNS:
        clean_model(apps.get_model(app_label, model_name), single, multi, unique)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0012_tags_without_slug_get_one"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(clean_stored_text, migrations.RunPython.noop)]
