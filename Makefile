# Two commands set everything up on a fresh machine with Python 3.11+ and make:
#   make run    virtualenv, dependencies, migrations, the seed, demo accounts, the site on :8000
#               and the background worker beside it (`make worker` runs the worker alone)
#   make test   the same set-up, then the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run worker test deps dev-deps migrate demo check validate bench bench-signoff bench-search bench-bulk clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the pinned requirements change.
$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.deps $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

migrate: deps
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(BIN)/python manage.py setup_demo

# The worker runs static publishing and CDN purges after each change (docs/deploy/tasks.md).
# It starts in the background and is stopped with the site: Ctrl+C stops both. With DEBUG it
# reloads on code changes through a child process, so stopping it means its children too.
WORKER = manage.py db_worker --queue-name '*' --interval 0.5

run: demo
	@echo "Serving http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/), background worker beside it"
	DEBUG=1 $(BIN)/python $(WORKER) & worker=$$!; \
	trap 'pkill -TERM -P $$worker 2>/dev/null; kill $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: migrate
	DEBUG=1 $(BIN)/python $(WORKER)

# The suite runs on one pytest-xdist worker per CPU (a single-CPU machine gets one worker):
# run one after another it takes longer than the ten minutes we allow it. PYTEST_ARGS comes
# last, so it wins: `make test PYTEST_ARGS="-n0 tests/articles"` runs serially, `-n 4` on four.
PYTEST_WORKERS ?= auto

test: dev-deps
	SECRET_KEY=$${SECRET_KEY:-tests-only-not-a-secret} $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

check: dev-deps
	SECRET_KEY=tests-only-not-a-secret $(BIN)/python manage.py makemigrations --check --dry-run
	SECRET_KEY=tests-only-not-a-secret $(BIN)/python manage.py check

# `make validate`: the W3C Nu Html Checker (vnu.jar from npm, needs Java) on one page of each kind
# (tests/readers/test_html_validates.py). `make test` runs it too once node_modules has the jar.
validate: dev-deps
	@command -v java >/dev/null || { echo "validate: Java is missing (Debian: apt-get install default-jre-headless)"; exit 1; }
	[ -f node_modules/vnu-jar/build/dist/vnu.jar ] || npm ci --no-audit --no-fund --ignore-scripts
	SECRET_KEY=tests-only-not-a-secret $(BIN)/python -m pytest -q tests/readers/test_html_validates.py

# `make bench`: gunicorn + PostgreSQL + wrk on 127.0.0.1; see bench/run.py for options, e.g.
#   make bench BENCH_SIZES=10000,100000,1000000 BENCH_DURATION=20 BENCH_CONNECTIONS=16
bench: deps
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/search_bench.py $(BENCH_SEARCH_ARGS)
	$(BIN)/python bench/signoff.py $(BENCH_SIGNOFF_ARGS)
	$(BIN)/python bench/change_page.py $(BENCH_CHANGE_PAGE_ARGS)
	$(BIN)/python bench/bulk_delivery.py $(BENCH_BULK_ARGS)

# `make bench-signoff`: the sign-off POST and the time until readers see the story (bench/signoff.py),
# gunicorn + PostgreSQL + the background worker on 127.0.0.1, e.g. BENCH_SIGNOFF_ARGS="--count 50".
bench-signoff: deps
	$(BIN)/python bench/signoff.py $(BENCH_SIGNOFF_ARGS)

# `make bench-search`: the readers' search page, common words, place names and rare words, 16 connections (bench/search_bench.py),
# on the databases bench/run.py made, e.g. BENCH_SIZES=10000,100000,1000000 BENCH_SEARCH_ARGS="--baseline ../newsroom-before".
bench-search: deps
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python bench/search_bench.py $(BENCH_SEARCH_ARGS)

# `make bench-bulk`: 150 demo stories made in one command, delivered as they commit: seconds and pages
# rendered (bench/bulk_delivery.py, SQLite in a temporary folder), e.g. BENCH_BULK_ARGS="--baseline ../newsroom-before".
bench-bulk: deps
	$(BIN)/python bench/bulk_delivery.py $(BENCH_BULK_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles .pytest_cache
