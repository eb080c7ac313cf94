# Warroom: `make run` sets everything up and serves; `make test` sets up and runs every check.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
WARROOM := $(BIN)/warroom

UI := warroom_ui/node_modules/.installed

.PHONY: run portal test setup system-deps test-deps ui venv db lint typecheck pytest fuzz bench-demo clean-db

# `make run SIMULATE=1` also keeps the demo city moving (`warroom simulate`, SIMULATE_RATE
# events a minute, its log in .warroom/simulate.log) until the server stops.
SIMULATE ?=
SIMULATE_RATE ?= 60
# Test workers: one per core (pytest-xdist; each worker has a throwaway database of its own).
TEST_WORKERS ?= 2

run: setup
	@$(WARROOM) demo --if-empty
	@$(WARROOM) ensure-admin
	@if [ -n "$(SIMULATE)" ]; then \
	  $(WARROOM) simulate --rate $(SIMULATE_RATE) > .warroom/simulate.log 2>&1 & sim=$$!; \
	  trap 'kill $$sim 2>/dev/null' EXIT; \
	  echo "simulating the demo city: $(SIMULATE_RATE) events a minute (.warroom/simulate.log)"; \
	fi; \
	WARROOM_OPS_LOG_LEVEL=$${WARROOM_OPS_LOG_LEVEL:-WARNING} $(BIN)/python -m warroom_ui

# The unit portal (互联网子系统) alone, for the internet side (docs/portal.md).
portal: setup
	@WARROOM_OPS_LOG_LEVEL=$${WARROOM_OPS_LOG_LEVEL:-WARNING} $(BIN)/python -m warroom_ui.portal

test: setup lint typecheck pytest

setup: db ui
	$(WARROOM) keys init
	$(WARROOM) migrate
	$(WARROOM) access seal

system-deps:
	@./scripts/system-deps.sh

# What only the tests need: Debian's Chromium and a CJK font for the map's browser tests.
test-deps:
	@./scripts/system-deps.sh --test

# The map's front-end libraries, from the npm registry, served by the app itself.
ui: $(UI)

$(UI): warroom_ui/package.json warroom_ui/package-lock.json | system-deps
	cd warroom_ui && npm ci --no-audit --no-fund --loglevel=error
	touch $@

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | system-deps
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

db: system-deps venv
	$(WARROOM) db start

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

pytest: venv ui test-deps
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The schema fuzz in full: every operation, valid and invalid data, every Schemathesis check
# (make test runs 3 valid examples per operation). WARROOM_FUZZ_EXAMPLES=N for more or fewer.
fuzz: setup
	WARROOM_FUZZ_FULL=1 $(BIN)/pytest tests/api/test_schema_fuzz.py

bench-demo: setup
	$(BIN)/python bench/demo_load.py
