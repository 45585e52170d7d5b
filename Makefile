# Two commands: `make demo` and `make test`. Both set everything up on first use.
VENV   := .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
BIN    := $(VENV)/bin

.PHONY: demo test lint services bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

## demo: set up, seed the demo province, serve on http://127.0.0.1:8000/
demo: $(STAMP)
	$(BIN)/lianbo demo --data-dir .data/demo

## services: install PostgreSQL, mosquitto and Chromium from Debian when we can
services:
	bash scripts/install-services

## test: set up, then run the whole suite (unit, integration on SQLite + PostgreSQL, e2e)
test: $(STAMP) services
	$(BIN)/pytest

## lint: ruff (check and format), mypy --strict on src and bench, import-linter contracts
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/mypy bench
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/lianbo bench api

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
