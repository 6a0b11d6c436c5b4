# lifeline — the two commands a new user runs: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-headless test install services lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Install into .venv and run the main job on the embedded default (DuckDB, no servers):
## the API and dashboard on 127.0.0.1:8000 with a live, accelerated replay of the scripted day.
demo: $(STAMP)
	$(BIN)/lifeline demo

## The same day in-process, without any server: prints readings, alarms and incidents, then exits.
demo-headless: $(STAMP)
	$(BIN)/lifeline demo --headless

## Install what the tests need (Python deps; PostgreSQL+PostGIS and Mosquitto via scripts/services.sh) and run every test.
test: $(STAMP) services lint typecheck pytest

services:
	bash scripts/services.sh start
	bash scripts/browser.sh

lint: $(STAMP)
	$(BIN)/ruff check lifeline tests bench
	$(BIN)/ruff format --check lifeline tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	set -a; source scripts/services.env; set +a; $(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
