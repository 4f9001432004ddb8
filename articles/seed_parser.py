"""Read a saved regional news page (the text of a dzwww-style story page) into plain data.

The page's shape, top to bottom::

    headline
    2018-05-15 16:08:00 来源: 大众网 作者:
    <blank-but-indented line>        a photo
    caption                          its 图说
    ...
    大众网济南5月15日讯(记者 张帆 通讯员 张鹏)first paragraph...
    more paragraphs...
    初审编辑:尹玉涛
    责任编辑:张帆
    相关新闻
      • headline / [file.jpg] / summary [详细] / 05-15 14-55大众网   (same shape as below)
    推荐阅读
      • headline
        file.jpg                     optional thumbnail file name
        summary [详细]
        05-15 14-55大众网             short time and outlet

Parsing is pure (no database): `parse_page(text)` returns a `ParsedPage` or
raises `SeedFormatError` naming the line at fault, so an import can check the
whole file before writing anything.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .text import clean_text

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Where a saved page's lines end. Not str.splitlines(): it also ends a line at U+000B or
# U+2028, which a word processor leaves inside a line (the text rule makes them a space).
_LINE_END = re.compile(r"\r\n|\r|\n")

# Whitespace a Chinese web page uses for indentation: spaces, ideographic space, no-break space.
INDENT = " \t\u3000\u00a0\u2002\u2003"

META_RE = re.compile(
    r"^(?P<time>\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}(?::\d{2})?)\s+来源[::]\s*(?P<outlet>.*?)\s*作者[::]\s*(?P<author>.*)$"
)
DATELINE_RE = re.compile(
    r"^(?P<prefix>[^\s((]{1,30}?)(?P<month>\d{1,2})月(?P<day>\d{1,2})日(?:讯|电)"
    r"\s*(?:[((](?P<byline>[^))]*)[))])?\s*(?P<rest>.*)$"
)
EDITOR_RE = re.compile(r"^(?P<label>初审编辑|责任编辑)[::]\s*(?P<name>.+)$")
SHORT_TIME_RE = re.compile(r"^(?P<month>\d{2})-(?P<day>\d{2})\s+(?P<hour>\d{2})[-:](?P<minute>\d{2})\s*(?P<outlet>.*)$")
FILENAME_RE = re.compile(r"^[^\s/\\]+\.(?:jpe?g|png|gif|webp|bmp)$", re.IGNORECASE)
BULLET_RE = re.compile(r"^[•·●▪\-*]\s*(?P<text>.+)$")
MORE_RE = re.compile(r"\s*\[详细\]\s*$")
OUTLET_SUFFIX_RE = re.compile(r"^(?P<outlet>.+?(?:网|社|报|台|新闻|客户端))(?P<place>.*)$")

# Byline role words as printed, longest first so 摄影记者 wins over 摄影 and 记者.
ROLE_WORDS = [
    ("摄影记者", "photographer"),
    ("见习记者", "trainee_reporter"),
    ("特约记者", "special_reporter"),
    ("实习生", "intern"),
    ("通讯员", "correspondent"),
    ("记者", "reporter"),
    ("摄影", "photographer"),
    ("编辑", "editor"),
]
CHROME_HEADINGS = {"相关新闻", "推荐阅读"}


class SeedFormatError(ValueError):
    """The file does not have the shape of a saved story page."""

    def __init__(self, line_number, message):
        self.line_number = line_number
        self.message = message
        super().__init__(f"line {line_number}: {message}")


@dataclass
class ParsedPhoto:
    caption: str
    line_number: int


@dataclass
class ParsedByline:
    name: str
    role: str


@dataclass
class ParsedLinkedStory:
    headline: str
    published_at: datetime
    outlet: str
    summary: str = ""
    image_filename: str = ""
    line_number: int = 0


@dataclass
class ParsedPage:
    headline: str
    published_at: datetime
    outlet: str
    author_line: str
    photos: list = field(default_factory=list)
    dateline_outlet: str = ""
    dateline_place: str = ""
    dateline_date: date | None = None
    bylines: list = field(default_factory=list)
    paragraphs: list = field(default_factory=list)
    first_review_editor: str = ""
    responsible_editor: str = ""
    related: list = field(default_factory=list)
    recommended: list = field(default_factory=list)


def _clean(line):
    return line.strip(INDENT + "\r\n\ufeff")


def split_dateline_prefix(prefix, known_outlets=()):
    """大众网济南 -> (大众网, 济南), preferring outlets we know, then a name-like suffix."""
    for name in sorted(known_outlets, key=len, reverse=True):
        if name and prefix.startswith(name):
            return name, prefix[len(name):]
    match = OUTLET_SUFFIX_RE.match(prefix)
    if match:
        return match["outlet"], match["place"]
    return prefix, ""


def parse_byline(text, line_number):
    """记者 张帆 通讯员 张鹏 -> [(张帆, reporter), (张鹏, correspondent)]."""
    people, role = [], None
    for token in text.replace("、", " ").replace(",", " ").replace(",", " ").split():
        for word, code in ROLE_WORDS:
            if token.startswith(word):
                role, token = code, token[len(word):]
                break
        if not token:
            continue
        if role is None:
            raise SeedFormatError(line_number, f"the byline names {token!r} before any role (记者, 通讯员, 摄影…)")
        people.append(ParsedByline(name=token, role=role))
    if text.strip() and not people:
        raise SeedFormatError(line_number, f"the byline {text!r} names no person")
    return people


def _year_for(month, day, reference):
    """The year of a month-day printed near `reference` (a page shows no year)."""
    candidate = date(reference.year, month, day)
    if candidate - reference.date() > timedelta(days=180):
        return reference.year - 1
    return reference.year


def parse_page(text, known_outlets=()):
    """Parse the text of a saved story page; raise SeedFormatError on anything unexpected.

    Each line follows the newsroom's text rule (articles.text): a U+000B or U+2028 pasted
    inside a line is a space there, not a new line, and control characters are dropped.
    """
    lines = [clean_text(line) for line in _LINE_END.split(text)]
    if lines and lines[-1] == "":
        lines.pop()  # the file's final line end, as str.splitlines() reads it
    numbered = list(enumerate(lines, start=1))
    if not any(_clean(line) for line in lines):
        raise SeedFormatError(1, "the file is empty; expected the headline on the first line")

    position = 0

    def next_text():
        nonlocal position
        while position < len(numbered):
            number, raw = numbered[position]
            position += 1
            if _clean(raw):
                return number, _clean(raw)
        return None, None

    number, headline = next_text()
    if len(headline) > 200:
        raise SeedFormatError(number, "the first line should be the headline, but it is longer than 200 characters")
    meta_number, meta = next_text()
    if meta is None:
        raise SeedFormatError(number + 1, "expected the time and source line after the headline, found the end of the file")
    match = META_RE.match(meta)
    if not match:
        raise SeedFormatError(
            meta_number,
            f"expected the time, 来源 and 作者 line (like '2018-05-15 16:08:00 来源: 大众网 作者:'), found {meta[:60]!r}",
        )
    time_text = " ".join(match["time"].split())
    fmt = "%Y-%m-%d %H:%M:%S" if time_text.count(":") == 2 else "%Y-%m-%d %H:%M"
    try:
        published_at = datetime.strptime(time_text, fmt).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise SeedFormatError(meta_number, f"{match['time']!r} is not a valid date and time")
    page = ParsedPage(
        headline=headline,
        published_at=published_at,
        outlet=match["outlet"].strip(),
        author_line=match["author"].strip(),
    )
    outlets = [page.outlet, *known_outlets]

    # The story: photo markers (indented empty lines), captions, the dateline paragraph, the body.
    pending_photo = None
    seen_dateline = False
    while position < len(numbered):
        number, raw = numbered[position]
        text_line = _clean(raw)
        if text_line in CHROME_HEADINGS or EDITOR_RE.match(text_line):
            break
        position += 1
        if not text_line:
            if raw.strip("\r\n") and raw.strip(INDENT + "\r\n") == "":
                # An indented line with nothing on it is where the page had a picture.
                if pending_photo is not None:
                    page.photos.append(ParsedPhoto(caption="", line_number=pending_photo))
                pending_photo = number
            continue
        if pending_photo is not None:
            page.photos.append(ParsedPhoto(caption=text_line, line_number=pending_photo))
            pending_photo = None
            continue
        if not seen_dateline and not page.paragraphs:
            dateline = DATELINE_RE.match(text_line)
            if dateline:
                seen_dateline = True
                outlet, place = split_dateline_prefix(dateline["prefix"], outlets)
                month, day = int(dateline["month"]), int(dateline["day"])
                try:
                    page.dateline_date = date(_year_for(month, day, published_at), month, day)
                except ValueError:
                    raise SeedFormatError(number, f"the dateline date {month}月{day}日 does not exist")
                page.dateline_outlet, page.dateline_place = outlet, place
                page.bylines = parse_byline(dateline["byline"] or "", number)
                text_line = dateline["rest"].strip(INDENT)
                if not text_line:
                    continue
        page.paragraphs.append(text_line)
    if pending_photo is not None:
        page.photos.append(ParsedPhoto(caption="", line_number=pending_photo))
    if not page.paragraphs:
        raise SeedFormatError(meta_number + 1, "the story has no body paragraphs")

    # The page's chrome: the accountable editors and the two link lists.
    current_list = None
    item = None

    def finish_item():
        nonlocal item
        if item is None:
            return
        if item.get("published_at") is None:
            raise SeedFormatError(
                item["line_number"], f"the item {item['headline']!r} has no time and outlet line (like '05-15 14-55大众网')"
            )
        current_list.append(ParsedLinkedStory(**item))
        item = None

    while position < len(numbered):
        number, raw = numbered[position]
        position += 1
        text_line = _clean(raw)
        if not text_line:
            continue
        editor = EDITOR_RE.match(text_line)
        if editor:
            finish_item()
            current_list = None
            name = editor["name"].strip()
            if editor["label"] == "初审编辑":
                page.first_review_editor = name
            else:
                page.responsible_editor = name
            continue
        if text_line in CHROME_HEADINGS:
            finish_item()
            current_list = page.related if text_line == "相关新闻" else page.recommended
            continue
        if current_list is None:
            raise SeedFormatError(number, f"unexpected text after the story: {text_line[:60]!r}")
        bullet = BULLET_RE.match(text_line)
        if bullet:
            finish_item()
            item = {"headline": bullet["text"].strip(), "published_at": None, "outlet": "", "line_number": number}
            continue
        if item is None:
            raise SeedFormatError(number, f"expected a list item starting with '•', found {text_line[:60]!r}")
        short_time = SHORT_TIME_RE.match(text_line)
        if short_time:
            month, day = int(short_time["month"]), int(short_time["day"])
            try:
                year = _year_for(month, day, published_at)
                item["published_at"] = datetime(
                    year, month, day, int(short_time["hour"]), int(short_time["minute"]), tzinfo=SHANGHAI
                )
            except ValueError:
                raise SeedFormatError(number, f"{text_line[:11]!r} is not a valid month-day and time")
            item["outlet"] = short_time["outlet"].strip()
            if not item["outlet"]:
                raise SeedFormatError(number, "the time line names no outlet (like '05-15 14-55大众网')")
        elif FILENAME_RE.match(text_line) and not item.get("summary"):
            item["image_filename"] = text_line
        elif not item.get("summary"):
            item["summary"] = MORE_RE.sub("", text_line).strip()
        else:
            raise SeedFormatError(number, f"the item {item['headline']!r} has an extra line {text_line[:60]!r}")
    if current_list is not None:
        finish_item()
    return page
