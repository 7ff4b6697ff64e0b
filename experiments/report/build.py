"""The report's body: its options, gathering the inputs (making what is missing), drawing, writing the page."""

from __future__ import annotations

import datetime
import functools
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from experiments.common import Experiment, ExperimentError, check_years, entry_point
from experiments.report.evidence import coverage_html, patterns_html, robustness_html, validation_html
from experiments.report.figures import draw
from experiments.report.html import FIGURES_FOLDER, page
from experiments.report.questions import interactions_sentence, q1_html, q4_html, q5_html
from experiments.report.reading import (
    EVIDENCE,
    EXPERIMENTS,
    OPTIONAL,
    Inputs,
    baseline_run,
    complete_runs,
    default_config,
    experiment_command,
    experiment_state,
    log,
    make,
    q1_states,
    read_experiment,
    read_input,
    read_json,
    read_run,
    read_yaml,
    run_overrides,
    run_state,
    write_bytes,
)
from experiments.report.runs import provenance_html, run_html
from experiments.report.theories import theories_html
from experiments.report.verdict import question_html, verdict_html
from experiments.report.where import where_html
from sim import store
from sim.config import config_hash, job_options

NAME = "report"


HTML_FILE = "index.html"


def options_from(ex: Experiment) -> dict[str, Any]:
    """The report's validated options."""
    o = ex.options
    names = [str(n) for n in o["experiments"]]
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown or not names:
        raise ExperimentError(
            f"experiment.experiments={names} has unknown name(s) {unknown}; allowed: {list(EXPERIMENTS)}"
        )
    if "q2_driver_shares" not in names:
        raise ExperimentError(
            f"experiment.experiments={names} lacks q2_driver_shares; allowed: a list that includes it (the verdict)"
        )
    years = check_years(list(o["years"]), ex.params, "experiment.years")
    if not years:
        raise ExperimentError("experiment.years=[]; allowed: one or more years for the heatmap and network")
    threshold = float(o["network_threshold"])
    if not 0.0 < threshold <= 1.0:
        raise ExperimentError(f"experiment.network_threshold={threshold}; allowed: 0 < threshold <= 1")
    replicates = o.get("replicates_when_missing")
    if replicates is not None and (isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 2):
        raise ExperimentError(
            f"experiment.replicates_when_missing={replicates!r}; allowed: null (each experiment's default) or an "
            "integer >= 2"
        )
    run_missing = o["run_missing"]
    if not isinstance(run_missing, bool):
        raise ExperimentError(f"experiment.run_missing={run_missing!r}; allowed: true or false")
    return {
        "experiments": names,
        "experiments_dir": Path(str(o["experiments_dir"])).resolve(),
        "run": Path(str(o["run"])).resolve() if o.get("run") else None,
        "runs_dir": Path(str(o["runs_dir"])).resolve(),
        "run_missing": run_missing,
        "replicates": replicates,
        "years": years,
        "threshold": threshold,
        "compare": str(o["compare_scenario"]),
        "default_config": default_config(),
    }


def gather(opts: Mapping[str, Any]) -> Inputs:
    """Check every input, make what is missing (if allowed), read everything."""
    inputs = Inputs()
    folders = {name: opts["experiments_dir"] / name for name in opts["experiments"]}
    missing = [name for name, folder in folders.items() if experiment_state(folder, name) == "missing"]
    for name in OPTIONAL:
        optional = opts["experiments_dir"] / name
        try:
            if experiment_state(optional, name) == "complete":
                inputs.experiments[name] = read_experiment(optional, name)
        except ExperimentError as err:  # an optional section is left out, not fatal
            log.warning("report: %s left out: %s", name, err)
    run_folder = opts["run"]
    if run_folder is not None:
        if not run_folder.is_dir():
            raise ExperimentError(
                f"experiment.run={str(run_folder)!r} is not a folder; allowed: a run folder of python -m sim"
            )
        run_state(run_folder)
    else:
        run_folder = baseline_run(opts["runs_dir"], config_hash(OmegaConf.create(opts["default_config"])))
    if (missing or run_folder is None) and not opts["run_missing"]:
        absent = [str(folders[n]) for n in missing] + (
            [] if run_folder else [f"a complete run of the default config in {opts['runs_dir']}"]
        )
        raise ExperimentError(
            f"missing results: {absent}; allowed: results of this model version there (make experiments, make run), "
            "or experiment.run_missing=true to make them first"
        )
    if run_folder is None:
        command = [
            sys.executable,
            "-m",
            "sim",
            f"hydra.run.dir={opts['runs_dir']}/${{now:%Y%m%d-%H%M%S}}-seed${{seed}}",
        ]
        make(command, f"a run of the default config in {opts['runs_dir']}")
        run_folder = baseline_run(opts["runs_dir"], config_hash(OmegaConf.create(opts["default_config"])))
        if run_folder is None:
            raise ExperimentError(f"{' '.join(command[1:])} finished but left no complete run in {opts['runs_dir']}")
        inputs.made_now[str(run_folder)] = f"python -m sim hydra.run.dir={run_folder}"
    for name in missing:
        command = experiment_command(name, folders[name], opts["replicates"])
        make(command, str(folders[name]))
        inputs.made_now[str(folders[name])] = " ".join(["python", *command[1:]])
        if experiment_state(folders[name], name) != "complete":
            raise ExperimentError(f"{' '.join(command[1:])} finished but {folders[name]} is still incomplete")
    for name, folder in folders.items():
        inputs.experiments[name] = read_experiment(folder, name)
    for key, (folder_name, file) in EVIDENCE.items():
        path = opts["experiments_dir"] / folder_name / file
        if path.is_file():
            inputs.evidence[key] = read_input(path, pd.read_csv if file.endswith(".csv") else read_json)
    read_run(run_folder, inputs)
    inputs.run_overrides = run_overrides(read_input(run_folder / "config.yaml", read_yaml), opts["default_config"])
    inputs.other_runs = [
        (folder, run_overrides(read_input(folder / "config.yaml", read_yaml), opts["default_config"]))
        for folder in complete_runs(opts["runs_dir"])
        if folder != run_folder
    ]
    if "q1_counterfactuals" in inputs.experiments:
        q1 = inputs.experiments["q1_counterfactuals"]
        scenarios = list(dict.fromkeys(q1["effects.csv"]["scenario"]))  # those q1 ran (its config may say null: all)
        if opts["compare"] not in scenarios:
            raise ExperimentError(
                f"experiment.compare_scenario={opts['compare']!r} is not among q1's scenarios; allowed: {scenarios}"
            )
        base = q1_states(q1["folder"], q1["meta"], "baseline")
        other = q1_states(q1["folder"], q1["meta"], opts["compare"])
        if base is not None and other is not None:
            inputs.comparison = (base, other)
        else:
            inputs.comparison_note = (
                f"The side-by-side alignment figure needs q1's cached states tables of the baseline and "
                f"{opts['compare']} (in {q1['folder'] / 'runs'}); they are not there, so it is left out."
            )
    return inputs


def run(ex: Experiment) -> dict[str, Any]:
    """Read (or make) every result, draw every figure, then write the figures and index.html."""
    opts = options_from(ex)
    formats = job_options(ex.cfg).figure_formats
    inputs = gather(opts)
    figures = draw(inputs, opts, formats)
    replicates_note = ""
    if opts["replicates"] is not None and any(k != str(inputs.run_folder) for k in inputs.made_now):
        replicates_note = (
            f"Experiments made by this report ran with replicates={opts['replicates']} "
            "(experiment.replicates_when_missing), not their default replicate counts: their intervals are wider."
        )
    years = inputs.run_tables["outcomes"]["year"]
    sections = [question_html(len(inputs.names), int(years.min()), int(years.max()))]
    experiments = inputs.experiments
    sections.append(verdict_html(experiments["q2_driver_shares"], figures))
    sections.append(where_html(experiments.get("scenario_discovery"), figures))
    if "patterns" in experiments:
        sections.append(patterns_html(experiments["patterns"]))
    sections.append(coverage_html(inputs.evidence.get("checks")))
    sections.append(validation_html(inputs.evidence.get("validation")))
    if "q3_sensitivity" in experiments:
        sections.append(robustness_html(experiments["q3_sensitivity"]))
    sections.append(theories_html(experiments["q2_driver_shares"], experiments.get("theories"), figures))
    if "q1_counterfactuals" in experiments:
        q1 = experiments["q1_counterfactuals"]
        compared = interactions_sentence(q1["effects.csv"], experiments["q2_driver_shares"]["verdict.json"])
        sections.append(q1_html(q1, figures, inputs.comparison_note, compared[0] if compared else ""))
    if "q4_hysteresis" in experiments:
        sections.append(q4_html(experiments["q4_hysteresis"], figures))
    if "q5_asean_alignment" in experiments:
        sections.append(q5_html(experiments["q5_asean_alignment"], figures))
    sections.append(run_html(inputs, figures, opts["years"]))
    container = OmegaConf.to_container(ex.cfg, resolve=True)
    assert isinstance(container, dict)
    report_config = {str(k): v for k, v in container.items()}
    sections.append(provenance_html(inputs, report_config, replicates_note))
    generated = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    text = page("\n".join(sections), generated)
    for figure in figures.values():
        for fmt, data in figure.files.items():
            store.atomic_write(
                ex.folder / FIGURES_FOLDER / f"{figure.name}.{fmt}", functools.partial(write_bytes, data)
            )
    store.write_text(ex.folder / HTML_FILE, text)
    verdict = experiments["q2_driver_shares"]["verdict.json"]
    grades = {k: d["grade"] for k, d in verdict.get("definitions", {}).items()}
    log.info("report: %s (claim C0: %s)", ex.folder / HTML_FILE, grades)
    return {
        "html": str(ex.folder / HTML_FILE),
        "supported": verdict.get("supported"),
        "grades": grades,
        "largest_driver": verdict.get("largest_driver"),
        "figures": sorted(figures),
        "made_by_report": list(inputs.made_now.values()),
        "inputs": {name: str(content["folder"]) for name, content in experiments.items()}
        | {"run": str(inputs.run_folder)},
    }


main = entry_point(NAME, run)
