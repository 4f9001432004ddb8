"""The one rule for plain text entering the newsroom, and for printing stored text into XML.

Editors paste from word processors, chat programs and web pages, and what they paste
carries invisible characters: U+000B for Shift+Enter, U+001F and other C0/C1 control
characters, and bidirectional controls (U+202A-U+202E, U+2066-U+2069) that turn the
order of the letters around them on screen. None of them means anything in a story;
XML 1.0 forbids the control characters outright, so a single one in a headline used to
stop every feed carrying the story.

`clean_text(value, multiline=...)` is the rule. Line breaks of every kind become "\\n"
in a multi-line field (body, summary, a caption typed in a text area, a reason) and a
space in a single-line one (headline, names, credits, tags); every other control
character is removed, NUL included (it is as meaningless as the rest, and removing it
leaves nothing to explain). Ordinary text comes back unchanged, the very same string.

`TextRuleFormMixin` applies the rule to every text field of a form before its own
checks run, so a length limit is measured on what will be stored and is a form error.
"""

import re

from django import forms
from taggit.forms import TagField

# Line breaks besides "\n": CR (alone or before LF), VT (Shift+Enter in word processors),
# FF, NEL, and the Unicode line and paragraph separators.
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# C0 controls but TAB/LF/CR, DEL, the C1 controls but NEL, the bidi embeddings,
# overrides and isolates, and the two non-characters XML also refuses.
_REMOVED = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
# Anything the rule would change (used to leave ordinary text untouched, cheaply).
_UNCLEAN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_UNCLEAN_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def clean_text(value, *, multiline=False):
    """`value` with control characters removed and line breaks made "\\n" or, in a
    single-line field (`multiline=False`), spaces; tabs become spaces there too.

    Anything that is not a string (None, a number) is returned as it is.
    """
    if not isinstance(value, str):
        return value
    unclean = _UNCLEAN if multiline else _UNCLEAN_SINGLE_LINE
    if not unclean.search(value):
        return value
    value = _REMOVED.sub("", _LINE_BREAKS.sub("\n", value))
    if not multiline:
        value = value.replace("\n", " ").replace("\t", " ")
    return value


def follow_text_rule(field):
    """Make the form field `field` clean its value with `clean_text` before validating it.

    A field shown as a text area is multi-line; any other text field is single-line.
    A tag list counts as multi-line: line breaks separate tags (articles.tags.parse_tags
    then cleans each name). Fields that are not text (numbers, dates, choices, files, JSON)
    are left alone.
    """
    if not isinstance(field, forms.CharField) or isinstance(field, forms.JSONField):
        return field
    if getattr(field, "_follows_text_rule", False):
        return field
    multiline = isinstance(field.widget, forms.Textarea) or isinstance(field, TagField)
    to_python = field.to_python

    def cleaned_to_python(value):
        value = clean_text(to_python(value), multiline=multiline)
        if getattr(field, "strip", False) and isinstance(value, str):
            value = value.strip()
        return value

    field.to_python = cleaned_to_python
    field._follows_text_rule = True
    return field


class TextRuleFormMixin:
    """A form whose every text field follows `clean_text` (see `follow_text_rule`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            follow_text_rule(field)


class TextRuleModelForm(TextRuleFormMixin, forms.ModelForm):
    """The model form of the admins that need nothing else than the text rule."""
