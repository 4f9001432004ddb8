#!/usr/bin/env python
"""Sign-off benchmark: what an editor waits for, and how soon readers see the story.

For each of --count stories waiting for the sign-off (责任编辑签发), as the demo editor
through the admin over HTTP:

(a) the sign-off POST: from sending it to its redirect coming back (gunicorn on 127.0.0.1,
    so this is the server's time), median and p95; target under 150 ms;
(b) publish-visible: from the POST returning until all three are true, the last of them
    deciding: the site serves the story page with its headline, its static file is written
    with the headline, and the CDN has received a purge naming it. Target under 2 s.

The site runs as production does: gunicorn (DEBUG off, 2 workers), PostgreSQL, static
publishing on (a throwaway folder), the CDN adapter "http-purge" pointed at a recording server
in this process, and the background worker (`manage.py db_worker --interval 0.2`) beside it.

    .venv/bin/python bench/signoff.py                     # from the repository root
    .venv/bin/python bench/signoff.py --count 50 --interval 0.5 --port 8250

Writes bench/results/signoff-<time>.json and .md and prints the table. The database
(--database, on BENCH_DATABASE_SERVER) is created if missing and reused; the stories it adds
are left in it; collected static files go to bench/data/signoff-static. Uses ports PORT (gunicorn) and PORT+1 (the recording CDN) on 127.0.0.1.
"""

import argparse
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
PUBLIC = "https://news.example.cn"
EDITOR, PASSWORD = "editor", "newsroom-demo"  # made by `manage.py setup_demo`
TARGET_POST_MS, TARGET_VISIBLE_S = 150, 2.0

PREPARE = """
from django.contrib.auth import get_user_model
from articles.models import Article, Section
from editorial import workflow

users = get_user_model().objects
reporter, reviewer = users.get(username="reporter"), users.get(username="reviewer")
section = Section.objects.order_by("pk").first()
stamp = "{stamp}"
for number in range({count}):
    story = Article.objects.create(
        headline=f"签发测试{{stamp}}-{{number}}", slug=f"signoff-{{stamp}}-{{number}}",
        body="<p>正文。</p>", section=section, created_by=reporter,
    )
    workflow.submit(story, actor=reporter)
    workflow.pass_first_review(story, actor=reviewer)
    print("STORY", story.pk, story.headline, story.get_absolute_url())
"""


class CDN:
    """A cache server on 127.0.0.1 taking PURGE and BAN; remembers when each path was purged."""

    def __init__(self, port):
        self.port, self.purged, self.lock = port, {}, threading.Lock()
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if self.command == "PURGE":
                    with cdn.lock:
                        cdn.purged.setdefault(urllib.parse.unquote(self.path), time.perf_counter())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PURGE = do_BAN = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def purged_at(self, path):
        with self.lock:
            return self.purged.get(path)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Editor:
    """The demo editor's browser: a session cookie and the CSRF token."""

    def __init__(self, base):
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def _csrf(self):
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def post(self, path, data=None):
        body = urllib.parse.urlencode({**(data or {}), "csrfmiddlewaretoken": self._csrf()}).encode()
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.headers

    def sign_in(self):
        self.opener.open(self.base + "/admin/login/", timeout=30).read()
        status, headers = self.post("/admin/login/?next=/admin/", {"username": EDITOR, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"signing in as {EDITOR} answered {status}")


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:  # not listening yet
        return 0, ""


def port_free(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def ensure_database(server_url, name):
    import psycopg2

    parts = urllib.parse.urlsplit(server_url)
    conn = psycopg2.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                            user=parts.username or "postgres", password=parts.password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def manage(env, *args, stdin=None):
    return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=REPO, check=True, input=stdin,
                          capture_output=True, text=True).stdout


def queue_waiting(env):
    out = manage(env, "shell", "-c", "from django_tasks_db.models import DBTaskResult as T; "
                 "print(T.objects.filter(status__in=['READY', 'RUNNING']).count())")
    return int(out.split()[-1])


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def spread(values, digits):
    return {"median": round(statistics.median(values), digits), "p95": round(percentile(values, 0.95), digits),
            "max": round(max(values), digits)}


def measure(options):
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for port in (options.port, options.port + 1):
        if not port_free(port):
            raise SystemExit(f"port {port} on 127.0.0.1 is already in use; choose another with --port")
    ensure_database(options.database_server, options.database)
    static_root = Path(tempfile.mkdtemp(prefix="newsroom-signoff-")) / "site"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": options.settings,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "k" * 40,
        "DATABASE_URL": f"{options.database_server.rstrip('/')}/{options.database}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "NEWSROOM_TASKS_BACKEND": "database",
        "NEWSROOM_STATIC_PUBLISH_ROOT": str(static_root),
        "NEWSROOM_STATIC_PUBLISH_ORIGIN": "http://localhost",
        "NEWSROOM_CDN_BACKEND": "http-purge",
        "NEWSROOM_CDN_PUBLIC_BASE_URL": PUBLIC,
        "NEWSROOM_CDN_PURGE_SERVERS": f"http://127.0.0.1:{options.port + 1}",
        "LOG_LEVEL": "WARNING",
        # The admin's stylesheets through WhiteNoise's manifest, as in production (kept between runs).
        "STATIC_ROOT": str(REPO / "bench" / "data" / "signoff-static"),
    }
    env.pop("REDIS_URL", None)
    print("migrate, demo accounts ...", file=sys.stderr)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "setup_demo")
    made = manage(env, "shell", stdin=PREPARE.format(stamp=stamp, count=options.count)).splitlines()
    rows = [line.split(" ")[1:] for line in made if line.startswith("STORY ")]
    stories = [{"pk": int(pk), "headline": headline, "url": url} for pk, headline, url in rows]

    cdn = CDN(options.port + 1)
    logs = tempfile.mkdtemp(prefix="newsroom-signoff-logs-")
    worker_log, gunicorn_log = open(Path(logs) / "worker.log", "w"), open(Path(logs) / "gunicorn.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--interval", str(options.interval), "--no-reload"],
        env=env, cwd=REPO, stdout=worker_log, stderr=worker_log,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", options.wsgi, "--bind", f"127.0.0.1:{options.port}",
         "--workers", str(options.workers), "--chdir", str(REPO), "--log-level", "warning", "--timeout", "60"],
        env=env, cwd=REPO, stdout=gunicorn_log, stderr=gunicorn_log,
    )
    base = f"http://127.0.0.1:{options.port}"
    samples = []
    try:
        deadline = time.monotonic() + 60
        while fetch(base + "/healthz")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {logs}/gunicorn.log")
            time.sleep(0.3)
        # What setup_demo queued (the seed's stories) is done before measuring.
        deadline = time.monotonic() + 300
        while queue_waiting(env):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the worker did not empty the queue; see {logs}/worker.log")
            time.sleep(1)
        editor = Editor(base)
        editor.sign_in()
        for number, story in enumerate(stories, start=1):
            path = f"/admin/articles/article/{story['pk']}/step/sign_off/"
            started = time.perf_counter()
            status, headers = editor.post(path)
            returned = time.perf_counter()
            if status != 302:
                raise RuntimeError(f"sign-off of story {story['pk']} answered {status}")
            served = written = None
            page_file = static_root / story["url"].strip("/") / "index.html"
            while time.perf_counter() - returned < options.give_up:
                now = time.perf_counter()
                if served is None:
                    code, text = fetch(base + story["url"])
                    if code == 200 and story["headline"] in text:
                        served = time.perf_counter()
                if written is None and page_file.exists() and story["headline"] in page_file.read_text("utf-8"):
                    written = now
                purged = cdn.purged_at(story["url"])
                if served and written and purged:
                    break
                time.sleep(0.01)
            visible = max(served or float("inf"), written or float("inf"), purged or float("inf"))
            samples.append({
                "story": story["pk"],
                "post_ms": round((returned - started) * 1000, 1),
                "served_s": round(served - returned, 3) if served else None,
                "file_s": round(written - returned, 3) if written else None,
                "purge_s": round(purged - returned, 3) if purged else None,
                "visible_s": round(visible - returned, 3) if visible != float("inf") else None,
            })
            print(f"{number:3d}/{len(stories)} POST {samples[-1]['post_ms']:6.1f} ms, visible "
                  f"{samples[-1]['visible_s']} s", file=sys.stderr)
            time.sleep(options.pause)
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        cdn.stop()
        worker_log.close()
        gunicorn_log.close()
        shutil.rmtree(static_root.parent, ignore_errors=True)
    return stamp, samples, logs


def summary(samples):
    posts = [s["post_ms"] for s in samples]
    visible = [s["visible_s"] for s in samples if s["visible_s"] is not None]
    result = {
        "sign-off POST ms": spread(posts, 1),
        "missed (not visible in time)": len(samples) - len(visible),
    }
    for key, label in (("visible_s", "publish-visible s"), ("served_s", "page served s"),
                       ("file_s", "static file s"), ("purge_s", "CDN purge s")):
        values = [s[key] for s in samples if s[key] is not None]
        if values:
            result[label] = spread(values, 3)
    result["targets"] = {
        f"sign-off POST p95 < {TARGET_POST_MS} ms": result["sign-off POST ms"]["p95"] < TARGET_POST_MS,
        f"publish-visible p95 < {TARGET_VISIBLE_S} s": bool(visible) and not result["missed (not visible in time)"]
        and result["publish-visible s"]["p95"] < TARGET_VISIBLE_S,
    }
    return result


def markdown(stamp, options, result):
    lines = [
        f"# Sign-off benchmark `{stamp}`", "",
        f"{options.count} sign-offs through the admin as `{EDITOR}`; gunicorn ({options.workers} workers, DEBUG off), "
        f"PostgreSQL, static publishing on, CDN http-purge to a recording server, `db_worker --interval "
        f"{options.interval}`; settings `{options.settings}`, application `{options.wsgi}`; load average {os.getloadavg()[0]:.1f} at the end.", "",
        "| measure | median | p95 | max |", "| --- | --- | --- | --- |",
    ]
    for label, value in result.items():
        if isinstance(value, dict) and "median" in value:
            lines.append(f"| {label} | {value['median']} | {value['p95']} | {value['max']} |")
    lines += ["", f"missed (not visible within {options.give_up} s): {result['missed (not visible in time)']}", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'} {name}" for name, ok in result["targets"].items()]
    return "\n".join(lines) + "\n"


def main():
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=int(env("BENCH_SIGNOFFS", "30")))
    parser.add_argument("--interval", type=float, default=0.2, help="the worker's --interval, seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between sign-offs")
    parser.add_argument("--give-up", type=float, default=10.0, help="seconds to wait for a story to be visible")
    parser.add_argument("--port", type=int, default=int(env("BENCH_SIGNOFF_PORT", "8250")))
    parser.add_argument("--database-server", default=env("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="newsroom_bench_signoff")
    parser.add_argument("--settings", default="newsroom.settings")
    parser.add_argument("--wsgi", default="newsroom.wsgi:application", help="the WSGI application gunicorn serves")
    options = parser.parse_args()

    stamp, samples, logs = measure(options)
    result = summary(samples)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"signoff-{stamp}.json").write_text(
        json.dumps({"options": vars(options), "summary": result, "samples": samples}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    text = markdown(stamp, options, result)
    (RESULTS / f"signoff-{stamp}.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"worker and gunicorn logs: {logs}", file=sys.stderr)
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
