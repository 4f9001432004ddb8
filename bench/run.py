"""`make bench`: how each page's cost grows from 10k to 1M stories, as ratios to the framework's floor.

For each archive size this
1. builds (or reuses) a PostgreSQL database of generated stories (bench/generate_stories.py),
2. starts the site the way production runs it: gunicorn, DEBUG off, a SECRET_KEY,
   PostgreSQL, collected static files; a second copy with every cache disabled
   (bench/settings_uncached.py); and the floor (bench/floor.py), a bare Django view
   returning the story page's bytes from memory, under the same gunicorn settings,
3. drives each page with wrk from a separate process (bench/wrk_report.lua), on 127.0.0.1 only,
4. counts SQL queries per page in a separate process (Django's test client and
   CaptureQueriesContext against the same database),
5. reads the gunicorn workers' memory after the run,
and prints a table, writes bench/results/<time>.json and .md, and checks the targets.

Options (command line, or environment when run through `make bench`):
  --sizes / BENCH_SIZES              archive sizes, default 10000 (e.g. 10000,100000,1000000)
  --duration / BENCH_DURATION        seconds of load per page, default 10
  --warmup / BENCH_WARMUP            seconds of unmeasured load before each page, default 2
  --connections / BENCH_CONNECTIONS  open connections, default 8
  --threads / BENCH_THREADS          wrk threads, default 2
  --workers / BENCH_WORKERS          gunicorn workers, default 2 x CPUs + 1
  --worker-class / BENCH_WORKER_CLASS  gunicorn worker class, default sync
  --pages / BENCH_PAGES              comma-separated page names to run (default all)
  --no-adjacent-floor / BENCH_ADJACENT_FLOOR=0  by default the floor is measured again (for half
                                     the duration) right before each page and each ratio uses that
                                     measurement, so a busy shared machine skews both sides alike
  --memory-requests / BENCH_MEMORY_REQUESTS  after the largest size's table, serve this many more requests
                                     and report each worker's memory growth, in % of its own
                                     memory, after each of 10 rounds (default 0: skip)
  --memory-server / BENCH_MEMORY_SERVER  where those requests go: "uncached" (default: uncached
                                     story pages across the archive) or "site" (the production
                                     settings, caches on: 200 stories and the list pages, hits
                                     mostly, each page built again every minute in every worker)
  --db-prefix / BENCH_DB_PREFIX      database names are <prefix>_10k, _100k, _1m (default newsroom_bench)
  BENCH_DATABASE_SERVER              default postgres://postgres@127.0.0.1:5432
  --port / BENCH_PORT                first of three ports used on 127.0.0.1, default 8200
  --seed / BENCH_SEED                generator seed, default 1
  --no-generate / BENCH_GENERATE=0   measure each database as it is, without generating stories up to
                                     the size (the tables name the stories actually there)
"""

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "results"

# The pages measured: (name, server, path candidates, options). The first candidate that
# answers 200 is used; a page none of whose candidates answers is reported "n/a".
# Placeholders come from the dataset: {story} one live story, {stories} many live
# stories (one picked at random per request), {section}, {section_deep}, {tag},
# {common}, {rare}. Servers: "site" (caches on), "uncached" (every cache a dummy), "floor".
PAGES = [
    ("floor", "floor", ["/"], {}),
    ("story cached", "site", ["{story}"], {}),
    ("story uncached", "uncached", ["{stories}"], {}),
    ("home", "uncached", ["/"], {}),
    ("section p1", "uncached", ["/sections/{section}/"], {}),
    ("section deep", "uncached", ["{section_deep}"], {}),
    ("tag", "uncached", ["/tags/{tag}/"], {}),
    ("person", "uncached", ["/people/{person}/"], {}),
    # The same pages built by their views (read model off): what a page costs when the read
    # model does not hold it yet, and what every page cost before it.
    ("story built", "built", ["{stories}"], {}),
    ("home built", "built", ["/"], {}),
    ("section p1 built", "built", ["/sections/{section}/"], {}),
    ("search common", "uncached", ["/search/?q={common}"], {}),
    ("search rare", "uncached", ["/search/?q={rare}"], {}),
    ("feed", "uncached", ["/feeds/rss.xml"], {}),
    ("sitemap", "uncached", ["/sitemap.xml"], {}),
    ("admin story list", "site", ["/admin/articles/article/"], {"login": True, "connections": 1}),
]

# The targets. Ratios to the floor are requests per second measured in the same run.
FLOOR_SHARE = {
    "story uncached": 0.15, "home": 0.10, "section p1": 0.10, "section deep": 0.10, "tag": 0.10, "person": 0.10,
    "story cached": 0.9,
}
P99_GROWTH = 1.25  # every page's p99 at the largest size within this of the smallest
SEARCH_P99_GROWTH = 2.0
SEARCH_P95_MS_AT_1M = 200
ADMIN_MS = 500
MEMORY_GROWTH = 0.10

PAGE_SIZE = 20  # stories per listing page, to find a deep page by number
# Query parameters of a keyset ("older than") link whose id or time can be set to a deep story's.
CURSOR_KEYS = {"before", "after", "until", "since", "cursor", "max_id", "before_id", "after_id", "last", "id", "ts"}


def size_label(size):
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


# ---------------------------------------------------------------------------------------
# Inside Django (a separate process): dataset, URLs, query counts.
# ---------------------------------------------------------------------------------------


def vacuum_loaded_tables(log):
    """VACUUM (ANALYZE) the tables that took many rows since their last vacuum; return what was done.

    A site's archive is vacuumed by autovacuum as it grows, which sets each row's commit hint
    bits and the visibility map once. A database just filled by generate_stories is not (and on
    a server with autovacuum off, never is): every page read for the first time is then written
    back with its hint bits, and index-only scans visit the table. Measuring that would measure
    the bulk load, not the site, so the tables are vacuumed first (about 3 minutes at 1M)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables "
            "WHERE n_ins_since_vacuum + n_dead_tup > 0.1 * greatest(n_live_tup, 10000) ORDER BY relname"
        )
        tables = [name for (name,) in cursor.fetchall()]
        began = time.monotonic()
        for name in tables:
            print(f"   VACUUM (ANALYZE) {name}", file=log)
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(name)}")
    return {"tables": tables, "seconds": round(time.monotonic() - began, 1)}


def prepare(size, seed, generate=True, origin="http://127.0.0.1:8202"):
    """Reach `size` generated stories, find the URLs to load, count their queries; print JSON."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from taggit.models import Tag

    from bench.generate_stories import COMMON_TERM, RARE_TERM, generated_count
    from bench.generate_stories import Command as GenerateStories
    from articles.models import Article, Section

    log = sys.stderr
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the n/a pages' 404s are expected
    have = generated_count()
    generation = None
    if have < size and not generate:
        print(f"note: {have} generated stories in this database, fewer than {size}; measured as they are", file=log)
    elif have < size:
        began = time.monotonic()
        call_command(GenerateStories(), str(size - have), "--seed", str(seed), "--batch-size", "10000",
                     *(["--append"] if have else []), stdout=log)
        generation = {"stories": size - have, "seconds": round(time.monotonic() - began, 1)}
    elif have > size:
        print(f"note: {have} generated stories in this database, more than {size}", file=log)
    vacuum = vacuum_loaded_tables(log)

    live = Article.objects.published().filter(import_key__startswith="gen:")
    # A story with everything on it: photos, 推荐阅读 picks, related links, tags.
    story = (
        live.filter(photos__isnull=False, recommendations__isnull=False, related_links__isnull=False)
        .order_by("-published_at", "-pk")
        .first()
    ) or live.order_by("-published_at", "-pk").first()
    # Live stories spread over the whole archive, sampled by id (ORDER BY random() is slow at 1M).
    import random

    low = live.order_by("pk").values_list("pk", flat=True).first() or 0
    high = live.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = random.Random(seed).sample(range(low, high + 1), min(4000, high - low + 1)) if high else []
    stories = list(live.filter(pk__in=ids).values_list("pk", flat=True)[:2000])
    story_urls = [Article(pk=pk).get_absolute_url() for pk in stories]

    section = (
        Section.objects.annotate(n=Count("articles")).order_by("-n").first()
    )
    from articles.models import Byline

    person_id = (
        Byline.objects.filter(article__in=live).values("person_id").annotate(n=Count("id")).order_by("-n")
        .values_list("person_id", flat=True).first()
    )
    tag = (
        Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n").first()
    )

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    user.is_staff = user.is_superuser = True
    user.set_unusable_password()
    user.save()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    values = {
        "story": story.get_absolute_url() if story else None,
        "stories": story_urls[0] if story_urls else None,
        "section": section.slug if section else None,
        "tag": tag.slug if tag else None,
        "person": str(person_id) if person_id else None,
        "common": COMMON_TERM,
        "rare": RARE_TERM,
    }
    anonymous, staff = Client(), Client()
    staff.force_login(user)
    # Queries are counted for pages built by their views (the cost of a read-model miss).
    settings.NEWSROOM_READ_MODEL = False

    def clear_caches():
        for alias in settings.CACHES:
            caches[alias].clear()

    def fetch(client, url):
        response = client.get(url, follow=True)
        final = response.redirect_chain[-1][0] if response.redirect_chain else url
        return response, final

    if section:
        values["section_deep"] = find_deep_page(anonymous, f"/sections/{section.slug}/", section, live)
    pages = {}
    for name, server, candidates, options in PAGES:
        if server == "floor":
            continue
        client = staff if options.get("login") else anonymous
        entry = {"status": None, "url": None}
        for candidate in candidates:
            try:
                url = candidate.format(**{k: urllib.parse.quote(v) if k in ("common", "rare", "tag") and v else v for k, v in values.items()})
            except (KeyError, AttributeError):
                continue
            if "None" in url:
                continue
            clear_caches()
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as miss:
                response, final = fetch(client, url)
            alone_ms = round((time.perf_counter() - began) * 1000, 1)
            entry["status"] = response.status_code
            if response.status_code != 200:
                continue
            with CaptureQueriesContext(connection) as hit:
                fetch(client, final)
            entry.update(url=final, queries=len(miss), queries_cached=len(hit), bytes=len(response.content),
                         alone_ms=alone_ms)
            break
        pages[name] = entry
    for name in ("story uncached", "story built"):
        if name in pages and pages[name]["url"]:
            pages[name]["urls"] = story_urls
    read_model = fill_read_model(pages, origin, log)
    json.dump({"generation": generation, "vacuum": vacuum, "stories": generated_count(), "cookie": cookie, "pages": pages,
               "read_model": read_model}, sys.stdout)


def fill_read_model(pages, origin, log):
    """Store the measured pages of the "uncached" server in the read model, as the delivery task
    does when a change commits (delivery.read_model.build), and time it: the render-on-write rate.
    The rest of the archive is not stored (`build_read_model` does the whole site)."""
    from django.conf import settings

    from delivery import read_model
    from delivery.models import StoredPage

    settings.NEWSROOM_READ_MODEL = True
    paths = []
    for name, server, _, _ in PAGES:
        entry = pages.get(name, {})
        if server == "uncached" and entry.get("url"):
            paths.extend(entry.get("urls") or [entry["url"]])
    paths = list(dict.fromkeys(paths))
    began = time.monotonic()
    stored, had, failed = read_model.build(paths, origin, rebuild=True)
    seconds = time.monotonic() - began
    print(f"   read model: {stored} pages stored for {origin} in {seconds:.1f} s ({stored / max(seconds, 1e-9):.1f} pages/s), "
          f"{len(failed)} not stored", file=log)
    return {"paths": len(paths), "stored": stored, "seconds": round(seconds, 1), "pages_per_s": round(stored / max(seconds, 1e-9), 1),
            "not_stored": failed[:20], "rows": StoredPage.objects.count()}


def find_deep_page(client, first, section, live):
    """The section's page about 90% of the way into its archive, whatever its pagination style."""
    response = client.get(first)
    if response.status_code != 200:
        return None
    html = response.content.decode("utf-8", "replace")
    match = re.search(r'<a[^>]*rel="next"[^>]*href="([^"]+)"', html) or re.search(
        r'<a[^>]*href="([^"]+)"[^>]*rel="next"', html
    )
    if not match:
        return first
    href = match.group(1).replace("&amp;", "&")
    parsed = urllib.parse.urlsplit(href)
    query = urllib.parse.parse_qsl(parsed.query)
    path = parsed.path or first
    count = live.filter(section=section).count()
    depth = int(count * 0.9)
    if any(key == "page" for key, _ in query):  # numbered pages: jump there
        page = max(2, math.ceil(depth / PAGE_SIZE))
        return path + "?" + urllib.parse.urlencode([(k, page if k == "page" else v) for k, v in query])
    # A cursor: replace an id or a time in it with the story's at that depth, if it is one.
    target = live.filter(section=section).order_by("-published_at", "-pk")[depth : depth + 1].first()
    if target is not None:
        replaced = []
        for key, value in query:
            if key not in CURSOR_KEYS:
                pass
            elif re.fullmatch(r"\d+-\d+", value):  # the site's keyset cursor: <µs>-<pk>
                from readers.pagination import encode

                value = encode(target)
            elif value.isdigit():
                value = str(target.pk)
            else:
                try:
                    datetime.fromisoformat(value)
                    value = target.published_at.isoformat()
                except ValueError:
                    pass
            replaced.append((key, value))
        candidate = path + "?" + urllib.parse.urlencode(replaced)
        if replaced != query and client.get(candidate).status_code == 200:
            return candidate
    # Otherwise follow the "next" links a fixed number of times.
    url = path + "?" + parsed.query
    for _ in range(int(os.environ.get("BENCH_DEEP_HOPS", "100"))):
        html = client.get(url).content.decode("utf-8", "replace")
        match = re.search(r'<a[^>]*rel="next"[^>]*href="([^"]+)"', html) or re.search(
            r'<a[^>]*href="([^"]+)"[^>]*rel="next"', html
        )
        if not match:
            break
        href = urllib.parse.urlsplit(match.group(1).replace("&amp;", "&"))
        url = (href.path or path) + "?" + href.query
    return url


# ---------------------------------------------------------------------------------------
# Outside Django: databases, servers, load.
# ---------------------------------------------------------------------------------------


def ensure_database(server_url, name):
    import psycopg2

    parts = urllib.parse.urlsplit(server_url)
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password, dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
    conn.close()
    return version


def settle(servers, options, database, limit=180):
    """Wait until requests queued by the last load are done: workers idle, no query running."""
    import psycopg2

    for server in servers.values():
        server.wait_idle()
    parts = urllib.parse.urlsplit(options.database_server)
    conn = psycopg2.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                            user=parts.username or "postgres", password=parts.password, dbname=database)
    conn.autocommit = True
    deadline = time.monotonic() + limit
    try:
        with conn.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                    " AND pid <> pg_backend_pid()", [database])
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.5)
    finally:
        conn.close()
    for server in servers.values():
        server.wait_idle()


def manage(env, *args, capture=False):
    command = [sys.executable, str(REPO / "manage.py"), *args]
    if capture:
        return subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, text=True).stdout
    subprocess.run(command, env=env, cwd=REPO, check=True, stdout=sys.stderr)


class Server:
    """A gunicorn serving `app` on 127.0.0.1:port, with the same settings for every app."""

    def __init__(self, app, port, env, options):
        self.app, self.port, self.env, self.options = app, port, env, options
        self.process = None

    def start(self):
        # Something else answering on the port (another benchmark, a test server) would be
        # measured instead of this server, with nothing to tell: refuse to start.
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        else:
            raise RuntimeError(f"port {self.port} on 127.0.0.1 is already in use; choose other ports with BENCH_PORT")
        command = [
            sys.executable, "-m", "gunicorn", self.app,
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.options.workers),
            "--worker-class", self.options.worker_class,
            "--chdir", str(REPO),
            "--log-level", "warning",
            "--timeout", "60",
        ]
        self.log = open(DATA / f"gunicorn-{self.port}.log", "ab")
        self.process = subprocess.Popen(command, env=self.env, cwd=REPO, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited; see {DATA / f'gunicorn-{self.port}.log'}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5).read()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.app} did not answer on port {self.port}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.process:
            self.log.close()

    def worker_rss_mb(self):
        """Resident memory of each worker process, in MB."""
        return list(self.worker_rss_by_pid().values())

    def worker_rss_by_pid(self):
        """{worker pid: resident memory in MB}: a restarted worker shows as a new pid."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return {}
        sizes = {}
        for child in children:
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes[int(child)] = round(int(match.group(1)) / 1024, 1)
        return sizes

    def worker_cpu_ticks(self):
        pid = self.process.pid
        total = 0
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0
        for child in children:
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total

    def wait_idle(self, limit=120):
        """Wait until the workers stop using CPU: requests queued by the last load are done."""
        deadline = time.monotonic() + limit
        last = self.worker_cpu_ticks()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.worker_cpu_ticks()
            if now - last <= 1:
                return
            last = now

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def wrk(base_url, paths, *, duration, connections, threads, cookie=""):
    """Run wrk over `paths`; return its figures (latencies in ms) or raise."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, dir=DATA) as handle:
        handle.write("\n".join(urllib.parse.quote(path, safe="/?=&%:+,;") for path in paths) + "\n")
        paths_file = handle.name
    try:
        command = [
            "wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
            "-s", str(BENCH / "wrk_report.lua"), base_url, "--", paths_file, cookie,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(paths_file)
    line = next((line for line in out.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out}")
    raw = json.loads(line[len("BENCH_JSON "):])
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in raw if k.startswith("errors_"))
    if not raw["requests"]:  # not one response within the run: no latency to report
        return {"rps": 0.0, "requests": 0, "errors": errors, "p50_ms": None, "p95_ms": None, "p99_ms": None,
                "max_ms": None, "bytes_per_request": None, "timed_out": True,
                "note": f"no response within {round(seconds)} s"}
    return {
        "rps": round(raw["requests"] / seconds, 1),
        "requests": raw["requests"],
        "errors": errors,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "bytes_per_request": round(raw["bytes"] / max(1, raw["requests"])),
    }


def loadavg():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def machine():
    cpu = ""
    try:
        cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()).group(1).strip()
    except (OSError, AttributeError):
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[:1]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version[0].strip() if wrk_version else "",
    }


def bench_size(size, options, base_env, memory_check=True):
    label = size_label(size)
    database = f"{options.db_prefix}_{label}"
    pg_version = ensure_database(options.database_server, database)
    env = {
        **base_env,
        "DATABASE_URL": f"{options.database_server.rstrip('/')}/{database}",
    }
    print(f"\n== {size} stories (database {database}) ==", file=sys.stderr)
    manage(env, "migrate", "--noinput", "-v0")
    began = time.monotonic()
    prepared = json.loads(
        subprocess.run(
            [sys.executable, str(BENCH / "run.py"), "prepare", "--size", str(size), "--seed", str(options.seed),
             "--origin", f"http://127.0.0.1:{options.port + 2}",
             *([] if options.generate else ["--no-generate"])],
            env=env, cwd=REPO, check=True, stdout=subprocess.PIPE, text=True,
        ).stdout
    )
    print(f"   dataset and URLs ready in {time.monotonic() - began:.0f} s", file=sys.stderr)

    servers = {
        "site": Server("newsroom.wsgi:application", options.port + 1, env, options),
        "uncached": Server("newsroom.wsgi:application", options.port + 2, {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_uncached"}, options),
        "built": Server("newsroom.wsgi:application", options.port + 4,
                        {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_uncached", "NEWSROOM_READ_MODEL": "0"}, options),
    }
    results = {}
    memory = {}
    try:
        for server in servers.values():
            server.start()
        story_url = prepared["pages"].get("story cached", {}).get("url") or "/"
        floor_body = urllib.request.urlopen(servers["uncached"].url(story_url), timeout=30).read()
        (DATA / "floor.html").write_bytes(floor_body)
        servers["floor"] = Server("bench.floor:application", options.port + 3, {**env, "BENCH_FLOOR_BODY": str(DATA / "floor.html")}, options).start()
        wanted = set(options.pages.split(",")) if options.pages else None
        for name, server_name, candidates, page_options in PAGES:
            if wanted and name not in wanted and name != "floor":
                continue
            entry = {"server": server_name}
            if server_name == "floor":
                paths = ["/"]
                entry.update(url="/", queries=0, bytes=len(floor_body))
            else:
                info = prepared["pages"].get(name, {})
                entry.update({k: v for k, v in info.items() if k != "urls"})
                if not info.get("url"):
                    entry["result"] = "n/a"
                    results[name] = entry
                    print(f"   {name:<18} n/a (status {info.get('status')})", file=sys.stderr)
                    continue
                paths = info.get("urls") or [info["url"]]
            cookie = prepared["cookie"] if page_options.get("login") else ""
            connections = page_options.get("connections", options.connections)
            base = f"http://127.0.0.1:{servers[server_name].port}"
            settle(servers, options, database)
            entry["loadavg_1m"] = loadavg()
            if options.adjacent_floor and server_name != "floor":
                # The machine may be shared: measure the floor again right before each page,
                # so each ratio compares two measurements taken under the same conditions.
                adjacent = wrk(servers["floor"].url(""), ["/"], duration=max(2, options.duration // 2),
                               connections=connections, threads=options.threads)
                entry["floor_rps_adjacent"] = adjacent["rps"]
            if options.warmup:
                wrk(base, paths, duration=options.warmup, connections=connections, threads=options.threads, cookie=cookie)
                settle(servers, options, database)
            entry.update(wrk(base, paths, duration=options.duration, connections=connections, threads=options.threads, cookie=cookie))
            entry["connections"] = connections
            results[name] = entry
            print(f"   {name:<18} {entry['rps']:>8.1f} req/s  p50 {fmt(entry['p50_ms']):>7} ms  p99 {fmt(entry['p99_ms']):>7} ms"
                  f"  errors {entry['errors']}  {entry.get('note', '')}", file=sys.stderr)
        for name, server in servers.items():
            memory[name] = {"after_run_mb": server.worker_rss_mb()}
        if options.memory_requests and memory_check:
            memory["growth"] = memory_growth(servers[options.memory_server], prepared, options)
    finally:
        for server in servers.values():
            server.stop()

    floor = results.get("floor", {}).get("rps")
    for entry in results.values():
        reference = entry.get("floor_rps_adjacent") or floor
        if reference and entry.get("rps") is not None:
            entry["floor_share"] = round(entry["rps"] / reference, 3)
    return {
        "size": size,
        "database": database,
        "postgresql": pg_version,
        "stories": prepared["stories"],
        "generation": prepared["generation"],
        "vacuum": prepared.get("vacuum"),
        "read_model": prepared.get("read_model"),
        "pages": results,
        "memory": memory,
    }


MEMORY_ROUNDS = 10
# 200 stories and the list pages. Without Redis a worker keeps a page 60 s, so after the
# warm-up most requests are hits and every page is built again each minute in every worker:
# 100,000 requests take minutes, thousands of them build pages, and the cache keeps turning over.
# (1,100 stories, more than a worker's 1,000 pages, made it an hour: nearly every request built.)
MEMORY_SITE_STORIES = 200
MEMORY_SITE_PAGES = ("home", "section p1", "section deep", "tag", "feed", "sitemap")


def memory_paths(prepared, server_name):
    """The URLs the memory check spreads its requests over, on `server_name`."""
    pages = prepared["pages"]
    info = pages.get("story uncached", {})
    stories = info.get("urls") or ([info["url"]] if info.get("url") else [])
    if server_name != "site":
        return stories
    return stories[:MEMORY_SITE_STORIES] + [pages[name]["url"] for name in MEMORY_SITE_PAGES if pages.get(name, {}).get("url")]


def memory_growth(server, prepared, options):
    """Serve `memory_requests` more requests (see memory_paths); report each worker's memory growth.

    Requests go in MEMORY_ROUNDS rounds, each sized from the rate of the one before, until
    the number asked for is served: the count holds however the machine's speed changes, and
    the memory read after each round shows whether it levels off or keeps climbing. The
    baseline is read after a warm-up (1% of the requests, at least 500), once each worker has
    imported, compiled and cached what a page needs. Growth is stated per worker, in % of
    that worker's own memory at the baseline; a worker that was restarted meanwhile (a new
    pid) is named and left out, since its growth cannot be told."""
    paths = memory_paths(prepared, options.memory_server)
    if not paths:
        return None
    base = f"http://127.0.0.1:{server.port}"
    load = {"connections": options.connections, "threads": options.threads}
    probe = wrk(base, paths, duration=3, **load)
    rate = max(probe["rps"], 1.0)
    warm_up = max(500, options.memory_requests // 100)
    if options.memory_server == "site":
        # Every worker fills its page cache before the baseline is read: a cache growing to its
        # bound is not a leak, and would hide one.
        warm_up = max(warm_up, 4 * options.workers * len(paths))
    rate = max(wrk(base, paths, duration=max(3, math.ceil(warm_up / rate)), **load)["rps"], 1.0)
    time.sleep(2)  # the workers finish what they were serving: memory is read at rest
    before = server.worker_rss_by_pid()
    served, errors, rounds, began = 0, 0, [], time.monotonic()
    print(f"   memory: {options.memory_requests:,} requests in {MEMORY_ROUNDS} rounds, "
          f"about {options.memory_requests / rate / 60:.0f} min at {rate:.0f} req/s", file=sys.stderr)
    while served < options.memory_requests:
        wanted = min(options.memory_requests - served, math.ceil(options.memory_requests / MEMORY_ROUNDS))
        run = wrk(base, paths, duration=max(2, math.ceil(wanted / rate)), **load)
        served += run["requests"]
        errors += run["errors"]
        rate = max(run["rps"], 1.0)
        rounds.append({"requests": served, "rss_mb": server.worker_rss_by_pid(), "rps": run["rps"]})
        print(f"   memory: {served:>9,} requests, workers {sorted(rounds[-1]['rss_mb'].values())} MB", file=sys.stderr)
    time.sleep(2)
    after = server.worker_rss_by_pid()
    kept = [pid for pid in before if pid in after]
    per_worker = {pid: round((after[pid] - before[pid]) / before[pid], 4) for pid in kept if before[pid]}
    total_before = sum(before[pid] for pid in kept)
    return {
        "server": options.memory_server,
        "urls": len(paths),
        "requests": served,
        "errors": errors,
        "seconds": round(time.monotonic() - began),
        "warm_up_requests": warm_up,
        "before_mb": [before[pid] for pid in kept],
        "after_mb": [after[pid] for pid in kept],
        "per_worker": per_worker,
        "restarted": sorted(set(before) - set(after)),
        "rounds": [{"requests": r["requests"], "rps": r["rps"], "rss_mb": [r["rss_mb"].get(pid) for pid in kept]}
                   for r in rounds],
        # The worst worker: what the target is checked against.
        "growth": max(per_worker.values()) if per_worker else None,
        "total_growth": round(sum(after[pid] for pid in kept) / total_before - 1, 4) if total_before else None,
    }


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(run):
    """A Markdown table per size, and one comparing p99 across sizes."""
    lines = []
    sizes = run["sizes"]
    for result in sizes:
        lines += [
            f"### {result['stories']:,} stories",
            "",
            "| page | req/s | floor req/s | × floor | p50 ms | p99 ms | alone ms | SQL queries (miss / hit) | errors | load |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, entry in result["pages"].items():
            if entry.get("result") == "n/a":
                lines.append(f"| {name} | n/a | | | | | | | status {entry.get('status')} | |")
                continue
            queries = f"{entry.get('queries', 0)} / {entry.get('queries_cached', 0)}" if name != "floor" else "0"
            reference = entry.get("floor_rps_adjacent") or (entry["rps"] if name == "floor" else None)
            lines.append(
                f"| {name} | {fmt(entry.get('rps'))} | {fmt(reference)} | {fmt(entry.get('floor_share'), 3)} "
                f"| {fmt(entry.get('p50_ms'))} | {fmt(entry.get('p99_ms'))} | {fmt(entry.get('alone_ms'))} | {queries} | {entry.get('errors', 0)} "
                f"| {fmt(entry.get('loadavg_1m'), 2)} |" + (f" {entry['note']}" if entry.get("note") else "")
            )
        memory = result["memory"]
        site = memory.get("site", {}).get("after_run_mb")
        uncached = memory.get("uncached", {}).get("after_run_mb")
        lines += ["", "floor req/s: the bare view measured right before the page; alone: one request by itself, no concurrent load from the harness"
                  " (in the query-counting process, caches cleared); load: the 1-minute load average"
                  " when the page's run began.",
                  "", f"Worker memory after the run (MB, per worker): site {site}, uncached {uncached}."]
        growth = memory.get("growth")
        if growth:
            lines += memory_lines(growth)
        filled = result.get("read_model") or {}
        if filled.get("stored"):
            lines.append(f"The read model was given the {filled['stored']:,} measured pages of the uncached server (the sampled "
                         f"stories and the lists) before measuring, as a commit's delivery task does: {filled['seconds']:.0f} s, "
                         f"{filled['pages_per_s']:.1f} pages/s rendered and stored. \"built\" rows are the same pages with the "
                         "read model off.")
        vacuum = result.get("vacuum") or {}
        if vacuum.get("tables"):
            lines.append(f"Before measuring, VACUUM (ANALYZE) of {len(vacuum['tables'])} bulk-loaded tables took "
                         f"{vacuum['seconds']:.0f} s (what autovacuum does on a live site).")
        lines.append("")
    if len(sizes) > 1:
        first = sizes[0]
        header = "| page | " + " | ".join(f"p99 ms @ {s['stories']:,}" for s in sizes) + " | growth |"
        lines += ["### p99 latency as the archive grows", "", header, "| --- |" + " ---: |" * (len(sizes) + 1)]
        for name in first["pages"]:
            values = [s["pages"].get(name, {}).get("p99_ms") for s in sizes]
            growth = values[-1] / values[0] if values[0] and values[-1] else None
            shown = [fmt(v) if v is not None or not s["pages"].get(name, {}).get("timed_out") else "timed out"
                     for v, s in zip(values, sizes)]
            lines.append(f"| {name} | " + " | ".join(shown) + f" | {fmt(growth, 2) + '×' if growth else 'n/a'} |")
        lines.append("")
    return "\n".join(lines)


def memory_lines(growth):
    """The memory check in words: growth per worker in % of its own memory, and how it went."""
    per_worker = ", ".join(
        f"{b:.1f} → {a:.1f} MB ({(a - b) / b:+.1%})" for b, a in zip(growth["before_mb"], growth["after_mb"])
    )
    if growth.get("server") == "site":
        what = f"requests to the site with its caches on, over {growth.get('urls', 0):,} URLs (stories and list pages)"
    else:
        what = "uncached story pages"
    lines = [
        f"Memory over {growth['requests']:,} more {what} ({growth.get('errors', 0)} errors, "
        f"{growth.get('seconds', 0) / 60:.0f} min, after a warm-up of {growth.get('warm_up_requests', 0):,}): "
        f"largest growth of a worker {growth['growth']:+.1%} of its memory, all workers together "
        f"{growth.get('total_growth', growth['growth']):+.1%}.",
        f"Per worker: {per_worker}.",
    ]
    if growth.get("restarted"):
        lines.append(f"Restarted meanwhile, so left out: workers {growth['restarted']}.")
    if growth.get("rounds"):
        totals = [f"{r['requests']:,}: {sum(m for m in r['rss_mb'] if m):.0f} MB" for r in growth["rounds"]]
        lines.append("All workers after each round: " + ", ".join(totals) + ".")
    return lines


def checks(run):
    """The issue's targets, each as (what, measured, target, passed or None when not measured)."""
    out = []
    sizes = run["sizes"]
    last = sizes[-1]
    for name, share in FLOOR_SHARE.items():
        entry = last["pages"].get(name, {})
        value = entry.get("floor_share")
        out.append((f"{name} ≥ {share:.0%} of floor req/s at {last['stories']:,}", value, share,
                    None if value is None else value >= share))
    if len(sizes) > 1:
        for name in sizes[0]["pages"]:
            if name == "floor" or name == "admin story list":
                continue
            a, b = sizes[0]["pages"][name].get("p99_ms"), last["pages"].get(name, {}).get("p99_ms")
            limit = SEARCH_P99_GROWTH if name.startswith("search") else P99_GROWTH
            growth = b / a if a and b else None
            timed_out = bool(a) and last["pages"].get(name, {}).get("timed_out")
            out.append((f"{name} p99 growth {sizes[0]['stories']:,} → {last['stories']:,} ≤ {limit}×", growth, limit,
                        False if timed_out else None if growth is None else growth <= limit))
    for name in ("search common", "search rare"):
        p95 = last["pages"].get(name, {}).get("p95_ms")
        timed_out = last["pages"].get(name, {}).get("timed_out")
        out.append((f"{name} p95 < {SEARCH_P95_MS_AT_1M} ms at {last['stories']:,}", p95, SEARCH_P95_MS_AT_1M,
                    False if timed_out else None if p95 is None else p95 < SEARCH_P95_MS_AT_1M))
    admin = last["pages"].get("admin story list", {}).get("p99_ms")
    timed_out = last["pages"].get("admin story list", {}).get("timed_out")
    out.append((f"admin story list p99 < {ADMIN_MS} ms at {last['stories']:,}", admin, ADMIN_MS,
                False if timed_out else None if admin is None else admin < ADMIN_MS))
    memory = last["memory"].get("growth") or {}
    growth = memory.get("growth")
    requests = f" over {memory['requests']:,} requests" if memory.get("requests") else ""
    out.append((f"worker memory growth ≤ {MEMORY_GROWTH:.0%}{requests} (largest of one worker)", growth, MEMORY_GROWTH,
                None if growth is None else growth <= MEMORY_GROWTH))
    return out


def check_lines(results):
    lines = ["| target | measured | passed |", "| --- | ---: | :---: |"]
    for what, value, _, passed in results:
        mark = {True: "yes", False: "**no**", None: "not measured"}[passed]
        lines.append(f"| {what} | {fmt(value, 3) if isinstance(value, float) else fmt(value)} | {mark} |")
    return "\n".join(lines)


def server_environment():
    """The environment every benchmarked server runs in: production settings (DEBUG off, a
    throwaway SECRET_KEY), the bench's own media and static folders, 127.0.0.1, no Redis."""
    environment = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-" + os.urandom(16).hex()),
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "MEDIA_ROOT": str(DATA / "media"),
        "STATIC_ROOT": str(DATA / "static"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "ERROR",
    }
    environment.pop("REDIS_URL", None)
    return environment


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    env = os.environ.get
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "prepare"])
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--origin", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=env("BENCH_SIZES", "10000"))
    parser.add_argument("--duration", type=int, default=int(env("BENCH_DURATION", "10")))
    parser.add_argument("--warmup", type=int, default=int(env("BENCH_WARMUP", "2")))
    parser.add_argument("--connections", type=int, default=int(env("BENCH_CONNECTIONS", "8")))
    parser.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "2")))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1))))
    parser.add_argument("--worker-class", default=env("BENCH_WORKER_CLASS", "sync"))
    parser.add_argument("--pages", default=env("BENCH_PAGES", ""))
    parser.add_argument("--no-adjacent-floor", dest="adjacent_floor", action="store_false",
                        default=env("BENCH_ADJACENT_FLOOR", "1") != "0",
                        help="compare with the one floor measurement only, not one taken right before each page")
    parser.add_argument("--memory-requests", type=int, default=int(env("BENCH_MEMORY_REQUESTS", "0")))
    parser.add_argument("--memory-server", choices=["uncached", "site"], default=env("BENCH_MEMORY_SERVER", "uncached"))
    parser.add_argument("--db-prefix", default=env("BENCH_DB_PREFIX", "newsroom_bench"))
    parser.add_argument("--database-server", default=env("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--port", type=int, default=int(env("BENCH_PORT", "8200")))
    parser.add_argument("--seed", type=int, default=int(env("BENCH_SEED", "1")))
    parser.add_argument("--no-generate", dest="generate", action="store_false", default=env("BENCH_GENERATE", "1") != "0",
                        help="measure each database as it is, without generating stories up to the size")
    options = parser.parse_args()

    if options.mode == "prepare":
        prepare(options.size, options.seed, options.generate, options.origin)
        return

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install wrk` (make bench does this).")
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    base_env = server_environment()
    # The cache the site runs with: Redis when BENCH_REDIS_URL names one, else the default local memory.
    if os.environ.get("BENCH_REDIS_URL"):
        base_env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    sizes = sorted(int(s) for s in options.sizes.split(",") if s.strip())
    manage({**base_env, "DATABASE_URL": f"{options.database_server.rstrip('/')}/{options.db_prefix}_{size_label(sizes[0])}"},
           "collectstatic", "--noinput", "-v0")
    started = datetime.now(timezone.utc)
    run = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "duration_s": options.duration, "warmup_s": options.warmup, "connections": options.connections,
            "threads": options.threads, "workers": options.workers, "worker_class": options.worker_class,
            "gunicorn": "gunicorn, DEBUG off, PostgreSQL, collected static files, 127.0.0.1",
        },
        "sizes": [],
    }
    for size in sizes:
        # The memory check runs once, at the largest size (the one the targets are checked at).
        run["sizes"].append(bench_size(size, options, base_env, memory_check=size == sizes[-1]))
    run["machine"]["postgresql"] = run["sizes"][0]["postgresql"]
    results = checks(run)
    run["checks"] = [{"target": what, "measured": value, "limit": limit, "passed": passed} for what, value, limit, passed in results]

    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    markdown = table(run) + "\n" + check_lines(results) + "\n"
    (RESULTS / f"{stamp}.json").write_text(json.dumps(run, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / f"{stamp}.md").write_text(markdown)
    print(markdown)
    print(f"Written: bench/results/{stamp}.json and .md", file=sys.stderr)


if __name__ == "__main__":
    main()
