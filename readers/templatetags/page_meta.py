"""The meta description of a public page, from its story, section, tag or person."""

import re
from html import unescape

from django import template
from django.utils.html import strip_tags
from django.utils.text import Truncator

register = template.Library()

LENGTH = 120  # characters; search engines show about this many of a Chinese description


@register.filter
def description(value, length=LENGTH):
    """`value` (plain text or a story's HTML body) as one line of plain text, cut at `length`."""
    text = re.sub(r"\s+", " ", unescape(strip_tags(str(value or "")))).strip()
    return Truncator(text).chars(int(length))
