#!/usr/bin/env python
"""Snapshot every public page of the site as an anonymous reader sees it, and compare snapshots.

Made to prove that a refactor (modules moving between apps) leaves the readers' HTML
byte-identical. It imports nothing of the project by module path: it sets up Django from
DJANGO_SETTINGS_MODULE (newsroom.settings) and crawls through django.test.Client (the full
middleware stack), starting from a fixed list of root URLs and following every same-site link
found in the pages, feeds, sitemaps and robots.txt.

    python bench/html_snapshot.py OUT_DIR [--now 2026-12-02T23:00:00Z] [--page-size 5]
    python bench/html_snapshot.py OUT_DIR --compare OTHER_DIR

Run from a project checkout with DATABASE_URL and MEDIA_ROOT set. Crawl a *copy* of the
database: pages should not write to it, but a photo without renditions gets them (with random
file names) on first view.

What is saved, per URL: the response body as OUT_DIR/<sanitized path>.html|.xml|.txt (a
redirect's file starts with "Location: <target>"), and a row of OUT_DIR/INDEX.tsv:
path, status, sha256 (of the saved file), content type, file name. Other headers are not saved.
OUT_DIR/META.txt records how the crawl was run (not compared).

Normalised in the saved bodies (things that legitimately differ per request):
  * nonce="..." attributes (the Content-Security-Policy nonce is new on every response);
  * csrfmiddlewaretoken values (none on today's anonymous pages; masked per request if any).

The clock: pages depend on "now" (scheduled stories go live by time, the news sitemap lists
the last 48 hours). --now (or HTML_SNAPSHOT_NOW) freezes the clock at that instant for the
whole crawl (time-machine, a dev dependency); give both runs of a comparison the same value.

Environment defaults set here when unset: DJANGO_SETTINGS_MODULE=newsroom.settings, DEBUG=1
(so static files need no collectstatic), SECRET_KEY (a throwaway value for the run), and
always NEWSROOM_PAGE_CACHE_SECONDS=0 so every page is built, not replayed from the page
cache. After set-up settings.DEBUG is turned off, so error pages are the ones readers get
(404.html, 500.html) rather than Django's technical pages, which list URL patterns and
module paths and would change with any refactor.

--compare OTHER_DIR compares two existing snapshots (no crawl, no Django): pages present in
only one, a different status / content type, or different bytes (with a short unified diff).
Exit status 1 if anything differs, 0 if identical.
"""

import argparse
import difflib
import hashlib
import os
import re
import sys
from collections import deque
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urljoin, urlsplit

HOST = "testserver"

# Where the crawl starts. Everything else is discovered from the links in these pages.
ROOTS = [
    "/",
    "/robots.txt",
    "/sitemap.xml",
    "/feeds/rss.xml",
    "/feeds/atom.xml",
    "/search/",
    "/search/?q=书记论坛",
    "/search/?q=历城",
    "/search/?q=工作",  # a common word: in most demo stories' bodies, several result pages
    "/search/?q=量子通信",  # no hits
    "/this-page-does-not-exist/",  # the 404 page
    "/stories/999999999/",  # a story that does not exist
]
# Followed links under these prefixes are not part of the readers' HTML.
SKIP_PREFIXES = ("/static/", "/media/", "/admin/", "/review/", "/i18n/", "/healthz")
# A story's short address; after the crawl, /stories/<pk>/ is also fetched for every pk up to
# a little past the highest one seen, so the redirects to the canonical addresses, and the
# answers for stories readers cannot see (404, withdrawn 410), are part of the snapshot.
STORY_PATH = re.compile(r"^/stories/(\d+)/")
STORY_PROBE_MARGIN = 10
MAX_PAGES = 20000

NORMALISE = [
    # CSP nonce: random per response (django-csp). Every nonce="..." attribute becomes the same.
    (re.compile(rb'nonce="[^"]*"'), b'nonce="NONCE"'),
    (re.compile(rb"nonce='[^']*'"), b"nonce='NONCE'"),
    # CSRF token in forms: masked differently on every response.
    (re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*"'), rb'\1CSRF"'),
]


def normalise(body):
    for pattern, replacement in NORMALISE:
        body = pattern.sub(replacement, body)
    return body


# ---------------------------------------------------------------------------------------------
# Link discovery
# ---------------------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("a", "link", "area") and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower().split()
            if tag == "link" and ({"stylesheet", "icon", "preload", "modulepreload", "manifest"} & set(rel)):
                return
            self.found.append(attrs["href"])
        elif tag == "form" and (attrs.get("method") or "get").lower() == "get" and attrs.get("action"):
            self.found.append(attrs["action"])


_XML_URL = re.compile(r"""(?:<loc>|<link>|<id>|<guid[^>]*>|href=")\s*([^<"\s]+)""")
_ROBOTS_URL = re.compile(r"^\s*(?:Sitemap|Allow)\s*:\s*(\S+)", re.I | re.M)


def links_in(base, content_type, body):
    text = body.decode("utf-8", "replace")
    if "html" in content_type:
        parser = _Links()
        parser.feed(text)
        candidates = parser.found
    elif "xml" in content_type:
        candidates = [m.group(1).replace("&amp;", "&") for m in _XML_URL.finditer(text)]
    elif "text/plain" in content_type:
        candidates = [m.group(1) for m in _ROBOTS_URL.finditer(text)]
    else:
        candidates = []
    out = []
    for href in candidates:
        local = same_site(urljoin("http://%s%s" % (HOST, base), href.strip()))
        if local:
            out.append(local)
    return out


def same_site(url):
    """The crawl's key for a URL of this site worth crawling, else None: the path decoded
    ('/tags/泉水/'), the query re-encoded in one canonical form ('?q=%E5%8E%86&page=2')."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc not in (HOST, HOST + ":80"):
        return None
    path = unquote(parts.path) or "/"
    if path.startswith(SKIP_PREFIXES):
        return None
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return path + ("?" + query if query else "")


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w.\-=&%+,@~]")


def file_name(url, content_type):
    """A flat file name for `url`, the same for a URL in every run: '/' -> '_home',
    '/a/b/' -> 'a~b', '?' -> '@'. A name that had to be changed to be safe, or is too long,
    gets a hash of the URL so that it stays unique."""
    path, _, query = url.partition("?")
    name = path.strip("/").replace("/", "~") or "_home"
    if query:
        name += "@" + unquote_plus(query)
    safe = _UNSAFE.sub("_", name)
    if safe != name or "~" in path or "@" in path or len(safe.encode()) > 150:
        safe = safe[:100] + "-" + hashlib.sha256(url.encode()).hexdigest()[:12]
    name = safe
    if "html" in content_type:
        ext = ".html"
    elif "xml" in content_type:
        ext = ".xml"
    elif content_type.startswith("text/"):
        ext = ".txt"
    else:
        ext = ".bin"
    return name if name.endswith(ext) else name + ext


# ---------------------------------------------------------------------------------------------
# Crawl
# ---------------------------------------------------------------------------------------------


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("SECRET_KEY", "html-snapshot-throwaway-key")
    os.environ["NEWSROOM_PAGE_CACHE_SECONDS"] = "0"
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    from django.conf import settings

    # Readers never see the technical 404/500 pages (see the module docstring).
    settings.DEBUG = False
    return settings


def crawl(out_dir, now=None, page_size=None, verbose=False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "INDEX.tsv").exists():
        sys.exit(f"{out_dir} already holds a snapshot (INDEX.tsv); use an empty directory")
    settings = setup_django()
    if page_size:
        # Lists hold 20 stories; a small demo database then never shows a second page.
        settings.NEWSROOM_PAGE_SIZE = page_size

    traveller = None
    if now:
        try:
            import time_machine
        except ImportError:
            sys.exit("--now needs time-machine (pip install -r requirements-dev.txt)")

        when = datetime.fromisoformat(now.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        # tick=False: the clock stands still, so nothing depends on how long the crawl takes.
        traveller = time_machine.travel(when, tick=False)
        traveller.start()

    from django.test import Client

    client = Client(raise_request_exception=False, HTTP_HOST=HOST)
    queue, seen, rows, names = deque(), set(), [], {}

    def add(url):
        if url not in seen:
            seen.add(url)
            queue.append(url)

    for root in ROOTS:
        add(same_site("http://%s%s" % (HOST, root)))
    probed = False
    errors = 0
    while True:
        if not queue:
            if probed:
                break
            # Every /stories/<pk>/ up to a little past the highest story id that answered
            # (not the made-up one among the roots).
            probed = True
            answered = (STORY_PATH.match(row[0]) for row in rows if int(row[1]) < 400)
            top = max((int(m.group(1)) for m in answered if m), default=0)
            for pk in range(1, top + STORY_PROBE_MARGIN + 1):
                add(f"/stories/{pk}/")
            continue
        if len(rows) >= MAX_PAGES:
            print(f"stopped at {MAX_PAGES} pages", file=sys.stderr)
            break
        url = queue.popleft()
        response = client.get(url)
        if getattr(response, "exc_info", None):
            errors += 1
            print(f"ERROR {url}: {response.exc_info[1]!r}", file=sys.stderr)
        content_type = response.get("Content-Type", "")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        location = response.get("Location")
        if location is not None:
            body = b"Location: " + location.encode() + b"\n" + body
            target = same_site(urljoin("http://%s%s" % (HOST, url), location))
            if target:
                add(target)
        elif response.status_code == 200:
            for link in links_in(url, content_type, body):
                add(link)
        body = normalise(body)
        name = file_name(url, content_type)
        if name in names:
            sys.exit(f"file name clash: {url} and {names[name]} -> {name}")
        names[name] = url
        (out_dir / name).write_bytes(body)
        digest = hashlib.sha256(body).hexdigest()
        rows.append((url, str(response.status_code), digest, content_type, name))
        if verbose:
            print(response.status_code, url, file=sys.stderr)

    if traveller is not None:
        traveller.stop()
    rows.sort()
    with open(out_dir / "INDEX.tsv", "w", encoding="utf-8") as index:
        index.write("path\tstatus\tsha256\tcontent_type\tfile\n")
        for row in rows:
            index.write("\t".join(row) + "\n")
    db = settings.DATABASES["default"]
    (out_dir / "META.txt").write_text(
        f"now\t{now or 'real clock (not frozen)'}\n"
        f"database\t{db['ENGINE']} {db['NAME']}\n"
        f"media_root\t{settings.MEDIA_ROOT}\n"
        f"page_size\t{page_size or 'default'}\n"
        f"cwd\t{os.getcwd()}\n"
        f"pages\t{len(rows)}\n",
        encoding="utf-8",
    )
    statuses = {}
    for row in rows:
        statuses[row[1]] = statuses.get(row[1], 0) + 1
    print(f"{len(rows)} pages in {out_dir} ({', '.join(f'{n} x {s}' for s, n in sorted(statuses.items()))})")
    if errors:
        print(f"{errors} pages raised an exception (saved as their 500 page)", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Compare
# ---------------------------------------------------------------------------------------------


def read_index(directory):
    index = Path(directory) / "INDEX.tsv"
    if not index.exists():
        sys.exit(f"{index}: no snapshot there")
    rows = {}
    with open(index, encoding="utf-8") as f:
        next(f)
        for line in f:
            path, status, digest, content_type, name = line.rstrip("\n").split("\t")
            rows[path] = (status, digest, content_type, name)
    return rows


def meta(directory, key):
    path = Path(directory) / "META.txt"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(key + "\t"):
                return line.split("\t", 1)[1]
    return None


def compare(new_dir, old_dir, context=3, max_lines=40):
    old, new = read_index(old_dir), read_index(new_dir)
    for key in ("now", "page_size"):
        if meta(old_dir, key) != meta(new_dir, key):
            print(f"warning: the snapshots were taken with different {key}: {meta(old_dir, key)} / {meta(new_dir, key)}")
    differing = 0
    for path in sorted(set(old) | set(new)):
        if path not in new:
            print(f"ONLY IN {old_dir}: {path} ({old[path][0]})")
            differing += 1
            continue
        if path not in old:
            print(f"ONLY IN {new_dir}: {path} ({new[path][0]})")
            differing += 1
            continue
        (o_status, o_digest, o_type, o_name), (n_status, n_digest, n_type, n_name) = old[path], new[path]
        if (o_status, o_digest, o_type) == (n_status, n_digest, n_type):
            continue
        differing += 1
        what = [f"status {o_status} -> {n_status}"] if o_status != n_status else []
        what += [f"content type {o_type!r} -> {n_type!r}"] if o_type != n_type else []
        print(f"DIFFERS {path}" + (": " + ", ".join(what) if what else ""))
        if o_digest != n_digest:
            a = (Path(old_dir) / o_name).read_text(encoding="utf-8", errors="replace")
            b = (Path(new_dir) / n_name).read_text(encoding="utf-8", errors="replace")
            # Pages are often one long line: split at tags so the diff shows where.
            a_lines = re.sub(r">\s*<", ">\n<", a).splitlines(keepends=True)
            b_lines = re.sub(r">\s*<", ">\n<", b).splitlines(keepends=True)
            diff = list(difflib.unified_diff(a_lines, b_lines, f"{old_dir}/{o_name}", f"{new_dir}/{n_name}", n=context))
            for line in diff[:max_lines]:
                sys.stdout.write(line if line.endswith("\n") else line + "\n")
            if len(diff) > max_lines:
                print(f"... ({len(diff) - max_lines} more diff lines)")
    print(f"{differing} of {len(set(old) | set(new))} pages differ" if differing else
          f"identical: {len(new)} pages")
    return 1 if differing else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="where the snapshot is written (or, with --compare, an existing one)")
    parser.add_argument("--compare", metavar="OTHER_DIR", help="compare OUT_DIR with this snapshot; no crawl")
    parser.add_argument("--now", default=os.environ.get("HTML_SNAPSHOT_NOW"),
                        help="freeze the clock at this ISO instant for the crawl, e.g. 2026-12-02T23:00:00Z")
    parser.add_argument("--page-size", type=int, metavar="N",
                        help="stories per list page (sets settings.NEWSROOM_PAGE_SIZE), to reach the "
                        "keyset pagination on a small database; default: the site's own")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each URL as it is fetched")
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(args.out_dir, args.compare))
    crawl(args.out_dir, now=args.now, page_size=args.page_size, verbose=args.verbose)


if __name__ == "__main__":
    main()
