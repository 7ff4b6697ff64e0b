# The README's commands. `make run` and `make test` create the virtual env on first use.
# Python >= 3.12 is needed (Mesa 3.5); the first interpreter found among these is used.
PYTHON ?= $(shell for p in python3.12 python3.13 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DASHBOARD_STAMP := $(VENV)/.installed-dashboard
EXPERIMENTS := q1_counterfactuals q2_driver_shares q4_hysteresis q5_asean_alignment patterns

.PHONY: install run report test test-fast lint clean dashboard bench experiments $(EXPERIMENTS)

DASHBOARD_PORT ?= 8765

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (tried python3.12, python3.13, python3, python)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(DASHBOARD_STAMP): $(STAMP) tools/install_solara_assets.py
	$(BIN)/python -m pip install --quiet -e ".[dev,dashboard,cluster]"
	$(BIN)/python tools/install_solara_assets.py
	touch $(DASHBOARD_STAMP)

install: $(DASHBOARD_STAMP)  ## create .venv and install the package, its dev tools, the dashboard and its offline page assets (needs npm once)

run: $(STAMP)  ## the main job: the default scenario (results/runs/), then the report (results/report/index.html)
	$(BIN)/python -m sim
	$(BIN)/python -m experiments.report

report: $(STAMP)  ## the report: one offline HTML page, results/report/index.html (runs the experiments it lacks)
	$(BIN)/python -m experiments.report

test: $(DASHBOARD_STAMP)  ## every test, the slow ones included (the dashboard's browser test too)
	$(BIN)/python -m pytest

test-fast: $(DASHBOARD_STAMP)  ## the tests not marked slow
	$(BIN)/python -m pytest -m "not slow"

dashboard: $(DASHBOARD_STAMP)  ## the interactive dashboard (Mesa SolaraViz) on http://127.0.0.1:$(DASHBOARD_PORT); works offline
	@echo "Dashboard: http://127.0.0.1:$(DASHBOARD_PORT)/  (Ctrl-C stops it; another port: make dashboard DASHBOARD_PORT=8766)"
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=false $(BIN)/solara run sim.app --host 127.0.0.1 --port $(DASHBOARD_PORT) \
		--no-open --no-check-version --production

bench: $(STAMP)  ## speed and memory of both engines; prints a table, writes results/bench/bench.json
	$(BIN)/python -m experiments.bench

$(EXPERIMENTS): $(STAMP)
	$(BIN)/python -m experiments.$@

experiments: $(EXPERIMENTS)  ## every experiment at its default replicate count, into results/experiments/

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check sim experiments tests tools
	$(BIN)/mypy

clean:  ## remove the virtual env and caches (results stay)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
