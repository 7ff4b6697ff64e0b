# The README's commands. `make run` and `make test` create the virtual env on first use.
# Python >= 3.12 is needed (Mesa 3.5); the first interpreter found among these is used.
PYTHON ?= $(shell for p in python3.12 python3.13 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (tried python3.12, python3.13, python3, python)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the package with its dev tools

run: $(STAMP)  ## the main job: the default scenario, its tables and figures, into results/runs/
	$(BIN)/python -m sim

test: $(STAMP)  ## every test, the slow ones included
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## the tests not marked slow
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check sim experiments tests
	$(BIN)/mypy

clean:  ## remove the virtual env and caches (results stay)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
