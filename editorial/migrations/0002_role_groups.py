"""Create the newsroom's role groups with their permissions (记者/通讯员, 初审编辑, 责任编辑, 总编辑).

Permissions are normally created after migrate; they are created here first so
this works on a fresh database. Re-running only brings the groups back in line
with editorial.roles.ROLES; it never duplicates a group.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def sync_role_groups(apps, schema_editor):
    from editorial.roles import sync_roles

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps)


def remove_role_groups(apps, schema_editor):
    from editorial.roles import GROUP_NAMES

    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_NAMES.values()).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("editorial", "0001_review_history_and_versions"),
        ("articles", "0002_correction"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(sync_role_groups, remove_role_groups)]
