# The README's commands: `make run` (install, migrate, seed, serve), `make check` (a change's first check:
# lint and the SQLite half of the suite, nothing but Python needed) and `make test` (everything CI runs).
# `make run PYTHON=/path/to/python3.12` makes .venv with another interpreter (3.11 or later).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run check test install lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The install runs again only when pyproject.toml changed since the last one (the stamp file).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python -m app migrate
	$(BIN)/python -m app seed
	$(BIN)/python -m app serve

lint: install
	$(BIN)/ruff check app tests migrations scripts
	$(BIN)/ruff format --check app tests migrations scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

# The tests that need PostgreSQL, a browser, npm, nginx or wrk are marked (pyproject.toml); the rest run.
check: lint
	$(BIN)/python -m pytest -m "not (postgres or browser or npm or nginx or bench)"

test: lint
	$(BIN)/python -m pytest
