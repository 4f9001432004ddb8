"""Where something is still used, told the way an editor thinks: by story.

When a section, outlet, person or photo cannot be deleted because stories still
use it (their foreign keys are PROTECT), the admin's delete pages list the
stories instead of Django's list of protected rows (a byline, a photo placement).
"""

from django import template
from django.contrib.admin.utils import NestedObjects
from django.db import router
from django.urls import NoReverseMatch, reverse

register = template.Library()

SHOWN_PER_OBJECT = 20


def _user_facing(protected):
    """The story a protected row belongs to (a byline, a placement), or the row itself."""
    owner = getattr(protected, "article", None)
    return owner if owner is not None and hasattr(owner, "_meta") else protected


def _admin_url(obj):
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def uses_of(obj):
    """What keeps `obj` from being deleted: [{"kind", "name", "url"}, ...], stories first."""
    collector = NestedObjects(using=router.db_for_write(type(obj)))
    collector.collect([obj])
    seen, uses = set(), []
    for protected in collector.protected:
        user = _user_facing(protected)
        key = (user._meta.label, user.pk)
        if key in seen:
            continue
        seen.add(key)
        uses.append({"kind": user._meta.verbose_name, "name": str(user), "url": _admin_url(user), "label": key[0]})
    uses.sort(key=lambda use: (use["label"] != "articles.Article", use["kind"], use["name"]))
    return uses


@register.simple_tag
def where_used(objects):
    """[{"object", "kind", "uses", "more"}, ...] for each of `objects` that something still uses."""
    if hasattr(objects, "_meta"):
        objects = [objects]
    found = []
    for obj in objects:
        uses = uses_of(obj)
        if uses:
            found.append(
                {
                    "object": obj,
                    "kind": obj._meta.verbose_name,
                    "uses": uses[:SHOWN_PER_OBJECT],
                    "more": max(0, len(uses) - SHOWN_PER_OBJECT),
                }
            )
    return found


def describe_uses(protected_objects, limit=5):
    """A one-line list of what the protected rows belong to: 稿件 “…”, 稿件 “…” …"""
    names = []
    for protected in protected_objects:
        user = _user_facing(protected)
        name = f"{user._meta.verbose_name} “{user}”"
        if name not in names:
            names.append(name)
    shown = ", ".join(names[:limit])
    return shown + (" …" if len(names) > limit else "")
