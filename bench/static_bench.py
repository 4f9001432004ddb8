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


def wrk(url, duration, threads, connections):
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", output).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(errors.group(1)) if errors else 0}


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
    # The yardstick: nginx sending a plain file, nothing else configured.
    server {{
        listen 127.0.0.1:{plain_port};
        root {tmp}/plain;
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
        differing = [
            name for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                              "Referrer-Policy", "Cross-Origin-Opener-Policy", "Permissions-Policy")
            if django_headers.get(name) != file_headers.get(name)
        ]

        print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, nginx with 1 worker "
              f"({os.cpu_count()} CPUs shared with wrk)", flush=True)
        results = {}
        for name, url in pages.items():
            results[f"plain {name}"] = wrk(f"http://127.0.0.1:{plain_port}/{name}.html", args.duration,
                                           args.threads, args.connections)
            results[f"static {name}"] = wrk(origin + url, args.duration, args.threads, args.connections)
        results["django story (gunicorn, page cache)"] = wrk(
            f"http://127.0.0.1:{upstream_port}{story_url}", args.duration, args.threads, args.connections
        )
        for label, r in results.items():
            print(f"  {label:<38} {r['rps']:>10,.0f} req/s   p50 {r['p50']:>8}   p99 {r['p99']:>8}"
                  f"   non-2xx {r['non2xx']}")
        print()
        for name in pages:
            ratio = results[f"static {name}"]["rps"] / results[f"plain {name}"]["rps"]
            print(f"  {name} page ({sizes[name]:,} bytes): static/plain = {ratio:.1%}")

        # Publish → visible through nginx.
        section = Section.objects.get(slug="local")
        timings, edits, writes = [], [], []
        for i in range(args.publishes):
            headline = f"静态发布计时稿件{i}-{int(time.time() * 1000)}"
            began = time.monotonic()
            with transaction.atomic():
                article = Article.objects.create(
                    headline=headline, body="<p>计时。</p>", section=section,
                    status=Article.Status.PUBLISHED, published_at=timezone.now(),
                )
            writes.append(time.monotonic() - began)
            url = origin + article.get_absolute_url()
            while True:
                s1, h1, b1 = fetch(url)
                _, h2, b2 = fetch(origin + "/")
                if (s1 == 200 and "X-Served-By" not in h1 and "X-Served-By" not in h2
                        and headline.encode() in b2):
                    break
                if time.monotonic() - began > 10:
                    raise SystemExit("publish not visible after 10 s")
                time.sleep(0.01)
            timings.append(time.monotonic() - began)
            began = time.monotonic()
            article.headline = headline + "改"
            with transaction.atomic():
                article.save()
            while (headline + "改").encode() not in fetch(url)[2] or (headline + "改").encode() not in fetch(
                origin + "/"
            )[2]:
                if time.monotonic() - began > 10:
                    raise SystemExit("edit not visible after 10 s")
                time.sleep(0.01)
            edits.append(time.monotonic() - began)
            time.sleep(1.1)  # let nginx's open_file_cache revalidate between rounds
        print(f"\n  publish → files written (commit hook): median {statistics.median(writes) * 1000:.0f} ms, "
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
