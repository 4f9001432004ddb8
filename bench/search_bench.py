"""`make bench-search`: the readers' search page under load, common, place and rare words apart.

For each database (the archive sizes bench/run.py generates, or one named database) this
1. looks up, in a separate Django process, how many stories each benchmark word matches and
   times the search's own SQL for each word, one statement alone (EXPLAIN ANALYZE, after a
   warm-up run), the plan of the first word of each class kept in the results,
2. starts the search page the way bench/run.py starts its "uncached" server: gunicorn,
   DEBUG off, a SECRET_KEY, bench.settings_uncached (every cache a dummy), 127.0.0.1,
   2 x CPUs + 1 sync workers, then sends it two unmeasured 5 s rounds of rare-word load (each
   worker reads jieba's dictionary on its first search; production does it before forking),
3. drives /search/?q=<word> with wrk (bench/wrk_report.lua, one word drawn at random per
   request) for the common words, then the place names, then the rare words, and reports
   p50/p95/p99 of each class.

With --baseline PATH a second server runs the same load from another copy of the project
(e.g. the last commit, `git archive HEAD | tar -x -C ../newsroom-before`), against the same database,
alternating with this tree: before/after figures come from the same run. Several copies,
comma-separated, are measured in turn.

Options (command line, or environment when run through `make bench` / `make bench-search`):
  --sizes / BENCH_SIZES              archive sizes, default 10000 (databases <prefix>_10k, ...)
  --database / BENCH_SEARCH_DATABASE one database by name instead of the sizes
  --duration / BENCH_SEARCH_DURATION seconds of load per word class, default 10
  --warmup / BENCH_WARMUP            seconds of unmeasured load before each, default 2
  --connections / BENCH_SEARCH_CONNECTIONS  open connections, default 16
  --threads / BENCH_THREADS          wrk threads, default 2
  --workers / BENCH_WORKERS          gunicorn workers, default 2 x CPUs + 1
  --common / --places / --rare       comma-separated words (defaults below)
  --baseline PATH[,PATH...]          also measure the project copies at PATH, same load, same run
  --db-prefix / BENCH_DB_PREFIX, BENCH_DATABASE_SERVER, --port / BENCH_SEARCH_PORT (default 8210)

The databases are not generated here: run bench/run.py (`make bench BENCH_SIZES=...`) or
bench/generate_stories.py first. Results: bench/results/search-<UTC time>.json and .md.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The explain step of --baseline runs this file against the other copy's code.
sys.path.insert(0, os.environ.get("BENCH_SEARCH_TREE") or str(REPO))

from bench.run import DATA, RESULTS, Server, loadavg, machine, server_environment, settle, size_label, wrk  # noqa: E402

# Words of the generated archive (bench/generate_stories.py). Common: in (nearly) every story,
# many in headlines too. Rare: a few stories in ten thousand or fewer; the place+topic pairs
# stand in summaries and headlines, 量子通信 only in a body, the last one in a handful.
COMMON_WORDS = ["发展", "推动", "群众", "工作"]
RARE_WORDS = ["量子通信", "钢城区夜间经济", "平阴县托育服务", "槐荫区文旅局举办论坛"]
# Between the two: a district or city, what readers of a regional site search for most. Each
# of the generator's 30 places stands in about one story in thirty (3%): too many matches for
# the index to hand over cheaply, too few for the newest-first walk to find 100 soon.
PLACE_WORDS = ["钢城区", "平阴县", "青岛", "槐荫区"]
CLASSES = ("common", "place", "rare")
EXPLAIN_RUNS = 5
PAGE_ROWS = 11  # what the search page asks for: its 10 results and one more (is there a next page)


# ---------------------------------------------------------------------------------------
# Inside Django (a separate process): matches per word, the statement alone.
# ---------------------------------------------------------------------------------------

def explain(words, count=True):
    """For each word: stories matched, the page's search statement timed alone; print JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    import django

    django.setup()
    from django.db import connection

    from articles import search as engine
    from articles.models import Article, SearchEntry

    out = {}
    for word in words:
        query = engine.Query(word)
        live = Article.objects.published()
        matches = None
        if count:
            with connection.cursor() as cursor:
                # From the GIN index: a sequential scan would read every vector.
                cursor.execute("SET enable_seqscan = off")
                cursor.execute(
                    "SELECT count(*) FROM articles_searchentry WHERE search_vector @@ to_tsquery('simple', %s)",
                    [engine._tsquery(query.required, "&")],
                )
                matches = cursor.fetchone()[0]
                cursor.execute("RESET enable_seqscan")
        if hasattr(engine, "Hit"):  # the hand-written statement (this tree since issue 15)
            sql, params = engine.search(query).statement(0, PAGE_ROWS)
        else:  # a copy from before it: the ORM's
            sql, params = engine.search(live.for_listing(), query)[:PAGE_ROWS].query.sql_with_params()
        timings, planning, plan = [], [], None
        with connection.cursor() as cursor:
            for run in range(EXPLAIN_RUNS + 1):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
                result = cursor.fetchone()[0]
                result = json.loads(result) if isinstance(result, str) else result
                if run == 0:  # the warm-up: first reads of the word's index pages
                    continue
                timings.append(result[0]["Execution Time"])
                planning.append(result[0]["Planning Time"])
                plan = result[0]["Plan"]
        out[word] = {
            "matches": matches,
            "execution_ms": round(statistics.median(timings), 2),
            "planning_ms": round(statistics.median(planning), 2),
            "plan": plan,
        }
    out["_stories"] = SearchEntry.objects.count()
    out["_indexes"] = index_sizes(connection)
    json.dump(out, sys.stdout, ensure_ascii=False)


def index_sizes(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, am.amname, pg_relation_size(indexrelid)"
            " FROM pg_index JOIN pg_class c ON c.oid = indexrelid JOIN pg_am am ON am.oid = c.relam"
            " WHERE indrelid = 'articles_searchentry'::regclass ORDER BY 1"
        )
        return [{"index": name, "method": method, "mb": round(size / 2**20, 1)} for name, method, size in cursor.fetchall()]


def plan_lines(plan, depth=0):
    """The plan as indented text: node, its index or relation, rows and time."""
    label = plan["Node Type"]
    for key in ("Index Name", "Relation Name"):
        if key in plan:
            label += f" on {plan[key]}"
            break
    line = "  " * depth + f"{label} (rows={plan.get('Actual Rows')} loops={plan.get('Actual Loops')}" \
        f" time={plan.get('Actual Total Time')} ms)"
    lines = [line]
    for child in plan.get("Plans", []):
        lines += plan_lines(child, depth + 1)
    return lines


# ---------------------------------------------------------------------------------------
# Outside Django: the servers and the load.
# ---------------------------------------------------------------------------------------

class TreeServer(Server):
    """bench.run's Server, serving the project copy at `tree` (this one by default)."""

    def __init__(self, app, port, env, options, tree=REPO):
        super().__init__(app, port, env, options)
        self.tree = Path(tree)

    def start(self):
        if self.tree == REPO:
            return super().start()
        import bench.run as harness

        original = harness.REPO
        harness.REPO = self.tree  # Server.start runs gunicorn from harness.REPO
        try:
            return super().start()
        finally:
            harness.REPO = original


def run_explain(env, words, tree=REPO, count=True):
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "search_bench.py"), "explain", "--words", ",".join(words),
         *([] if count else ["--no-count"])],
        env={**env, "BENCH_SEARCH_TREE": str(tree)}, cwd=tree, check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def prime(server, options):
    """Two rounds of rare-word load, unmeasured, so that no measured request waits for a
    worker's first search: each worker reads jieba's dictionary then (1-2 s; production
    loads it once before forking, deploy/gunicorn.conf.py). With 16 connections over 5
    workers every worker gets requests in the first round."""
    paths = [f"/search/?q={urllib.parse.quote(word)}" for word in options.words["rare"]]
    for _ in range(2):
        wrk(server.url(""), paths, duration=5, connections=options.connections, threads=options.threads)


def bench_database(database, options, base_env):
    env = {**base_env, "DATABASE_URL": f"{options.database_server.rstrip('/')}/{database}"}
    print(f"\n== {database} ==", file=sys.stderr)
    entry = {"database": database, "trees": {}}
    trees = {}
    for number, path in enumerate(p for p in options.baseline.split(",") if p):
        trees["baseline" if number == 0 else f"baseline {Path(path).name}"] = Path(path).resolve()
    trees["this tree"] = REPO
    servers = {}
    port = options.port
    for name, tree in trees.items():
        # The copy's folder name only: a full path would name the folders of the machine it ran on.
        entry["trees"][name] = {"path": "." if tree == REPO else tree.name}
        explained = run_explain(env, [w for klass in CLASSES for w in options.words[klass]], tree, count=not servers)
        for word, figures in explained.items():
            if not word.startswith("_") and figures["matches"] is None:  # counted with the first tree
                figures["matches"] = next(iter(entry["trees"].values()))["statement"][word]["matches"]
        entry["stories"] = explained.pop("_stories")
        entry["trees"][name]["indexes"] = explained.pop("_indexes")
        entry["trees"][name]["statement"] = explained
        servers[name] = TreeServer("newsroom.wsgi:application", port, {
            **env, "DJANGO_SETTINGS_MODULE": "bench.settings_uncached", "PYTHONPATH": str(tree),
        }, options, tree)
        port += 1
    try:
        for server in servers.values():
            server.start()
            prime(server, options)
        for klass in CLASSES:
            paths = [f"/search/?q={urllib.parse.quote(word)}" for word in options.words[klass]]
            if not paths:
                continue
            # Alternate the trees, each after the same warm-up, so both see the same machine.
            for name, server in servers.items():
                settle({name: server}, options, database)
                if options.warmup:
                    wrk(server.url(""), paths, duration=options.warmup, connections=options.connections,
                        threads=options.threads)
                load = loadavg()
                figures = wrk(server.url(""), paths, duration=options.duration, connections=options.connections,
                              threads=options.threads)
                figures["load"] = load
                entry["trees"][name][klass] = figures
                print(f"  {name:10} {klass:6} p50 {figures['p50_ms']} p95 {figures['p95_ms']} p99 {figures['p99_ms']} ms,"
                      f" {figures['rps']} req/s, errors {figures['errors']}", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()
    return entry


def database_exists(server_url, name):
    import psycopg2

    parts = urllib.parse.urlsplit(server_url)
    conn = psycopg2.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                            user=parts.username or "postgres", password=parts.password, dbname="postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        conn.close()


def fmt(value):
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def markdown(run):
    lines = [
        f"# Search under load, {run['started']}",
        "",
        f"gunicorn {run['settings']['workers']} sync workers, bench.settings_uncached (DEBUG off, caches off),"
        f" wrk {run['settings']['connections']} connections for {run['settings']['duration_s']} s per class"
        f" after {run['settings']['warmup_s']} s of warm-up; words drawn at random per request.",
        " ".join(f"{klass.capitalize()}: {', '.join(run['words'][klass])}." for klass in CLASSES if run["words"].get(klass)),
        "",
        "| database | stories | tree | class | req/s | p50 ms | p95 ms | p99 ms | errors | load |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in run["databases"]:
        for name, tree in entry["trees"].items():
            for klass in CLASSES:
                if klass not in tree:
                    continue
                f = tree[klass]
                lines.append(
                    f"| {entry['database']} | {entry['stories']:,} | {name} | {klass} | {fmt(f.get('rps'))} |"
                    f" {fmt(f.get('p50_ms'))} | {fmt(f.get('p95_ms'))} | {fmt(f.get('p99_ms'))} | {fmt(f.get('errors'))} |"
                    f" {fmt(f.get('load'))} |"
                )
    lines += ["", "The search statement alone (EXPLAIN ANALYZE, median of "
              f"{EXPLAIN_RUNS} runs after one warm-up), page 1 ({PAGE_ROWS} rows, as the page asks):", "",
              "| database | tree | word | matches | execution ms | planning ms |",
              "| --- | --- | --- | ---: | ---: | ---: |"]
    for entry in run["databases"]:
        for name, tree in entry["trees"].items():
            for word, figures in tree["statement"].items():
                lines.append(f"| {entry['database']} | {name} | {word} | {fmt(figures['matches'])} |"
                             f" {figures['execution_ms']} | {figures['planning_ms']} |")
    lines += ["", "Indexes of articles_searchentry:", ""]
    for entry in run["databases"]:
        for name, tree in entry["trees"].items():
            sizes = ", ".join(f"{i['index']} ({i['method']}) {i['mb']} MB" for i in tree["indexes"])
            lines.append(f"* {entry['database']}, {name}: {sizes}")
    last = run["databases"][-1] if run["databases"] else None
    if last:
        for name, tree in last["trees"].items():
            for word in (words[0] for words in run["words"].values() if words):
                lines += ["", f"Plan at {last['database']}, {name}, {word}:", "", "```",
                          *plan_lines(tree["statement"][word]["plan"]), "```"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    env = os.environ.get
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "explain"])
    parser.add_argument("--words", help=argparse.SUPPRESS)
    parser.add_argument("--no-count", dest="count", action="store_false", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=env("BENCH_SIZES", "10000"))
    parser.add_argument("--database", default=env("BENCH_SEARCH_DATABASE", ""))
    parser.add_argument("--duration", type=int, default=int(env("BENCH_SEARCH_DURATION", "10")))
    parser.add_argument("--warmup", type=int, default=int(env("BENCH_WARMUP", "2")))
    parser.add_argument("--connections", type=int, default=int(env("BENCH_SEARCH_CONNECTIONS", "16")))
    parser.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "2")))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1))))
    parser.add_argument("--common", default=",".join(COMMON_WORDS))
    parser.add_argument("--places", default=",".join(PLACE_WORDS))
    parser.add_argument("--rare", default=",".join(RARE_WORDS))
    parser.add_argument("--baseline", default=env("BENCH_SEARCH_BASELINE", ""))
    parser.add_argument("--db-prefix", default=env("BENCH_DB_PREFIX", "newsroom_bench"))
    parser.add_argument("--database-server", default=env("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--port", type=int, default=int(env("BENCH_SEARCH_PORT", "8210")))
    options = parser.parse_args()
    options.worker_class = "sync"
    # Stopped with SIGTERM, still stop the servers (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    if options.mode == "explain":
        explain([w for w in options.words.split(",") if w], count=options.count)
        return

    options.words = {klass: [w for w in value.split(",") if w]
                     for klass, value in zip(CLASSES, (options.common, options.places, options.rare))}
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    base_env = server_environment()
    if options.database:
        databases = [options.database]
    else:
        databases = [f"{options.db_prefix}_{size_label(int(s))}" for s in sorted(int(s) for s in options.sizes.split(",") if s.strip())]
    first = {**base_env, "DATABASE_URL": f"{options.database_server.rstrip('/')}/{databases[0]}"}
    subprocess.run([sys.executable, str(REPO / "manage.py"), "collectstatic", "--noinput", "-v0"],
                   env=first, cwd=REPO, check=True)
    started = datetime.now(timezone.utc)
    run = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"duration_s": options.duration, "warmup_s": options.warmup, "connections": options.connections,
                     "threads": options.threads, "workers": options.workers,
                     "gunicorn": "gunicorn, DEBUG off, bench.settings_uncached, PostgreSQL, 127.0.0.1"},
        "words": options.words,
        "databases": [],
    }
    for database in databases:
        if not database_exists(options.database_server, database):
            print(f"\n== {database}: no such database, skipped (bench/run.py or generate_stories makes it) ==",
                  file=sys.stderr)
            continue
        run["databases"].append(bench_database(database, options, base_env))
    if not run["databases"]:
        sys.exit("search_bench: none of the databases exists")
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    text = markdown(run)
    (RESULTS / f"search-{stamp}.json").write_text(json.dumps(run, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / f"search-{stamp}.md").write_text(text)
    print(text)
    print(f"Written: bench/results/search-{stamp}.json and .md", file=sys.stderr)


if __name__ == "__main__":
    main()
