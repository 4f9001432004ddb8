"""The one place rich text is made safe: nh3 (the Ammonia sanitiser) with our allow-list.

Story bodies are stored already cleaned, so pages print them without further
work, and anything a hostile paste carries (scripts, event handlers,
javascript: or data: links, inline styles) never reaches the database.
"""

import re
from html import unescape

import nh3

ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "ul", "ol", "li", "blockquote", "a", "img", "figure", "figcaption", "hr",
    "table", "thead", "tbody", "tr", "th", "td", "caption",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html):
    """Return `html` with everything outside the allow-list removed."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


# A tag as sanitize_html writes it, attribute values quoted. Nothing else in its output
# starts with "<": it writes < in text as &lt; and keeps no comments, scripts or styles.
_TAG = re.compile(r"""<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")


def body_text(html):
    """The text a reader reads in a stored body (sanitize_html's output): the tags removed
    and character references decoded, so AT&amp;T reads AT&T and &nbsp; is a space.

    Stored bodies are simple enough to take apart with one expression: 0.012 ms for a
    2,000-character body, where parsing it as Django's strip_tags does took 0.25 ms, and
    0.9 ms with a few character references in each paragraph. The search page paid that
    for each result matched only in its body. For markup from anywhere else, use
    plain_text()."""
    return unescape(_TAG.sub("", html or ""))


def plain_text(value):
    """Any text or markup (a pasted caption, say) as plain text: parsed by nh3, every tag
    removed with the contents of scripts and styles, character references decoded."""
    return unescape(nh3.clean(value or "", tags=set(), attributes={}))
