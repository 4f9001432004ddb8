#!/usr/bin/env python
"""Static publishing (静态发布) benchmark, in one run:

1. nginx sending a published story page and the home page from their files, against the
   same nginx sending a plain file of the same size (wrk, requests per second, ratio);
2. the time from a publish (a model save committing) until nginx sends the new page and
   the home page lists it, and the same for an edit.

Everything runs in a throwaway folder: its own SQLite database (or --database-url), demo
stories, `static_rebuild`, gunicorn for the fallback, and nginx started with a config made
from deploy/nginx/newsroom.conf (only paths and ports replaced). Nothing touches the
system's nginx or database.

    .venv/bin/python bench/static_bench.py            # from the repository root
    .venv/bin/python bench/static_bench.py --stories 2000 --duration 10 --port 8300

Needs nginx and wrk on PATH. Uses ports PORT (the site), PORT+1 (gunicorn) and PORT+2
(the plain-file server), all on 127.0.0.1.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(cmd, env, **kwargs):
    subprocess.run(cmd, env=env, cwd=REPO, check=True, **kwargs)


def manage(env, *args, quiet=True):
    out = subprocess.DEVNULL if quiet else None
    run([sys.executable, "manage.py", *args], env, stdout=out)


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for(url, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            fetch(url)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise SystemExit(f"nothing answers at {url}")


def cpu_seconds(pids):
    """User + system CPU time the given processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def nginx_workers(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


WORKERS = []  # nginx worker processes, whose CPU time wrk() measures


def wrk(url, duration, threads, connections):
    cpu_before = cpu_seconds(WORKERS) if WORKERS else 0
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", output).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    cpu = (cpu_seconds(WORKERS) - cpu_before) if WORKERS else 0
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(errors.group(1)) if errors else 0,
            "cpu_us": cpu / max(requests, 1) * 1e6}


def nginx_config(tmp, port, upstream_port, plain_port):
    site = (REPO / "deploy" / "nginx" / "newsroom.conf").read_text()
    replacements = {
        "/srv/newsroom/pages": str(tmp / "pages"),
        "/srv/newsroom/static": str(tmp / "static"),
        "/srv/newsroom/media": str(tmp / "media"),
        "127.0.0.1:8000": f"127.0.0.1:{upstream_port}",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "server_name news.example.cn;": "server_name 127.0.0.1;",
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    (tmp / "newsroom.conf").write_text(site)
    temp = tmp / "nginx-temp"
    temp.mkdir()
    temp.chmod(0o777)
    main = f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {tmp}/newsroom.conf;
    # The yardstick: nginx sending a plain file, nothing else configured (the same file
    # descriptor cache as the site, so the comparison is about routing and headers).
    server {{
        listen 127.0.0.1:{plain_port};
        root {tmp}/plain;
        open_file_cache max=10000 inactive=30s;  # as the site's server has
        open_file_cache_valid 1s;
    }}
}}
"""
    (tmp / "nginx.conf").write_text(main)
    return tmp / "nginx.conf"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=1000, help="demo stories to generate")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--publishes", type=int, default=5, help="publishes timed")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved plain/static wrk rounds")
    parser.add_argument("--database-url", default="", help="default: SQLite in the throwaway folder")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway folder")
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not Path("/usr/sbin/nginx").exists():
            raise SystemExit(f"{tool} not found")
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"

    tmp = Path(tempfile.mkdtemp(prefix="newsroom-static-bench-"))
    tmp.chmod(0o755)  # nginx workers run as an unprivileged user
    port, upstream_port, plain_port = args.port, args.port + 1, args.port + 2
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DEBUG": "",
        "SECRET_KEY": "static-bench-only-not-a-secret",
        "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(tmp / "media"),
        "STATIC_ROOT": str(tmp / "static"),
        "NEWSROOM_SERVE_MEDIA": "0",
        "NEWSROOM_STATIC_PUBLISH_ROOT": str(tmp / "pages"),
        "NEWSROOM_STATIC_PUBLISH_ORIGIN": origin,
        "LOG_LEVEL": "ERROR",
    }
    processes = []
    try:
        print(f"Setting up in {tmp} ({args.stories} demo stories)…", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        # Content first, with static publishing off (each save would otherwise write its pages).
        loading = {**env, "NEWSROOM_STATIC_PUBLISH_ROOT": ""}
        manage(loading, "setup_demo")
        started = time.monotonic()
        manage(loading, "generate_demo_stories", str(args.stories))
        print(f"generate_demo_stories took {time.monotonic() - started:.1f} s", flush=True)
        started = time.monotonic()
        manage(env, "static_rebuild", "--every", "5", quiet=False)
        print(f"static_rebuild took {time.monotonic() - started:.1f} s", flush=True)

        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "newsroom.wsgi:application", "--bind", f"127.0.0.1:{upstream_port}",
             "--workers", "2", "--log-level", "warning"],
            cwd=REPO, env=env,
        )
        processes.append(gunicorn)
        conf = nginx_config(tmp, port, upstream_port, plain_port)
        nginx = subprocess.Popen(
            [nginx_bin, "-p", str(tmp), "-e", str(tmp / "nginx-error.log"), "-c", str(conf), "-g", "daemon off;"],
            cwd=tmp,
        )
        processes.append(nginx)
        wait_for(f"http://127.0.0.1:{upstream_port}/robots.txt")
        wait_for(f"{origin}/robots.txt")

        # Django in this process, for finding pages and for publishing.
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from django.db import transaction
        from django.utils import timezone

        from articles.models import Article, Section

        seed = Article.objects.published().filter(headline__contains="历城书记论坛").first()
        story_url = seed.get_absolute_url()
        pages = {"story": story_url, "home": "/"}

        plain = tmp / "plain"
        plain.mkdir()
        plain.chmod(0o755)
        sizes = {}
        for name, url in pages.items():
            status, headers, body = fetch(origin + url)
            assert status == 200, (url, status)
            assert "X-Served-By" not in headers and "X-Page-Cache" not in headers, f"{url} did not come from a file"
            sizes[name] = len(body)
            (plain / f"{name}.html").write_bytes(body)
            (plain / f"{name}.html").chmod(0o644)
        status, headers, _ = fetch(origin + "/search/?q=%E6%B5%8E%E5%8D%97")
        assert status == 200 and headers.get("X-Served-By") == "django", "search must fall back to Django"
        status, headers, _ = fetch(origin + "/sections/local/?page=2")
        assert headers.get("X-Served-By") == "django", "pages with a query string must come from Django"
        _, django_headers, _ = fetch(f"http://127.0.0.1:{upstream_port}{story_url}")
        _, file_headers, _ = fetch(origin + story_url)
        def policy(value):
            return {part.strip() for part in (value or "").split(";") if part.strip()}

        differing = [
            name for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                              "Referrer-Policy", "Cross-Origin-Opener-Policy", "Permissions-Policy")
            if policy(django_headers.get(name)) != policy(file_headers.get(name))
        ]

        print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, nginx with 1 worker "
              f"({os.cpu_count()} CPUs shared with wrk); {args.rounds} interleaved rounds", flush=True)
        WORKERS.extend(nginx_workers(nginx.pid))
        ratios = {name: [] for name in pages}
        cpu_ratios = {name: [] for name in pages}
        for round_number in range(1, args.rounds + 1):
            for name, url in pages.items():
                plain_result = wrk(f"http://127.0.0.1:{plain_port}/{name}.html", args.duration,
                                   args.threads, args.connections)
                static_result = wrk(origin + url, args.duration, args.threads, args.connections)
                ratios[name].append(static_result["rps"] / plain_result["rps"])
                # What one nginx worker could serve if it had a CPU to itself: plain CPU cost
                # per request over static CPU cost per request. Robust on a shared, busy machine.
                cpu_ratios[name].append(plain_result["cpu_us"] / static_result["cpu_us"])
                for label, r in ((f"plain {name}", plain_result), (f"static {name}", static_result)):
                    print(f"  round {round_number}  {label:<14} {r['rps']:>9,.0f} req/s   p50 {r['p50']:>8}   "
                          f"p99 {r['p99']:>8}   nginx CPU {r['cpu_us']:5.1f} µs/req   non-2xx {r['non2xx']}",
                          flush=True)
        django_result = wrk(f"http://127.0.0.1:{upstream_port}{story_url}", args.duration, args.threads,
                            args.connections)
        print(f"  for scale: the story page from gunicorn (2 workers, page cache hit) "
              f"{django_result['rps']:,.0f} req/s")
        print()
        for name in pages:
            values = ", ".join(f"{value:.1%}" for value in ratios[name])
            print(f"  {name} page ({sizes[name]:,} bytes): static/plain throughput median "
                  f"{statistics.median(ratios[name]):.1%}  (rounds: {values})")
            values = ", ".join(f"{value:.1%}" for value in cpu_ratios[name])
            print(f"  {name} page: static/plain by nginx CPU per request median "
                  f"{statistics.median(cpu_ratios[name]):.1%}  (rounds: {values})")
        load = os.getloadavg()[0]
        print(f"  machine load average during the runs: {load:.1f} on {os.cpu_count()} CPUs")

        # Publish → visible through nginx. The save runs in a thread, as in an editor's request;
        # this thread watches nginx from the moment the save starts.
        import threading

        section = Section.objects.get(slug="local")
        timings, edits, writes = [], [], []

        def in_thread(change):
            done = {}

            def work():
                began = time.monotonic()
                with transaction.atomic():
                    done["article"] = change()
                done["seconds"] = time.monotonic() - began
                from django.db import connection

                connection.close()

            thread = threading.Thread(target=work)
            thread.start()
            return thread, done

        def watch(began, done, needle, limit=10):
            while "article" not in done:  # known once saved, before the commit writes files
                time.sleep(0.001)
            url = origin + done["article"].get_absolute_url()
            while True:
                status, headers, body = fetch(url)
                _, home_headers, home = fetch(origin + "/")
                if (status == 200 and "X-Served-By" not in headers and "X-Served-By" not in home_headers
                        and needle in body and needle in home):
                    return time.monotonic() - began
                if time.monotonic() - began > limit:
                    raise SystemExit(f"not visible after {limit} s: {url}")
                time.sleep(0.005)

        # Warm-up, not timed: the first save in a process loads the search dictionary (jieba).
        thread, done = in_thread(lambda: Article.objects.create(
            headline="预热稿件", body="<p>预热。</p>", section=section,
            status=Article.Status.PUBLISHED, published_at=timezone.now(),
        ))
        thread.join()
        time.sleep(1.1)
        for i in range(args.publishes):
            headline = f"静态发布计时稿件{i}-{int(time.time() * 1000)}"
            began = time.monotonic()
            thread, done = in_thread(lambda: Article.objects.create(
                headline=headline, body="<p>计时。</p>", section=section,
                status=Article.Status.PUBLISHED, published_at=timezone.now(),
            ))
            timings.append(watch(began, done, headline.encode()))
            thread.join()
            writes.append(done["seconds"])
            article = done["article"]
            time.sleep(1.1)  # nginx's open_file_cache_valid: measure each edit from a settled state

            def edit():
                article.headline = headline + "改"
                article.save()
                return article

            began = time.monotonic()
            thread, done = in_thread(edit)
            edits.append(watch(began, done, (headline + "改").encode()))
            thread.join()
            time.sleep(1.1)
        print(f"\n  publish → all its pages written (save + commit hook): median {statistics.median(writes) * 1000:.0f} ms, "
              f"max {max(writes) * 1000:.0f} ms")
        print(f"  publish → story page and home page served by nginx: median {statistics.median(timings) * 1000:.0f} ms,"
              f" max {max(timings) * 1000:.0f} ms ({len(timings)} publishes)")
        print(f"  edit → new headline served on story and home: median {statistics.median(edits) * 1000:.0f} ms, "
              f"max {max(edits) * 1000:.0f} ms")
        print("\n  security headers: " + ("same as Django's" if not differing else f"differ: {differing}"))
        verify = subprocess.run([sys.executable, "manage.py", "static_verify", "--every", "60"], env=env, cwd=REPO,
                                capture_output=True, text=True)
        print("  static_verify after the run: " + (verify.stdout.strip().splitlines() or ["?"])[-1]
              + (verify.stderr.strip().splitlines() or [""])[-1])
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
