# Two commands set everything up on a fresh machine with Python 3.11+ and make:
#   make run    virtualenv, dependencies, migrations, the seed, demo accounts, the site on :8000
#   make test   the same set-up, then the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test deps dev-deps migrate demo check bench clean

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

run: demo
	@echo "Serving http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: dev-deps
	SECRET_KEY=$${SECRET_KEY:-tests-only-not-a-secret} $(BIN)/python -m pytest $(PYTEST_ARGS)

check: dev-deps
	SECRET_KEY=tests-only-not-a-secret $(BIN)/python manage.py makemigrations --check --dry-run
	SECRET_KEY=tests-only-not-a-secret $(BIN)/python manage.py check

# `make bench`: gunicorn + PostgreSQL + wrk on 127.0.0.1; see bench/run.py for options, e.g.
#   make bench BENCH_SIZES=10000,100000,1000000 BENCH_DURATION=20 BENCH_CONNECTIONS=16
bench: deps
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles .pytest_cache
