# Warroom: `make run` sets everything up and serves; `make test` sets up and runs every check.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
WARROOM := $(BIN)/warroom

.PHONY: run test setup system-deps venv db lint typecheck pytest bench-demo clean-db

run: setup
	$(WARROOM) demo --if-empty
	$(WARROOM) ensure-admin
	$(WARROOM) serve

test: setup lint typecheck pytest

setup: db
	$(WARROOM) migrate

system-deps:
	@./scripts/system-deps.sh

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

pytest: venv
	$(BIN)/pytest

bench-demo: setup
	$(BIN)/python bench/demo_load.py
