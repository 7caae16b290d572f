# policy-search — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help setup run test test-unit test-e2e check fmt bench eval browser-deps clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock Makefile
	$(UV) sync --frozen --python $(BIN)/python --compile-bytecode
	@touch $@

setup: $(VENV)/.synced ## Create the virtual environment from the lock file

run: setup ## Migrate and run ingest, search, workers and beat (embedded defaults)
	$(BIN)/policy-search run

test: setup ## Unit, contract and end-to-end tests (PostgreSQL + Redis runs when reachable)
	$(BIN)/pytest

test-unit: setup ## Only the fast tests (no processes started)
	$(BIN)/pytest -m "not e2e and not docker and not browser"

check: setup ## Formatting, lint and types
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

fmt: setup ## Format and fix lint where safe
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## Benchmarks: stage ceiling, pipeline, ingest latency, search, footprint
	$(BIN)/policy-search bench

clean: ## Remove the environment and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
