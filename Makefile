# `make run` serves the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := portal
LINT_PATHS := portal tests scripts config.py gunicorn.conf.py $(wildcard bench)

.PHONY: setup run test lint fmt sysdeps bench screenshots serve serve-env

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)
	@bash scripts/system-deps.sh

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo "Serving http://127.0.0.1:5000 with the job queue's worker beside it (Ctrl-C stops both)"
	@BIN=$(BIN) bash scripts/run-web-and-worker.sh

# Production on this machine: gunicorn (gunicorn.conf.py) and the job worker(s), PostgreSQL and
# Redis from the environment (README, "Running in production"); `make serve-env` first writes
# instance/serve.env with fresh keys and the local PostgreSQL and Redis. Creates the database
# if missing and migrates it.
SERVE_STAMP := $(VENV)/.installed-serve
$(SERVE_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[serve]'
	touch $(SERVE_STAMP)

serve: $(SERVE_STAMP)
	@bash scripts/system-deps.sh
	@BIN=$(BIN) SERVE_CREATE_DB=$${SERVE_CREATE_DB:-1} bash scripts/serve

serve-env: $(STAMP)
	@mkdir -p instance
	@test ! -e instance/serve.env || { echo "instance/serve.env exists: its keys open that database; remove it yourself to start over"; exit 1; }
	@umask 077 && $(BIN)/python scripts/serve_env.py $(PORT) > instance/serve.env
	@echo "wrote instance/serve.env (mode 0600); now: make serve"

test: $(STAMP)
	@bash scripts/system-deps.sh --test
	@bash scripts/fetch-fhir-schema.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

fmt: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# Queue benchmark (not part of `make test`): PostgreSQL on 127.0.0.1, gunicorn, wrk.
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk; } || { echo "install wrk: sudo apt-get install wrk"; exit 1; }
	$(BIN)/python bench/queue.py $(BENCH_ARGS)

# README screenshots (docs/screenshots/) from the demo data on a throwaway database, with
# Debian's Chromium. Another set: make screenshots SHOTS_ARGS="--width 1024 --out /tmp/shots"
screenshots: $(STAMP)
	@bash scripts/system-deps.sh --test
	$(BIN)/python scripts/screenshots.py $(SHOTS_ARGS)
