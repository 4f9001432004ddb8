"""The read model (delivery.models): stored pages and the invalidations that guard them."""

from django.db import migrations, models


def postgresql_indexes(apps, schema_editor):
    """On PostgreSQL: a GIN index over the keys (a change deletes the pages showing it without a
    scan), and LZ4 for the bodies where the server has it (faster to read back than pglz)."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX delivery_storedpage_keys_gin ON delivery_storedpage USING GIN (keys)")
        cursor.execute("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
        if row and "lz4" in (row[0] or []):
            cursor.execute("ALTER TABLE delivery_storedpage ALTER COLUMN content SET COMPRESSION lz4")


def drop_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS delivery_storedpage_keys_gin")



class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='StoredPage',
            fields=[
                ('address', models.TextField(primary_key=True, serialize=False)),
                ('path', models.TextField(db_index=True)),
                ('kind', models.CharField(max_length=100)),
                ('deploy', models.CharField(default='', max_length=64)),
                ('status', models.PositiveSmallIntegerField()),
                ('content', models.BinaryField()),
                ('expires', models.FloatField(null=True)),
                ('meta', models.JSONField()),
                ('keys', models.JSONField()),
            ],
            options={
                'verbose_name': 'stored page',
                'verbose_name_plural': 'stored pages',
            },
        ),
        migrations.CreateModel(
            name='Invalidation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=200)),
                ('at', models.FloatField()),
            ],
            options={
                'verbose_name': 'invalidation',
                'verbose_name_plural': 'invalidations',
                'indexes': [models.Index(fields=['key', 'at'], name='delivery_in_key_ee2f44_idx'), models.Index(fields=['at'], name='delivery_in_at_baf269_idx')],
            },
        ),
        migrations.RunPython(postgresql_indexes, drop_postgresql_indexes),
    ]
