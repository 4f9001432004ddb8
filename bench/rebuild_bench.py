#!/usr/bin/env python
"""How fast the whole site is written: the read model, and static publishing from it.

For one bench database (bench/run.py makes them), in one run:

1. ``build_read_model --rebuild``: every public page rendered by its view and stored (what a
   template change costs: the render-on-write rate), in --processes processes;
2. ``static_rebuild`` with the read model full: every file copied from it (pages/s);
3. ``static_rebuild`` with the read model off, as before it existed, stopped after
   --baseline-seconds (its progress lines give the rate; it is resumable, so stopping is safe).

    .venv/bin/python bench/rebuild_bench.py --database newsroom_bench_10k
    .venv/bin/python bench/rebuild_bench.py --database newsroom_bench_100k --skip-build

Results are printed and written to bench/results/rebuild-<UTC time>.json.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
RATE = re.compile(r"([\d.]+) pages/s")


def manage(env, *args, seconds=None):
    """Run a management command; stop it with SIGINT after `seconds`. (elapsed, output)."""
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate()
    return time.monotonic() - began, output


def count_rows(env, origin):
    import psycopg2

    with psycopg2.connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM delivery_storedpage WHERE address LIKE %s", [origin + "/%"])
        return cursor.fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="newsroom_bench_10k")
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline-seconds", type=int, default=60)
    parser.add_argument("--skip-build", action="store_true", help="use the read model as it is (no --rebuild)")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rebuild-bench-"))
    origin = "http://127.0.0.1:8000"
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + os.urandom(8).hex(),
        "DATABASE_URL": f"{options.server.rstrip('/')}/{options.database}",
        "NEWSROOM_SITE_URL": origin,
        "NEWSROOM_STATIC_PUBLISH_ROOT": str(folder / "site"),
        "NEWSROOM_STATIC_PUBLISH_ORIGIN": origin,
        "STATIC_ROOT": str(REPO / "bench" / "data" / "static"),
        "MEDIA_ROOT": str(REPO / "bench" / "data" / "media"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "ERROR",
    }
    result = {"database": options.database, "processes": options.processes, "started": datetime.now(timezone.utc).isoformat()}
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        if not options.skip_build:
            seconds, output = manage(env, "build_read_model", "--rebuild", "--processes", str(options.processes))
            stored = re.search(r"([\d,]+) stored,", output)
            rows = int(stored.group(1).replace(",", "")) if stored else count_rows(env, origin)
            result["read_model"] = {"seconds": round(seconds, 1), "pages": rows, "pages_per_s": round(rows / seconds, 1)}
            print(f"build_read_model --rebuild: {rows:,} pages in {seconds:.0f} s = {rows / seconds:.1f} pages/s", flush=True)
            print(output.strip().splitlines()[-1] if output.strip() else "", flush=True)
        seconds, output = manage(env, "static_rebuild", "--every", "5")
        written = re.search(r"([\d,]+) files written", output)
        pages = int(written.group(1).replace(",", "")) if written else 0
        result["static_from_read_model"] = {"seconds": round(seconds, 1), "files": pages, "pages_per_s": round(pages / seconds, 1)}
        print(f"static_rebuild from the read model: {pages:,} files in {seconds:.1f} s = {pages / seconds:.1f} pages/s", flush=True)
        baseline_env = {**env, "NEWSROOM_READ_MODEL": "0"}
        seconds, output = manage(baseline_env, "static_rebuild", "--every", "5", seconds=options.baseline_seconds)
        rates = [float(rate) for rate in RATE.findall(output)]
        result["static_without_read_model"] = {"seconds": round(seconds, 1), "pages_per_s": rates[-1] if rates else None}
        print(f"static_rebuild without the read model: {rates[-1] if rates else 'n/a'} pages/s (stopped after {seconds:.0f} s)")
        if result["static_without_read_model"]["pages_per_s"]:
            result["speedup"] = round(result["static_from_read_model"]["pages_per_s"] / rates[-1], 1)
            print(f"static rebuild from the read model / without it: {result['speedup']}x")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"rebuild-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"Written: bench/results/rebuild-{stamp}.json")


if __name__ == "__main__":
    main()
