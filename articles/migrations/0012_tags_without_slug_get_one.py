"""Give every tag saved with an empty slug the slug new tags get (articles/tags.py).

A tag whose name has no letter or digit ("🔥", ">") used to be saved with slug "", and a
page printing it could not be rendered. Such a tag now gets "t-" and 8 hex digits of the
SHA-1 of its name; this gives the same slug to those already stored. Backwards it
changes nothing: the new slugs are harmless under the old code too.
"""

import hashlib

from django.db import migrations


def fill_empty_slugs(apps, schema_editor):
    Tag = apps.get_model("taggit", "Tag")
    for tag in Tag.objects.filter(slug=""):
        # The rule of articles.tags.fallback_slug, written out: a migration keeps its own copy.
        tag.slug = "t-" + hashlib.sha1(tag.name.encode("utf-8")).hexdigest()[:8]
        tag.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0011_lz4_compression"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(fill_empty_slugs, migrations.RunPython.noop)]
