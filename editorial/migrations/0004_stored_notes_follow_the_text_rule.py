"""Apply the text rule once to the review history's and the saved versions' typed text.

The same frozen rule and the same batches as articles' migration 0013 (imported from it,
so the two cannot drift apart): reasons and notes lose control and bidirectional control
characters, a multi-line reason keeps its line breaks as "\\n". Review events stay
append-only for the application; a migration writes them with QuerySet updates. The
snapshots in Revision.data are left as they were saved. Backwards it changes nothing.
"""

from importlib import import_module

from django.db import migrations

text_rule = import_module("articles.migrations.0013_stored_text_follows_the_text_rule")


def clean_stored_notes(apps, schema_editor):
    text_rule.clean_model(apps.get_model("editorial", "ReviewEvent"), ["actor_name"], ["note"], [])
    text_rule.clean_model(apps.get_model("editorial", "Revision"), ["author_name", "note"], [], [])


class Migration(migrations.Migration):
    dependencies = [
        ("editorial", "0003_review_event_trash_actions"),
        ("articles", "0013_stored_text_follows_the_text_rule"),
    ]

    operations = [migrations.RunPython(clean_stored_notes, migrations.RunPython.noop)]
