#!/usr/bin/env python
"""Load and faults, run by hand (not part of the test suite): see bench/LOAD.md.

    .venv/bin/python bench/load_faults.py [--readers 200] [--seconds 60] [--port 8401]

It starts its OWN PostgreSQL cluster (a temporary initdb on 127.0.0.1:5499) and its OWN
redis-server (127.0.0.1:6499), so restarting or stopping them touches nobody else; then
migrates, loads the demo newsroom, and serves the site with gunicorn on 127.0.0.1.

For --seconds: --readers threads read public pages (home, sections, stories, feeds,
sitemaps, search, the story being worked on) as fast as they can, while an editor process
works one story a second through editorial.workflow: publish (submit, pass, sign off),
edit (a correction with new text), correct (another), withdraw, and again. A checker in
the editor process polls the story page after every committed change until readers see it.
At 1/3 of the run PostgreSQL is restarted; at 2/3 Redis is stopped for good.

Printed at the end: reader answers by phase (500s apart from 503s), how soon the site
answered again after the restart, the editor's writes (committed, refused with a message,
lost, ambiguous), and how long each change took to reach readers.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT, REDIS_PORT = 5499, 6499
DB_NAME = "newsroom_trust_bench"
VISIBLE_WITHIN = 2.0  # seconds: the page cache's promise is "at the next request"; polling adds a little


# --- services of our own ----------------------------------------------------------------


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)


def as_postgres(cmd):
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class OwnPostgres:
    def __init__(self, workdir):
        self.data = workdir / "pg"
        self.log = workdir / "pg.log"

    def start(self):
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
            shutil.chown(self.data.parent, "postgres")
        run(as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]), stdout=subprocess.DEVNULL)
        self._pg_ctl("start")
        run(["psql", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-c", f"CREATE DATABASE {DB_NAME}"])

    def _pg_ctl(self, action, *extra):
        options = f"-p {PG_PORT} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *extra, action]), stdout=subprocess.DEVNULL)

    def restart(self):
        self._pg_ctl("restart", "-m", "fast")

    def stop(self):
        try:
            self._pg_ctl("stop", "-m", "fast")
        except subprocess.CalledProcessError:
            pass


class OwnRedis:
    def __init__(self, workdir):
        self.dir = workdir
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def django_env(workdir):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB_NAME}",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "SECRET_KEY": "bench-only-not-a-secret",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(workdir / "media"),
        "STATIC_ROOT": str(workdir / "static"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


# --- readers -------------------------------------------------------------------------------


class Readers:
    def __init__(self, port, paths, count, story_path):
        self.port, self.paths, self.count = port, paths, count
        self.story_path = story_path  # callable: the page of the story being worked on
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = Counter()  # (phase, status) -> n
        self.latencies = []
        self.phase = "steady"

    def _one(self, conn, path):
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        return response.status

    def worker(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        rng = random.Random()
        while not self.stop.is_set():
            path = self.story_path() if rng.random() < 0.2 else rng.choice(self.paths)
            if path.startswith("/search/"):
                path += quote(rng.choice(["历城", "论坛", "济南", "新闻", "书记"]))
            started, phase = time.monotonic(), self.phase
            try:
                status = self._one(conn, path)
            except (OSError, http.client.HTTPException):
                status = "connection error"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                time.sleep(0.05)
            with self.lock:
                self.answers[(phase, status)] += 1
                self.latencies.append(time.monotonic() - started)
        conn.close()

    def start(self):
        self.threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(self.count)]
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(20)


class Probe:
    """Asks an uncached, database-backed page every 100 ms: when did the site answer again?"""

    def __init__(self, port):
        self.port, self.stop, self.log = port, threading.Event(), []

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", f"/search/?q={quote('探针')}{n}", headers={"Host": "127.0.0.1"})
                status = conn.getresponse().status
            except (OSError, http.client.HTTPException):
                status = "connection error"
            finally:
                conn.close()
            self.log.append((time.time(), status))
            time.sleep(0.1)


# --- the editor (a separate Django process) ---------------------------------------------------


def editor_main(args):
    """One workflow change a second on one story at a time; then check nothing was lost."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections, transaction

    from articles.models import Article, Correction
    from editorial import editing, workflow
    from editorial.models import ReviewEvent, Revision

    from articles.search import document_terms

    document_terms("预热分词词典")  # the segmenter loads its dictionary once; not during the run
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["reporter", "reviewer", "editor"])}
    results = []
    out = Path(args.editor_out)
    state = {"story": None}
    story_file = Path(args.story_file)

    def check(record, expect):
        """Poll the story page until it shows the change. A poll that was *sent* after the
        commit and still shows the old page is a stale answer: the cache broke its promise."""
        deadline, stale, last = time.time() + 20, 0, None
        while time.time() < deadline:
            asked = time.time()
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
            try:
                conn.request("GET", record["path"], headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                body = response.read().decode(errors="replace")
                last = (response.status, expect in body)
                if (expect == "gone" and response.status in {404, 410}) or (expect != "gone" and response.status == 200 and expect in body):
                    record["visible_after"] = round(asked - record["committed_at"], 3)
                    record["answered_after"] = round(time.time() - record["committed_at"], 3)
                    break
                if state_changed_since(record):
                    record["superseded"] = True  # the next change came first; it is checked itself
                    break
                if response.status == 200:
                    stale += 1
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.05)
        record["stale_answers"], record["last_seen"] = stale, last

    def state_changed_since(record):
        # A later change of the same story makes this one invisible for good; not stale.
        return any(r.get("story") == record["story"] and r["i"] > record["i"] and r.get("ok") for r in results)

    checkers = []

    @transaction.atomic
    def publish(token):
        # One transaction, as one admin request: a refused publish leaves no half-made story.
        article = Article(
            headline=f"压测稿件 {token}", summary=f"摘要 {token}", body=f"<p>正文 {token}</p>", created_by=users["reporter"]
        )
        article = editing.save_story(article, lambda story: story.save(), actor=users["reporter"], what="create")
        workflow.submit(article, actor=users["reporter"])
        workflow.pass_first_review(article, actor=users["reviewer"])
        workflow.sign_off(article, actor=users["editor"])
        state["story"] = article.pk
        return article, token

    def edit(token, note):
        # Through the desk's editing door, as the admin's change form saves a correction.
        article = Article.objects.get(pk=state["story"])

        def rewrite(story):
            story.body = f"<p>正文 {token}</p>"
            story.save()

        article = editing.save_story(
            article, rewrite, actor=users["editor"], base_version=article.version, correction_note=note,
            revision_note=note[:200],
        )
        return article, token

    def withdraw(token):
        article = Article.objects.get(pk=state["story"])
        workflow.withdraw(article, actor=users["editor"], reason=f"撤稿 {token}")
        return article, "gone"

    kinds = ["publish", "edit", "correct", "withdraw"]
    started = args.start_at or time.time()
    time.sleep(max(0, started - time.time()))
    i = 0
    while time.time() - started < args.seconds:
        tick = started + i
        time.sleep(max(0, tick - time.time()))
        kind = kinds[i % 4] if state["story"] or i % 4 == 0 else "publish"
        token = f"T{i:05d}x{random.randrange(16**6):06x}"
        record = {"i": i, "kind": kind, "token": token, "started_at": time.time()}
        close_old_connections()  # what every request does first: drop a connection that broke
        try:
            if kind == "publish":
                article, expect = publish(token)
            elif kind == "edit":
                article, expect = edit(token, f"更正 {token}")
            elif kind == "correct":
                article, expect = edit(token, f"再更正 {token}")
            else:
                article, expect = withdraw(token)
                state["story"] = None
            record.update(ok=True, story=article.pk, committed_at=time.time(), path=f"/stories/{article.pk}/")
            story_file.write_text(record["path"])
            checker = threading.Thread(target=check, args=(record, expect), daemon=True)
            checker.start()
            checkers.append(checker)
        except Exception as error:  # the author's message: what the admin would show them
            from django.db import connection

            connection.close()
            record.update(ok=False, error=f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}")
            if kind == "publish":
                state["story"] = None
        results.append(record)
        i += 1
    for checker in checkers:
        checker.join(25)

    # Nothing lost: each committed change is in the database; each refused one left nothing.
    for _ in range(100):
        try:
            close_old_connections()
            Article.objects.exists()
            break
        except Exception:
            from django.db import connection

            connection.close()
            time.sleep(0.2)
    for record in results:
        token = record["token"]
        found = (
            Article.objects.filter(headline__contains=token).exists()
            or Article.objects.filter(body__contains=token).exists()
            or Revision.objects.filter(note__contains=token).exists()
            or Correction.objects.filter(note__contains=token).exists()
            or ReviewEvent.objects.filter(note__contains=token).exists()
        )
        record["in_database"] = found
    out.write_text(json.dumps(results, ensure_ascii=False))


# --- the run ----------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--editor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--editor-out", help=argparse.SUPPRESS)
    parser.add_argument("--story-file", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.editor:
        return editor_main(args)

    workdir = Path(tempfile.mkdtemp(prefix="newsroom-load-"))
    os.chmod(workdir, 0o755)
    pg, redis = OwnPostgres(workdir), OwnRedis(workdir)
    gunicorn = editor = None
    try:
        print(f"own PostgreSQL on 127.0.0.1:{PG_PORT}, own Redis on 127.0.0.1:{REDIS_PORT}, work dir {workdir.name}")
        pg.start()
        redis.start()
        env = django_env(workdir)
        manage = [sys.executable, str(ROOT / "manage.py")]
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["setup_demo"], ["generate_demo_stories", "300"]):
            run(manage + command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "newsroom.wsgi", "-b", f"127.0.0.1:{args.port}", "-w", str(args.workers),
             "-k", "gthread", "--threads", str(args.threads), "--timeout", "30", "--keep-alive", "5", "--log-level", "error"],
            env=env, cwd=ROOT, stderr=open(workdir / "gunicorn.log", "w"),
        )
        paths = public_paths(args.port)
        warm_up(args.port, paths)
        story_file = workdir / "story.txt"
        story_file.write_text(paths[0])

        def story_path():
            try:
                return story_file.read_text() or "/"
            except OSError:
                return "/"

        readers = Readers(args.port, paths, args.readers, story_path)
        probe = Probe(args.port)
        probe_thread = threading.Thread(target=probe.run, daemon=True)
        editor_out = workdir / "editor.json"
        t0 = time.time() + 5  # the editor process sets Django up, then both start together
        editor = subprocess.Popen(
            [sys.executable, __file__, "--editor", "--seconds", str(args.seconds), "--port", str(args.port),
             "--editor-out", str(editor_out), "--story-file", str(story_file), "--start-at", str(t0)],
            env=env, cwd=ROOT,
        )
        time.sleep(max(0, t0 - time.time()))
        readers.start()
        probe_thread.start()
        events = {}
        time.sleep(max(0, t0 + args.seconds / 3 - time.time()))
        readers.phase = "postgres restart"
        events["pg_down"] = time.time()
        pg.restart()
        events["pg_up"] = time.time()
        readers.phase = "after restart"
        time.sleep(max(0, t0 + 2 * args.seconds / 3 - time.time()))
        readers.phase = "redis stopped"
        events["redis_down"] = time.time()
        redis.stop()
        time.sleep(max(0, t0 + args.seconds - time.time()))
        readers.finish()
        probe.stop.set()
        editor.wait(120)
        report(args, readers, probe, events, t0, json.loads(editor_out.read_text()))
        problems = Counter(
            line.split(": ", 1)[-1][:160]
            for line in (workdir / "gunicorn.log").read_text(errors="replace").splitlines()
            if "database unavailable" in line or "cache unavailable" in line or "Error" in line
        )
        print("server log, most frequent:", *[f"  {n} x {text}" for text, n in problems.most_common(8)], sep="\n")
    finally:
        for process in (editor, gunicorn):
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        redis.stop()
        pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def public_paths(port):
    """Addresses a reader visits: the home page and what it links to (sections, stories),
    feeds, sitemaps and a search."""
    import re

    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/", headers={"Host": "127.0.0.1"})
            home = conn.getresponse().read().decode()
            break
        except OSError:
            time.sleep(0.2)
    links = sorted(set(re.findall(r'href="(/(?:stories|sections|tags)/[^"#?]+)"', home)))
    return ["/", *links[:60], "/feeds/rss.xml", "/feeds/atom.xml", "/sitemap.xml", "/sitemap-news.xml", "/search/?q="]


def warm_up(port, paths):
    """One visit to each page first: renditions are made and pages cached, as on a site
    that has been running; the load then measures serving, not first-time image work."""
    for path in paths:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        conn.getresponse().read()
        conn.close()


def report(args, readers, probe, events, t0, writes):
    print(f"\n== {args.readers} readers for {args.seconds} s; PostgreSQL restarted at {events['pg_down'] - t0:.1f} s "
          f"(took {events['pg_up'] - events['pg_down']:.1f} s); Redis stopped at {events['redis_down'] - t0:.1f} s")
    total = sum(readers.answers.values())
    print(f"reader requests: {total} ({total / args.seconds:.0f}/s), median {statistics.median(readers.latencies) * 1000:.0f} ms, "
          f"p99 {sorted(readers.latencies)[int(len(readers.latencies) * 0.99)] * 1000:.0f} ms")
    for phase in ["steady", "postgres restart", "after restart", "redis stopped"]:
        counts = {status: n for (p, status), n in sorted(readers.answers.items(), key=str) if p == phase}
        print(f"  {phase:17} {counts}")
    server_errors = sum(n for (p, status), n in readers.answers.items() if status == 500)
    unavailable = sum(n for (p, status), n in readers.answers.items() if status == 503)
    print(f"server errors (500): {server_errors}; 503 'database briefly unavailable': {unavailable}")

    during = Counter(s for t, s in probe.log if events["pg_down"] <= t < events["pg_up"])
    back = next((t for t, s in probe.log if t >= events["pg_up"] and s == 200), None)
    later = Counter(s for t, s in probe.log if back and t > back and s != 200)
    recovered = f"{back - events['pg_up']:.2f} s" if back else "never"
    print(f"database-backed probe page (every 100 ms): during the restart {dict(during)}; first answer after "
          f"PostgreSQL was back: {recovered}; "
          f"failures after that: {dict(later) or 'none'} (client time-outs under load are 'connection error')")

    committed = [w for w in writes if w["ok"]]
    refused = [w for w in writes if not w["ok"]]
    lost = [w for w in committed if not w["in_database"]]
    ambiguous = [w for w in refused if w["in_database"]]
    print(f"editor writes: {len(writes)} ({Counter(w['kind'] for w in writes)}); committed {len(committed)}, "
          f"refused with a message {len(refused)}, lost edits {len(lost)}, refused-but-saved {len(ambiguous)}")
    for w in refused:
        print(f"  refused #{w['i']} {w['kind']} at {w['started_at'] - t0:.1f} s: {w['error'][:120]}")
    stale = sum(w.get("stale_answers", 0) for w in committed)
    print(f"stale answers (asked after a change committed, old page returned): {stale}")
    delays = [w["visible_after"] for w in committed if w.get("visible_after") is not None]
    never = [w for w in committed if w.get("visible_after") is None and not w.get("superseded")]
    superseded = [w for w in committed if w.get("visible_after") is None and w.get("superseded")]
    late = [d for d in delays if d > VISIBLE_WITHIN]
    if delays:
        answered = [w["answered_after"] for w in committed if w.get("answered_after") is not None]
        print(f"visible to readers: {len(delays)} of {len(committed)}; the first request sent after the commit showed it "
              f"(median {statistics.median(delays):.2f} s, max {max(delays):.2f} s after the commit, "
              f"answered by median {statistics.median(answered):.2f} s / max {max(answered):.2f} s); "
              f"later than {VISIBLE_WITHIN:.0f} s: {len(late)}; never seen: {len(never)}; "
              f"replaced by the next change before a poll: {len(superseded)}")
    for w in never + [w for w in committed if (w.get("visible_after") or 0) > VISIBLE_WITHIN]:
        print(f"  slow/unseen #{w['i']} {w['kind']} at {w['committed_at'] - t0:.1f} s "
              f"(took {w['committed_at'] - w['started_at']:.1f} s): {w.get('visible_after')} last {w.get('last_seen')}")


if __name__ == "__main__":
    sys.exit(main())
