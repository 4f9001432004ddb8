from django.db import migrations, models


class Migration(migrations.Migration):
    """Remember each photo's renditions on the photo, so pages print srcset without a query."""

    dependencies = [
        ("articles", "0004_search_entry"),
    ]

    operations = [
        migrations.AddField(
            model_name="image",
            name="rendition_index",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
    ]
