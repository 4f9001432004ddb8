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
# 专题 topics: editors gather stories under them; reporters do not.
_EDIT_TOPICS = [
    f"articles.{verb}_{model}" for model in ("topic", "topicstory") for verb in ("add", "change", "delete", "view")
]

ROLES = {
    REPORTER: [*_WRITE_STORY, "articles.submit_article"],
    # Editors write stories too; they may submit their own (never review them).
    FIRST_REVIEWER: [*_WRITE_STORY, *_EDIT_DESK, *_EDIT_TOPICS, "articles.submit_article", "articles.review_article"],
    RESPONSIBLE_EDITOR: [
        *_WRITE_STORY,
        *_EDIT_DESK,
        *_EDIT_TOPICS,
        "articles.submit_article",
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


ROLES_CACHE_ATTR = "_newsroom_roles"


def user_roles(user):
    """The role keys a user holds, by group membership (superusers hold the chief's).

    Read once per user object, as Django keeps a user's permissions: a page asks for every
    row and button it shows (the admin story list asked eight times). Adding the user to a
    group or removing them through this same object forgets it (editorial.signals)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    roles = getattr(user, ROLES_CACHE_ATTR, None)
    if roles is None:
        names = set(user.groups.values_list("name", flat=True))
        roles = {role for role, name in GROUP_NAMES.items() if name in names}
        if user.is_superuser:
            roles.add(CHIEF_EDITOR)
        setattr(user, ROLES_CACHE_ATTR, frozenset(roles))
    return set(roles)


# What each step asks of the person (the story's status is workflow.py's business).
STEP_PERMISSIONS = {
    "submit": "articles.submit_article",
    "pass_first_review": "articles.review_article",
    "sign_off": "articles.sign_off_article",
    "withdraw": "articles.withdraw_article",
    "correct": "articles.withdraw_article",
}


def separation_of_duties():
    """On unless a small newsroom turns it off (NEWSROOM_SEPARATION_OF_DUTIES=0)."""
    from django.conf import settings

    return getattr(settings, "NEWSROOM_SEPARATION_OF_DUTIES", True)


def is_writer(user, article):
    """The account that wrote the story, or one standing behind a person on its byline."""
    if not user.is_authenticated or article.pk is None:
        return False
    if article.created_by_id == user.pk:
        return True
    return article.bylines.filter(person__user=user).exists()


def sees_all_stories(user):
    """Editors see every story; a reporter sees only their own."""
    return user.is_active and user.has_perm("articles.review_article")


def can(user, step, article):
    """May `user`, as a person, take `step` on `article`? (Its status is checked by the workflow.)

    Steps: the workflow's (submit, pass_first_review, send_back, sign_off,
    withdraw, correct, trash), "edit", and "manage_trash" (restore, empty: the chief's). Separation of duties: a writer never
    reviews their own story, and whoever passed first review does not sign
    off the same version, unless NEWSROOM_SEPARATION_OF_DUTIES is off.
    """
    from articles.models import Article

    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if step == "edit":
        return article.deleted_at is None and _can_edit(user, article)
    if step == "manage_trash":
        return CHIEF_EDITOR in user_roles(user)
    if step == "trash":
        if CHIEF_EDITOR in user_roles(user) or user.has_perm("articles.sign_off_article"):
            return True
        return article.status == Article.Status.DRAFT and user.has_perm("articles.change_article") and is_writer(user, article)
    if step == "send_back":
        final = article.status in {Article.Status.FINAL_REVIEW, Article.Status.SCHEDULED}
        permission = "articles.sign_off_article" if final else "articles.review_article"
    else:
        permission = STEP_PERMISSIONS[step]
    if not user.has_perm(permission):
        return False
    chief = CHIEF_EDITOR in user_roles(user)
    if step == "submit":
        return chief or is_writer(user, article)
    if step in {"pass_first_review", "send_back", "sign_off"} and separation_of_duties():
        if is_writer(user, article):
            return False
        if step == "sign_off" and article.first_review_editor_id:
            if article.first_review_editor.user_id == user.pk:
                return False
    return True


def _can_edit(user, article):
    from articles.models import Article

    if not user.has_perm("articles.change_article"):
        return False
    status = article.status
    if status == Article.Status.DRAFT:
        return is_writer(user, article) or user.has_perm("articles.review_article")
    if status == Article.Status.FIRST_REVIEW:
        return user.has_perm("articles.review_article")
    if status in {Article.Status.FINAL_REVIEW, Article.Status.SCHEDULED}:
        return user.has_perm("articles.sign_off_article")
    if status == Article.Status.PUBLISHED:
        return user.has_perm("articles.withdraw_article")  # an edit here is a correction
    return False
