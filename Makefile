# KT1 developer entry points. Needs only python3 and make; everything else goes into .venv.
#
#   make run [PORT=8123]   set up .venv, migrate, load the demo data, serve on 127.0.0.1:$(PORT)
#   make test              ruff, then pytest on SQLite, on a throwaway PostgreSQL, and in Chromium
#   make test-sqlite | test-postgres | test-browser   one suite
#   make lint              ruff only
#   make bench             benchmarks (bench/README.md): 1M items, 6M events, lookup and ingest figures
#   make clean             remove .venv and caches (var/ with the demo database is kept)
#
# CI=true makes a suite that cannot run (no initdb, no chromium) a failure instead of a warning.
# PYTEST_WORKERS=2 (xdist) and PYTEST_ARGS="-k foo -x" are passed through to pytest.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
KT1 := $(BIN)/kt1
# Stamps live inside .venv so deleting .venv also forgets what was installed.
RUN_STAMP := $(VENV)/.kt1-installed
DEV_STAMP := $(VENV)/.kt1-installed-dev
export PIP_DISABLE_PIP_VERSION_CHECK := 1

DEMO_PASSWORD := kt1-demo-2026

.PHONY: help run test test-sqlite test-postgres test-browser lint install install-dev clean bench

help:
	@sed -n '2,12s/^# \{0,1\}//p' Makefile

# pip is the last thing venv writes: a half-made .venv (interrupted) is completed, not trusted.
$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)

# Runtime dependencies only; reinstalls when pyproject.toml changes. If the dev extra is already
# installed from the same pyproject.toml, the runtime set is too.
$(RUN_STAMP): pyproject.toml | $(BIN)/pip
	if [ -f $(DEV_STAMP) ] && [ $(DEV_STAMP) -nt pyproject.toml ]; then :; \
	else $(BIN)/pip install -e .; fi
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install -e '.[dev]'
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

# KT1_DEBUG=true: runserver serves static files itself only with DEBUG on.
run: export KT1_DEBUG := true
run: $(RUN_STAMP)
	mkdir -p var
	if [ -z "$$(find kt1 -name '*.po' -print -quit)" ]; then :; \
	elif command -v msgfmt >/dev/null; then $(KT1) compilemessages --ignore=.venv --verbosity=0; \
	else echo "msgfmt not found: using the committed .mo files"; fi
	$(KT1) migrate --noinput
	$(KT1) load_demo
	@echo
	@echo "================================================================================"
	@echo " KT1 is starting on http://127.0.0.1:$(PORT)/"
	@echo
	@echo " Sign in at http://127.0.0.1:$(PORT)/accounts/login/"
	@echo " as demo.admin, demo.clerk or any other demo.* account."
	@echo " Password for every demo account: $(DEMO_PASSWORD)"
	@echo " Two-factor code (changes every 30 s), in another terminal:"
	@echo "     $(BIN)/kt1 demo_totp demo.clerk"
	@echo "================================================================================"
	@echo
	exec $(KT1) runserver 127.0.0.1:$(PORT)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python scripts/run_suites.py sqlite postgres browser

test-sqlite test-postgres test-browser: $(DEV_STAMP)
	$(BIN)/python scripts/run_suites.py $(@:test-%=%)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# A throwaway PostgreSQL with durable commits (fsync and synchronous_commit on); results in var/bench/.
# BENCH_ARGS="--items 100000 --events 600000" for a quicker, smaller run. Needs wrk (apt-get install wrk).
bench: $(RUN_STAMP)
	command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 1; }
	$(PYTHON) scripts/pg_cluster.py run --durable --set shared_buffers=1GB --set max_wal_size=4GB -- \
		$(BIN)/python bench/run_all.py $(BENCH_ARGS)
