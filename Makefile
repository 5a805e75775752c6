# Sogla: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every check.
# Prerequisites: Python 3.11+ and Node.js 18+ with npm. Everything else is installed here.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON_FOR_VENV ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
SOGLA := $(VENV)/bin/sogla
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Tests run on two processes (pytest-xdist); the browser tests stay in one (one
# Chromium, one live server). XDIST= runs everything in one process.
XDIST ?= -n 2
# Where the PostgreSQL test run connects; the test database itself is created by pytest.
SOGLA_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: help prerequisites setup run serve demo test check test-fast test-sqlite test-postgres \
	bench messages clean

help:
	@echo "make run    - set everything up and serve the demo on http://$(HOST):$(PORT)"
	@echo "make test   - set everything up and run the checks and the whole test suite"
	@echo "make check  - linters, types, import contracts, migrations check"
	@echo "make test-fast - the engine and the workflow services on SQLite (no stress tests)"
	@echo "make bench  - benchmarks (print figures; not part of make test)"
	@echo "make clean  - remove the virtualenv, node_modules, built assets (keeps var/)"

prerequisites:
	@test -n "$(PYTHON_FOR_VENV)" || { echo "Sogla needs Python 3.11 or newer: install python3.11 (with venv) and run make again."; exit 1; }
	@command -v node >/dev/null 2>&1 || { echo "Sogla needs Node.js 18 or newer with npm: install nodejs and npm and run make again."; exit 1; }
	@node -e 'process.exit(parseInt(process.versions.node) >= 18 ? 0 : 1)' || { echo "Sogla needs Node.js 18 or newer (found $$(node --version)): upgrade nodejs."; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "Sogla needs npm (comes with Node.js): install npm and run make again."; exit 1; }
	@$(PYTHON_FOR_VENV) -c 'import venv, ensurepip' 2>/dev/null || { echo "Python's venv module is missing: install python3-venv and run make again."; exit 1; }

$(VENV)/.installed: pyproject.toml | prerequisites
	@test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,rq]"
	@touch $@

node_modules/.installed: package.json package-lock.json | prerequisites
	npm ci --no-audit --no-fund
	@touch $@

# The CSS is purged against the templates: a template using a new class rebuilds it.
ASSET_SOURCES := $(wildcard assets/*) package-lock.json \
	$(shell find src/sogla -path '*/templates/*' -name '*.html' 2>/dev/null)
src/sogla/web/static/sogla/dist/.built: node_modules/.installed $(ASSET_SOURCES)
	npm run --silent build
	@touch $@

setup: $(VENV)/.installed src/sogla/web/static/sogla/dist/.built

# Static files are collected again only when one of them changed since the last run.
STATIC_SOURCES := $(shell find src/sogla -path '*/static/*' -type f 2>/dev/null)
var/.static-collected: src/sogla/web/static/sogla/dist/.built $(STATIC_SOURCES)
	@mkdir -p var
	$(SOGLA) collectstatic --noinput --verbosity 0
	@touch $@

# A second run skips what has not changed (packages, assets, static files) and the
# system checks, which serve's own start-up runs anyway.
run: setup var/.static-collected
	$(SOGLA) migrate --noinput --skip-checks
	$(SOGLA) demo --skip-checks
	@echo "E-mails are written to var/mail/ (set SOGLA_EMAIL_BACKEND and SOGLA_EMAIL_HOST to send them), SMS to var/sms/ (SOGLA_SMS_BACKEND)"
	SOGLA_EMAIL_BACKEND=$${SOGLA_EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend} \
	SOGLA_SMS_BACKEND=$${SOGLA_SMS_BACKEND-file} \
		$(SOGLA) serve --host $(HOST) --port $(PORT)

check: setup
	$(VENV)/bin/ruff check src tests $(wildcard bench)
	$(VENV)/bin/ruff format --check src tests $(wildcard bench)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(SOGLA) makemigrations --check --dry-run --settings=sogla.settings.test

# The inner loop: the engine and the workflow's commands, stress tests left out.
test-fast: setup
	SOGLA_DATABASE_URL= $(VENV)/bin/pytest tests/engine tests/workflow/services -q -m "not slow and not browser" $(PYTEST_ARGS)

test-sqlite: setup
	SOGLA_DATABASE_URL= $(VENV)/bin/pytest $(XDIST) -m "not browser" $(PYTEST_ARGS)
	SOGLA_DATABASE_URL= $(VENV)/bin/pytest -m browser $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: none selected

# Runs when PostgreSQL answers at SOGLA_TEST_POSTGRES_URL; under CI=true it must.
test-postgres: setup
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(SOGLA_TEST_POSTGRES_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		SOGLA_DATABASE_URL='$(SOGLA_TEST_POSTGRES_URL)' $(VENV)/bin/pytest $(XDIST) -m "not browser" $(PYTEST_ARGS) && \
		{ SOGLA_DATABASE_URL='$(SOGLA_TEST_POSTGRES_URL)' $(VENV)/bin/pytest -m browser $(PYTEST_ARGS) || [ $$? -eq 5 ]; }; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(SOGLA_TEST_POSTGRES_URL), and CI needs it."; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(SOGLA_TEST_POSTGRES_URL): the PostgreSQL run is skipped (set SOGLA_TEST_POSTGRES_URL to run it)."; \
	fi

test: check test-sqlite test-postgres

# SpiffWorkflow for bench/engine.py's comparison only: a virtualenv of its own, never
# one of Sogla's dependencies.
SPIFF_VENV := bench/.venv-spiff
$(SPIFF_VENV)/.stamp-spiff:
	$(PYTHON_FOR_VENV) -m venv $(SPIFF_VENV)
	$(SPIFF_VENV)/bin/python -m pip install --quiet spiffworkflow==3.2.0
	touch $@

bench: setup $(SPIFF_VENV)/.stamp-spiff
	@if [ -d bench ] && ls bench/*.py >/dev/null 2>&1; then for b in bench/*.py; do $(PY) $$b; done; else echo "No benchmarks yet."; fi

messages: setup
	cd src/sogla && ../../$(SOGLA) makemessages --locale ru --no-obsolete --ignore 'static/*' && ../../$(SOGLA) compilemessages --locale ru

clean:
	rm -rf $(VENV) $(SPIFF_VENV) node_modules src/sogla/web/static/sogla/dist var/.static-collected
