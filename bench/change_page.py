#!/usr/bin/env python
"""Change-page benchmark: what an editor waits for when opening the seed story in the admin.

The seed story (`manage.py setup_demo` imports it, with its photos, byline and six 推荐阅读
picks) is opened --count times by the demo editor, one request after another, from gunicorn
on 127.0.0.1 with the production settings (DEBUG off, PostgreSQL, collected static files).
Reported:

- server time: from sending the GET to the last byte of the page, median and p95
  (127.0.0.1, so this is the server's time); target under 150 ms;
- weight: the HTML's bytes, and gzip'd as nginx sends it (deploy/nginx, `gzip on`, level 6
  here); target under 60 KB compressed. The stylesheets and scripts it loads are listed with
  their gzip'd sizes for the first visit (they are cached for a year afterwards);
- SQL queries: counted in a separate process with Django's test client and
  CaptureQueriesContext against the same database.

    .venv/bin/python bench/change_page.py                  # from the repository root
    .venv/bin/python bench/change_page.py --count 100 --port 8260

Writes bench/results/change-page-<time>.json and .md and prints the table. The database
(--database, on BENCH_DATABASE_SERVER) is created if missing and reused.
"""

import argparse
import gzip
import http.cookiejar
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from signoff import EDITOR, PASSWORD, NoRedirect, ensure_database, fetch, manage, percentile, port_free  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TARGET_MS, TARGET_GZIP_BYTES = 150, 60 * 1024
GZIP_LEVEL = 6

# The seed story: the one with 推荐阅读 picks and photos (setup_demo imported it).
FIND_SEED = """
from django.db.models import Count
from articles.models import Article
story = Article.objects.annotate(picks=Count("recommendations", distinct=True), shots=Count("photos", distinct=True)).filter(picks__gt=0, shots__gt=0).order_by("pk").first()
print("SEED", story.pk)
"""

COUNT_QUERIES = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
client = Client()
client.force_login(get_user_model().objects.get(username="{editor}"))
client.get("{path}")
with CaptureQueriesContext(connection) as queries:
    status = client.get("{path}").status_code
print("QUERIES", status, len(queries))
"""


def gzipped(body):
    return len(gzip.compress(body, compresslevel=GZIP_LEVEL))


class Browser:
    """The demo editor's session on 127.0.0.1: a cookie jar, and nothing cached."""

    def __init__(self, base):
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def get(self, path):
        started = time.perf_counter()
        with self.opener.open(self.base + path, timeout=30) as response:
            body = response.read()
            return response.status, body, (time.perf_counter() - started) * 1000

    def sign_in(self):
        self.opener.open(self.base + "/admin/login/", timeout=30).read()
        token = next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")
        data = urllib.parse.urlencode({"username": EDITOR, "password": PASSWORD, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base + "/admin/login/?next=/admin/", data=data, headers={"Referer": self.base + "/admin/login/"})
        try:
            self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            if error.code != 302:
                raise RuntimeError(f"signing in as {EDITOR} answered {error.code}")


def assets(html, static_root):
    """[(path, gzip'd bytes)] of the stylesheets and scripts the page loads from /static/."""
    found = []
    for url in re.findall(r'(?:src|href)="(/static/[^"]+\.(?:css|js))"', html):
        path = Path(static_root) / url[len("/static/"):]
        if path.exists() and url not in {u for u, _size in found}:
            found.append((url, gzipped(path.read_bytes())))
    return found


def measure(options):
    if not port_free(options.port):
        raise SystemExit(f"port {options.port} on 127.0.0.1 is already in use; choose another with --port")
    ensure_database(options.database_server, options.database)
    static_root = REPO / "bench" / "data" / "signoff-static"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": options.settings,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "k" * 40,
        "DATABASE_URL": f"{options.database_server.rstrip('/')}/{options.database}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(static_root),  # the admin's files through WhiteNoise's manifest, as in production
    }
    env.pop("REDIS_URL", None)
    print("migrate, demo accounts and the seed story ...", file=sys.stderr)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "setup_demo")
    seed = int(next(line for line in manage(env, "shell", stdin=FIND_SEED).splitlines() if line.startswith("SEED ")).split()[1])
    path = f"/admin/articles/article/{seed}/change/"
    counted = next(line for line in manage(env, "shell", stdin=COUNT_QUERIES.format(editor=EDITOR, path=path)).splitlines()
                   if line.startswith("QUERIES ")).split()
    queries = int(counted[2])

    logs = tempfile.mkdtemp(prefix="newsroom-change-page-")
    log = open(Path(logs) / "gunicorn.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", options.wsgi, "--bind", f"127.0.0.1:{options.port}",
         "--workers", str(options.workers), "--chdir", str(REPO), "--log-level", "warning", "--timeout", "60"],
        env=env, cwd=REPO, stdout=log, stderr=log,
    )
    base = f"http://127.0.0.1:{options.port}"
    times, page = [], b""
    try:
        deadline = time.monotonic() + 60
        while fetch(base + "/healthz")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {logs}/gunicorn.log")
            time.sleep(0.3)
        browser = Browser(base)
        browser.sign_in()
        for number in range(options.warmup + options.count):
            status, page, elapsed = browser.get(path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            if number >= options.warmup:
                times.append(elapsed)
            time.sleep(options.pause)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()
    files = assets(page.decode("utf-8", "replace"), static_root)
    return {
        "story": seed,
        "path": path,
        "server ms": {"median": round(statistics.median(times), 1), "p95": round(percentile(times, 0.95), 1),
                      "max": round(max(times), 1)},
        "html bytes": len(page),
        "html gzip bytes": gzipped(page),
        "queries": queries,
        "assets gzip bytes (first visit)": sum(size for _url, size in files),
        "assets": dict(files),
    }


def markdown(stamp, options, result):
    ms = result["server ms"]
    targets = targets_of(result)
    lines = [
        f"# Change-page benchmark `{stamp}`", "",
        f"The seed story's change page ({result['path']}) opened {options.count} times as `{EDITOR}`; gunicorn "
        f"({options.workers} worker{'s' if options.workers > 1 else ''}, DEBUG off), PostgreSQL, settings "
        f"`{options.settings}`; load average {os.getloadavg()[0]:.1f} at the end.", "",
        "| measure | value |", "| --- | --- |",
        f"| server time median | {ms['median']} ms |",
        f"| server time p95 | {ms['p95']} ms |",
        f"| server time max | {ms['max']} ms |",
        f"| HTML | {result['html bytes']:,} bytes |",
        f"| HTML gzip'd (level {GZIP_LEVEL}) | {result['html gzip bytes']:,} bytes |",
        f"| SQL queries | {result['queries']} |",
        f"| stylesheets and scripts gzip'd, first visit only | {result['assets gzip bytes (first visit)']:,} bytes |",
        "",
    ]
    lines += [f"- {'PASS' if ok else 'FAIL'} {name}" for name, ok in targets.items()]
    return "\n".join(lines) + "\n"


def targets_of(result):
    return {
        f"server time median < {TARGET_MS} ms": result["server ms"]["median"] < TARGET_MS,
        f"HTML gzip'd < {TARGET_GZIP_BYTES // 1024} KB": result["html gzip bytes"] < TARGET_GZIP_BYTES,
    }


def main():
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=int(env("BENCH_CHANGE_PAGE_COUNT", "50")))
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests first")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between requests")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=int(env("BENCH_CHANGE_PAGE_PORT", "8260")))
    parser.add_argument("--database-server", default=env("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="newsroom_bench_change_page")
    parser.add_argument("--settings", default="newsroom.settings")
    parser.add_argument("--wsgi", default="newsroom.wsgi:application", help="the WSGI application gunicorn serves")
    options = parser.parse_args()

    result = measure(options)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result["targets"] = targets_of(result)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"change-page-{stamp}.json").write_text(
        json.dumps({"options": vars(options), "result": result}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    text = markdown(stamp, options, result)
    (RESULTS / f"change-page-{stamp}.md").write_text(text, encoding="utf-8")
    print(text)
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
