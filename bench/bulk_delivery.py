"""`python bench/bulk_delivery.py`: what a bulk change costs its delivery.

Many stories changed at once (an import, the demo generator, a bulk action in the admin) are
delivered after the commit: their pages, and the lists and feeds they are on, are rendered
into the read model, written to static files and purged at the CDN. This times
`generate_demo_stories N` with that work done in-process as the change commits
(NEWSROOM_TASKS_BACKEND=immediate: what the worker would do, on the same clock), in a fresh
SQLite database in a temporary folder (migrated, the seed imported first), and counts the
public pages rendered for delivery (calls of delivery.internal.get), the home page apart.

With --baseline PATH the same runs are made in another copy of the project (e.g.
`git archive <rev> | tar -x -C ../newsroom-before`), alternating with this tree, --rounds
times each. Results: a Markdown table on standard output, and bench/results/bulk-<UTC time>.json.

Options: --stories N (default 150), --rounds K (default 2), --baseline PATH[,PATH...].
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"

# Run in the tree being measured, with its own code on the path.
CHILD = r"""
import json, sys, time
from io import StringIO
import django
django.setup()
from django.core.management import call_command
from delivery import internal

seed, stories = sys.argv[1], int(sys.argv[2])
call_command("migrate", verbosity=0)
call_command("import_seed", seed, stdout=StringIO())
rendered = []
render = internal.get

def counting(url, *args, **kwargs):
    rendered.append(url)
    return render(url, *args, **kwargs)

internal.get = counting
started = time.perf_counter()
call_command("generate_demo_stories", stories, stdout=StringIO())
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rendered": len(rendered), "home": rendered.count("/"),
                  "distinct": len(set(rendered))}))
"""


def label_of(tree):
    """A copy's commit when it is a git checkout, else its folder's name (never a machine path)."""
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True, check=False)
    return f"`{done.stdout.strip()}`" if done.returncode == 0 else Path(tree).name


def measure(tree, stories):
    seed = next((Path(tree) / "seeds").glob("*.txt"))
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "DEBUG": "1",
            "SECRET_KEY": "bench-only-not-a-secret",
            "NEWSROOM_TASKS_BACKEND": "immediate",
            "MEDIA_ROOT": f"{folder}/media",
            "PYTHONPATH": str(tree),
        }
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(seed), str(stories)],
            cwd=tree, env=env, capture_output=True, text=True, check=False,
        )
    if done.returncode:
        raise SystemExit(f"{tree}: the run failed\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default="", help="other copies of the project, comma-separated")
    options = parser.parse_args()
    trees = [("this tree", REPO)]
    trees += [(label_of(path), Path(path).resolve()) for path in filter(None, options.baseline.split(","))]
    runs = {label: [] for label, _ in trees}
    for round_number in range(options.rounds):
        for label, tree in trees:
            result = measure(tree, options.stories)
            runs[label].append(result)
            print(f"round {round_number + 1}, {label}: {result}", file=sys.stderr)
    print(f"| `generate_demo_stories {options.stories}`, delivered as it commits | seconds | pages rendered | of them the home page |")
    print("| --- | --- | --- | --- |")
    for label, results in runs.items():
        seconds = " / ".join(f"{r['seconds']:.1f}" for r in results)
        rendered = " / ".join(str(r["rendered"]) for r in results)
        home = " / ".join(str(r["home"]) for r in results)
        print(f"| {label} | {seconds} | {rendered} | {home} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"bulk-{stamp}.json"
    out.write_text(json.dumps({"stories": options.stories, "runs": runs, "cpus": os.cpu_count()}, indent=2) + "\n")
    print(f"\n{out.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
