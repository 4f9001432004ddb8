from django.db import migrations, models


class Migration(migrations.Migration):
    """A small partial index for finding the pinned 头条 on the home page."""

    dependencies = [
        ("articles", "0004_image_rendition_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                condition=models.Q(("is_top", True)), fields=["-published_at", "-id"], name="article_top_pub_idx"
            ),
        ),
    ]
