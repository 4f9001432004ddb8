"""Tags: how a typed or pasted list becomes tag names, and a slug for every tag.

`parse_tags` is django-taggit's parser for this site (settings.TAGGIT_TAGS_FROM_STRING),
so the story form and anything else reading a tag list split it the same way: on commas,
semicolons and the Chinese enumeration comma, half- or full-width (, ， 、 ; ；), and on
line breaks. A name in double quotes is kept whole. A list with none of these is split on
spaces, as taggit always did. Each name follows the text rule (articles.text), is trimmed,
and appears once.

Names that only look different are one tag: full-width Latin letters and digits (ＡＩ,
２０２６) are read as their half-width selves, and case does not count (AI, ai and ＡＩ are
the tag first stored; settings.TAGGIT_CASE_INSENSITIVE makes taggit find it). Full-width
punctuation is left as typed: （）and「」 are the Chinese way. A name longer than the tag table allows, or more than MAX_TAGS names,
is a form error: nothing reaches the database to fail there.

`format_tags` (settings.TAGGIT_STRING_FROM_TAGS) writes a story's tags back into the
form so that saving it unchanged gives the same tags.

Every tag gets a slug. taggit slugifies the name, which keeps letters, digits and
dashes; a name without any ("🔥", or a ">" split out of pasted text) used to get an empty
slug, and an empty slug has no address, so every page printing the tag failed. Such a
name gets "t-" and 8 hex digits of the SHA-1 of the name: short, always the same for the
same name. The pre_save receiver below gives it to every tag saved without a slug,
however the tag is made: the story form, the seed import, `article.tags.add(...)`.
"""

import hashlib
import re

from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from .text import clean_text

MAX_TAGS = 30
MAX_LENGTH = Tag._meta.get_field("name").max_length

_SEPARATORS = ",，、;；\n"
# Full-width digits and Latin letters (U+FF10-FF19, FF21-FF3A, FF41-FF5A) and the
# ideographic space, read as their half-width forms.
_HALF_WIDTH = {
    **{code: code - 0xFEE0 for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for code in range(start, end + 1)},
    0x3000: 0x20,
}


def plain_name(name):
    """A tag name with full-width letters and digits made half-width, trimmed."""
    return name.translate(_HALF_WIDTH).strip()
_TOKEN = re.compile(r'"([^"]*)"|([^"' + _SEPARATORS + r"]+)")


def parse_tags(text):
    """The tag names in `text`, in the order first given, each once.

    Raises ValidationError (a form error on the tags field) for a name longer than
    MAX_LENGTH or a list of more than MAX_TAGS names.
    """
    if not text:
        return []
    text = clean_text(text, multiline=True)
    if '"' in text or any(separator in text for separator in _SEPARATORS):
        pieces = [quoted or loose for quoted, loose in _TOKEN.findall(text)]
    else:
        pieces = text.split()
    names, seen = [], set()
    for piece in pieces:
        name = plain_name(clean_text(piece))
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    too_long = [name for name in names if len(name) > MAX_LENGTH]
    if too_long:
        raise ValidationError(
            _(
                "The tag “%(name)s…” has %(length)s characters; a tag has at most %(max)s. "
                "Separate tags with commas, enumeration commas (、) or semicolons."
            ),
            code="tag_too_long",
            params={"name": too_long[0][:20], "length": len(too_long[0]), "max": MAX_LENGTH},
        )
    if len(names) > MAX_TAGS:
        raise ValidationError(
            _("%(count)s tags given; a story has at most %(max)s tags."),
            code="too_many_tags",
            params={"count": len(names), "max": MAX_TAGS},
        )
    return names


def format_tags(tags):
    """The tags as the form shows them: names joined by ", ", quoted when they hold a
    separator or a space (the space keeps a one-tag list from being split on spaces)."""
    names = []
    for tag in tags:
        name = tag.name.replace('"', "")
        if name != name.strip() or any(c in name for c in _SEPARATORS + " "):
            name = f'"{name}"'
        names.append(name)
    return ", ".join(sorted(names))


def fallback_slug(name):
    """A short slug for a name slugify leaves nothing of; the same name gives the same slug."""
    return "t-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def give_tag_a_slug(sender, instance, **kwargs):
    """A tag is never saved without a slug (taggit leaves it empty for "🔥")."""
    if not instance.slug:
        instance.slug = fallback_slug(instance.name)


pre_save.connect(give_tag_a_slug, sender=Tag, dispatch_uid="articles-tag-slug-never-empty")
