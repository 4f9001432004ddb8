#!/usr/bin/env python
"""What each middleware costs a reader: its own share of a public GET, in microseconds.

A story page, the home page and a section page are requested --requests times each through
Django's WSGI handler (as gunicorn calls it, with a prepared environ, no network), anonymous,
with the page cache off (NEWSROOM_PAGE_CACHE_SECONDS=0, NEWSROOM_READ_MODEL=0: every request
builds its page). Each middleware in settings.MIDDLEWARE is loaded inside a timing shim; its
own time is the time of its call minus the time spent in the middleware below it, plus its
view hooks (process_view, process_template_response, process_exception, which Django's
handler calls next to the view). A middleware that does nothing (ProtectedDeleteMiddleware
on a GET) shows the floor: the shim's clock reads and Django's wrapper around each layer. What is left is reported as two rows of their own: the view (URL routing, view,
template, queries) and Django's handler around the stack (request and response objects,
request_started/request_finished and the connection checks they run).

    .venv/bin/python bench/middleware_cost.py                    # a throwaway SQLite database
    .venv/bin/python bench/middleware_cost.py --requests 3000 --compare-stock
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench_10k \\
        .venv/bin/python bench/middleware_cost.py --compare-stock --clock wall

--compare-stock measures, in turns within the same run, a second stack that differs only where
the site has its own lean classes (STOCK: Django's and django-csp's classes in their places)
and in using Django's own connection health check (SELECT 1 before every request's first
query on PostgreSQL) instead of the project's (newsroom/db/postgresql): a table for each
stack, then one row by row. Turns keep a busy machine's drift out of the comparison.

Without DATABASE_URL the database is made in a temporary folder: migrated, with the seed
story imported (`manage.py import_seed`, seeds/), its photos and the collected static files
beside it, all removed at the end. With DATABASE_URL the database must already hold published
stories; nothing is written to it. The access log goes to /dev/null (formatted as usual).
Prints a table per stack: middleware, microseconds per request for each page and on average,
and the share of the whole request. Times are this process's CPU time unless --clock wall
(which also counts waiting for the database); compare ratios from one run, not runs.
"""

import argparse
import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = sorted((REPO / "seeds").glob("*.txt"))
# The site's lean middleware and the stock classes they stand in for (--compare-stock).
STOCK = {
    "newsroom.security.ContentSecurityPolicyMiddleware": "csp.middleware.CSPMiddleware",
    "newsroom.middleware.LazyMessageMiddleware": "django.contrib.messages.middleware.MessageMiddleware",
}
# This process's CPU time by default: another program busy on the machine does not count
# (--clock wall: elapsed time, which also counts the database server's share on PostgreSQL).
CLOCK = time.process_time


def prepare_environment(folder):
    """Production settings (DEBUG off) with the page cache off; a throwaway database unless given."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    os.environ.setdefault("SECRET_KEY", "bench-middleware-cost-not-a-secret")
    os.environ["DEBUG"] = "0"
    os.environ["NEWSROOM_PAGE_CACHE_SECONDS"] = "0"
    # Pages stored in the database (delivery.read_model) would answer too: built every time here.
    os.environ["NEWSROOM_READ_MODEL"] = "0"
    os.environ.setdefault("MEDIA_ROOT", str(folder / "media"))
    os.environ.setdefault("STATIC_ROOT", str(folder / "static"))
    made = not os.environ.get("DATABASE_URL")
    if made:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    sys.path.insert(0, str(REPO))
    return made


def fill_database():
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("import_seed", str(SEED[0]), verbosity=0)


def pages():
    """A published story's page, the home page and that story's section page."""
    from articles.models import Article

    story = Article.objects.filter(status=Article.Status.PUBLISHED, section__isnull=False).order_by("-published_at").first()
    if story is None:
        raise SystemExit("no published story with a section in this database")
    return {
        "story": story.get_absolute_url(),
        "home": "/",
        "section": f"/sections/{story.section.slug}/",
    }


def environ_for(path):
    host = os.environ.get("BENCH_HOST", "127.0.0.1")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) bench/middleware_cost",
        "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.8",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


class Meter:
    """Seconds spent per middleware (its own share) and in the view, summed over requests."""

    VIEW = "view (URL routing, view, template, queries)"
    HANDLER = "Django's handler around the stack"

    def __init__(self):
        self.own = {}
        self.order = []

    def add(self, name, seconds):
        self.own[name] = self.own.get(name, 0.0) + seconds

    def reset(self):
        self.own = dict.fromkeys(self.own, 0.0)


def install_shims(loading):
    """Make Django's handler load every middleware inside a timing shim; each shim adds to the
    Meter that loading[0] holds when its handler is built."""
    from django.core.handlers import base
    from django.utils.module_loading import import_string

    clock = CLOCK
    hook_time = [0.0]  # view hooks run inside the innermost get_response: kept apart from the view

    def timed_hook(meter, name, hook):
        def run(*args, **kwargs):
            started = clock()
            try:
                return hook(*args, **kwargs)
            finally:
                spent = clock() - started
                meter.add(name, spent)
                hook_time[0] += spent

        return run

    def shim_factory(path):
        middleware_class = import_string(path)

        def factory(get_response):
            meter = loading[0]
            inner = [0.0]
            # Django builds the stack from the bottom up: the first one built calls the view.
            innermost = not meter.order

            def timed_get_response(request):
                started = clock()
                if innermost:
                    hook_time[0] = 0.0
                try:
                    return get_response(request)
                finally:
                    spent = clock() - started
                    inner[0] += spent
                    if innermost:
                        meter.add(Meter.VIEW, spent - hook_time[0])

            instance = middleware_class(timed_get_response)  # MiddlewareNotUsed passes through
            meter.order.insert(0, path)
            return Shim(path, instance, inner, meter)

        return factory

    class Shim:
        def __init__(self, name, instance, inner, meter):
            self.name, self.instance, self.inner, self.meter = name, instance, inner, meter
            for hook in ("process_view", "process_template_response", "process_exception"):
                if hasattr(instance, hook):
                    setattr(self, hook, timed_hook(meter, name, getattr(instance, hook)))

        def __call__(self, request):
            self.inner[0] = 0.0
            started = clock()
            response = self.instance(request)
            self.meter.add(self.name, clock() - started - self.inner[0])
            return response

    base.import_string = lambda path: shim_factory(path) if path in settings_middleware() else import_string(path)


class HealthChecks:
    """Counts connection health checks (is_usable(): a SELECT 1 on PostgreSQL) per stack, and
    puts Django's own check back (every request) for the stock stack or --django-health-check."""

    def __init__(self):
        from django.db import connections

        self.connections = list(connections.all())
        self.counts = {}
        self.stack = None
        for connection in self.connections:
            connection.is_usable = self._counted(connection.is_usable)

    def _counted(self, is_usable):
        def counted():
            if self.stack is not None:
                self.counts[self.stack] = self.counts.get(self.stack, 0) + 1
            return is_usable()

        return counted

    def use(self, stack, djangos_own):
        self.stack = stack
        for connection in self.connections:
            if djangos_own and hasattr(connection, "known_good"):
                connection.known_good = lambda: False
            else:
                connection.__dict__.pop("known_good", None)


def settings_middleware():
    from django.conf import settings

    return {*settings.MIDDLEWARE, *STOCK.values()}


def run(handler, environ, count):
    """`count` requests of `environ`; seconds in the handler, summed."""
    clock = CLOCK
    total = 0.0
    status = []

    def start_response(line, headers, exc_info=None):
        status.append(line)

    for _ in range(count):
        request_environ = dict(environ)
        request_environ["wsgi.input"] = io.BytesIO(b"")
        started = clock()
        body = handler(request_environ, start_response)
        for _chunk in body:
            pass
        body.close()
        total += clock() - started
    if not status or not status[-1].startswith("200"):
        raise SystemExit(f"{environ['PATH_INFO']} answered {status[-1] if status else 'nothing'}")
    return total


def table(results, order, count):
    """Rows: (name, {page: µs per request}, mean µs, share of the whole request)."""
    names = [*order, Meter.VIEW, Meter.HANDLER]
    totals = {page: sum(own.values()) for page, own in results.items()}
    rows = []
    for name in names:
        per_page = {page: results[page].get(name, 0.0) / count * 1e6 for page in results}
        mean = sum(per_page.values()) / len(per_page)
        share = sum(results[page].get(name, 0.0) for page in results) / sum(totals.values())
        rows.append((name, per_page, mean, share))
    middleware = {page: sum(results[page].get(name, 0.0) for name in order) / count * 1e6 for page in results}
    rows.append(("all middleware", middleware, sum(middleware.values()) / len(middleware),
                 sum(sum(results[page].get(name, 0.0) for name in order) for page in results) / sum(totals.values())))
    whole = {page: totals[page] / count * 1e6 for page in results}
    rows.append(("whole request", whole, sum(whole.values()) / len(whole), 1.0))
    return rows


def print_table(rows, pages_order):
    width = max(len(row[0]) for row in rows)
    head = f"{'middleware':<{width}}  " + "  ".join(f"{page + ' µs':>10}" for page in pages_order)
    head += f"  {'mean µs':>9}  {'share':>6}"
    print(head)
    print("-" * len(head))
    for name, per_page, mean, share in rows:
        cells = "  ".join(f"{per_page[page]:>10.1f}" for page in pages_order)
        print(f"{name:<{width}}  {cells}  {mean:>9.1f}  {share:>6.1%}")


def print_comparison(stock_rows, site_rows):
    """Row by row (the stacks differ only in which class sits at a place): stock, then the site's."""
    width = max(len(row[0]) for row in site_rows)
    head = f"{'middleware (the site’s)':<{width}}  {'stock µs':>9}  {'share':>6}  {'site µs':>9}  {'share':>6}  {'change':>7}"
    print(head)
    print("-" * len(head))
    for (_, _, before, before_share), (name, _, after, after_share) in zip(stock_rows, site_rows):
        change = f"{(after - before) / before:+.0%}" if before else ""
        print(f"{name:<{width}}  {before:>9.1f}  {before_share:>6.1%}  {after:>9.1f}  {after_share:>6.1%}  {change:>7}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per page (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per page first (default 100)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="cpu: this process's CPU time (default); wall: elapsed time")
    parser.add_argument("--compare-stock", action="store_true",
                        help="also the same stack with the stock classes the site replaces (STOCK), "
                             "measured in turns with the site's in this one run")
    parser.add_argument("--rounds", type=int, default=10, help="turns per page with --compare-stock (default 10)")
    parser.add_argument("--django-health-check", action="store_true",
                        help="PostgreSQL: Django's own health check (SELECT 1 on every request), for comparison")
    options = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if options.clock == "cpu" else time.perf_counter

    with tempfile.TemporaryDirectory(prefix="middleware-cost-") as folder:
        made = prepare_environment(Path(folder))
        import django

        django.setup()
        from django.conf import settings
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.management import call_command
        from django.test.utils import override_settings

        if made:
            fill_database()
        call_command("collectstatic", interactive=False, verbosity=0)
        # The access line is formatted and written as in production, to nowhere.
        for log_handler in logging.getLogger().handlers:
            if isinstance(log_handler, logging.StreamHandler):
                log_handler.setStream(open(os.devnull, "w"))

        checks = HealthChecks()
        loading = [None]
        install_shims(loading)
        stacks = {"site": list(settings.MIDDLEWARE)}
        if options.compare_stock:
            stacks["stock"] = [STOCK.get(name, name) for name in settings.MIDDLEWARE]
        built = {}
        for stack, middleware in stacks.items():
            loading[0] = Meter()
            with override_settings(MIDDLEWARE=middleware):
                built[stack] = (WSGIHandler(), loading[0])
        rounds = options.rounds if options.compare_stock else 1
        chunk = max(1, options.requests // rounds)
        targets = pages()
        results = {stack: {} for stack in built}
        for page, path in targets.items():
            environ = environ_for(path)
            for stack, (handler, meter) in built.items():
                checks.use(None, stack == "stock" or options.django_health_check)
                run(handler, environ, options.warmup)
                meter.reset()
            handler_seconds = dict.fromkeys(built, 0.0)
            for _ in range(rounds):
                for stack, (handler, _meter) in built.items():
                    checks.use(stack, stack == "stock" or options.django_health_check)
                    handler_seconds[stack] += run(handler, environ, chunk)
            for stack, (_handler, meter) in built.items():
                own = dict(meter.own)
                own[Meter.HANDLER] = handler_seconds[stack] - sum(own.values())
                results[stack][page] = own
                meter.reset()
        from django.db import connection

        count = chunk * rounds
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}, {connection.settings_dict['ENGINE']}"
              f"{', Django’s health check' if options.django_health_check else ''}); "
              f"{count} requests per page and stack, page cache off, {options.clock} time")
        for stack in built:
            print(f"{stack} stack: {checks.counts.get(stack, 0)} connection health checks (is_usable: a SELECT 1 "
                  f"on PostgreSQL) in {count * len(targets)} timed requests")
        print("pages: " + ", ".join(f"{page} {path}" for page, path in targets.items()))
        tables = {stack: table(results[stack], built[stack][1].order, count) for stack in built}
        for stack, rows in tables.items():
            print(f"\n{stack} stack" + (" (Django's and django-csp's own classes where the site has its own, "
                                         "and Django's health check)" if stack == "stock" else ""))
            print_table(rows, list(targets))
        if options.compare_stock:
            print("\nstock -> site, mean over the pages")
            print_comparison(tables["stock"], tables["site"])


if __name__ == "__main__":
    main()
