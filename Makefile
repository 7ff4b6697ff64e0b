# The README's commands. `make run` and `make test` create the virtual env on first use.
# Python >= 3.12 is needed (Mesa 3.5); the first interpreter found among these is used.
PYTHON ?= $(shell for p in python3.12 python3.13 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint clean dashboard

DASHBOARD_PORT ?= 8765

$(STAMP): pyproject.toml tools/install_solara_assets.py
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (tried python3.12, python3.13, python3, python)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dashboard]"
	$(BIN)/python tools/install_solara_assets.py
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the package, its dev tools, the dashboard and its offline page assets (needs npm once)

run: $(STAMP)  ## the main job: the default scenario, its tables and figures, into results/runs/
	$(BIN)/python -m sim

test: $(STAMP)  ## every test, the slow ones included
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## the tests not marked slow
	$(BIN)/python -m pytest -m "not slow"

dashboard: $(STAMP)  ## the interactive dashboard (Mesa SolaraViz) on http://127.0.0.1:$(DASHBOARD_PORT); works offline
	@echo "Dashboard: http://127.0.0.1:$(DASHBOARD_PORT)/  (Ctrl-C stops it; another port: make dashboard DASHBOARD_PORT=8766)"
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=false $(BIN)/solara run sim.app --host 127.0.0.1 --port $(DASHBOARD_PORT) \
		--no-open --no-check-version --production

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check sim experiments tests tools
	$(BIN)/mypy

clean:  ## remove the virtual env and caches (results stay)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
