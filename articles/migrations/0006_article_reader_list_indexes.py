from django.db import migrations, models


class Migration(migrations.Migration):
    """Partial indexes for readers' lists newest-first, and for the pinned 头条."""

    dependencies = [
        ('articles', '0005_image_rendition_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('status__in', ['published', 'scheduled'])), fields=['-published_at', '-id'], name='article_live_pub_idx'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('status__in', ['published', 'scheduled'])), fields=['section', '-published_at', '-id'], name='article_live_section_pub_idx'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('is_top', True)), fields=['-published_at', '-id'], name='article_top_pub_idx'),
        ),
    ]
