# The README's commands. `make run` and `make test` create the virtual env on first use.
# Python >= 3.12 is needed (Mesa 3.5); the first interpreter found among these is used.
PYTHON ?= $(shell for p in python3.12 python3.13 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DASHBOARD_STAMP := $(VENV)/.installed-dashboard
EXPERIMENTS := q1_counterfactuals q2_driver_shares q4_hysteresis q5_asean_alignment patterns

.PHONY: help install run report test test-fast lint format clean dashboard bench fuzz calibrate calibrate-replicates theories experiments $(EXPERIMENTS)
.DEFAULT_GOAL := help

# `make run` passes overrides to `python -m sim` through ARGS; a bare `make run scenario=...` would
# be silently ignored by python, so it is refused with the command that works.
# (Words of ARGS's own value are not variables, hence the origin test.)
RUN_OVERRIDES := $(filter-out ARGS=% PYTHON=% DASHBOARD_PORT=%,$(foreach w,$(MAKEOVERRIDES),\
	$(if $(filter command line,$(origin $(firstword $(subst =, ,$(w))))),$(w))))
ifneq ($(filter run,$(MAKECMDGOALS)),)
ifneq ($(strip $(RUN_OVERRIDES)),)
$(error make run takes overrides for python -m sim in ARGS: make run ARGS="$(RUN_OVERRIDES)")
endif
endif

DASHBOARD_PORT ?= 8765

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (tried python3.12, python3.13, python3, python)"; exit 1; }
	@test -x $(BIN)/python || { echo "== creating the virtual env $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "== installing the package and its dev tools into $(VENV) (first time: 1-2 minutes; pip shows each package)"
	$(BIN)/python -m pip install --upgrade --progress-bar on pip
	$(BIN)/python -m pip install --progress-bar on -e ".[dev]"
	@touch $(STAMP)
	@echo "== $(VENV) ready"

$(DASHBOARD_STAMP): $(STAMP) tools/install_solara_assets.py
	@echo "== installing the dashboard and cluster extras (solara, playwright, ray, submitit)"
	$(BIN)/python -m pip install --progress-bar on -e ".[dev,dashboard,cluster]"
	@echo "== fetching the dashboard's page assets with npm (once; the dashboard then works offline)"
	$(BIN)/python tools/install_solara_assets.py
	@touch $(DASHBOARD_STAMP)

install: $(DASHBOARD_STAMP)  ## create .venv and install the package, its dev tools, the dashboard and its offline page assets (needs npm once)

run: $(STAMP)  ## the main job: python -m sim (results/runs/), then the report (results/report/index.html); overrides: make run ARGS="scenario=no_china_coercion seed=7"
	$(BIN)/python -m sim $(ARGS)
	$(BIN)/python -m experiments.report

report: $(STAMP)  ## the report: one offline HTML page, results/report/index.html (runs the experiments it lacks)
	$(BIN)/python -m experiments.report

help:  ## this list of targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z_-]+):.*## /\1\t/' | \
		awk -F '\t' '{printf "  make %-21s %s\n", $$1, $$2}'
	@echo "  make q1_counterfactuals (q2_driver_shares, q4_hysteresis, q5_asean_alignment): one experiment"

test: $(DASHBOARD_STAMP)  ## every test, the slow ones included (the dashboard's browser test too); nothing may be skipped
	@test -x /usr/bin/chromium || { echo "error: make test needs Debian's chromium for the dashboard's browser test:" \
		"sudo apt-get install -y chromium (.ci/run installs it)"; exit 1; }
	SIM_TEST_ALL=1 $(BIN)/python -m pytest

test-fast: $(STAMP)  ## the tests not marked slow, with the dev tools only (tests needing an optional extra are skipped, with the reason)
	$(BIN)/python -m pytest -m "not slow"

dashboard: $(DASHBOARD_STAMP)  ## the interactive dashboard (Mesa SolaraViz) on http://127.0.0.1:8765 (DASHBOARD_PORT=...); works offline
	@echo "Dashboard: http://127.0.0.1:$(DASHBOARD_PORT)/  (Ctrl-C stops it; another port: make dashboard DASHBOARD_PORT=8766)"
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=false $(BIN)/solara run sim.app --host 127.0.0.1 --port $(DASHBOARD_PORT) \
		--no-open --no-check-version --production

bench: $(STAMP)  ## speed and memory of both engines; prints a table, writes results/bench/bench.json
	$(BIN)/python -m experiments.bench

fuzz: $(STAMP)  ## 2,000 random parameter sets over the declared ranges: every run finite or refused by validation
	$(BIN)/python tests/test_fuzz.py

calibrate: $(STAMP)  ## ABC-SMC calibration, predictive checks, rolling-origin validation, projections (resumes if killed)
	$(BIN)/python -m experiments.calibrate

# Replicate calibrations: the main one's settings with other seeds and no rolling-origin validation.
# Only their posteriors are used (pooled); params=calibrated is the main calibration's point, so
# theirs is the most likely particle (experiment.point=likelihood) and no pattern runs are spent.
REPLICATE_SEEDS := 2025 2026 2027

calibrate-replicates: $(STAMP)  ## after make calibrate: the same calibration with 3 other seeds, pooled into the posterior every experiment draws from
	for seed in $(REPLICATE_SEEDS); do \
		$(BIN)/python -m experiments.calibrate seed=$$seed 'experiment.origins=[]' experiment.point=likelihood \
			experiment.out=results/experiments/calibrate_replicates/$$seed \
			experiment.params_out=configs/params/replicates/$$seed || exit $$?; \
	done
	$(BIN)/python -m experiments.pool_posteriors

theories: $(STAMP)  ## the three alignment rules calibrated together (ABC model choice), scored out of sample; ships their posteriors
	$(BIN)/python -m experiments.theories experiment.params_out=configs/params

$(EXPERIMENTS): $(STAMP)
	$(BIN)/python -m experiments.$@

experiments: $(EXPERIMENTS)  ## every experiment at its default replicate count, into results/experiments/

lint: $(STAMP)  ## ruff and mypy (sim and experiments)
	$(BIN)/ruff check sim experiments tests tools
	$(BIN)/ruff format --check sim experiments tests tools
	$(BIN)/mypy

format: $(STAMP)  ## format the code (ruff format) and apply ruff's safe fixes
	$(BIN)/ruff format sim experiments tests tools
	$(BIN)/ruff check --fix sim experiments tests tools

clean:  ## remove the virtual env and caches (results stay)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
