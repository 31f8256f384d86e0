# The two commands of the README: `make run` (install, migrate, seed, serve) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install lint

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

test: lint
	$(BIN)/python -m pytest
