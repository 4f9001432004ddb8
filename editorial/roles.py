"""The newsroom's roles as Django groups, and which permissions each one holds.

ROLES is the single source: `sync_roles()` makes the groups match it exactly
(re-running never duplicates), and runs after every migrate.
"""

from django.utils.translation import gettext_lazy as _

REPORTER = "reporter"
FIRST_REVIEWER = "first_reviewer"
RESPONSIBLE_EDITOR = "responsible_editor"
CHIEF_EDITOR = "chief_editor"

# role -> group name shown in the admin
GROUP_NAMES = {
    REPORTER: "记者/通讯员",
    FIRST_REVIEWER: "初审编辑",
    RESPONSIBLE_EDITOR: "责任编辑",
    CHIEF_EDITOR: "总编辑",
}
ROLE_LABELS = {
    REPORTER: _("Reporter"),
    FIRST_REVIEWER: _("First-review editor"),
    RESPONSIBLE_EDITOR: _("Responsible editor"),
    CHIEF_EDITOR: _("Chief editor"),
}

_WRITE_STORY = [
    "articles.add_article",
    "articles.change_article",
    "articles.view_article",
    "articles.add_byline",
    "articles.change_byline",
    "articles.delete_byline",
    "articles.view_byline",
    "articles.add_articleimage",
    "articles.change_articleimage",
    "articles.delete_articleimage",
    "articles.view_articleimage",
    "articles.add_relatedlink",
    "articles.change_relatedlink",
    "articles.delete_relatedlink",
    "articles.view_relatedlink",
    "articles.add_recommendation",
    "articles.change_recommendation",
    "articles.delete_recommendation",
    "articles.view_recommendation",
    "articles.add_image",
    "articles.change_image",
    "articles.view_image",
    "articles.add_person",
    "articles.view_person",
    "articles.view_section",
    "articles.view_outlet",
    "taggit.add_tag",
    "taggit.view_tag",
]
_EDIT_DESK = [
    "articles.change_person",
    "articles.add_outlet",
    "articles.change_outlet",
    "taggit.change_tag",
]

ROLES = {
    REPORTER: [*_WRITE_STORY, "articles.submit_article"],
    FIRST_REVIEWER: [*_WRITE_STORY, *_EDIT_DESK, "articles.review_article"],
    RESPONSIBLE_EDITOR: [
        *_WRITE_STORY,
        *_EDIT_DESK,
        "articles.review_article",
        "articles.sign_off_article",
        "articles.withdraw_article",
        "articles.add_section",
        "articles.change_section",
    ],
    CHIEF_EDITOR: "__all__",
}


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    if codenames == "__all__":
        return Permission.objects.filter(
            content_type__app_label__in=["articles", "editorial", "taggit", "auth"]
        )
    wanted = {tuple(name.split(".", 1)) for name in codenames}
    found = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={code for _, code in wanted},
    ).select_related("content_type")
    return [p for p in found if (p.content_type.app_label, p.codename) in wanted]


def sync_roles(apps=None):
    """Create the role groups and set their permissions to exactly ROLES. Idempotent."""
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        group.permissions.set(_permissions(apps, codenames))


def user_roles(user):
    """The role keys a user holds, by group membership (superusers hold the chief's)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    names = set(user.groups.values_list("name", flat=True))
    roles = {role for role, name in GROUP_NAMES.items() if name in names}
    if user.is_superuser:
        roles.add(CHIEF_EDITOR)
    return roles
